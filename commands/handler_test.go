package commands

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
	dto "github.com/prometheus/client_model/go"

	"github.com/backchannel/backchannel/model"
)

func TestCommands(t *testing.T) {
	long := strings.Repeat("a", 5000)
	tests := []struct {
		name      string
		i         *discordgo.Interaction
		want      []string // substrings of the answer
		ephemeral bool
		changes   int // store writes expected
	}{
		{"subscribe here", slash(mcA, "subscribe"), []string{"Subscribed <#" + chanA + ">", "every rule", "posted at its first report"}, false, 1},
		{"subscribe min_sources", slash(mcA, "subscribe", num("min_sources", 3)), []string{"Subscribed <#" + chanA + ">", "once 3 different feeds have reported it", "`min_sources` 3"}, false, 1},
		{"subscribe min_sources 10", slash(mcA, "subscribe", num("min_sources", 10)), []string{"Subscribed <#" + chanA + ">", "`min_sources` 10"}, false, 1},
		{"subscribe min_sources 1", slash(mcA, "subscribe", num("min_sources", 1)), []string{"Subscribed <#" + chanA + ">", "posted at its first report"}, false, 1},
		{"subscribe min_sources 0", slash(mcA, "subscribe", num("min_sources", 0)), []string{"`min_sources` must be between 1 and 10", "Nothing was changed"}, true, 0},
		{"subscribe min_sources 11", slash(mcA, "subscribe", num("min_sources", 11)), []string{"`min_sources` must be between 1 and 10", "Nothing was changed"}, true, 0},
		{"subscribe min_sources -3", slash(mcA, "subscribe", num("min_sources", -3)), []string{"`min_sources` must be between 1 and 10", "Nothing was changed"}, true, 0},
		{"subscribe min_sources 2.5", slash(mcA, "subscribe", num("min_sources", 2.5)), []string{"`min_sources` should be a whole number", "Nothing was changed"}, true, 0},
		{"subscribe min_sources text", slash(mcA, "subscribe", str("min_sources", "3")), []string{"`min_sources` should be a whole number", "Nothing was changed"}, true, 0},
		{"subscribe min_sources out of range, bad rule", slash(mcA, "subscribe", str("rule", "nope"), num("min_sources", 11)), []string{"Nothing was changed"}, true, 0},
		{"subscribe channel and rule", withChannel(slash(mcA, "subscribe", chanOpt("channel", chanA2), str("rule", "summits")), chanA2, discordgo.ChannelTypeGuildText),
			[]string{"Subscribed <#" + chanA2 + ">", "rule `summits`"}, false, 1},
		{"subscribe unknown rule", slash(mcA, "subscribe", str("rule", "nope")), []string{"no rule named `nope`", "Nothing was changed"}, true, 0},
		{"subscribe unresolved channel", slash(mcA, "subscribe", chanOpt("channel", chanB)), []string{"not one of this server's channels"}, true, 0},
		{"subscribe other guild's resolved channel", func() *discordgo.Interaction {
			i := withChannel(slash(mcA, "subscribe", chanOpt("channel", chanB)), chanB, discordgo.ChannelTypeGuildText)
			i.Data.(discordgo.ApplicationCommandInteractionData).Resolved.Channels[chanB].GuildID = guildB
			return i
		}(), []string{"not one of this server's channels"}, true, 0},
		{"subscribe voice channel", withChannel(slash(mcA, "subscribe", chanOpt("channel", chanA2)), chanA2, discordgo.ChannelTypeGuildVoice),
			[]string{"text or announcement"}, true, 0},
		{"unsubscribe nothing", slash(mcA, "unsubscribe"), []string{"no subscription"}, true, 0},
		{"subscriptions empty", slash(memberA, "subscriptions"), []string{"no subscriptions"}, false, 0},
		{"latest", slash(memberA, "latest"), []string{"Latest stories", "Spy chiefs hold secret summit", "https://wire.example/a", "2 sources", "alert 7 · rule summits"}, false, 0},
		{"latest other guild's alerts hidden", slash(memberA, "latest", num("count", 10)), nil, false, 0},
		{"latest by actor none", slash(memberA, "latest", str("actor", "us-cia")), []string{"No alerts naming"}, false, 0},
		{"latest count 0", slash(memberA, "latest", num("count", 0)), []string{"between 1 and 10"}, true, 0},
		{"latest count 11", slash(memberA, "latest", num("count", 11)), []string{"between 1 and 10"}, true, 0},
		{"search", slash(memberA, "search", str("query", "secret")), []string{"Spy chiefs hold secret summit", "https://wire.example/a"}, false, 0},
		{"search no hit", slash(memberA, "search", str("query", "zebra")), []string{"No alerts"}, false, 0},
		{"search missing query", slash(memberA, "search"), []string{"`query` is required"}, true, 0},
		{"search 5000 chars", slash(memberA, "search", str("query", long)), []string{"too long"}, true, 0},
		{"explain", slash(memberA, "explain", str("alert", "7")), []string{"summits", "SVR Director", "Naryshkin", "meeting", "met", "Naryshkin met Burns", "alert 7 · rule summits",
			"Story: 2 reports", "Story `s-ankara`: new story: no RU–US meeting story on Mon 14 Nov",
			"1. **wire** — [Spy chiefs hold secret summit](https://wire.example/a) · alert 7 · <t:", "← this alert",
			"2. **TASS** — [Naryshkin and Burns held talks in Ankara](https://tass.example/9) · alert 9 · <t:"}, false, 0},
		{"explain a later report", slash(memberA, "explain", str("alert", "9")), []string{"Alert 9: Naryshkin and Burns held talks in Ankara", "held talks", "Naryshkin and Burns held talks",
			"alert 9 · rule summits", "Story `s-ankara`: joins s-ankara (1 report)", "1. **wire** — [Spy chiefs hold secret summit](https://wire.example/a) · alert 7",
			"2. **TASS** — [Naryshkin and Burns held talks in Ankara](https://tass.example/9) · alert 9 · <t:1772359200:R> ← this alert"}, false, 0},
		{"explain footer words", slash(memberA, "explain", str("alert", "alert 7")), []string{"Naryshkin met Burns"}, false, 0},
		{"explain other guild's alert", slash(memberA, "explain", str("alert", "8")), []string{"no alert 8"}, true, 0},
		{"explain not an id", slash(memberA, "explain", str("alert", "x'; drop")), []string{"not an alert id"}, true, 0},
		{"status", slash(memberA, "status"), []string{"wire — ok · last poll <t:", "next poll <t:", "42 items seen", "broken — error: HTTP 503 Service Unavailable"}, false, 0},
		{"rules list", slash(memberA, "rules", sub("list")), []string{"`summits` — Leaders meeting", "`backchannel-words`"}, false, 0},
		{"rules show", slash(memberA, "rules", sub("show", str("name", "summits"))), []string{"```toml", "name = 'summits'", "summit"}, false, 0},
		{"rules show unknown", slash(memberA, "rules", sub("show", str("name", "zzz"))), []string{"no rule named `zzz`"}, true, 0},
		{"rules test fires", slash(memberA, "rules", sub("test", str("text", "Leaders open summit in Geneva"))), []string{"summits", "Evidence"}, true, 0},
		{"rules test excluded", slash(memberA, "rules", sub("test", str("text", "A back channel podcast"))), []string{"None of this server's rules fires"}, true, 0},
		{"rules test 5000 chars", slash(memberA, "rules", sub("test", str("text", long))), []string{"too long"}, true, 0},
		{"rules add", slash(mgA, "rules", sub("add", str("name", "envoys"), str("keywords", `special envoy, emissar(y|ies), a{1,3}b`), str("exclude", "football"))),
			[]string{"Added rule `envoys`", "3 keyword patterns, 1 exclusions"}, false, 1},
		{"rules add duplicate", slash(mgA, "rules", sub("add", str("name", "summits"), str("keywords", "x"))), []string{"already has a rule"}, true, 0},
		{"rules add invalid regex", slash(mgA, "rules", sub("add", str("name", "bad"), str("keywords", "ok, (unclosed"))), []string{"keyword pattern 2", "not valid RE2", "missing closing )"}, true, 0},
		{"rules add invalid exclude", slash(mgA, "rules", sub("add", str("name", "bad"), str("keywords", "ok"), str("exclude", `\p{Nope}`))), []string{"exclude pattern 1", "not valid RE2"}, true, 0},
		{"rules add 5000-char keywords", slash(mgA, "rules", sub("add", str("name", "big"), str("keywords", long))), []string{"too long"}, true, 0},
		{"rules add 1001-char pattern", slash(mgA, "rules", sub("add", str("name", "big"), str("keywords", strings.Repeat("b", 1001)))), []string{"`keywords` is too long: 1001 characters, at most 1000"}, true, 0},
		{"rules add 5000-char name", slash(mgA, "rules", sub("add", str("name", long), str("keywords", "x"))), []string{"too long"}, true, 0},
		{"rules add bad name", slash(mgA, "rules", sub("add", str("name", "two words"), str("keywords", "x"))), []string{"a rule name is"}, true, 0},
		{"rules add with actors", slash(mgA, "rules", sub("add", str("name", "svr"), str("keywords", "meeting"), str("actors", "ru-svr, us-cia"))),
			[]string{"Added rule `svr`", "2 actors"}, false, 1},
		{"rules add unknown actor", slash(mgA, "rules", sub("add", str("name", "act"), str("keywords", "x"), str("actors", "xx-nobody"))), []string{"refused", "xx-nobody"}, true, 0},
		{"rules add too many patterns", slash(mgA, "rules", sub("add", str("name", "many"), str("keywords", strings.Repeat("k,", 120)))), []string{"120 keyword patterns given; at most 100"}, true, 0},
		{"rules add missing keywords", slash(mgA, "rules", sub("add", str("name", "nokw"))), []string{"`keywords` is required"}, true, 0},
		{"rules remove", slash(mgA, "rules", sub("remove", str("name", "summits"))), []string{"Removed rule `summits`"}, false, 1},
		{"rules remove unknown", slash(mgA, "rules", sub("remove", str("name", "zzz"))), []string{"no rule named"}, true, 0},
		{"rules without subcommand", slash(mgA, "rules"), []string{"Choose what `/rules` should do"}, true, 0},
		{"rules unknown subcommand", slash(mgA, "rules", sub("frobnicate")), []string{"Unknown command"}, true, 0},
		{"unknown command", slash(mgA, "rm-rf"), []string{"Unknown command"}, true, 0},
		{"feeds list", slash(memberA, "feeds", sub("list")), []string{"wire — <https://wire.example/feed>", "broken"}, false, 0},
		{"feeds remove", slash(ownerA, "feeds", sub("remove", str("name", "wire"))), []string{"Removed feed `wire`", "configuration file"}, true, 1},
		{"feeds remove unknown", slash(ownerA, "feeds", sub("remove", str("name", "zzz"))), []string{"no feed named"}, true, 0},
		{"feeds add not a URL", slash(ownerA, "feeds", sub("add", str("url", "file:///etc/passwd"))), []string{"not an http or https URL"}, true, 0},
		{"feeds add existing URL", slash(ownerA, "feeds", sub("add", str("url", "https://wire.example/feed"))), []string{"already exists"}, true, 0},
		{"DM guild command", slash(dm, "subscribe"), []string{"only works in a server"}, true, 0},
		{"DM rules add", slash(who{"", ownerID, discordgo.PermissionAdministrator}, "rules", sub("add", str("name", "x"), str("keywords", "x"))), []string{"only works in a server"}, true, 0},
		{"DM status works", slash(dm, "status"), []string{"wire — ok"}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			r := e.run(t, tt.i)
			if len(r.responses) != 1 {
				t.Fatalf("got %d responses, want 1", len(r.responses))
			}
			got := r.text()
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("answer lacks %q:\n%s", w, got)
				}
			}
			if r.ephemeral() != tt.ephemeral {
				t.Errorf("ephemeral = %v, want %v:\n%s", r.ephemeral(), tt.ephemeral, got)
			}
			if n := e.store.changes(); n != tt.changes {
				t.Errorf("store changed %d times, want %d", n, tt.changes)
			}
			if strings.Contains(got, "Guild B only") {
				t.Errorf("guild A was shown guild B's alert:\n%s", got)
			}
			if strings.Contains(got, "Update: Ankara") {
				t.Errorf("a story's second report by the same feed was listed as a source:\n%s", got)
			}
		})
	}
}

