package db

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/backchannel/backchannel/model"
)

var naryshkin = model.ActorHit{ID: "ru-svr", Office: "SVR Director", Country: "RU", Kind: "intel", Alias: "Sergei Naryshkin"}
var burns = model.ActorHit{ID: "us-cia", Office: "CIA Director", Country: "US", Kind: "intel", Alias: "Burns"}

// mustAlert stores an article and an alert for it in guild.
func mustAlert(tb testing.TB, db *DB, feed int64, guild, title string, actors []model.ActorHit, channels ...string) model.Alert {
	tb.Helper()
	arts := mustStore(tb, db, feed, model.Article{
		GUID: title, Link: "https://news.example/" + fmt.Sprint(len(title)) + "/" + title, Title: title,
		Summary: "Summary: " + title,
	})
	if len(arts) != 1 {
		tb.Fatalf("article %q not new", title)
	}
	return mustAlertFor(tb, db, guild, arts[0], actors, channels...)
}

func mustAlertFor(tb testing.TB, db *DB, guild string, a model.Article, actors []model.ActorHit, channels ...string) model.Alert {
	tb.Helper()
	al, created, err := db.CreateAlert(context.Background(), model.Alert{
		GuildID: guild, Article: a,
		Matches: []model.Match{{Rule: "intel-heads", Actors: actors, ContactKind: "meeting", ContactTerm: "met", Field: "title", Evidence: a.Title}},
	}, routes(channels...), 0)
	if err != nil || !created {
		tb.Fatalf("CreateAlert: %v, created=%v", err, created)
	}
	return al
}

