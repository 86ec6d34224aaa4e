package config

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/rules"
)

func env(m map[string]string) Env { return m }

func TestExampleConfigIsValid(t *testing.T) {
	cfg, err := Load(filepath.Join("..", "config.example.toml"), env(nil))
	if err != nil {
		t.Fatalf("config.example.toml: %v", err)
	}
	builtin, err := rules.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Feeds) == 0 || !reflect.DeepEqual(cfg.Rules, builtin) {
		t.Errorf("example has %d feeds and %d rules; want feeds and exactly the built-in rules", len(cfg.Feeds), len(cfg.Rules.Rules))
	}
}

func TestExampleConfigValidWithoutFeeds(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "config.example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	// Drop every [[feeds]] table: docs/CONTRACT.md promises the rest stays valid.
	var kept []string
	inFeed := false
	for _, line := range strings.Split(string(data), "\n") {
		trim := strings.TrimSpace(line)
		if strings.HasPrefix(trim, "[") {
			inFeed = trim == "[[feeds]]"
		}
		if !inFeed {
			kept = append(kept, line)
		}
	}
	cfg, err := Parse([]byte(strings.Join(kept, "\n")), env(nil))
	if err != nil {
		t.Fatalf("example without feeds: %v", err)
	}
	if len(cfg.Feeds) != 0 {
		t.Fatalf("feeds left: %d", len(cfg.Feeds))
	}
}

