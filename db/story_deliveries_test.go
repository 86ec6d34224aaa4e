package db

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel/model"
)

// storyEnv stores reports of stories from named feeds, as dispatch does.
type storyEnv struct {
	t     *testing.T
	db    *DB
	clock *testClock
	feeds map[string]int64
	n     int
}

func newStoryEnv(t *testing.T) *storyEnv {
	db := MustOpen(t)
	return &storyEnv{t: t, db: db, clock: newClock(db), feeds: map[string]int64{}}
}

// report stores an article of feed and records its alert in guild as a
// report of story, routed to routes.
func (e *storyEnv) report(guild, story, feed, reason string, routes []model.Subscription) model.Alert {
	e.t.Helper()
	id, ok := e.feeds[feed]
	if !ok {
		id = mustFeed(e.t, e.db, feed)
		e.feeds[feed] = id
	}
	e.n++
	title := fmt.Sprintf("Report %d of %s by %s", e.n, story, feed)
	arts := mustStore(e.t, e.db, id, model.Article{GUID: title, Title: title, Link: fmt.Sprintf("https://%s.example/%d", feed, e.n)})
	return e.alert(guild, story, reason, arts[0], routes)
}

func (e *storyEnv) alert(guild, story, reason string, art model.Article, routes []model.Subscription) model.Alert {
	e.t.Helper()
	a, created, err := e.db.CreateAlert(context.Background(), model.Alert{GuildID: guild, Article: art, Story: story, StoryReason: reason,
		Matches: []model.Match{{Rule: "intel-heads", Actors: []model.ActorHit{burns, naryshkin}}}}, routes, editDelay)
	if err != nil || !created {
		e.t.Fatalf("CreateAlert: %v, created %v", err, created)
	}
	return a
}

// due returns the deliveries due now, by channel.
func (e *storyEnv) due() map[string]model.Delivery {
	e.t.Helper()
	ds, err := e.db.DueDeliveries(context.Background(), e.clock.now(), 0, 100)
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]model.Delivery{}
	for _, d := range ds {
		if _, dup := out[d.ChannelID]; dup {
			e.t.Fatalf("two deliveries due for channel %s", d.ChannelID)
		}
		out[d.ChannelID] = d
	}
	return out
}

func feedsOf(d model.Delivery) string {
	var names []string
	for _, s := range d.Alert.Sources {
		names = append(names, s.Feed)
	}
	return strings.Join(names, ",")
}

const editDelay = 5 * time.Second

