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
		keys[i] = keysOf(it)
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
	var guidKey *int64
	if err := db.reader.QueryRowContext(ctx, `SELECT guid_key FROM article_keys WHERE id = ?`, got[1].ID).Scan(&guidKey); err != nil {
		t.Fatal(err)
	}
	if guidKey != nil {
		t.Fatal("Story Z kept GUID g1, which another story of the feed took meanwhile")
	}

	// No writer in between: the read pass's verdicts stand.
	more := []model.Article{art("v", "https://news.example/v", "Story V")}
	keys = []articleKeys{keysOf(more[0])}
	candidates, err = db.readPass(ctx, a, keys)
	if err != nil || len(candidates) != 1 {
		t.Fatalf("read pass: %v, %v", candidates, err)
	}
	if got, err := db.writePass(ctx, a, more, keys, candidates); err != nil || len(got) != 1 {
		t.Fatalf("write pass: %v, %v", titles(got), err)
	}
}

// TestStoredKeysFullRange: the keys travel as a JSON array; every int64,
// the extremes included, must come back as itself.
func TestStoredKeysFullRange(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	feed := mustFeed(t, db, "a")
	keys := []int64{math.MinInt64, math.MinInt64 + 1, -1, 1, 1 << 53, 1<<53 + 1, math.MaxInt64}
	for i, k := range keys {
		if _, err := db.writer.ExecContext(ctx, `INSERT INTO article_keys (feed_id, link_key, title_key, fetched) VALUES (?, ?, ?, 1)`,
			feed, k, i+100); err != nil {
			t.Fatal(err)
		}
	}
	for _, prepared := range []bool{true, false} {
		err := db.read(ctx, func(tx *sql.Tx) error {
			st := db.stmts.storedLinks
			if !prepared {
				st = nil
			}
			found, err := storedKeys(ctx, tx, st, storedLinksSQL, nil, append(keys, 2, math.MaxInt64-1))
			if err != nil {
				return err
			}
			if len(found) != len(keys) {
				return fmt.Errorf("found %d keys, want %d", len(found), len(keys))
			}
			for _, k := range keys {
				if found[k] == nil {
					return fmt.Errorf("key %d not found", k)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatalf("prepared %v: %v", prepared, err)
		}
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
	var guidKey *int64
	if err := db.reader.QueryRowContext(ctx, `SELECT guid_key FROM article_keys WHERE id = ?`, got[0].ID).Scan(&guidKey); err != nil {
		t.Fatal(err)
	}
	if guidKey != nil {
		t.Fatal("Story Z kept GUID g1, which Story W of the same feed has")
	}
	// The same first fetch again (a retry): nothing new.
	if again, err := db.StoreArticles(ctx, a, backlog(art("az", "https://news.example/new", "A new story"))); err != nil || len(again) != 0 {
		t.Fatalf("again: %v, %v", titles(again), err)
	}
}