// TestPermissions runs every restricted command as a plain member, as
// Manage Channels, Manage Guild, Administrator and owner (without any
// permission), and checks who is let through and that refusals change
// nothing and fetch nothing.
func TestPermissions(t *testing.T) {
	cmds := []struct {
		name    string
		build   func(w who) *discordgo.Interaction
		allowed map[string]bool
	}{
		{"subscribe", func(w who) *discordgo.Interaction { return slash(w, "subscribe") },
			map[string]bool{"manage channels": true, "manage guild": true, "administrator": true}},
		{"subscribe min_sources", func(w who) *discordgo.Interaction { return slash(w, "subscribe", num("min_sources", 3)) },
			map[string]bool{"manage channels": true, "manage guild": true, "administrator": true}},
		{"unsubscribe", func(w who) *discordgo.Interaction { return slash(w, "unsubscribe") },
			map[string]bool{"manage channels": true, "manage guild": true, "administrator": true}},
		{"rules add", func(w who) *discordgo.Interaction {
			return slash(w, "rules", sub("add", str("name", "new-rule"), str("keywords", "x")))
		}, map[string]bool{"manage guild": true, "administrator": true}},
		{"rules remove", func(w who) *discordgo.Interaction { return slash(w, "rules", sub("remove", str("name", "summits"))) },
			map[string]bool{"manage guild": true, "administrator": true}},
		{"rules edit", func(w who) *discordgo.Interaction { return slash(w, "rules", sub("edit", str("name", "summits"))) },
			map[string]bool{"manage guild": true, "administrator": true}},
		{"feeds add", func(w who) *discordgo.Interaction {
			return slash(w, "feeds", sub("add", str("url", "https://news.example/rss")))
		}, map[string]bool{"owner": true}},
		{"feeds remove", func(w who) *discordgo.Interaction { return slash(w, "feeds", sub("remove", str("name", "wire"))) },
			map[string]bool{"owner": true}},
		{"rules test", func(w who) *discordgo.Interaction { return slash(w, "rules", sub("test", str("text", "summit"))) },
			map[string]bool{"member": true, "manage channels": true, "manage guild": true, "administrator": true, "owner": true}},
	}
	people := map[string]who{"member": memberA, "manage channels": mcA, "manage guild": mgA, "administrator": adminA, "owner": ownerA}
	for _, c := range cmds {
		for role, w := range people {
			t.Run(c.name+"/"+role, func(t *testing.T) {
				e := newEnv(t)
				r := e.run(t, c.build(w))
				refused := strings.Contains(r.text(), "Nothing was changed") && (strings.Contains(r.text(), "You need") || strings.Contains(r.text(), "Only the bot's owners"))
				if refused == c.allowed[role] {
					t.Fatalf("allowed=%v but answer was:\n%s", c.allowed[role], r.text())
				}
				if refused {
					if !r.ephemeral() {
						t.Error("refusal is not ephemeral")
					}
					if n := e.store.changes(); n != 0 {
						t.Errorf("refusal changed the store %d times", n)
					}
					if p := e.prober.probed(); len(p) != 0 {
						t.Errorf("refused /feeds add fetched %v", p)
					}
				}
			})
		}
	}
}