// TestStoryDeliveries walks one story through its reports: the post to a
// channel, held back from a min_sources 2 channel until a second feed, the
// edits (coalesced, and one owed when a report arrives while an edit is
// sent), a deleted message, and the other guild seeing only its reports.
func TestStoryDeliveries(t *testing.T) {
	ctx := context.Background()
	e := newStoryEnv(t)
	routes := []model.Subscription{{GuildID: "g", ChannelID: "c1"}, {GuildID: "g", ChannelID: "c2", MinSources: 2}}
	for _, r := range routes {
		if _, err := e.db.Subscribe(ctx, r); err != nil {
			t.Fatal(err)
		}
	}
	msgs := map[string]string{}
	deliver := func(d model.Delivery) {
		t.Helper()
		id := d.MessageID
		if id == "" {
			id = "m-" + d.ChannelID
		}
		msgs[d.ChannelID] = id
		if err := e.db.MarkDelivered(ctx, d, id); err != nil {
			t.Fatal(err)
		}
	}
	first := e.report("g", "s", "A", "new story", routes)

	type want struct {
		channel, message, feeds string // message "": a post
	}
	for i, step := range []struct {
		name    string
		do      func()
		advance time.Duration
		want    []want // due after the step, in channel order
		send    bool   // deliver what is due
	}{
		{name: "the first report posts where min_sources is 1",
			want: []want{{"c1", "", "A"}}, send: true},
		{name: "a second report of the same feed changes nothing",
			do: func() { e.report("g", "s", "A", "", routes) }},
		{name: "a second feed posts to c2 with both sources; c1's edit waits for the delay",
			do:   func() { e.report("g", "s", "B", "", routes) },
			want: []want{{"c2", "", "A,B"}}, send: true},
		{name: "a third feed within the delay joins the same edit",
			do:      func() { e.report("g", "s", "C", "", routes) },
			advance: editDelay - time.Second},
		{name: "after the delay both channels owe one edit with the three sources",
			advance: time.Second,
			want:    []want{{"c1", "m-c1", "A,B,C"}, {"c2", "m-c2", "A,B,C"}}},
		{name: "a report arriving while the edits are sent keeps them owed, due now",
			do: func() {
				due := e.due()
				e.report("g", "s", "D", "", routes)
				deliver(due["c1"])
				deliver(due["c2"])
			},
			want: []want{{"c1", "m-c1", "A,B,C,D"}, {"c2", "m-c2", "A,B,C,D"}}, send: true},
		{name: "everything shown: nothing due",
			advance: time.Hour},
		{name: "another guild's report of the story is not this guild's source",
			do:   func() { e.report("h", "s", "E", "", []model.Subscription{{ChannelID: "h1"}}) },
			want: []want{{"h1", "", "E"}}, send: true},
		{name: "a deleted message's edit is failed and never owed again",
			do: func() {
				e.report("g", "s", "F", "", routes)
				e.clock.advance(editDelay)
				due := e.due()
				if err := e.db.MarkFailed(ctx, due["c1"].ID, "message deleted"); err != nil {
					t.Fatal(err)
				}
				deliver(due["c2"])
				e.report("g", "s", "G", "", routes)
				e.clock.advance(editDelay)
			},
			want: []want{{"c2", "m-c2", "A,B,C,D,F,G"}}, send: true},
		{name: "a channel Discord refused gets no edit, until subscribed again",
			do: func() {
				if err := e.db.DisableChannel(ctx, "g", "c2", "Missing Access"); err != nil {
					t.Fatal(err)
				}
				e.report("g", "s", "H", "", routes)
				e.clock.advance(editDelay)
				if due := e.due(); len(due) != 0 {
					t.Fatalf("due to a disabled channel: %+v", due)
				}
				if _, err := e.db.Subscribe(ctx, model.Subscription{GuildID: "g", ChannelID: "c2", MinSources: 2}); err != nil {
					t.Fatal(err)
				}
				e.report("g", "s", "I", "", routes)
				e.clock.advance(editDelay)
			},
			want: []want{{"c2", "m-c2", "A,B,C,D,F,G,H,I"}}, send: true},
	} {
		if step.do != nil {
			step.do()
		}
		e.clock.advance(step.advance)
		due := e.due()
		var got []want
		for _, d := range due {
			got = append(got, want{d.ChannelID, d.MessageID, feedsOf(d)})
			if d.Alert.GuildID == "g" && d.Alert.ID != first.ID {
				t.Errorf("step %d (%s): delivery to %s shows alert %d, want the story's first %d", i, step.name, d.ChannelID, d.Alert.ID, first.ID)
			}
		}
		slices.SortFunc(got, func(a, b want) int { return strings.Compare(a.channel, b.channel) })
		if !slices.Equal(got, step.want) {
			t.Fatalf("step %d (%s): due %+v, want %+v", i, step.name, got, step.want)
		}
		if step.send {
			for _, d := range due {
				deliver(d)
			}
		}
	}
	if n, _ := e.db.QueueDepth(ctx); n != 0 {
		t.Errorf("queue depth %d at the end", n)
	}
}

// TestChannelOrder: a channel's posts go out in the order of their
// stories, so a post waits while an earlier one to its channel waits for a
// retry; edits and other channels do not wait.
func TestChannelOrder(t *testing.T) {
	ctx := context.Background()
	e := newStoryEnv(t)
	c := []model.Subscription{{ChannelID: "c"}}
	e.report("g", "s1", "A", "", append(c, model.Subscription{ChannelID: "other"}))
	e.report("g", "s0", "A", "", c)
	first, _ := e.db.DueDeliveries(ctx, e.clock.now(), 0, 10)
	for _, d := range first {
		if d.ChannelID == "other" {
			if err := e.db.MarkDelivered(ctx, d, "m-other"); err != nil {
				t.Fatal(err)
			}
		}
	}
	due, err := e.db.DueDeliveries(ctx, e.clock.now(), 0, 10)
	if err != nil || len(due) != 2 || due[0].Alert.Story != "s1" || due[1].Alert.Story != "s0" {
		t.Fatalf("due %+v, %v; want c's two posts in the stories' order", due, err)
	}
	if err := e.db.MarkRetry(ctx, due[0].ID, e.clock.now().Add(time.Minute), "502"); err != nil {
		t.Fatal(err)
	}
	e.report("g", "s1", "B", "", c) // an edit owed to "other"
	e.clock.advance(editDelay)
	got := e.due()
	if _, ok := got["c"]; ok || got["other"].MessageID != "m-other" || len(got) != 1 {
		t.Fatalf("while c's first post waits: due %+v; want only other's edit", got)
	}
	e.clock.advance(time.Minute)
	all, _ := e.db.DueDeliveries(ctx, e.clock.now(), 0, 10)
	var order []string
	for _, d := range all {
		order = append(order, d.ChannelID+"/"+d.Alert.Story)
	}
	if want := []string{"c/s1", "other/s1", "c/s0"}; !slices.Equal(order, want) {
		t.Fatalf("due once the retry is due: %v, want %v", order, want)
	}
	page, _ := e.db.DueDeliveries(ctx, e.clock.now(), all[0].ID, 1)
	if len(page) != 1 || page[0].ID != all[1].ID {
		t.Fatalf("page after %d: %+v", all[0].ID, page)
	}
}

