package main

import (
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/backchannel/backchannel/internal/fakediscord"
)

// TestInteractionsHTTPEndpointSecurity: POST /interactions of the running
// app answers 401 to a missing, malformed or wrong signature, a stale
// timestamp and a replay, runs nothing for them, and answers PING with PONG.
func TestInteractionsHTTPEndpointSecurity(t *testing.T) {
	t.Parallel()
	e := startCmdApp(t, nil)
	_, otherKey, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	ch := channelFor(viaHTTP, 51)
	i := command(guildA, ch, chanAdmin, "subscribe")
	body, err := json.Marshal(i)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for _, c := range []struct {
		name  string
		ts    time.Time
		key   ed25519.PrivateKey
		tweak func(*http.Request)
	}{
		{"no headers", now, e.priv, func(r *http.Request) {
			r.Header.Del("X-Signature-Ed25519")
			r.Header.Del("X-Signature-Timestamp")
		}},
		{"no signature", now, e.priv, func(r *http.Request) { r.Header.Del("X-Signature-Ed25519") }},
		{"no timestamp", now, e.priv, func(r *http.Request) { r.Header.Del("X-Signature-Timestamp") }},
		{"signature not hex", now, e.priv, func(r *http.Request) {
			r.Header.Set("X-Signature-Ed25519", "zz"+r.Header.Get("X-Signature-Ed25519")[2:])
		}},
		{"signed by another key", now, otherKey, nil},
		{"timestamp changed after signing", now, e.priv, func(r *http.Request) {
			r.Header.Set("X-Signature-Timestamp", strconv.FormatInt(now.Unix()+1, 10))
		}},
		{"stale timestamp", now.Add(-6 * time.Minute), e.priv, nil},
		{"timestamp far ahead", now.Add(6 * time.Minute), e.priv, nil},
	} {
		code, out := e.postSigned(t, body, c.ts, c.key, c.tweak)
		if code != http.StatusUnauthorized {
			t.Errorf("%s: status %d (%s), want 401", c.name, code, out)
		}
	}
	// A body changed after signing.
	tampered := command(guildA, ch, chanAdmin, "subscribe")
	tb, _ := json.Marshal(tampered)
	stamp := strconv.FormatInt(now.Unix(), 10)
	sig := hex.EncodeToString(ed25519.Sign(e.priv, append([]byte(stamp), tb...)))
	tampered.Member.Permissions = permAdmin
	tb2, _ := json.Marshal(tampered)
	code, out := e.postSigned(t, tb2, now, e.priv, func(r *http.Request) { r.Header.Set("X-Signature-Ed25519", sig) })
	if code != http.StatusUnauthorized {
		t.Errorf("tampered body: status %d (%s), want 401", code, out)
	}
	if subs := e.subscriptions(t, guildA); hasSub(subs, ch, "") {
		t.Fatalf("a refused request subscribed the channel: %+v", subs)
	}

	// The same interaction, correctly signed, is answered once; a replay of
	// it (still within the 5-minute window) is refused and runs nothing.
	code, out = e.postSigned(t, body, now, e.priv, nil)
	if code != http.StatusOK {
		t.Fatalf("signed request: %d %s", code, out)
	}
	var r discordgo.InteractionResponse
	if err := json.Unmarshal(out, &r); err != nil || r.Type != discordgo.InteractionResponseChannelMessageWithSource || r.Data == nil ||
		r.Data.Content == "" || !mentionsSuppressed(out) {
		t.Fatalf("signed request answered %s (%v)", out, err)
	}
	if !hasSub(e.subscriptions(t, guildA), ch, "") {
		t.Fatal("signed /subscribe stored nothing")
	}
	code, out = e.postSigned(t, body, now, e.priv, nil)
	if code != http.StatusUnauthorized {
		t.Errorf("replayed interaction: %d %s, want 401", code, out)
	}

	// PING → PONG.
	ping, _ := json.Marshal(map[string]any{"id": "600000000000000001", "application_id": fakediscord.ApplicationID, "type": 1, "token": "ping-token", "version": 1})
	code, out = e.postSigned(t, ping, time.Now(), e.priv, nil)
	if code != http.StatusOK {
		t.Fatalf("PING: %d %s", code, out)
	}
	var pong struct {
		Type *int `json:"type"`
	}
	if err := json.Unmarshal(out, &pong); err != nil || pong.Type == nil || *pong.Type != 1 {
		t.Errorf("PING answered %s, want {\"type\":1}", out)
	}
	code, _ = e.postSigned(t, ping, time.Now(), otherKey, nil)
	if code != http.StatusUnauthorized {
		t.Errorf("PING signed by another key: %d, want 401", code)
	}

	// Nothing went through Discord's callback route for these requests:
	// HTTP answers travel in the response body.
	for _, ir := range e.fd.InteractionResponses() {
		if ir.InteractionID == i.ID || ir.Token == "ping-token" {
			t.Errorf("callback route used for an HTTP interaction: %s", ir.Raw)
		}
	}
}

