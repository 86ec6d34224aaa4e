package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/backchannel/backchannel/model"
)

// legacyKey is keyOf before 0006: the hash without a kind, as article_keys
// (and the articles of 0001) stored it.
func legacyKey(s string) int64 {
	sum := sha256.Sum256([]byte(s))
	return int64(binary.BigEndian.Uint64(sum[:8]))
}

// TestMigrateSeenKeys upgrades a database of schema 5 (keys in
// article_keys) and checks that 0006 computed every key as keyOf and
// guidKeyOf do, with its flags, so that every stored article is still
// recognised, and that ids go on after the highest ever handed out.
func TestMigrateSeenKeys(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v5.db")
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", path+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	var stmts []string
	for _, m := range ms[:5] {
		stmts = append(stmts, m.sql)
	}
	stmts = append(stmts,
		`PRAGMA user_version = 5`,
		`INSERT INTO meta (key, value) VALUES ('application', 'backchannel'), ('instance_id', '0123456789abcdef'),
			('retention_keys_cursor', '3')`,
		`INSERT INTO feeds (id, name, url, url_key, source, created) VALUES
			(1, 'one', 'https://one.example/f', 'https://one.example/f', 'config', 1),
			(2, 'two', 'https://two.example/f', 'https://two.example/f', 'config', 1)`,
	)
	for _, stmt := range stmts {
		if _, err := raw.ExecContext(ctx, stmt); err != nil {
			raw.Close()
			t.Fatalf("%.40s: %v", stmt, err)
		}
	}
	link := func(s string) int64 { return legacyKey(NormalizeLink(s)) }
	title := func(s string) int64 { return legacyKey(TitleFingerprint(s)) }
	day := epoch.UnixMilli()
	rows := []struct {
		id, feed        any
		guid, lk, tk    any
		published, days int64
	}{
		{1, 1, legacyKey("g1"), link("https://news.example/1"), title("One"), day, 0},
		{2, 2, legacyKey("g1"), link("https://news.example/2"), title("Two"), day, 1},
		{3, nil, legacyKey("gx"), link("https://news.example/3"), nil, day, 2}, // its feed was removed
		{7, 1, nil, nil, title("Seven, undated"), 0, 3},
		{9, 1, nil, nil, title("Nine"), day, 3}, // deleted below: its id stays taken
	}
	for _, r := range rows {
		if _, err := raw.ExecContext(ctx, `INSERT INTO article_keys (id, feed_id, guid_key, link_key, title_key, published, fetched)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, r.id, r.feed, r.guid, r.lk, r.tk, r.published, day+r.days*dayMillis); err != nil {
			raw.Close()
			t.Fatal(err)
		}
	}
	if _, err := raw.ExecContext(ctx, `DELETE FROM article_keys WHERE id = 9`); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	db := mustOpenPath(t, path)
	if v, _ := db.SchemaVersion(ctx); v != len(ms) {
		t.Fatalf("schema version %d, want %d", v, len(ms))
	}
	var n int
	if err := db.reader.QueryRow(`SELECT count(*) FROM sqlite_schema WHERE name = 'article_keys'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("article_keys still there (%d, %v)", n, err)
	}
	if _, ok, _ := db.metaInt(ctx, "retention_keys_cursor"); ok {
		t.Error("the old key pass's cursor is left in meta")
	}
	epochDay := epoch.UnixMilli() / dayMillis
	for _, want := range []struct {
		name                string
		key                 int64
		article, day, flags int64
	}{
		{"GUID of feed 1", guidKeyOf(1, "g1"), 1, epochDay, flagHasLink | flagHasTitle},
		{"link 1", keyOf(linkKind, NormalizeLink("https://news.example/1")), 1, epochDay, 0},
		{"title 1", keyOf(titleKind, TitleFingerprint("One")), 1, epochDay, 0},
		{"the same GUID in feed 2", guidKeyOf(2, "g1"), 2, epochDay + 1, flagHasLink | flagHasTitle},
		{"link 3", keyOf(linkKind, NormalizeLink("https://news.example/3")), 3, epochDay + 2, 0},
		{"undated title", keyOf(titleKind, TitleFingerprint("Seven, undated")), 7, epochDay + 3, flagUndated},
	} {
		var article, d, flags int64
		if err := db.reader.QueryRow(`SELECT article_id, day, flags FROM seen_keys WHERE key = ?`, want.key).
			Scan(&article, &d, &flags); err != nil {
			t.Errorf("%s: %v", want.name, err)
			continue
		}
		if article != want.article || d != want.day || flags != want.flags {
			t.Errorf("%s: article %d, day %d, flags %d; want %d, %d, %d", want.name, article, d, flags, want.article, want.day, want.flags)
		}
	}
	if err := db.reader.QueryRow(`SELECT count(*) FROM seen_keys`).Scan(&n); err != nil || n != 8 {
		t.Errorf("%d keys, %v; want 8 (3 + 3 + the link of the removed feed's article + 1)", n, err)
	}

	// Every article is recognised by each of its keys.
	for _, tc := range []struct {
		feed int64
		a    model.Article
	}{
		{1, model.Article{GUID: "g1"}},
		{2, model.Article{GUID: "g1"}},
		{1, model.Article{Link: "https://NEWS.example/2#top"}},
		{2, model.Article{Title: "seven,  UNDATED"}},
	} {
		if got := mustStore(t, db, tc.feed, tc.a); len(got) != 0 {
			t.Errorf("feed %d, %+v: stored again after the upgrade", tc.feed, tc.a)
		}
	}
	// The removed feed's GUIDs were not carried over: gx is new to feed 2.
	got := mustStore(t, db, 2, model.Article{GUID: "gx", Title: "New"})
	if len(got) != 1 || got[0].ID != 10 {
		t.Fatalf("new article: %+v, want one with id 10 (9 was handed out before)", got)
	}
}

// TestKeySweep: the sweep walks the keys in chunks, deletes the expired
// ones of articles without text (dated after Keys, undated after
// UndatedKeys), and goes round once every KeySweep in sweepSteps steps,
// each run walking the steps due; a round overdue is finished at once.
func TestKeySweep(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	clock := newClock(db)
	feed := mustFeed(t, db, "wire")
	r := Retention{Text: 24 * time.Hour, Keys: 10 * 24 * time.Hour, UndatedKeys: 12 * 24 * time.Hour,
		KeySweep: 7 * 24 * time.Hour, SweepRows: 7}
	var items []model.Article
	for i := range 20 {
		a := art(fmt.Sprint("g", i), fmt.Sprint("https://news.example/", i), fmt.Sprint("Story ", i))
		if i%4 != 0 {
			a.Published = clock.now()
		}
		items = append(items, a)
	}
	stored := mustStore(t, db, feed, items...)
	var ids []int64
	for _, a := range stored {
		ids = append(ids, a.ID)
	}
	if err := db.MarkDispatched(ctx, ids); err != nil {
		t.Fatal(err)
	}
	alerted := stored[1]
	mustAlertFor(t, db, "g1", alerted, []model.ActorHit{naryshkin}, "c1")
	count := func(where string, args ...any) int {
		t.Helper()
		var n int
		if err := db.reader.QueryRow(`SELECT count(*) FROM seen_keys WHERE `+where, args...).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	const dated, undated = "flags & 4 = 0", "flags & 4 != 0"

	// Day 0: the first round begins; no key is expired, so none is
	// walked (one transaction notes the round).
	if st := mustPrune(t, db, r); st.Keys != 0 || st.Transactions != 1 {
		t.Fatalf("day 0: %+v, want the round begun and nothing walked", st)
	}
	// Day 11: the dated keys expired, and the round begun on day 0 is
	// overdue: it is finished, and the next walked whole.
	clock.advance(11 * 24 * time.Hour)
	if st := mustPrune(t, db, r); st.Keys != 14*3 {
		t.Fatalf("day 11: %+v, want the 14 dated articles' 42 keys deleted", st)
	}
	if d, u := count(dated), count(undated); d != 3 || u != 15 {
		t.Fatalf("day 11: %d dated and %d undated keys left, want 3 (the alerted article's) and 15", d, u)
	}
	// The round begun on day 0 was overdue on day 11: it was finished, and
	// the next, begun on day 7, walked 4 of its 7 steps. Day 13: the
	// undated keys expired; steps 5 and 6 are walked.
	clock.advance(2 * 24 * time.Hour)
	step4, step6 := sweepTarget(4.0/7), sweepTarget(6.0/7)
	walked := count(undated+" AND key > ? AND key <= ?", step4, step6)
	if walked == 0 || walked == 15 {
		t.Fatalf("%d undated keys in steps 5 and 6; the test shows nothing", walked)
	}
	if st := mustPrune(t, db, r); st.Keys != walked || count(undated) != 15-walked {
		t.Fatalf("day 13: %+v, %d undated keys left; want the %d of steps 5 and 6 deleted", st, count(undated), walked)
	}
	// Day 14: the round ends; day 18: the next has walked 4 steps.
	clock.advance(24 * time.Hour)
	if st := mustPrune(t, db, r); count(undated) != count(undated+" AND key <= ?", step4) {
		t.Fatalf("day 14: %+v, undated keys left after the round's end", st)
	}
	clock.advance(4 * 24 * time.Hour)
	mustPrune(t, db, r)
	if u, d := count(undated), count(dated); u != 0 || d != 3 {
		t.Fatalf("day 18: %d undated and %d dated keys left; want none and the alerted article's 3", u, d)
	}
}

func TestSweepTarget(t *testing.T) {
	for _, tc := range []struct {
		done float64
		want int64
	}{
		{-1, math.MinInt64},
		{0, math.MinInt64},
		{1.0 / 3, -1 << 62}, // a third: kind 2 walked
		{2.0 / 3, 1 << 62},  // two thirds: kinds 2 and 3, the gap skipped
		{1, math.MaxInt64},
		{5, math.MaxInt64},
	} {
		if got := sweepTarget(tc.done); got != tc.want {
			t.Errorf("sweepTarget(%v) = %d, want %d", tc.done, got, tc.want)
		}
	}
}