func TestCreateAlertAndDeliveries(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	clock := newClock(db)
	feed := mustFeed(t, db, "wire")
	al := mustAlert(t, db, feed, "g1", "Burns meets Naryshkin", []model.ActorHit{burns, naryshkin}, "c1", "c2", "c1", "")
	if al.ID == 0 || al.GuildID != "g1" || al.Rule() != "intel-heads" || !al.Created.Equal(clock.now()) {
		t.Fatalf("alert %+v", al)
	}
	if al.Article.Feed != "wire" || al.Article.Title != "Burns meets Naryshkin" {
		t.Fatalf("alert article %+v", al.Article)
	}
	due, err := db.DueDeliveries(ctx, clock.now(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(due) != 2 {
		t.Fatalf("%d deliveries, want 2 (c1 once, c2)", len(due))
	}
	seen := map[string]bool{}
	for _, d := range due {
		seen[d.ChannelID] = true
		if d.Alert.ID != al.ID || !reflect.DeepEqual(d.Alert.Matches, al.Matches) || d.Alert.Article.Link != al.Article.Link {
			t.Errorf("delivery alert %+v", d.Alert)
		}
		if want := "bc" + db.instance[:8] + "-" + fmt.Sprint(d.ID); d.Nonce != want || len(d.Nonce) > 25 {
			t.Errorf("nonce %q, want %q", d.Nonce, want)
		}
	}
	if !seen["c1"] || !seen["c2"] {
		t.Fatalf("channels %v", seen)
	}
	if n, _ := db.QueueDepth(ctx); n != 2 {
		t.Fatalf("queue depth %d", n)
	}

	// Idempotent: the same alert again adds nothing, even for a new channel.
	again, created, err := db.CreateAlert(ctx, model.Alert{GuildID: "g1", Article: al.Article, Matches: al.Matches}, routes("c1", "c3"), 0)
	if err != nil || created || again.ID != al.ID {
		t.Fatalf("second CreateAlert: %+v, %v, %v", again, created, err)
	}
	if n, _ := db.QueueDepth(ctx); n != 2 {
		t.Fatalf("queue depth %d after the second CreateAlert", n)
	}
	// The same article is a separate alert in another guild.
	if _, created, err := db.CreateAlert(ctx, model.Alert{GuildID: "g2", Article: al.Article}, routes("c9"), 0); err != nil || !created {
		t.Fatalf("other guild: %v, %v", created, err)
	}
}

func TestCreateAlertNeedsStoredArticle(t *testing.T) {
	db := MustOpen(t)
	if _, _, err := db.CreateAlert(context.Background(), model.Alert{GuildID: "g"}, routes("c"), 0); err == nil {
		t.Fatal("alert without article id accepted")
	}
	_, _, err := db.CreateAlert(context.Background(), model.Alert{GuildID: "g", Article: model.Article{ID: 999}}, routes("c"), 0)
	if err == nil {
		t.Fatal("alert for a missing article accepted")
	}
	if n, _ := db.QueueDepth(context.Background()); n != 0 {
		t.Fatalf("a failed CreateAlert left %d deliveries", n)
	}
}

func TestDeliveryLifecycle(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	clock := newClock(db)
	feed := mustFeed(t, db, "wire")
	mustAlert(t, db, feed, "g", "First", nil, "c1")
	clock.advance(time.Second)
	mustAlert(t, db, feed, "g", "Second", nil, "c1")
	clock.advance(time.Second)
	mustAlert(t, db, feed, "g", "Third", nil, "c1")

	due, err := db.DueDeliveries(ctx, clock.now(), 0, 10)
	if err != nil || len(due) != 3 {
		t.Fatalf("due: %d, %v", len(due), err)
	}
	if due[0].Alert.Article.Title != "First" || due[2].Alert.Article.Title != "Third" {
		t.Fatalf("not oldest first: %s, %s, %s", due[0].Alert.Article.Title, due[1].Alert.Article.Title, due[2].Alert.Article.Title)
	}
	if got, _ := db.DueDeliveries(ctx, clock.now(), 0, 2); len(got) != 2 {
		t.Fatalf("limit ignored: %d", len(got))
	}
	if got, _ := db.DueDeliveries(ctx, epoch.Add(-time.Hour), 0, 10); len(got) != 0 {
		t.Fatalf("deliveries due before they were made: %d", len(got))
	}

	if err := db.MarkDelivered(ctx, due[0], "m1"); err != nil {
		t.Fatal(err)
	}
	next := clock.now().Add(time.Minute)
	if err := db.MarkRetry(ctx, due[1].ID, next, "502 bad gateway"); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkFailed(ctx, due[2].ID, "403 missing access"); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.DueDeliveries(ctx, clock.now(), 0, 10); len(got) != 0 {
		t.Fatalf("due after marking: %d", len(got))
	}
	if n, _ := db.QueueDepth(ctx); n != 1 {
		t.Fatalf("queue depth %d, want 1 (the retry)", n)
	}
	if at, ok, err := db.NextDue(ctx); err != nil || !ok || !at.Equal(next) {
		t.Fatalf("NextDue = %v, %v, %v; want the retry's %v", at, ok, err, next)
	}
	got, _ := db.DueDeliveries(ctx, next, 0, 10)
	if len(got) != 1 || got[0].ID != due[1].ID || got[0].Attempts != 1 || got[0].LastError != "502 bad gateway" || !got[0].NextAttempt.Equal(next) {
		t.Fatalf("retried delivery: %+v", got)
	}
	if got[0].Nonce != due[1].Nonce {
		t.Fatalf("nonce changed across attempts: %s -> %s", due[1].Nonce, got[0].Nonce)
	}

	// Settled deliveries stay settled.
	if err := db.MarkRetry(ctx, due[0].ID, next, "late"); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkFailed(ctx, due[0].ID, "late"); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkDelivered(ctx, got[0], "m2"); err != nil {
		t.Fatal(err)
	}
	if at, ok, err := db.NextDue(ctx); err != nil || ok {
		t.Fatalf("NextDue with nothing pending = %v, %v, %v", at, ok, err)
	}
	var status string
	db.reader.QueryRow(`SELECT status FROM deliveries WHERE id = ?`, due[0].ID).Scan(&status)
	if status != "delivered" {
		t.Fatalf("delivered delivery became %s", status)
	}
	for name, err := range map[string]error{
		"MarkDelivered": db.MarkDelivered(ctx, model.Delivery{ID: 999}, "m"),
		"MarkRetry":     db.MarkRetry(ctx, 999, next, "x"),
		"MarkFailed":    db.MarkFailed(ctx, 999, "x"),
	} {
		if !errors.Is(err, model.ErrNotFound) {
			t.Errorf("%s of a missing delivery: %v", name, err)
		}
	}
}

func TestOutboxSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "outbox.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	feed := mustFeed(t, db, "wire")
	mustAlert(t, db, feed, "g", "Delivered one", nil, "c1")
	mustAlert(t, db, feed, "g", "Pending one", nil, "c1", "c2")
	due, _ := db.DueDeliveries(ctx, time.Now(), 0, 10)
	if len(due) != 3 {
		t.Fatalf("due %d", len(due))
	}
	if err := db.MarkDelivered(ctx, due[0], "m1"); err != nil {
		t.Fatal(err)
	}
	nonces := map[int64]string{due[1].ID: due[1].Nonce, due[2].ID: due[2].Nonce}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = mustOpenPath(t, path)
	got, err := db.DueDeliveries(ctx, time.Now(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("after reopen %d due, want the 2 pending", len(got))
	}
	for _, d := range got {
		if d.Alert.Article.Title != "Pending one" || nonces[d.ID] != d.Nonce {
			t.Errorf("after reopen: %d %q nonce %s (was %s)", d.ID, d.Alert.Article.Title, d.Nonce, nonces[d.ID])
		}
	}
}

func TestAlertGuildIsolation(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	feed := mustFeed(t, db, "wire")
	mine := mustAlert(t, db, feed, "mine", "Burns meets Naryshkin in Ankara", []model.ActorHit{burns, naryshkin})
	theirs := mustAlert(t, db, feed, "theirs", "Naryshkin and Ratcliffe agree open line", []model.ActorHit{naryshkin})

	if got, err := db.Alert(ctx, "mine", mine.ID); err != nil || got.ID != mine.ID || got.Article.Title != mine.Article.Title {
		t.Fatalf("own alert: %+v, %v", got, err)
	}
	if _, err := db.Alert(ctx, "mine", theirs.ID); !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("another guild's alert: %v", err)
	}
	latest, err := db.LatestAlerts(ctx, "mine", "", 10)
	if err != nil || len(latest) != 1 || latest[0].ID != mine.ID {
		t.Fatalf("latest: %v, %v", latest, err)
	}
	found, err := db.SearchAlerts(ctx, "mine", "naryshkin", 10)
	if err != nil || len(found) != 1 || found[0].ID != mine.ID {
		t.Fatalf("search: %v, %v", found, err)
	}
	if found, _ := db.SearchAlerts(ctx, "mine", "ratcliffe", 10); len(found) != 0 {
		t.Fatalf("search found another guild's alert: %v", found)
	}
	if latest, _ := db.LatestAlerts(ctx, "nobody", "", 10); len(latest) != 0 {
		t.Fatalf("latest of an empty guild: %v", latest)
	}
}

func TestLatestAlerts(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	feed := mustFeed(t, db, "wire")
	a1 := mustAlert(t, db, feed, "g", "Burns meets Naryshkin", []model.ActorHit{burns, naryshkin})
	a2 := mustAlert(t, db, feed, "g", "Naryshkin calls someone", []model.ActorHit{naryshkin})
	a3 := mustAlert(t, db, feed, "g", "Burns visits", []model.ActorHit{burns})
	ids := func(as []model.Alert) []int64 {
		var out []int64
		for _, a := range as {
			out = append(out, a.ID)
		}
		return out
	}
	tests := []struct {
		actor string
		n     int
		want  []int64
	}{
		{"", 10, []int64{a3.ID, a2.ID, a1.ID}},
		{"", 2, []int64{a3.ID, a2.ID}},
		{"ru-svr", 10, []int64{a2.ID, a1.ID}},
		{"RU-SVR", 10, []int64{a2.ID, a1.ID}},
		{"naryshkin", 10, []int64{a2.ID, a1.ID}},    // part of the alias
		{"svr director", 10, []int64{a2.ID, a1.ID}}, // the office
		{"  CIA  director ", 10, []int64{a3.ID, a1.ID}},
		{"ru", 10, nil},     // an id matches whole, not in part
		{"mossad", 10, nil}, // nobody
	}
	for _, tt := range tests {
		got, err := db.LatestAlerts(ctx, "g", tt.actor, tt.n)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(ids(got), tt.want) {
			t.Errorf("LatestAlerts(actor %q, %d) = %v, want %v", tt.actor, tt.n, ids(got), tt.want)
		}
	}
}

func TestSearchAlertsOddInput(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	feed := mustFeed(t, db, "wire")
	a1 := mustAlert(t, db, feed, "g", "Burns meets Naryshkin in Ankara", nil)
	a2 := mustAlert(t, db, feed, "g", "Нарышкин и Рэтклифф договорились о канале связи", nil)
	a3 := mustAlert(t, db, feed, "g", "Café talks: AND/OR NEAR the \"quoted\" border*", nil)
	tests := []struct {
		q    string
		want []int64
	}{
		{"naryshkin", []int64{a1.ID}},
		{"NARYSHKIN ankara", []int64{a1.ID}},
		{"naryshkin cairo", nil},    // every word must match
		{"naryshk", []int64{a1.ID}}, // prefix
		{"нарышкин", []int64{a2.ID}},
		{"cafe", []int64{a3.ID}}, // diacritics folded
		{"café", []int64{a3.ID}},
		{"summary", []int64{a3.ID, a2.ID, a1.ID}}, // the summary is indexed, newest first
		{`"quoted`, []int64{a3.ID}},
		{`"`, nil},
		{`""`, nil},
		{"*", nil},
		{"border*", []int64{a3.ID}},
		{"AND", []int64{a3.ID}},
		{"OR", []int64{a3.ID}},
		{"NEAR(", []int64{a3.ID}},
		{"naryshkin OR ankara", nil}, // "or" is a word here, and no title has it but a3
		{"-naryshkin", []int64{a1.ID}},
		{"title:naryshkin", nil},
		{"^burns", []int64{a1.ID}},
		{"'; DROP TABLE alerts; --", nil},
		{"", nil},
		{"   ", nil},
		{"🙂", nil},
		{"\x00\xff", nil},
	}
	for _, tt := range tests {
		got, err := db.SearchAlerts(ctx, "g", tt.q, 10)
		if err != nil {
			t.Errorf("SearchAlerts(%q): %v", tt.q, err)
			continue
		}
		var ids []int64
		for _, a := range got {
			ids = append(ids, a.ID)
		}
		if !reflect.DeepEqual(ids, tt.want) {
			t.Errorf("SearchAlerts(%q) = %v, want %v", tt.q, ids, tt.want)
		}
	}
}

func FuzzSearchAlerts(f *testing.F) {
	db := MustOpen(f)
	feed := mustFeed(f, db, "wire")
	mustAlert(f, db, feed, "g", "Burns meets Naryshkin in Ankara", nil)
	for _, s := range []string{"naryshkin", `"a" OR b*`, "NEAR(a b)", "col:x", "(", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		if _, err := db.SearchAlerts(context.Background(), "g", q, 5); err != nil {
			t.Fatalf("SearchAlerts(%q): %v", q, err)
		}
	})
}

// routes are subscriptions of the channels with min_sources 1.
func routes(channels ...string) []model.Subscription {
	out := make([]model.Subscription, len(channels))
	for i, ch := range channels {
		out[i] = model.Subscription{ChannelID: ch}
	}
	return out
}