// TestInteractionsMalformedOptions: payloads that Discord's client would
// never send (wrong option types, missing required options, no subcommand,
// unknown commands, DMs) get an ephemeral explanation on both transports,
// change nothing, and the app keeps answering.
func TestInteractionsMalformedOptions(t *testing.T) {
	t.Parallel()
	e := startCmdApp(t, nil)
	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) {
			ch := channelFor(tr, 61)
			dm := command("", ch, owner, "subscribe")
			dm.User, dm.Member = dm.Member.User, nil
			for _, c := range []struct {
				name string
				i    *discordgo.Interaction
				want string
			}{
				{"count as text", command(guildA, ch, plainMember, "latest", strOption("count", "five")), "whole number"},
				{"count with a fraction", command(guildA, ch, plainMember, "latest", &opt{Name: "count", Type: discordgo.ApplicationCommandOptionInteger, Value: 2.5}), "whole number"},
				{"count out of range", command(guildA, ch, plainMember, "latest", intOption("count", 1000)), "between 1 and 10"},
				{"query missing", command(guildA, ch, plainMember, "search"), "`query` is required"},
				{"alert as a number", command(guildA, ch, plainMember, "explain", &opt{Name: "alert", Type: discordgo.ApplicationCommandOptionInteger, Value: 5}), "should be text"},
				{"channel as text", command(guildA, ch, chanAdmin, "subscribe", strOption("channel", "general")), "should be a channel"},
				{"channel not an id", command(guildA, ch, chanAdmin, "subscribe", channelOption("channel", "<#general>")), "should be a channel"},
				{"rules without subcommand", command(guildA, ch, guildAdmin, "rules"), "subcommand"},
				{"rules add without keywords", command(guildA, ch, guildAdmin, "rules", subOption("add", strOption("name", "x"))), "`keywords` is required"},
				{"rules add keywords as a bool", command(guildA, ch, guildAdmin, "rules", subOption("add", strOption("name", "x"),
					&opt{Name: "keywords", Type: discordgo.ApplicationCommandOptionBoolean, Value: true})), "should be text"},
				{"feeds add url as a number", command(guildA, ch, owner, "feeds", subOption("add", &opt{Name: "url", Type: discordgo.ApplicationCommandOptionNumber, Value: 1.5})), "should be text"},
				{"feeds add not http", command(guildA, ch, owner, "feeds", subOption("add", strOption("url", "file:///etc/passwd"))), "not an http or https URL"},
				{"unknown command", command(guildA, ch, administrator, "nuke"), "Unknown command"},
				{"unknown subcommand", command(guildA, ch, administrator, "rules", subOption("purge")), "Unknown command"},
				{"subscribe in a DM", dm, "only works in a server"},
			} {
				a := e.run(t, tr, c.i)
				if !a.ephemeral() {
					t.Errorf("%s: not ephemeral: %s", c.name, a)
				}
				expect(t, a, true, c.want)
			}
			if subs := e.subscriptions(t, guildA); len(subs) != 0 {
				t.Errorf("malformed commands stored subscriptions: %+v", subs)
			}
			if ov, err := e.store(t).GuildOverrides(t.Context(), guildA); err != nil || len(ov) != 0 {
				t.Errorf("malformed commands stored rules: %+v %v", ov, err)
			}
			// Still answering.
			expect(t, e.run(t, tr, command(guildA, ch, plainMember, "feeds", subOption("list"))), false, "Wire")
		})
	}
}

// commandShape is what a registered command promises: its name, options
// (with required flags) and subcommands, and default permissions.
func commandShape(c *discordgo.ApplicationCommand) string {
	var opts func(os []*discordgo.ApplicationCommandOption) string
	opts = func(os []*discordgo.ApplicationCommandOption) string {
		s := ""
		for _, o := range os {
			s += " " + o.Name
			if o.Required {
				s += "!"
			}
			if len(o.Options) > 0 {
				s += "(" + opts(o.Options) + " )"
			}
		}
		return s
	}
	perms := "-"
	if c.DefaultMemberPermissions != nil {
		perms = fmt.Sprintf("%#x", *c.DefaultMemberPermissions)
	}
	return c.Name + " [" + perms + "]" + opts(c.Options)
}

func registeredShapes(cmds []*discordgo.ApplicationCommand) []string {
	out := make([]string, 0, len(cmds))
	for _, c := range cmds {
		out = append(out, commandShape(c))
	}
	sort.Strings(out)
	return out
}

// TestCommandsRegisteredAtStart: with discord.guild_id set, the app
// registers the contract's (docs/CONTRACT.md) commands in that guild (not globally) at start,
// and a second start registers the same set again.
func TestCommandsRegisteredAtStart(t *testing.T) {
	t.Parallel()
	fd := fakediscord.New(t)
	fs := newFeedServer(t)
	cfg := e2eConfig(t, fd, fs)
	cfg.Discord.GuildID = guildA
	start := func(n int) []string {
		t.Helper()
		_, stop := startApp(t, cfg, appOptions{})
		ows := fd.WaitCommands(t, n, cmdWait)
		stop()
		last := ows[n-1]
		if last.GuildID != guildA || last.ApplicationID != cfg.Discord.ApplicationID {
			t.Errorf("overwrite %d went to guild %q app %q", n, last.GuildID, last.ApplicationID)
		}
		return registeredShapes(fd.RegisteredCommands(guildA))
	}
	first := start(1)
	want := []string{
		"explain [-] alert!",
		"feeds [-] list add( url! name ) remove( name! )",
		"latest [-] count actor",
		"rules [-] list show( name! ) add( name! keywords! exclude actors description ) remove( name! ) test( text! ) edit( name! )",
		"search [-] query! count",
		"status [-]",
		"subscribe [0x10] channel rule min_sources",
		"subscriptions [-]",
		"unsubscribe [0x10] channel rule",
	}
	if !slices.Equal(first, want) {
		t.Errorf("registered commands:\n%s\nwant:\n%s", fmt.Sprint(first), fmt.Sprint(want))
	}
	if g := fd.RegisteredCommands(""); len(g) != 0 {
		t.Errorf("%d global commands registered though discord.guild_id is set", len(g))
	}
	second := start(2)
	if !slices.Equal(first, second) {
		t.Errorf("second start registered:\n%v\nfirst:\n%v", second, first)
	}
	if n := len(fd.Commands()); n != 2 {
		t.Errorf("%d bulk overwrites after two starts, want 2", n)
	}
}
