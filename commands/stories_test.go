package commands

import (
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/backchannel/backchannel/model"
)

// TestSubscribeMinSources: /subscribe stores min_sources, subscribing again
// changes it, /subscriptions shows it when above 1, and a refused value
// changes nothing.
func TestSubscribeMinSources(t *testing.T) {
	e := newEnv(t)
	stored := func() []int {
		var out []int
		for _, s := range e.store.subs {
			out = append(out, s.MinSources)
		}
		return out
	}
	steps := []struct {
		i       *discordgo.Interaction
		want    string
		stored  []int
		listed  string // in /subscriptions afterwards
		nowhere string // not in /subscriptions afterwards
	}{
		{slash(mcA, "subscribe", num("min_sources", 3)), "Subscribed <#" + chanA + ">", []int{3}, "<#" + chanA + "> — every rule — `min_sources` 3", ""},
		{slash(mcA, "subscribe", num("min_sources", 2)), "already subscribed", []int{2}, "`min_sources` 2", "`min_sources` 3"},
		{slash(mcA, "subscribe", num("min_sources", 11)), "must be between 1 and 10", []int{2}, "`min_sources` 2", ""},
		{slash(mcA, "subscribe", str("rule", "summits"), num("min_sources", 4)), "Subscribed <#" + chanA + "> to this server's alerts of rule `summits`", []int{2, 4},
			"<#" + chanA + "> — rule `summits` — `min_sources` 4", ""},
		// Without the option, the default: post at the first report.
		{slash(mcA, "subscribe"), "from now on each story is posted at its first report", []int{1, 4}, "<#" + chanA + "> — every rule\n", "`min_sources` 2"},
	}
	for n, st := range steps {
		if got := e.run(t, st.i).text(); !strings.Contains(got, st.want) {
			t.Errorf("step %d: answer lacks %q:\n%s", n, st.want, got)
		}
		if got := stored(); fmt.Sprint(got) != fmt.Sprint(st.stored) {
			t.Errorf("step %d: stored min_sources %v, want %v", n, got, st.stored)
		}
		list := e.run(t, slash(memberA, "subscriptions")).text()
		if !strings.Contains(list, st.listed) || (st.nowhere != "" && strings.Contains(list, st.nowhere)) {
			t.Errorf("step %d: /subscriptions should show %q and not %q:\n%s", n, st.listed, st.nowhere, list)
		}
	}
}

// storyAlerts makes story, in guild A, reported by n different feeds (and
// once more by the first feed), with ids from first on.
func storyAlerts(now time.Time, story string, first int64, n int, feed func(i int) string) []model.Alert {
	var out []model.Alert
	for i := range n + 1 {
		f := feed(i % n)
		out = append(out, model.Alert{
			ID: first + int64(i), GuildID: guildA, Created: now, Story: story, StoryReason: fmt.Sprintf("joins %s (%d reports): RU–US call", story, i),
			Article: model.Article{Feed: f, Title: fmt.Sprintf("Report %d of %s: %s", i, story, strings.Repeat("words ", 20)),
				Link: fmt.Sprintf("https://outlet-%d.example/news/2026/03/01/%s/%s", i, story, strings.Repeat("long-slug-", 8)), Published: now.Add(time.Duration(i) * time.Minute)},
			Matches: []model.Match{{Rule: "summits", Actors: []model.ActorHit{{ID: "ru-svr", Office: "SVR Director", Country: "RU", Alias: "Naryshkin"}}}},
		})
	}
	return out
}

// TestLatestStories: one entry per story, newest story first, each with its
// title, link and how many sources reported it.
func TestLatestStories(t *testing.T) {
	e := newEnv(t)
	e.store.alerts = append(e.store.alerts, storyAlerts(e.now, "s-call", 20, 4, func(i int) string { return fmt.Sprintf("feed-%d", i) })...)
	e.store.alerts = append(e.store.alerts, model.Alert{ID: 40, GuildID: guildA, Created: e.now,
		Article: model.Article{Title: "Stored before stories", Link: "https://old.example/x", Feed: "old"}, Matches: []model.Match{{Rule: "summits"}}})

	r := e.run(t, slash(memberA, "latest"))
	if len(r.responses) != 1 || r.responses[0].Data == nil || len(r.responses[0].Data.Embeds) != 1 {
		t.Fatalf("want one embed: %s", r.text())
	}
	fields := r.responses[0].Data.Embeds[0].Fields
	want := []struct{ title, link, sources, footer string }{
		{"Stored before stories", "https://old.example/x", "1 source", "alert 40 · rule summits"},
		{"Report 0 of s-call", "https://outlet-0.example/", "4 sources", "alert 20 · rule summits"},
		{"Spy chiefs hold secret summit", "https://wire.example/a", "2 sources", "alert 7 · rule summits"},
	}
	if len(fields) != len(want) {
		t.Fatalf("%d entries, want one per story (%d):\n%s", len(fields), len(want), r.text())
	}
	for i, w := range want {
		f := fields[i]
		if !strings.HasPrefix(f.Name, w.title) || !strings.HasPrefix(f.Value, w.link) || !strings.Contains(f.Value, " · "+w.sources+"\n") || !strings.HasSuffix(f.Value, w.footer) {
			t.Errorf("entry %d: %q\n%s\nwant %q, %q, %q, %q", i, f.Name, f.Value, w.title, w.link, w.sources, w.footer)
		}
	}
	if got := e.run(t, slash(memberA, "latest", num("count", 1))).text(); !strings.Contains(got, "Stored before stories") || strings.Contains(got, "s-call") {
		t.Errorf("count 1:\n%s", got)
	}
	if got := e.run(t, slash(memberA, "latest", str("actor", "ru-svr"))).text(); strings.Contains(got, "Stored before") || !strings.Contains(got, "4 sources") || !strings.Contains(got, "Latest stories naming ru-svr") {
		t.Errorf("actor ru-svr:\n%s", got)
	}
}