// TestGuildIsolation: guild B's admin can neither see nor change guild A's
// rules, subscriptions or alerts.
func TestGuildIsolation(t *testing.T) {
	e := newEnv(t)
	e.run(t, slash(adminA, "rules", sub("add", str("name", "a-only"), str("keywords", "alpha"))))
	e.run(t, slash(adminA, "subscribe"))
	e.run(t, slash(adminA, "rules", sub("remove", str("name", "backchannel-words"))))
	before := e.store.changes()
	if before != 3 {
		t.Fatalf("setup made %d changes, want 3", before)
	}

	if got := e.run(t, slash(adminB, "rules", sub("list"))).text(); strings.Contains(got, "a-only") || !strings.Contains(got, "backchannel-words") {
		t.Errorf("guild B's rules show guild A's changes:\n%s", got)
	}
	if got := e.run(t, slash(adminB, "rules", sub("remove", str("name", "a-only")))).text(); !strings.Contains(got, "no rule named") {
		t.Errorf("guild B removed guild A's rule:\n%s", got)
	}
	if got := e.run(t, slash(adminB, "rules", sub("test", str("text", "alpha")))).text(); !strings.Contains(got, "None of") {
		t.Errorf("guild A's rule fires in guild B:\n%s", got)
	}
	if got := e.run(t, slash(adminB, "subscriptions")).text(); strings.Contains(got, chanA) {
		t.Errorf("guild B sees guild A's subscription:\n%s", got)
	}
	// Even naming guild A's channel, B's unsubscribe acts on guild B.
	if got := e.run(t, slash(adminB, "unsubscribe", chanOpt("channel", chanA))).text(); !strings.Contains(got, "no subscription") {
		t.Errorf("guild B unsubscribed guild A's channel:\n%s", got)
	}
	if got := e.run(t, slash(adminB, "explain", str("alert", "7"))).text(); !strings.Contains(got, "no alert 7") {
		t.Errorf("guild B explained guild A's alert:\n%s", got)
	}
	if got := e.run(t, slash(adminB, "search", str("query", "spy"))).text(); strings.Contains(got, "Spy chiefs") {
		t.Errorf("guild B found guild A's alert:\n%s", got)
	}
	if n := e.store.changes(); n != before {
		t.Errorf("guild B changed the store %d times", n-before)
	}
	// Guild A's view is what A made it.
	got := e.run(t, slash(memberA, "rules", sub("list"))).text()
	if !strings.Contains(got, "a-only") || strings.Contains(got, "backchannel-words") {
		t.Errorf("guild A's rules:\n%s", got)
	}
	if got := e.run(t, slash(memberA, "rules", sub("test", str("text", "alpha")))).text(); !strings.Contains(got, "a-only") {
		t.Errorf("guild A's new rule does not fire in guild A:\n%s", got)
	}
}