func TestLatestAlertsAreStories(t *testing.T) {
	ctx := context.Background()
	e := newStoryEnv(t)
	s1 := e.report("g", "s1", "A", "new story", nil)
	e.report("g", "s2", "A", "new story", nil)
	later := e.report("g", "s1", "B", "joins s1 (1 earlier report): RU–US meeting", nil)
	e.report("g", "s1", "A", "", nil)
	e.report("h", "s1", "C", "", nil)
	latest, err := e.db.LatestAlerts(ctx, "g", "", 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, a := range latest {
		got = append(got, fmt.Sprintf("%s:%d:%s", a.Story, a.ID, feedsOf(model.Delivery{Alert: a})))
	}
	if want := []string{fmt.Sprintf("s2:%d:A", s1.ID+1), fmt.Sprintf("s1:%d:A,B", s1.ID)}; !slices.Equal(got, want) {
		t.Fatalf("latest %v, want %v", got, want)
	}
	if latest, _ := e.db.LatestAlerts(ctx, "g", "", 1); len(latest) != 1 || latest[0].Story != "s2" {
		t.Fatalf("latest 1: %+v", latest)
	}

	for _, tc := range []struct {
		name       string
		guild      string
		id         int64
		wantReason string
		wantErr    bool
	}{
		{"the footer's id", "g", s1.ID, "new story", false},
		{"a later report's id", "g", later.ID, fmt.Sprintf("joins alert %d (1 earlier report): RU–US meeting", s1.ID), false},
		{"another guild's alert", "h", s1.ID, "", true},
	} {
		a, err := e.db.Alert(ctx, tc.guild, tc.id)
		if tc.wantErr {
			if err == nil {
				t.Errorf("%s: no error", tc.name)
			}
			continue
		}
		if err != nil || a.ID != tc.id || a.Story != "s1" || a.StoryReason != tc.wantReason || feedsOf(model.Delivery{Alert: a}) != "A,B" {
			t.Errorf("%s: %+v, %v", tc.name, a, err)
		}
	}
}

// TestMarkSending: an edit noted as sent comes back, once settled, with
// that note until its outcome is recorded (the note is the store's, so
// also after a restart).
func TestMarkSending(t *testing.T) {
	ctx := context.Background()
	e := newStoryEnv(t)
	c := []model.Subscription{{ChannelID: "c"}}
	e.report("g", "s", "A", "", c)
	post := e.due()["c"]
	if err := e.db.MarkDelivered(ctx, post, "m"); err != nil {
		t.Fatal(err)
	}
	e.report("g", "s", "B", "", c)
	e.clock.advance(editDelay)
	edit := e.due()["c"]
	if edit.MessageID != "m" || edit.LastError != "" {
		t.Fatalf("edit %+v", edit)
	}
	for _, step := range []struct {
		name string
		do   func() error
		want string // LastError of the due edit; "-": none due
	}{
		{"noted: not due before it settled", func() error { return e.db.MarkSending(ctx, edit.ID, e.clock.now().Add(time.Minute)) }, "-"},
		{"then due, with the note", func() error { e.clock.advance(time.Minute); return nil }, sendingNote},
		{"retried", func() error { return e.db.MarkRetry(ctx, edit.ID, e.clock.now(), "502") }, "502"},
		{"noted again", func() error { return e.db.MarkSending(ctx, edit.ID, e.clock.now()) }, sendingNote},
		{"delivered", func() error { return e.db.MarkDelivered(ctx, edit, "m") }, "-"},
		{"a delivered one is left alone", func() error { return e.db.MarkSending(ctx, edit.ID, e.clock.now()) }, "-"},
	} {
		if err := step.do(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		got := "-"
		if d, ok := e.due()["c"]; ok {
			got = d.LastError
		}
		if got != step.want {
			t.Errorf("%s: last error %q, want %q", step.name, got, step.want)
		}
	}
}
