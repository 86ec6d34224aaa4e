package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"fmt"
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
// UndatedKeys), runs again only KeySweep after the last one started, and a
// sweep cut short continues from its cursor.
func TestKeySweep(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	clock := newClock(db)
	feed := mustFeed(t, db, "wire")
	r := Retention{Text: 24 * time.Hour, Keys: 10 * 24 * time.Hour, UndatedKeys: 40 * 24 * time.Hour,
		KeySweep: 5 * 24 * time.Hour, SweepRows: 7}
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
	count := func() (dated, undated int) {
		t.Helper()
		if err := db.reader.QueryRow(`SELECT count(*) FILTER (WHERE flags & 4 = 0), count(*) FILTER (WHERE flags & 4 != 0)
			FROM seen_keys`).Scan(&dated, &undated); err != nil {
			t.Fatal(err)
		}
		return dated, undated
	}

	// Day 0: the first sweep starts at once, and finds nothing expired.
	if st := mustPrune(t, db, r); st.Keys != 0 {
		t.Fatalf("day 0: %+v", st)
	}
	// Day 12: the dated keys expired, and a sweep is due (from day 5 on);
	// it walks the 60 keys 7 at a time.
	clock.advance(12 * 24 * time.Hour)
	st := mustPrune(t, db, r)
	if st.Keys != 14*3 || st.Transactions < 60/7 {
		t.Fatalf("day 12: %+v, want the 14 dated articles' 42 keys deleted in 9 or more transactions", st)
	}
	if d, u := count(); d != 3 || u != 15 {
		t.Fatalf("day 12: %d dated and %d undated keys left, want 3 (the alerted article's) and 15", d, u)
	}
	// Day 13: no sweep is due, though undated keys would be, once their
	// window is over.
	clock.advance(24 * time.Hour)
	if st := mustPrune(t, db, r); st.Keys != 0 || st.Transactions != 0 {
		t.Fatalf("day 13: %+v, want no sweep", st)
	}
	// Day 50: a sweep is due and the undated keys expired. It is cut
	// short: the cursor says it walked the keys below the 9th.
	clock.advance(37 * 24 * time.Hour)
	var mid int64
	if err := db.reader.QueryRow(`SELECT key FROM seen_keys ORDER BY key LIMIT 1 OFFSET 8`).Scan(&mid); err != nil {
		t.Fatal(err)
	}
	if _, err := db.writer.Exec(`INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?), (?, ?)`,
		sweepCursorKey, fmt.Sprint(mid), sweepStartKey, fmt.Sprint(toMillis(clock.now()))); err != nil {
		t.Fatal(err)
	}
	var below int
	if err := db.reader.QueryRow(`SELECT count(*) FROM seen_keys WHERE key <= ? AND flags & 4 != 0`, mid).Scan(&below); err != nil {
		t.Fatal(err)
	}
	if below == 0 {
		t.Fatal("no undated key below the cursor: the test shows nothing")
	}
	st = mustPrune(t, db, r)
	if d, u := count(); d != 3 || u != below || st.Keys != 15-below {
		t.Fatalf("day 50: %+v; %d dated and %d undated keys left, want 3 and the %d the sweep had passed", st, d, u, below)
	}
	if _, sweeping, _ := db.metaInt(ctx, sweepCursorKey); sweeping {
		t.Error("the sweep's cursor is left after it ended")
	}
}