func TestDefaults(t *testing.T) {
	cfg, err := Parse([]byte(""), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	if cfg.Database.Path != "backchannel.db" || cfg.Poll.Schedule != "@every 5m" || cfg.Poll.Timeout.D != 20*time.Second ||
		cfg.Poll.Concurrency != 8 || cfg.Poll.MaxBytes != 10485760 || cfg.Poll.MaxAge.D != 48*time.Hour ||
		cfg.Poll.AllowPrivateNetworks || !cfg.Discord.Gateway || cfg.Discord.APIURL != want.Discord.APIURL || cfg.HTTP.Listen != "" {
		t.Errorf("defaults differ from docs/CONTRACT.md: %+v", cfg)
	}
	if r := cfg.Retention; r.Text.D != 48*time.Hour || r.Keys.D != 720*time.Hour || r.UndatedKeys.D != 8760*time.Hour || r.Interval.D != time.Hour {
		t.Errorf("retention defaults: %+v", r)
	}
}

// TestRetentionWarnings: a key window that does not outlast max_age well
// is valid but warned of.
func TestRetentionWarnings(t *testing.T) {
	for _, tt := range []struct {
		doc, want string
	}{
		{"[poll]\nmax_age = \"48h\"\n[retention]\ntext = \"24h\"\nkeys = \"72h\"\n", "retention.keys (line 5): 72h0m0s is less than twice poll.max_age"},
	} {
		cfg, err := Parse([]byte(tt.doc), env(nil))
		if err != nil {
			t.Fatalf("%q: %v", tt.doc, err)
		}
		if !strings.Contains(cfg.Warnings.Error(), tt.want) {
			t.Errorf("%q: warnings %q, want %q", tt.doc, cfg.Warnings.Error(), tt.want)
		}
	}
	cfg, err := Parse(nil, env(nil))
	if err != nil || strings.Contains(cfg.Warnings.Error(), "retention") || strings.Contains(cfg.Warnings.Error(), "max_age") {
		t.Errorf("defaults: %v, warnings %v", err, cfg.Warnings)
	}
}

func TestRetentionFromEnv(t *testing.T) {
	cfg, err := Parse([]byte("[retention]\nkeys = \"1000h\"\n"), env(map[string]string{
		"BACKCHANNEL_RETENTION_KEYS": "2000h", "BACKCHANNEL_RETENTION_UNDATED_KEYS": "0s"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Retention.Keys.D != 2000*time.Hour || cfg.Retention.UndatedKeys.D != 0 {
		t.Errorf("retention from the environment: %+v", cfg.Retention)
	}
}

func TestProblems(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		env  map[string]string
		want []string // each must appear in the error text
	}{
		{"unknown key with line", "[poll]\nschedule = \"@every 1m\"\nbogus = 1\n", nil,
			[]string{"poll.bogus (line 3): unknown key"}},
		{"unknown section", "[pol]\nx = 1\n", nil, []string{"pol", "unknown key"}},
		{"unknown feed key", "[[feeds]]\nname = \"a\"\nurl = \"https://a.example/rss\"\nurll = \"x\"\n", nil,
			[]string{"feeds.urll (line 4): unknown key"}},
		{"bad duration", "[poll]\ntimeout = \"20 seconds\"\n", nil,
			[]string{"poll.timeout (line 2): invalid duration \"20 seconds\""}},
		{"bad cron", "[poll]\nschedule = \"every five minutes\"\n", nil,
			[]string{"poll.schedule (line 2): invalid cron spec"}},
		{"bad feed cron", "[[feeds]]\nname = \"a\"\nurl = \"https://a.example/rss\"\n\n[[feeds]]\nname = \"b\"\nurl = \"https://b.example/rss\"\nschedule = \"@sometimes\"\n", nil,
			[]string{"feeds[1].schedule (line 8): invalid cron spec"}},
		{"every problem at once", "[poll]\ntimeout = \"x\"\nmax_age = \"y\"\nconcurrency = 0\n[log]\nformat = \"xml\"\n", nil,
			[]string{"poll.timeout (line 2)", "poll.max_age (line 3)", "poll.concurrency (line 4)", "log.format (line 6)"}},
		{"bad feed url", "[[feeds]]\nname = \"a\"\nurl = \"ftp://a.example/rss\"\n", nil,
			[]string{"feeds[0].url (line 3): must be an http://, https:// or file: URL"}},
		{"same feed URL twice", "[[feeds]]\nname = \"a\"\nurl = \"https://a.example/rss\"\n[[feeds]]\nname = \"b\"\nurl = \"HTTPS://A.example:443/rss?utm_source=x#top\"\n", nil,
			[]string{"feeds[1].url (line 6): the same feed as feeds[0].url"}},
		{"max_bytes overflows", "[poll]\nmax_bytes = 9223372036854775807\n", nil,
			[]string{"poll.max_bytes (line 2): must be between 1024 and 1073741824"}},
		{"unknown log level", "[log]\nlevel = \"verbose\"\n", nil, []string{"log.level (line 2): must be debug, info, warn or error"}},
		{"file URL with a host", "[[feeds]]\nname = \"a\"\nurl = \"file://server/feed.xml\"\n", nil,
			[]string{"feeds[0].url (line 3): a file: URL names no host"}},
		{"env value refused by validation", "[poll]\nconcurrency = 4\n", map[string]string{"BACKCHANNEL_POLL_CONCURRENCY": "0"},
			[]string{"BACKCHANNEL_POLL_CONCURRENCY: must be between 1 and 1000, got 0"}},
		{"env list item", "", map[string]string{"BACKCHANNEL_DISCORD_OWNER_IDS": "1, abc"},
			[]string{"BACKCHANNEL_DISCORD_OWNER_IDS[1]: must be a numeric Discord user id"}},
		{"env schedule", "[poll]\nschedule = \"@every 1m\"\n", map[string]string{"BACKCHANNEL_POLL_SCHEDULE": "whenever"},
			[]string{"BACKCHANNEL_POLL_SCHEDULE: invalid cron spec"}},
		{"duplicate feed", "[[feeds]]\nname = \"a\"\nurl = \"https://a.example/1\"\n[[feeds]]\nname = \"a\"\nurl = \"https://a.example/2\"\n", nil,
			[]string{"feeds[1].name (line 5): duplicate feed name"}},
		{"wrong type", "[poll]\nconcurrency = \"eight\"\n", nil, []string{"poll.concurrency (line 2)"}},
		{"bad env duration", "", map[string]string{"BACKCHANNEL_POLL_TIMEOUT": "soon"},
			[]string{"BACKCHANNEL_POLL_TIMEOUT: invalid duration"}},
		{"bad env int", "", map[string]string{"BACKCHANNEL_POLL_CONCURRENCY": "many"},
			[]string{"BACKCHANNEL_POLL_CONCURRENCY: invalid integer"}},
		{"bad public key", "[discord]\npublic_key = \"abc\"\n", nil, []string{"discord.public_key (line 2)"}},
		{"bad listen", "[http]\nlisten = \"8080\"\n", nil, []string{"http.listen (line 2)"}},
		{"syntax error", "[poll\n", nil, []string{"line 1"}},
		{"zero retention window", "[retention]\ntext = \"0s\"\n", nil, []string{"retention.text (line 2): must be positive"}},
		{"key window below text window", "[retention]\ntext = \"800h\"\nkeys = \"720h\"\n", nil,
			[]string{"retention.keys (line 3): must be at least retention.text"}},
		{"undated window below key window", "[retention]\nundated_keys = \"100h\"\n", nil,
			[]string{"retention.undated_keys (line 2): must be 0 (for ever) or at least retention.keys"}},
		{"zero key sweep", "[retention]\nkey_sweep = \"0s\"\n", nil, []string{"retention.key_sweep (line 2): must be positive"}},
		{"bad env retention", "", map[string]string{"BACKCHANNEL_RETENTION_INTERVAL": "hourly"},
			[]string{"BACKCHANNEL_RETENTION_INTERVAL: invalid duration"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), env(tt.env))
			if err == nil {
				t.Fatal("no error")
			}
			var probs Problems
			if !errors.As(err, &probs) {
				t.Fatalf("error %T is not Problems: %v", err, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%s\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestEnvOverrides(t *testing.T) {
	doc := "[http]\nlisten = \"127.0.0.1:8080\"\n[poll]\nconcurrency = 4\n[discord]\ntoken = \"file-token\"\n"
	cfg, err := Parse([]byte(doc), env(map[string]string{
		"BACKCHANNEL_HTTP_LISTEN":                 "", // set but empty: turns the server off
		"BACKCHANNEL_POLL_CONCURRENCY":            "16",
		"BACKCHANNEL_POLL_MAX_AGE":                "2h",
		"BACKCHANNEL_POLL_ALLOW_PRIVATE_NETWORKS": "true",
		"BACKCHANNEL_DISCORD_API_URL":             "http://127.0.0.1:9/api/v10",
		"BACKCHANNEL_DISCORD_OWNER_IDS":           "1, 2,,3",
		"BACKCHANNEL_DISCORD_GATEWAY":             "false",
		"DISCORD_TOKEN":                           "env-token",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.Listen != "" {
		t.Errorf("http.listen = %q, want empty", cfg.HTTP.Listen)
	}
	if cfg.Poll.Concurrency != 16 || cfg.Poll.MaxAge.D != 2*time.Hour || !cfg.Poll.AllowPrivateNetworks {
		t.Errorf("poll = %+v", cfg.Poll)
	}
	if cfg.Discord.APIURL != "http://127.0.0.1:9/api/v10" || cfg.Discord.Gateway {
		t.Errorf("discord = %+v", cfg.Discord)
	}
	if got := strings.Join(cfg.Discord.OwnerIDs, "|"); got != "1|2|3" {
		t.Errorf("owner_ids = %q", got)
	}
	if cfg.Discord.Token.Reveal() != "env-token" {
		t.Errorf("DISCORD_TOKEN did not override the file")
	}
}

func TestBackchannelTokenVariableWinsOverDiscordToken(t *testing.T) {
	cfg, err := Parse(nil, env(map[string]string{"DISCORD_TOKEN": "a", "BACKCHANNEL_DISCORD_TOKEN": "b"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Discord.Token.Reveal() != "b" {
		t.Errorf("token = %q", cfg.Discord.Token.Reveal())
	}
}

func TestSecretNeverPrints(t *testing.T) {
	cfg, err := Parse([]byte("[discord]\ntoken = \"Bot.sekrit.value\"\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg.Discord), fmt.Sprintf("%v", cfg.Discord.Token)} {
		if strings.Contains(s, "sekrit") {
			t.Fatalf("secret printed: %s", s)
		}
	}
}

// TestRulesMergeOverTheBuiltInRules: a [rules] table changes the built-in
// rules; it used to replace them, and a file that only tuned the window
// matched nothing.
func TestRulesMergeOverTheBuiltInRules(t *testing.T) {
	builtin, err := rules.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name          string
		doc           string
		actors, rules int
		check         func(t *testing.T, cfg Config)
	}{
		{"no rules table", "[poll]\nschedule = \"@every 1m\"\n", len(builtin.Actors), len(builtin.Rules), func(t *testing.T, cfg Config) {
			if !reflect.DeepEqual(cfg.Rules, builtin) {
				t.Error("a file without [rules] does not get exactly the built-in rules")
			}
		}},
		{"a scalar only", "[rules.contact]\nwindow = 40\n", len(builtin.Actors), len(builtin.Rules), func(t *testing.T, cfg Config) {
			if cfg.Rules.Contact.Window != 40 || cfg.Rules.Contact.NegativeBefore != builtin.Contact.NegativeBefore {
				t.Errorf("contact = %+v", cfg.Rules.Contact)
			}
		}},
		{"past_years turned off", "[rules.contact]\npast_years = false\n", len(builtin.Actors), len(builtin.Rules), func(t *testing.T, cfg Config) {
			if cfg.Rules.Contact.PastYears {
				t.Error("past_years = false was not applied")
			}
		}},
		{"add an actor and a rule, remove a rule", `[[rules.actor]]
id = "va-sec"
country = "VA"
office = "Secretary for Relations with States"
kind = "diplomatic"
titles = ["Vatican foreign minister"]

[[rules.rule]]
name = "vatican"
keywords = ["\\bVatican\\b"]
actors = ["va-sec"]

[[rules.rule]]
name = "diplomatic-heads"
remove = true

[rules.countries]
VA = ["Vatican", "Holy See"]
`, len(builtin.Actors) + 1, len(builtin.Rules), func(t *testing.T, cfg Config) {
			last := cfg.Rules.Rules[len(cfg.Rules.Rules)-1]
			if last.Name != "vatican" || cfg.Rules.Actors[len(cfg.Rules.Actors)-1].ID != "va-sec" {
				t.Errorf("added rule %q", last.Name)
			}
			for _, r := range cfg.Rules.Rules {
				if r.Name == "diplomatic-heads" {
					t.Error("diplomatic-heads was not removed")
				}
			}
		}},
		{"no defaults", "[rules]\ndefaults = false\n", 0, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tt.doc), env(nil))
			if err != nil {
				t.Fatal(err)
			}
			if len(cfg.Rules.Actors) != tt.actors || len(cfg.Rules.Rules) != tt.rules {
				t.Errorf("%d actors, %d rules; want %d, %d", len(cfg.Rules.Actors), len(cfg.Rules.Rules), tt.actors, tt.rules)
			}
			if tt.check != nil {
				tt.check(t, cfg.Config)
			}
		})
	}
}

// TestRuleProblemsKeepTheFilesKeysAndLines: problems in what the file adds
// to the built-in rules name the file's keys and lines, not positions in
// the merged rule set.
func TestRuleProblemsKeepTheFilesKeysAndLines(t *testing.T) {
	doc := `[rules]
groups = ["Quad", ""]

[[rules.rule]]
name = "intel-heads"
remove = true

[[rules.rule]]
name = "sanctions"
keywords = ["sanction(", "embargo"]

[[rules.actor]]
id = "xx-nobody"
remove = true

[rules.contact]
window = 9999
`
	_, err := Parse([]byte(doc), env(nil))
	var probs Problems
	if !errors.As(err, &probs) {
		t.Fatalf("err = %v, want Problems", err)
	}
	got := map[string]int{}
	for _, p := range probs {
		got[p.Key] = p.Line
	}
	want := map[string]int{
		"rules.groups[1]":           2,
		"rules.rule[1].keywords[0]": 10,
		"rules.actor[0].id":         13,
		"rules.contact.window":      17,
	}
	for key, line := range want {
		if l, ok := got[key]; !ok || l != line {
			t.Errorf("%s: line %d (reported %v); want line %d; all:\n%v", key, l, ok, line, probs)
		}
	}
	if len(probs) != len(want) {
		t.Errorf("%d problems, want %d:\n%v", len(probs), len(want), probs)
	}
}

func TestMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"), env(nil))
	if !errors.Is(err, ErrMissingFile) || !strings.Contains(err.Error(), "nope.toml") {
		t.Fatalf("err = %v; want ErrMissingFile naming the file", err)
	}
}

// TestUnknownKeysReportedWithEveryOtherProblem: an unknown key does not hide
// the rest of what is wrong (check prints every problem).
func TestUnknownKeysReportedWithEveryOtherProblem(t *testing.T) {
	doc := "[discord]\nbogus = 1\n[poll]\ntimeout = \"soon\"\nconcurrency = 0\nschedule = \"every now and then\"\n"
	_, err := Parse([]byte(doc), env(nil))
	var probs Problems
	if !errors.As(err, &probs) {
		t.Fatalf("err = %v, want Problems", err)
	}
	got := map[string]int{}
	for _, p := range probs {
		got[p.Key] = p.Line
	}
	for key, line := range map[string]int{"discord.bogus": 2, "poll.timeout": 4, "poll.concurrency": 5, "poll.schedule": 6} {
		if l, ok := got[key]; !ok || l != line {
			t.Errorf("problem for %s: line %d, reported %v; all: %v", key, l, ok, probs)
		}
	}
}

func TestEnvEmptyValueOfATypedKeyMeansItsDefault(t *testing.T) {
	doc := "[discord]\ngateway = false\n[poll]\nconcurrency = 3\ntimeout = \"5s\"\n"
	cfg, err := Parse([]byte(doc), env(map[string]string{
		"BACKCHANNEL_DISCORD_GATEWAY":  "",
		"BACKCHANNEL_POLL_CONCURRENCY": " ",
		"BACKCHANNEL_POLL_TIMEOUT":     "",
	}))
	if err != nil {
		t.Fatal(err)
	}
	def := Default()
	if cfg.Discord.Gateway != def.Discord.Gateway || cfg.Poll.Concurrency != def.Poll.Concurrency || cfg.Poll.Timeout != def.Poll.Timeout {
		t.Errorf("gateway %v, concurrency %d, timeout %v; want the defaults", cfg.Discord.Gateway, cfg.Poll.Concurrency, cfg.Poll.Timeout.D)
	}
}

func TestEnvReachesNestedRuleKeys(t *testing.T) {
	doc := "[rules.contact]\nwindow = 30\n[rules.heads]\nspan = 6\n"
	cfg, err := Parse([]byte(doc), env(map[string]string{
		"BACKCHANNEL_RULES_CONTACT_WINDOW": "12",
		"BACKCHANNEL_RULES_HEADS_SPAN":     "x",
	}))
	var probs Problems
	if !errors.As(err, &probs) || len(probs) != 1 || probs[0].Key != "BACKCHANNEL_RULES_HEADS_SPAN" {
		t.Fatalf("err = %v; want one problem naming BACKCHANNEL_RULES_HEADS_SPAN", err)
	}
	if cfg.Rules.Contact.Window != 12 {
		t.Errorf("rules.contact.window = %d, want 12", cfg.Rules.Contact.Window)
	}
}

func TestSyntaxErrorNeverQuotesTheToken(t *testing.T) {
	_, err := Parse([]byte("[discord]\ntoken = Xsekrit.value\n"), env(nil))
	if err == nil {
		t.Fatal("an unquoted token was accepted")
	}
	if msg := err.Error(); strings.Contains(msg, "sekrit") || strings.Contains(msg, "Xs") || !strings.Contains(msg, "discord.token") {
		t.Fatalf("error %q: want it to name discord.token without any of its value", msg)
	}
}

// TestEnvOverridesTheMergedRules: the environment comes after the merge,
// and an empty value resets a rule key to its built-in value.
func TestEnvOverridesTheMergedRules(t *testing.T) {
	builtin, err := rules.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	doc := "[rules.contact]\nwindow = 40\npast_years = false\n"
	cfg, err := Parse([]byte(doc), env(map[string]string{
		"BACKCHANNEL_RULES_CONTACT_WINDOW":     "12",
		"BACKCHANNEL_RULES_CONTACT_PAST_YEARS": "",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c := cfg.Rules.Contact; c.Window != 12 || c.PastYears != builtin.Contact.PastYears || len(cfg.Rules.Actors) != len(builtin.Actors) {
		t.Errorf("window %d, past_years %v, %d actors", c.Window, c.PastYears, len(cfg.Rules.Actors))
	}
}

// TestExampleRulesUncommented: the example's commented [rules] changes work
// as written once uncommented, and do what their comments say.
func TestExampleRulesUncommented(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "config.example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(data), "\n")
	start := slices.Index(lines, "# [rules.contact]")
	if start < 0 {
		t.Fatal("no commented [rules.contact] in the example")
	}
	for i := start; i < len(lines); i++ {
		lines[i] = strings.TrimPrefix(strings.TrimPrefix(lines[i], "#"), " ")
	}
	cfg, err := Parse([]byte(strings.Join(lines, "\n")), env(nil))
	if err != nil {
		t.Fatalf("uncommented example: %v", err)
	}
	builtin, err := rules.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Rules
	if r.Contact.Window != 40 || len(r.Countries["VA"]) != len(builtin.Countries["VA"])+2 ||
		len(r.Actors) != len(builtin.Actors)+1 || r.Actors[len(r.Actors)-1].ID != "va-sec" {
		t.Errorf("window %d, VA %q, %d actors", r.Contact.Window, r.Countries["VA"], len(r.Actors))
	}
	var got []string
	for _, rule := range r.Rules {
		got = append(got, rule.Name)
	}
	if !slices.Contains(got, "vatican-diplomacy") || slices.Contains(got, "diplomatic-heads") || len(got) != len(builtin.Rules) {
		t.Errorf("rules %q", got)
	}
	set, err := rules.Compile(r)
	if err != nil {
		t.Fatal(err)
	}
	ms := set.Match(model.Article{GUID: "v", Title: "Vatican foreign minister Gallagher meets Lavrov in Moscow",
		Published: time.Date(2024, 5, 2, 0, 0, 0, 0, time.UTC)})
	if len(ms) != 1 || ms[0].Rule != "vatican-diplomacy" {
		t.Errorf("matches %+v; want the example's rule", ms)
	}
}

// TestEnvProblemsNeverPointIntoTheFile: a value the environment set is
// named by its variable, without a line, even where the file writes the key.
func TestEnvProblemsNeverPointIntoTheFile(t *testing.T) {
	_, err := Parse([]byte("[poll]\ntimeout = \"5s\"\nconcurrency = 4\n"), env(map[string]string{
		"BACKCHANNEL_POLL_TIMEOUT":     "soon",
		"BACKCHANNEL_POLL_CONCURRENCY": "0",
	}))
	var probs Problems
	if !errors.As(err, &probs) {
		t.Fatalf("err = %v, want Problems", err)
	}
	want := Problems{
		{Key: "BACKCHANNEL_POLL_TIMEOUT", Msg: `invalid duration "soon" (use e.g. "30s", "5m", "48h")`},
		{Key: "BACKCHANNEL_POLL_CONCURRENCY", Msg: "must be between 1 and 1000, got 0"},
	}
	if !reflect.DeepEqual(probs, want) {
		t.Errorf("problems\n%v\nwant\n%v", probs, want)
	}
}

func TestWarnings(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		env  map[string]string
		want []string
	}{
		{"no feeds", "", nil, []string{"feeds: no feeds: nothing is polled until an owner adds one with /feeds add"}},
		{"feeds, nothing to say", "[[feeds]]\nname = \"a\"\nurl = \"https://a.example/rss\"\n", nil, nil},
		{"no rules at all", "[[feeds]]\nname = \"a\"\nurl = \"https://a.example/rss\"\n[rules]\ndefaults = false\n", nil,
			[]string{"rules (line 4): no rules", "rules.actor (line 4): no actors"}},
		{"unknown variables", "[[feeds]]\nname = \"a\"\nurl = \"https://a.example/rss\"\n", map[string]string{
			"BACKCHANNEL_POLL_TIMOUT": "5s", "BACKCHANNEL_FROBNICATE": "1", "OTHER_POLL_TIMEOUT": "x", "BACKCHANNEL_POLL_TIMEOUT": "5s"},
			[]string{"BACKCHANNEL_FROBNICATE: not a configuration variable; ignored",
				"BACKCHANNEL_POLL_TIMOUT: not a configuration variable; ignored (did you mean BACKCHANNEL_POLL_TIMEOUT?)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := Parse([]byte(tt.doc), env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, w := range cfg.Warnings {
				got = append(got, w.String())
			}
			if len(got) != len(tt.want) {
				t.Fatalf("warnings %q, want %q", got, tt.want)
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(got[i], w) {
					t.Errorf("warning %d = %q, want %q…", i, got[i], w)
				}
			}
		})
	}
}

func TestLogSettingsAnyCase(t *testing.T) {
	for _, tt := range []struct{ level, format string }{{"INFO", "text"}, {"Debug", "JSON"}, {"warn", "Text"}, {"ERROR", "json"}, {"", ""}} {
		doc := fmt.Sprintf("[log]\nlevel = %q\nformat = %q\n", tt.level, tt.format)
		cfg, err := Parse([]byte(doc), env(nil))
		if err != nil {
			t.Errorf("level %q, format %q: %v", tt.level, tt.format, err)
			continue
		}
		if _, err := cfg.Log.Handler(io.Discard); err != nil {
			t.Errorf("Handler: %v", err)
		}
	}
	var buf strings.Builder
	h, err := Log{Level: "WARN", Format: "JSON"}.Handler(&buf)
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(h)
	logger.Info("hidden")
	logger.Warn("shown")
	if out := buf.String(); strings.Contains(out, "hidden") || !strings.Contains(out, `"msg":"shown"`) {
		t.Errorf("WARN/JSON wrote %q", out)
	}
}

// TestFileURLs: a feed of the file may be a local file, named relative to
// the configuration file; the URL Load returns is absolute.
func TestFileURLs(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.toml")
	doc := "[[feeds]]\nname = \"local\"\nurl = \"file:feeds/demo.xml\"\n[[feeds]]\nname = \"abs\"\nurl = \"file:///srv/x.xml\"\n"
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := (&url.URL{Scheme: "file", Path: filepath.ToSlash(filepath.Join(dir, "feeds", "demo.xml"))}).String()
	if cfg.Feeds[0].URL != want || cfg.Feeds[1].URL != "file:///srv/x.xml" {
		t.Errorf("urls %q, %q; want %q, file:///srv/x.xml", cfg.Feeds[0].URL, cfg.Feeds[1].URL, want)
	}
}

// TestURLProblemsAreRedacted: a problem with a feed URL is printed and
// logged, so it quotes the URL without its secrets.
func TestURLProblemsAreRedacted(t *testing.T) {
	doc := "[[feeds]]\nname = \"a\"\nurl = \"ftp://alice:hunter2@a.example/rss?api_key=SEKRET\"\n" +
		"[[feeds]]\nname = \"b\"\nurl = \"https://b.example/rss?token=T0KEN\"\n[[feeds]]\nname = \"c\"\nurl = \"https://b.example/rss?token=T0KEN\"\n"
	_, err := Parse([]byte(doc), env(nil))
	if err == nil {
		t.Fatal("no error")
	}
	for _, secret := range []string{"hunter2", "SEKRET", "T0KEN"} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("%q in %v", secret, err)
		}
	}
	if !strings.Contains(err.Error(), "feeds[2].url") {
		t.Errorf("the duplicate is not reported: %v", err)
	}
}

// TestCheckCompilesTheRules: a Loaded carries the compiled rules, so run
// does not compile them again; a configuration built in code goes through
// the same Check.
func TestCheckCompilesTheRules(t *testing.T) {
	cfg, err := Parse(nil, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Defaults == nil || len(cfg.Defaults.Rules()) != len(cfg.Rules.Rules) {
		t.Fatalf("Defaults = %v; want the compiled %d rules", cfg.Defaults, len(cfg.Rules.Rules))
	}
	bad := cfg.Config
	bad.Poll.MaxBytes = 1 << 62
	bad.Feeds = []Feed{{Name: "a", URL: "https://a.example/"}, {Name: "b", URL: "https://A.example"}}
	if _, probs := Check(bad); len(probs) != 2 {
		t.Errorf("Check = %v; want max_bytes and the duplicate URL", probs)
	}
}
