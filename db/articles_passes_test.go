package db

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"testing"

	"github.com/backchannel/backchannel/model"
)

// TestStoreArticlesWriterBetweenPasses: articles stored by another writer
// between StoreArticles' read pass and its write pass are seen by the
// write pass. Without one, the read pass's verdicts are used as they are.
func TestStoreArticlesWriterBetweenPasses(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	a, b := mustFeed(t, db, "a"), mustFeed(t, db, "b")
	items := []model.Article{
		art("x", "https://news.example/x", "Story X"),
		art("y", "https://news.example/y", "Story Y"),
		art("g1", "https://news.example/z", "Story Z"),
	}
	keys := make([]articleKeys, len(items))
	for i, it := range items {
		keys[i] = keysOf(a, it)
	}
	candidates, err := db.readPass(ctx, a, keys)
	if err != nil || len(candidates) != 3 {
		t.Fatalf("read pass: %v, %v", candidates, err)
	}
	// Meanwhile: feed b stores story X under another GUID, and feed a
	// stores a different story under GUID g1 (a feed reusing GUIDs).
	mustStore(t, db, b, art("bx", "https://news.example/x?utm_source=b", "Other words for X"))
	mustStore(t, db, a, art("g1", "https://news.example/w", "Story W"))

	got, err := db.writePass(ctx, a, items, keys, candidates)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(titles(got)) != "[Story Y Story Z]" {
		t.Fatalf("stored %v, want [Story Y Story Z]: X was stored meanwhile", titles(got))
	}
	if hasGUIDKey(t, db, got[1].ID) {
		t.Fatal("Story Z kept GUID g1, which another story of the feed took meanwhile")
	}

	// No writer in between: the read pass's verdicts stand.
	more := []model.Article{art("v", "https://news.example/v", "Story V")}
	keys = []articleKeys{keysOf(a, more[0])}
	candidates, err = db.readPass(ctx, a, keys)
	if err != nil || len(candidates) != 1 {
		t.Fatalf("read pass: %v, %v", candidates, err)
	}
	if got, err := db.writePass(ctx, a, more, keys, candidates); err != nil || len(got) != 1 {
		t.Fatalf("write pass: %v, %v", titles(got), err)
	}
}

// hasGUIDKey says whether the article id has a GUID key stored (the keys
// of kind 1 are those from 1<<62 up).
func hasGUIDKey(t *testing.T, db *DB, id int64) bool {
	t.Helper()
	var n int
	if err := db.reader.QueryRow(`SELECT count(*) FROM seen_keys WHERE article_id = ? AND key >= ?`,
		id, int64(guidKind)<<kindShift).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n > 0
}

// TestStoredKeysFullRange: the keys travel as a JSON array; every int64,
// the extremes included, must come back as itself.
func TestStoredKeysFullRange(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	keys := []int64{math.MinInt64, math.MinInt64 + 1, -1, 1, 1 << 53, 1<<53 + 1, math.MaxInt64}
	for i, k := range keys {
		if _, err := db.writer.ExecContext(ctx, `INSERT INTO seen_keys (key, article_id, day, flags) VALUES (?, ?, 1, ?)`,
			k, i+100, i); err != nil {
			t.Fatal(err)
		}
	}
	err := db.read(ctx, func(tx *sql.Tx) error {
		found, err := storedKeys(ctx, tx.StmtContext(ctx, db.stmts.storedKeys), append(keys, 2, math.MaxInt64-1))
		if err != nil {
			return err
		}
		if len(found) != len(keys) {
			return fmt.Errorf("found %d keys, want %d", len(found), len(keys))
		}
		for i, k := range keys {
			if f, ok := found[k]; !ok || f != int64(i) {
				return fmt.Errorf("key %d: flags %d, %v; want %d", k, f, ok, i)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestStoreBackCatalogue: a first fetch (every item Backlog) skips the
// read pass; what other feeds stored, or what the feed itself stored under
// a GUID, is still found by the write pass.
func TestStoreBackCatalogue(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	a, b := mustFeed(t, db, "a"), mustFeed(t, db, "b")
	mustStore(t, db, b, art("bx", "https://news.example/x", "Story X as b has it"))
	mustStore(t, db, b, art("by", "https://news.example/other-y", "Story Y"))
	// Feed a's own article under GUID g1 (not a real first fetch then, but
	// the schema must still decide on it).
	mustStore(t, db, a, art("g1", "https://news.example/w", "Story W"))
	backlog := func(as ...model.Article) []model.Article {
		for i := range as {
			as[i].Backlog = true
		}
		return as
	}
	got, err := db.StoreArticles(ctx, a, backlog(
		art("ax", "https://news.example/x", "Story X in a's words"), // link taken by b
		art("ay", "https://news.example/y", "Story Y"),              // title taken by b
		art("g1", "https://news.example/z", "Story Z"),              // GUID reused by a
		art("az", "https://news.example/new", "A new story"),
		art("az2", "https://news.example/new", "Again"), // link of the item before it
		model.Article{Backlog: true},                    // no keys at all
	))
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(titles(got)) != "[Story Z A new story]" {
		t.Fatalf("stored %v, want [Story Z A new story]", titles(got))
	}
	if hasGUIDKey(t, db, got[0].ID) {
		t.Fatal("Story Z kept GUID g1, which Story W of the same feed has")
	}
	// The same first fetch again (a retry): nothing new.
	if again, err := db.StoreArticles(ctx, a, backlog(art("az", "https://news.example/new", "A new story"))); err != nil || len(again) != 0 {
		t.Fatalf("again: %v, %v", titles(again), err)
	}
}
