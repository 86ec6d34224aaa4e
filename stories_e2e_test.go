package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/backchannel/backchannel/config"
	"github.com/backchannel/backchannel/db"
	"github.com/backchannel/backchannel/internal/fakediscord"
	"github.com/backchannel/backchannel/model"
)

// storyFeeds serves RSS feeds /f/<name> whose items a test sets.
type storyFeeds struct {
	*httptest.Server
	mu    sync.Mutex
	items map[string][]feedItem
}

func newStoryFeeds(t *testing.T) *storyFeeds {
	sf := &storyFeeds{items: map[string][]feedItem{}}
	sf.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/f/")
		sf.mu.Lock()
		items := sf.items[name]
		sf.mu.Unlock()
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>%s</title><link>https://%s.example/</link><description>x</description>`, name, name)
		for _, it := range items {
			fmt.Fprintf(w, `<item><guid>%s</guid><title>%s</title><link>%s</link><description>%s</description><pubDate>%s</pubDate></item>`,
				xmlEscape(it.GUID), xmlEscape(it.Title), xmlEscape(it.Link), xmlEscape(it.Summary), it.Published.Format(time.RFC1123Z))
		}
		fmt.Fprint(w, `</channel></rss>`)
	}))
	t.Cleanup(sf.Close)
	return sf
}

// add makes feed serve one more item.
func (sf *storyFeeds) add(feed string, it feedItem) {
	sf.mu.Lock()
	defer sf.mu.Unlock()
	sf.items[feed] = append(sf.items[feed], it)
}

func (sf *storyFeeds) feeds(names ...string) []config.Feed {
	var out []config.Feed
	for _, n := range names {
		out = append(out, config.Feed{Name: n, URL: sf.URL + "/f/" + n})
	}
	return out
}

func report(id, published, title, summary string) feedItem {
	t, err := time.Parse(time.RFC3339, published)
	if err != nil {
		panic(err)
	}
	return feedItem{GUID: id, Title: title, Summary: summary, Link: "https://news.example/" + id, Published: t}
}

// The Burns–Naryshkin meeting in Ankara in four outlets' words
// (stories/testdata/streams/one_event_many_wordings.jsonl), a later call
// of the same two, and a contact of another pair.
var (
	ankara1 = report("ankara-1", "2022-11-14T12:10:00+03:00", "CIA Director Burns meets Russian intelligence chief Naryshkin in Ankara",
		"The meeting was arranged at the request of the American side, a Turkish official said.")
	ankara2 = report("ankara-2", "2022-11-14T14:30:00+03:00", "US and Russian spy chiefs held talks in Ankara, Kremlin confirms",
		"Peskov said the heads of the SVR and the CIA discussed nuclear risks.")
	ankara3 = report("ankara-3", "2022-11-14T09:45:00-05:00", "White House confirms CIA director met Russian intelligence head in Turkey",
		"The director carried a warning about the consequences of any use of nuclear weapons, a spokesman said.")
	ankara4 = report("ankara-4", "2022-11-14T18:20:00+01:00", "Le directeur de la CIA a rencontré le chef du renseignement extérieur russe à Ankara",
		"William Burns et Sergueï Narychkine se sont entretenus lundi, selon la Maison Blanche.")
	laterCall = report("call-1", "2022-11-24T10:00:00+03:00", "Naryshkin and Burns speak by phone, SVR says",
		"The heads of Russian foreign intelligence and the CIA discussed the prisoner issue in a telephone call on Thursday.")
	otherPair = report("other-1", "2022-11-15T09:00:00+02:00", "Lavrov and Kuleba hold talks in Istanbul",
		"The Russian and Ukrainian foreign ministers met on Tuesday.")
)

func storyConfig(t *testing.T, fd *fakediscord.Server, sf *storyFeeds, feeds ...string) config.Config {
	cfg := e2eConfig(t, fd, &feedServer{Server: sf.Server})
	cfg.Feeds = sf.feeds(feeds...)
	// The reports are from 2022: old enough for the default max_age.
	cfg.Poll.MaxAge = config.Duration{D: 10 * 365 * 24 * time.Hour}
	return cfg
}

func subscribeMin(t *testing.T, path, guild, channel string, minSources int) {
	t.Helper()
	ctx := context.Background()
	store, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Subscribe(ctx, model.Subscription{GuildID: guild, ChannelID: channel, MinSources: minSources}); err != nil {
		t.Fatal(err)
	}
}