func TestSubscribeLifecycle(t *testing.T) {
	e := newEnv(t)
	e.store.subs = []model.Subscription{{GuildID: guildA, ChannelID: chanA2, Disabled: "Missing Access"}}
	if got := e.run(t, slash(mcA, "subscribe", str("rule", "summits"))).text(); !strings.Contains(got, "Subscribed") {
		t.Fatalf("subscribe: %s", got)
	}
	if got := e.run(t, slash(mcA, "subscribe", str("rule", "summits"))).text(); !strings.Contains(got, "already subscribed") {
		t.Errorf("second subscribe: %s", got)
	}
	got := e.run(t, slash(memberA, "subscriptions")).text()
	if !strings.Contains(got, "<#"+chanA+"> — rule `summits`") || !strings.Contains(got, "disabled**: Missing Access") {
		t.Errorf("subscriptions:\n%s", got)
	}
	if got := e.run(t, slash(memberA, "status")).text(); !strings.Contains(got, "<#"+chanA2+"> — every rule — disabled: Missing Access") {
		t.Errorf("status does not show the disabled subscription:\n%s", got)
	}
	// The rule filter must match to unsubscribe.
	if got := e.run(t, slash(mcA, "unsubscribe")).text(); !strings.Contains(got, "no subscription") {
		t.Errorf("unsubscribe without rule: %s", got)
	}
	if got := e.run(t, slash(mcA, "unsubscribe", str("rule", "summits"))).text(); !strings.Contains(got, "Unsubscribed <#"+chanA+">") {
		t.Errorf("unsubscribe: %s", got)
	}
}