// reportLineRE is one report in /explain: number, feed, title linked to
// the report (or alone), alert id, time.
var reportLineRE = regexp.MustCompile(`^\d+\. \*\*(?:\\.|[^\\*])+\*\* — (?:\[(?:\\.|[^\\\[\]])+\]\(https?://[^\s()<>\[\]]+\)|(?:\\.|[^\\\[\]])+) · alert \d+( · <t:\d+:R>)?( ← this alert)?$`)

// TestExplainStory: every report of the story is listed (feed, title,
// link) with the story's reason, as many as Discord's limits allow, and
// feed text can neither fake a link nor break the list.
func TestExplainStory(t *testing.T) {
	e := newEnv(t)
	hostile := []string{"[Official](https://phish.example/login)", "@everyone <@123456789012345678>", "**bold** `code` ||spoiler||"}
	e.store.alerts = append(e.store.alerts, storyAlerts(e.now, "s-many", 100, 40, func(i int) string {
		if i < len(hostile) {
			return hostile[i]
		}
		return fmt.Sprintf("Regional Wire %d", i)
	})...)
	// A long explanation of its own: the reports still get their room.
	many := &e.store.alerts[len(e.store.alerts)-1]
	for range 20 {
		many.Matches = append(many.Matches, model.Match{Rule: "summits", Evidence: strings.Repeat("evidence ", 100), Field: "content",
			Actors: []model.ActorHit{{ID: "ru-svr", Office: "SVR Director", Country: "RU", Alias: strings.Repeat("alias ", 30)}}})
	}
	for _, id := range []int64{100, many.ID} {
		t.Run(fmt.Sprint(id), func(t *testing.T) {
			r := e.run(t, slash(memberA, "explain", str("alert", fmt.Sprint(id))))
			embeds := r.responses[0].Data.Embeds
			if len(embeds) != 2 {
				t.Fatalf("want the match and the story, got %d embeds:\n%s", len(embeds), r.text())
			}
			story := embeds[1]
			if story.Title != "Story: 40 reports" {
				t.Errorf("title %q", story.Title)
			}
			lines := strings.Split(story.Description, "\n")
			if !strings.HasPrefix(lines[0], "Story `s-many`: joins s-many (") || lines[1] != "" {
				t.Errorf("head %q", lines[:2])
			}
			reports := lines[2:]
			last := reports[len(reports)-1]
			if !strings.HasPrefix(last, "… and ") {
				t.Fatalf("40 long reports all listed? last line %q", last)
			}
			reports = reports[:len(reports)-1]
			if len(reports) < 5 || last != fmt.Sprintf("… and %d more", 40-len(reports)) {
				t.Errorf("%d reports listed, then %q", len(reports), last)
			}
			for i, l := range reports {
				if !reportLineRE.MatchString(l) || !strings.HasPrefix(l, fmt.Sprintf("%d. ", i+1)) {
					t.Errorf("malformed report line %q", l)
				}
			}
			for _, w := range []string{
				`1. **\[Official\](https://phish.example/login)** — [Report 0 of s-many: words`,
				"](https://outlet-0.example/news/2026/03/01/s-many/long-slug-",
				"2. **@everyone <@123456789012345678\\>** — ",
				"3. **\\*\\*bold\\*\\* \\`code\\` \\|\\|spoiler\\|\\|** — ",
			} {
				if !strings.Contains(story.Description, w) {
					t.Errorf("story lacks %q:\n%s", w, story.Description)
				}
			}
			if (id == 100) != strings.Contains(reports[0], "← this alert") {
				t.Errorf("first report marked wrongly: %q", reports[0])
			}
		})
	}
}
