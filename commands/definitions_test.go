package commands

import (
	"regexp"
	"slices"
	"testing"

	"github.com/bwmarrin/discordgo"
)

// TestDefinitions checks the registered commands against the contract's (docs/CONTRACT.md)
// names, options and required flags, and against Discord's own limits
// (which would otherwise only show up as a 400 at start-up).
func TestDefinitions(t *testing.T) {
	nameRE := regexp.MustCompile(`^[-_a-z0-9]{1,32}$`)
	defs := Definitions()
	// command (or "command sub") -> options, required ones marked with "!".
	want := map[string][]string{
		"subscribe":     {"channel", "rule", "min_sources"},
		"unsubscribe":   {"channel", "rule"},
		"subscriptions": nil,
		"latest":        {"count", "actor"},
		"search":        {"query!", "count"},
		"explain":       {"alert!"},
		"status":        nil,
		"rules list":    nil,
		"rules show":    {"name!"},
		"rules add":     {"name!", "keywords!", "exclude", "actors", "description"},
		"rules remove":  {"name!"},
		"rules test":    {"text!"},
		"rules edit":    {"name!"},
		"feeds list":    nil,
		"feeds add":     {"url!", "name"},
		"feeds remove":  {"name!"},
	}
	got := map[string][]string{}
	var checkOpts func(path string, opts []*discordgo.ApplicationCommandOption)
	checkOpts = func(path string, opts []*discordgo.ApplicationCommandOption) {
		if len(opts) > 25 {
			t.Errorf("%s: %d options", path, len(opts))
		}
		optional := false
		for _, o := range opts {
			if !nameRE.MatchString(o.Name) || len(o.Description) == 0 || len(o.Description) > 100 {
				t.Errorf("%s %s: bad name or description (%d chars)", path, o.Name, len(o.Description))
			}
			if o.Type == discordgo.ApplicationCommandOptionSubCommand {
				checkOpts(path+" "+o.Name, o.Options)
				got[path+" "+o.Name] = got[path+" "+o.Name][:0:0]
				for _, so := range o.Options {
					got[path+" "+o.Name] = append(got[path+" "+o.Name], optName(so))
				}
				continue
			}
			if o.Required && optional {
				t.Errorf("%s %s: required option after an optional one", path, o.Name)
			}
			optional = optional || !o.Required
			if o.MaxLength > 6000 || (o.Autocomplete && len(o.Choices) > 0) {
				t.Errorf("%s %s: max_length %d, autocomplete with choices", path, o.Name, o.MaxLength)
			}
		}
	}
	for _, c := range defs {
		if !nameRE.MatchString(c.Name) || len(c.Description) == 0 || len(c.Description) > 100 {
			t.Errorf("%s: bad name or description", c.Name)
		}
		if c.DMPermission == nil || *c.DMPermission {
			t.Errorf("%s: usable in DMs", c.Name)
		}
		var perms int64 = -1
		if c.DefaultMemberPermissions != nil {
			perms = *c.DefaultMemberPermissions
		}
		wantPerms := int64(-1)
		if c.Name == "subscribe" || c.Name == "unsubscribe" {
			wantPerms = discordgo.PermissionManageChannels
		}
		if perms != wantPerms {
			t.Errorf("%s: default_member_permissions %d, want %d", c.Name, perms, wantPerms)
		}
		checkOpts(c.Name, c.Options)
		if c.Name != "rules" && c.Name != "feeds" {
			for _, o := range c.Options {
				got[c.Name] = append(got[c.Name], optName(o))
			}
			if c.Options == nil {
				got[c.Name] = nil
			}
		}
	}
	for k, w := range want {
		if g, ok := got[k]; !ok || !slices.Equal(g, w) {
			t.Errorf("%s: options %v, want %v", k, g, w)
		}
	}
	if len(got) != len(want) {
		t.Errorf("%d commands and subcommands, want %d", len(got), len(want))
	}
	// Integer options carry their range, so Discord's client refuses what
	// the handler would.
	ranges := map[string][2]float64{"subscribe min_sources": {1, 10}, "latest count": {1, 10}, "search count": {1, 10}}
	for _, c := range defs {
		for _, o := range c.Options {
			r, ok := ranges[c.Name+" "+o.Name]
			if !ok {
				continue
			}
			delete(ranges, c.Name+" "+o.Name)
			if o.Type != discordgo.ApplicationCommandOptionInteger || o.MinValue == nil || *o.MinValue != r[0] || o.MaxValue != r[1] {
				t.Errorf("%s %s: type %v, range %v-%v, want integer %v-%v", c.Name, o.Name, o.Type, o.MinValue, o.MaxValue, r[0], r[1])
			}
		}
	}
	for k := range ranges {
		t.Errorf("no integer option %s", k)
	}
	// Every command the table handles is defined, and vice versa.
	for name := range (&Handler{}).commandTable() {
		if _, ok := want[name]; !ok {
			t.Errorf("handler for undefined command %s", name)
		}
	}
}

func optName(o *discordgo.ApplicationCommandOption) string {
	if o.Required {
		return o.Name + "!"
	}
	return o.Name
}

func TestSentence(t *testing.T) {
	for in, want := range map[string]string{
		"must be between 1 and 10": "must be between 1 and 10.",
		"You need Manage Guild.":   "You need Manage Guild.",
		"Really?":                  "Really?",
		"  trailing space  ":       "trailing space.",
		"":                         "",
	} {
		if got := sentence(in); got != want {
			t.Errorf("sentence(%q) = %q, want %q", in, got, want)
		}
	}
}