func TestFeedsAddDefers(t *testing.T) {
	e := newEnv(t)
	r := e.run(t, slash(ownerA, "feeds", sub("add", str("url", "https://news.example/rss"))))
	if len(r.responses) != 1 || r.responses[0].Type != discordgo.InteractionResponseDeferredChannelMessageWithSource {
		t.Fatalf("want one deferred response first, got %+v", r.responses)
	}
	if len(r.edits) != 1 || !strings.Contains(r.text(), "Added feed `Example News`") || !strings.Contains(r.text(), "12 items") {
		t.Fatalf("edit: %s", r.text())
	}
	feeds, _ := e.store.Feeds(t.Context())
	added := feeds[len(feeds)-1]
	if added.Name != "Example News" || added.Source != "admin" || e.sched.Next(added.ID).IsZero() {
		t.Errorf("feed not saved and scheduled: %+v", added)
	}
	if got := e.run(t, slash(memberA, "feeds", sub("list"))).text(); !strings.Contains(got, "Example News — <https://news.example/rss>") {
		t.Errorf("feeds list: %s", got)
	}

	// A fetch that fails saves nothing and says why.
	before := e.store.changes()
	r = e.run(t, slash(ownerA, "feeds", sub("add", str("url", "https://nothing.example/"), str("name", "nothing"))))
	if !strings.Contains(r.text(), "Could not add") || !strings.Contains(r.text(), "not RSS, Atom or JSON Feed") {
		t.Errorf("failed probe: %s", r.text())
	}
	if e.store.changes() != before {
		t.Error("a failed probe saved something")
	}
}