// deliveryRow is a delivery as stored.
type deliveryRow struct {
	channel, message, status, lastError string
	rendered                            int
}

// deliveries reads the outbox of the database at path, by channel, through
// a read-only connection beside the running bot.
func deliveries(t *testing.T, path string) map[string][]deliveryRow {
	t.Helper()
	conn, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	rows, err := conn.Query(`SELECT channel_id, message_id, status, last_error, rendered FROM deliveries ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string][]deliveryRow{}
	for rows.Next() {
		var r deliveryRow
		if err := rows.Scan(&r.channel, &r.message, &r.status, &r.lastError, &r.rendered); err != nil {
			t.Fatal(err)
		}
		out[r.channel] = append(out[r.channel], r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// waitUntil polls cond until it holds, failing the test after timeout.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// shown waits until the channel's one delivery is delivered showing n
// sources, and returns it.
func shown(t *testing.T, path, channel string, n int) deliveryRow {
	t.Helper()
	var got []deliveryRow
	waitUntil(t, 40*time.Second, fmt.Sprintf("%s showing %d sources", channel, n), func() bool {
		got = deliveries(t, path)[channel]
		return len(got) == 1 && got[0].status == "delivered" && got[0].rendered == n
	})
	return got[0]
}

// onlyMessage returns the channel's message, failing unless there is
// exactly one.
func onlyMessage(t *testing.T, fd *fakediscord.Server, channel string) fakediscord.Message {
	t.Helper()
	msgs := fd.Messages(channel)
	if len(msgs) != 1 {
		t.Fatalf("channel %s has %d messages, want exactly 1", channel, len(msgs))
	}
	return msgs[0]
}

// sourcesField returns the value of a message's Sources field, "" when it
// has none (a story of one source).
func sourcesField(m fakediscord.Message) string {
	if len(m.Embeds) != 1 {
		return ""
	}
	for _, f := range m.Embeds[0].Fields {
		if f.Name == "Sources" {
			return f.Value
		}
	}
	return ""
}

// checkSources checks that a message's Sources field counts the reports
// and links each outlet, by feed name, to its report, the first report
// first (the others in the order they arrived, which polls running side
// by side do not fix).
func checkSources(t *testing.T, what string, m fakediscord.Message, feeds []string, reports ...feedItem) {
	t.Helper()
	got := strings.Split(sourcesField(m), "\n")
	want := []string{fmt.Sprintf("%d sources", len(reports))}
	for i, r := range reports {
		want = append(want, "["+feeds[i]+"]("+r.Link+")")
	}
	same := len(got) == len(want) && got[0] == want[0] && got[1] == want[1]
	if same {
		rest := slices.Clone(got[2:])
		slices.Sort(rest)
		wantRest := slices.Clone(want[2:])
		slices.Sort(wantRest)
		same = slices.Equal(rest, wantRest)
	}
	if !same {
		t.Errorf("%s: Sources field %q, want %q", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// checkEdits checks every version of a message: one embed, linking the
// story's first report, pinging no one.
func checkEdits(t *testing.T, fd *fakediscord.Server, channel string, m fakediscord.Message, link string) {
	t.Helper()
	for i, v := range fd.MessageHistory(channel, m.ID) {
		if len(v.Embeds) != 1 || v.Embeds[0].URL != link {
			t.Errorf("%s version %d: embeds %+v, want one linking %s", channel, i, v.Embeds, link)
		}
		if !v.MentionsSuppressed() {
			t.Errorf("%s version %d: allowed_mentions %+v, want parse []", channel, i, v.AllowedMentions)
		}
	}
}

// TestStoryOneMessageEditedAcrossRestart: four reports of one contact from
// four feeds are one message per channel, edited as they arrive, also
// when the last two come after a restart; a channel with min_sources 2
// gets nothing from the first report and a post with both sources after
// the second.
func TestStoryOneMessageEditedAcrossRestart(t *testing.T) {
	fd := fakediscord.New(t)
	sf := newStoryFeeds(t)
	cfg := storyConfig(t, fd, sf, "wire", "moscow", "capital", "quotidien")
	const guild, eager, patient = "200000000000000002", "300000000000000003", "300000000000000004"
	subscribeMin(t, cfg.Database.Path, guild, eager, 1)
	subscribeMin(t, cfg.Database.Path, guild, patient, 2)

	sf.add("wire", ankara1)
	addr, stop := startApp(t, cfg, appOptions{})
	fd.WaitMessages(t, eager, 1, 30*time.Second)
	// The first report is recorded with the decision that held the
	// story back from the patient channel; polls later, it still has none.
	waitPolls(t, addr, 4)
	if n := len(fd.Messages(patient)); n != 0 {
		t.Fatalf("min_sources 2: %d messages after one feed's report, want none", n)
	}

	sf.add("moscow", ankara2)
	fd.WaitMessages(t, patient, 1, 30*time.Second)
	shown(t, cfg.Database.Path, patient, 2)
	shown(t, cfg.Database.Path, eager, 2)
	first := onlyMessage(t, fd, patient)
	checkSources(t, "the patient channel's post", fd.MessageHistory(patient, first.ID)[0], []string{"wire", "moscow"}, ankara1, ankara2)
	eagerMsg := onlyMessage(t, fd, eager)
	if h := fd.MessageHistory(eager, eagerMsg.ID); sourcesField(h[0]) != "" || len(h) < 2 {
		t.Errorf("the eager channel's post should show one source, then an edit two: %d versions, first Sources %q", len(h), sourcesField(h[0]))
	}
	checkSources(t, "the eager channel's edit", eagerMsg, []string{"wire", "moscow"}, ankara1, ankara2)
	stop()

	// After a restart, the other two reports edit the messages posted
	// before it.
	sf.add("capital", ankara3)
	sf.add("quotidien", ankara4)
	startApp(t, cfg, appOptions{})
	for _, ch := range []string{eager, patient} {
		row := shown(t, cfg.Database.Path, ch, 4)
		m := onlyMessage(t, fd, ch)
		if row.message != m.ID {
			t.Errorf("%s: the store shows message %s, Discord has %s", ch, row.message, m.ID)
		}
		if m.Edits == 0 {
			t.Errorf("%s: message never edited", ch)
		}
		checkEdits(t, fd, ch, m, ankara1.Link)
		checkSources(t, ch+" after the restart", m, []string{"wire", "moscow", "capital", "quotidien"}, ankara1, ankara2, ankara3, ankara4)
		if n := fd.CountRequests(fakediscord.CreateMessage(ch)); n != 1 {
			t.Errorf("%s: %d posts, want 1", ch, n)
		}
	}
	// The eager channel's message went from one source to two (before the
	// restart) to four: at least two edits, and no more than one per
	// report after the first.
	if m := onlyMessage(t, fd, eager); m.Edits < 2 || m.Edits > 3 {
		t.Errorf("eager channel: %d edits, want 2 or 3", m.Edits)
	}
}

// TestStoryMessages: a second contact of the same two and a contact of
// another pair are new messages; a message deleted in Discord is not
// posted again (its edit is dropped); 429s answering an edit are waited
// out.
func TestStoryMessages(t *testing.T) {
	fd := fakediscord.New(t)
	sf := newStoryFeeds(t)
	cfg := storyConfig(t, fd, sf, "wire", "moscow", "kyiv")
	const guild, kept, deleted = "200000000000000002", "300000000000000005", "300000000000000006"
	subscribeMin(t, cfg.Database.Path, guild, kept, 1)
	subscribeMin(t, cfg.Database.Path, guild, deleted, 1)

	sf.add("wire", ankara1)
	startApp(t, cfg, appOptions{})
	first := fd.WaitMessages(t, kept, 1, 30*time.Second)[0]
	gone := fd.WaitMessages(t, deleted, 1, 30*time.Second)[0]
	if !fd.DeleteMessage(deleted, gone.ID) {
		t.Fatal("could not delete the message")
	}
	fd.FailRateLimited(fakediscord.EditMessage(kept, ""), 2, 300*time.Millisecond, false)

	sf.add("moscow", ankara2)
	shown(t, cfg.Database.Path, kept, 2)
	waitUntil(t, 30*time.Second, "the deleted message's edit dropped", func() bool {
		rows := deliveries(t, cfg.Database.Path)[deleted]
		return len(rows) == 1 && rows[0].status == "failed"
	})
	var kinds []string
	for _, r := range fd.Requests() {
		if r.Method == http.MethodPatch {
			kinds = append(kinds, fmt.Sprintf("%s %d", strings.TrimPrefix(r.Path, "/channels/"), r.Status))
		}
	}
	want := []string{
		fmt.Sprintf("%s/messages/%s 404", deleted, gone.ID),
		fmt.Sprintf("%s/messages/%s 429", kept, first.ID),
		fmt.Sprintf("%s/messages/%s 429", kept, first.ID),
		fmt.Sprintf("%s/messages/%s 200", kept, first.ID),
	}
	slices.Sort(kinds)
	slices.Sort(want)
	if !slices.Equal(kinds, want) {
		t.Errorf("edits answered %v, want %v", kinds, want)
	}
	if m := onlyMessage(t, fd, kept); m.Edits != 1 {
		t.Errorf("kept channel: %d edits, want 1 (the 429s waited out, not repeated)", m.Edits)
	} else {
		checkSources(t, "the edit answered 429 twice", m, []string{"wire", "moscow"}, ankara1, ankara2)
	}

	// New contacts are new messages, also where the story's message was
	// deleted; the deleted story is never posted again.
	sf.add("moscow", laterCall)
	sf.add("kyiv", otherPair)
	fd.WaitMessages(t, kept, 3, 30*time.Second)
	fd.WaitMessages(t, deleted, 2, 30*time.Second)
	for _, ch := range []string{kept, deleted} {
		var links []string
		for _, m := range fd.Messages(ch) {
			links = append(links, m.Embeds[0].URL)
		}
		slices.Sort(links)
		want := []string{laterCall.Link, otherPair.Link}
		if ch == kept {
			want = append(want, ankara1.Link)
		}
		slices.Sort(want)
		if !slices.Equal(links, want) {
			t.Errorf("%s: messages link %v, want %v", ch, links, want)
		}
	}
	// The fake logs a request once its answer is written, which can be
	// just after the message shows: wait for the log, then count.
	waitUntil(t, 10*time.Second, "the posts to the deleted story's channel logged", func() bool {
		return fd.CountRequests(fakediscord.CreateMessage(deleted)) >= 3
	})
	if n := fd.CountRequests(fakediscord.CreateMessage(deleted)); n != 3 {
		t.Errorf("%d posts to the channel whose message was deleted, want 3 (no repost)", n)
	}
}

// TestDryRunPrintsALaterReportAsAJoin: in a dry run the first report of a
// story is a block of its own, a later one a short block naming the alert
// it joins and the story's source count.
func TestDryRunPrintsALaterReportAsAJoin(t *testing.T) {
	sf := newStoryFeeds(t)
	cfg := config.Default()
	cfg.Database.Path = filepath.Join(t.TempDir(), "dry.db")
	cfg.Discord.APIURL = "http://127.0.0.1:1/api/v10" // never contacted
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Poll.Schedule = "@every 1s"
	cfg.Poll.MaxAge = config.Duration{D: 10 * 365 * 24 * time.Hour}
	cfg.Feeds = sf.feeds("wire", "moscow")
	cfg.Rules = builtinRules(t)
	var out syncBuffer
	sf.add("wire", ankara1)
	_, stop := startApp(t, cfg, appOptions{DryRun: true, Stdout: &out})
	waitUntil(t, 30*time.Second, "the story's block", func() bool { return strings.Contains(out.String(), "== "+ankara1.Title) })
	sf.add("moscow", ankara2)
	waitUntil(t, 30*time.Second, "the later report's block", func() bool { return strings.Contains(out.String(), "++ "+ankara2.Title) })
	stop()
	got := out.String()
	id := regexp.MustCompile(`(?m)^   Alert:\s+(\d+)$`).FindStringSubmatch(got)
	if id == nil {
		t.Fatalf("no alert id in the story's block:\n%s", got)
	}
	join := got[strings.Index(got, "++ "+ankara2.Title):]
	for _, want := range []string{"Joins:     alert " + id[1] + " (" + ankara1.Title + ")", "Feed:      moscow", "Sources:   2 sources"} {
		if !strings.Contains(join, want) {
			t.Errorf("the later report's block lacks %q:\n%s", want, join)
		}
	}
	if n := strings.Count(got, "== "); n != 1 {
		t.Errorf("%d full blocks, want 1:\n%s", n, got)
	}
}