func TestRulesEditModal(t *testing.T) {
	e := newEnv(t)
	r := e.run(t, slash(mgA, "rules", sub("edit", str("name", "summits"))))
	if len(r.responses) != 1 || r.responses[0].Type != discordgo.InteractionResponseModal {
		t.Fatalf("want a modal, got %+v", r.responses)
	}
	d := r.responses[0].Data
	if d.CustomID != "rules-edit:summits" {
		t.Errorf("custom id %q", d.CustomID)
	}
	text, ok := textInputValue(d.Components, ruleEditInput)
	if !ok || !strings.Contains(text, "summit") {
		t.Fatalf("modal text: %q", text)
	}

	submit := func(w who, id, text string) *responder {
		i := &discordgo.Interaction{
			ID: "2", Type: discordgo.InteractionModalSubmit, GuildID: w.guild,
			Member: &discordgo.Member{User: &discordgo.User{ID: w.user}, Permissions: w.perms},
			Data: discordgo.ModalSubmitInteractionData{CustomID: id, Components: []discordgo.MessageComponent{
				&discordgo.ActionsRow{Components: []discordgo.MessageComponent{&discordgo.TextInput{CustomID: ruleEditInput, Value: text}}},
			}},
		}
		return e.run(t, i)
	}
	edited := strings.Replace(text, "'summit'", "'summit', 'conclave'", 1)
	if edited == text {
		t.Fatalf("test could not edit %q", text)
	}
	// Permissions are checked again on submit.
	if got := submit(mcA, d.CustomID, edited).text(); !strings.Contains(got, "You need the Manage Server") {
		t.Errorf("manage channels submit: %s", got)
	}
	for _, bad := range []struct{ text, want string }{
		{"name = 'summits'\nkeywords = ['(']", "not valid RE2"},
		{"name = 'summits'\nkeywords = ['" + strings.Repeat("x", 1001) + "']", "keyword pattern 1 `" + strings.Repeat("x", 99) + "…` is 1001 characters long; at most 1000 allowed"},
		{"name = 'summits'\nkeywords = ['x']\nexclude = [' ']", "exclude pattern 1 ` ` is empty"},
		{"name = 'summits'\nkeywords = ['x']\nkeywrods = ['y']", "unknown key"},
		{"name = 'renamed'\nkeywords = ['x']", "cannot be renamed"},
		{"keywords = [", "line 1"},
		{strings.Repeat("#", 5000), "at most 4000"},
	} {
		if got := submit(mgA, d.CustomID, bad.text).text(); !strings.Contains(got, bad.want) {
			t.Errorf("submit %q: want %q in\n%s", bad.text, bad.want, got)
		}
	}
	if e.store.changes() != 0 {
		t.Fatal("a refused edit changed the store")
	}
	if got := submit(mgA, d.CustomID, edited).text(); !strings.Contains(got, "Saved rule `summits`") {
		t.Fatalf("submit: %s", got)
	}
	if got := e.run(t, slash(memberA, "rules", sub("test", str("text", "A papal conclave")))).text(); !strings.Contains(got, "summits") {
		t.Errorf("edited rule does not fire:\n%s", got)
	}
	// Guild B still has the original.
	if got := e.run(t, slash(adminB, "rules", sub("test", str("text", "A papal conclave")))).text(); !strings.Contains(got, "None of") {
		t.Errorf("guild A's edit leaked into guild B:\n%s", got)
	}
}

func TestAutocomplete(t *testing.T) {
	e := newEnv(t)
	ac := func(w who, name string, opts ...opt) []*discordgo.ApplicationCommandOptionChoice {
		i := slash(w, name, opts...)
		i.Type = discordgo.InteractionApplicationCommandAutocomplete
		r := e.run(t, i)
		if len(r.responses) != 1 || r.responses[0].Type != discordgo.InteractionApplicationCommandAutocompleteResult {
			t.Fatalf("want an autocomplete result, got %+v", r.responses)
		}
		return r.responses[0].Data.Choices
	}
	focused := func(o opt) opt { o.Focused = true; return o }

	if c := ac(memberA, "rules", sub("show", focused(str("name", "sum")))); len(c) != 1 || c[0].Value != "summits" {
		t.Errorf("rule names: %+v", c)
	}
	if c := ac(memberA, "feeds", sub("remove", focused(str("name", "")))); len(c) != 2 {
		t.Errorf("feed names: %+v", c)
	}
	if c := ac(memberA, "explain", focused(str("alert", ""))); len(c) != 1 || c[0].Value != "7" {
		t.Errorf("alert ids (guild A's only): %+v", c)
	}
	if c := ac(memberA, "latest", focused(str("actor", "svr"))); len(c) != 1 || c[0].Value != "ru-svr" {
		t.Errorf("actor ids: %+v", c)
	}
	if c := ac(mgA, "rules", sub("add", str("name", "x"), focused(str("actors", "ru-svr, ci")))); len(c) != 1 || c[0].Value != "ru-svr, us-cia" {
		t.Errorf("actor list completion: %+v", c)
	}
	if c := ac(dm, "explain", focused(str("alert", ""))); len(c) != 0 {
		t.Errorf("alert ids in a DM: %+v", c)
	}
}

// TestMetricsCountByCommandAndResult: each command interaction is counted
// once, by command and by how it ended.
func TestMetricsCountByCommandAndResult(t *testing.T) {
	e := newEnv(t)
	e.run(t, slash(memberA, "rules", sub("list")))
	e.run(t, slash(memberA, "rules", sub("list")))
	e.run(t, slash(memberA, "no-such-command"))
	e.run(t, slash(memberA, "rules", sub("add", str("name", "x"), str("keywords", "y")))) // no permission
	e.run(t, slash(ownerA, "feeds", sub("add", str("url", "ftp://x.example/"))))          // invalid option
	e.run(t, slash(mgA, "rules", sub("remove", str("name", "no-such-rule"))))
	e.run(t, slash(dm, "latest"))
	// The transport fails: the answer never reached Discord.
	e.h.Handle(context.Background(), slash(memberA, "status"), failingResponder{})
	// Autocomplete runs no command and is not counted.
	field := str("name", "")
	field.Focused = true
	ac := slash(memberA, "rules", sub("show", field))
	ac.Type = discordgo.InteractionApplicationCommandAutocomplete
	e.run(t, ac)

	count := func(command, result string) float64 {
		var m dto.Metric
		if err := e.h.d.Metrics.Interactions.WithLabelValues(command, result).Write(&m); err != nil {
			t.Fatal(err)
		}
		return m.GetCounter().GetValue()
	}
	for _, c := range []struct {
		command, result string
		want            float64
	}{
		{"rules list", "ok", 2},
		{"unknown", "refused", 1},
		{"rules add", "refused", 1},
		{"feeds add", "refused", 1},
		{"rules remove", "refused", 1},
		{"latest", "refused", 1},
		{"status", "error", 1},
		{"status", "ok", 0},
		{"rules show", "ok", 0},
	} {
		if got := count(c.command, c.result); got != c.want {
			t.Errorf("%s %s counted %v, want %v", c.command, c.result, got, c.want)
		}
	}
}

// failingResponder is a transport that cannot deliver anything.
type failingResponder struct{}

func (failingResponder) Respond(context.Context, *discordgo.InteractionResponse) error {
	return errors.New("fake: connection reset")
}

func (failingResponder) EditResponse(context.Context, *discordgo.WebhookEdit) error {
	return errors.New("fake: connection reset")
}

func TestSplitPatterns(t *testing.T) {
	tests := map[string][]string{
		"a, b ,c":              {"a", "b", "c"},
		`a{1,3}, [,;]x, (p,q)`: {"a{1,3}", "[,;]x", "(p,q)"},
		`x\,y, z`:              {`x\,y`, "z"},
		`[],]a, b`:             {"[],]a", "b"},
		" , ,":                 nil,
	}
	for in, want := range tests {
		got := splitPatterns(in)
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("splitPatterns(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestListEmbedsFitLimits(t *testing.T) {
	var lines []string
	for range 500 {
		lines = append(lines, strings.Repeat("x", 90))
	}
	embeds := listEmbeds("Feeds", lines)
	checkLimits(t, "", embeds)
	last := embeds[len(embeds)-1].Description
	if !strings.Contains(last, "more") {
		t.Errorf("overflow not counted: %q", last[max(0, len(last)-40):])
	}
}

// TestFeedURLSecrets: feed URLs reach members without user info or secret
// parameter values, in /feeds list and in the errors /status shows; an
// owner's /feeds list shows them whole, to the owner alone.
func TestFeedURLSecrets(t *testing.T) {
	e := newEnv(t)
	const secretURL = "http://alice:hunter2@host.example/feed.xml?api_key=SEKRET&lang=en"
	e.store.feeds = append(e.store.feeds, model.Feed{ID: 3, Name: "keyed", URL: secretURL, Source: model.SourceConfig,
		State: model.FeedState{LastPoll: e.now, Status: model.StatusError,
			Error: `feeds: fetch ` + secretURL + `: Get "` + secretURL + `": dial tcp: connection refused`}})

	for _, tt := range []struct {
		name string
		i    *discordgo.Interaction
		want string
	}{
		{"feeds list", slash(memberA, "feeds", sub("list")), "keyed — <http://host.example/feed.xml?api_key=REDACTED&lang=en>"},
		{"status", slash(memberA, "status"), `keyed — error: feeds: fetch http://host.example/feed.xml?api_key=REDACTED&lang=en: Get "http://host.example/feed.xml?api_key=REDACTED&lang=en"`},
		{"status in a DM", slash(dm, "status"), "keyed — error:"},
	} {
		r := e.run(t, tt.i)
		got := r.text()
		if !strings.Contains(got, tt.want) {
			t.Errorf("%s lacks %q:\n%s", tt.name, tt.want, got)
		}
		for _, secret := range []string{"hunter2", "alice", "SEKRET"} {
			if strings.Contains(got, secret) {
				t.Errorf("%s shows %q to a member:\n%s", tt.name, secret, got)
			}
		}
		if r.ephemeral() {
			t.Errorf("%s: a member's answer is ephemeral", tt.name)
		}
	}
	r := e.run(t, slash(ownerA, "feeds", sub("list")))
	if !strings.Contains(r.text(), "<"+secretURL+">") || !r.ephemeral() {
		t.Errorf("owner's /feeds list: ephemeral %v, want the whole URL, ephemeral:\n%s", r.ephemeral(), r.text())
	}
}
