package db

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/backchannel/backchannel/model"
)

func ids(as []model.Article) []int64 {
	var out []int64
	for _, a := range as {
		out = append(out, a.ID)
	}
	return out
}

// TestUndispatchedArticles: stored articles wait for MarkDispatched, survive
// a reopen while they wait (a crash between storing and dispatching), keep
// their back-catalogue flag, and page by ID and cutoff.
func TestUndispatchedArticles(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "d.db")
	db := mustOpenPath(t, path)
	clock := newClock(db)
	feed := mustFeed(t, db, "wire")
	old := art("1", "https://news.example/1", "One")
	old.Backlog = true
	stored := mustStore(t, db, feed, old, art("2", "https://news.example/2", "Two"), art("3", "https://news.example/3", "Three"))
	clock.ms.Add(time.Minute.Milliseconds())
	later := mustStore(t, db, feed, art("4", "https://news.example/4", "Four"))
	cutoff := clock.now() // strictly before: "Four", fetched now, is not taken

	got, err := db.UndispatchedArticles(ctx, 0, cutoff, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].ID != stored[0].ID || !got[0].Backlog || got[1].Backlog {
		t.Fatalf("undispatched %+v", got)
	}
	if got[1].Title != "Two" || got[1].Summary != "summary of Two" || got[1].Feed != "wire" || got[1].FeedID != feed ||
		!got[1].Fetched.Equal(stored[1].Fetched) {
		t.Fatalf("article not read back whole: %+v", got[1])
	}
	page, err := db.UndispatchedArticles(ctx, stored[0].ID, cutoff, 1)
	if err != nil || len(page) != 1 || page[0].ID != stored[1].ID {
		t.Fatalf("second page %v, %v", ids(page), err)
	}

	if err := db.MarkDispatched(ctx, []int64{stored[0].ID, stored[2].ID}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db = mustOpenPath(t, path)
	got, err = db.UndispatchedArticles(ctx, 0, cutoff.Add(time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int64{stored[1].ID, later[0].ID}; len(got) != 2 || got[0].ID != want[0] || got[1].ID != want[1] {
		t.Fatalf("after reopen: undispatched %v, want %v", ids(got), want)
	}
	if err := db.MarkDispatched(ctx, nil); err != nil {
		t.Fatalf("marking nothing: %v", err)
	}
}

// TestMigrationKeepsOldArticlesDispatched: articles stored by a version-1
// database were dispatched by the code of the time; upgrading must not
// alert them again.
func TestMigrationKeepsOldArticlesDispatched(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "v1.db")
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range []string{
		ms[0].sql,
		`PRAGMA user_version = 1`,
		// Every version-1 database got its instance id at its first start.
		`INSERT INTO meta (key, value) VALUES ('instance_id', '0123456789abcdef')`,
		`INSERT INTO feeds (id, name, url, url_key, source, created) VALUES (1, 'wire', 'https://w.example/f', 'https://w.example/f', 'config', 1)`,
		`INSERT INTO articles (feed_id, feed, title, title_key, fetched) VALUES (1, 'wire', 'Old story', 42, 1)`,
	} {
		if _, err := raw.ExecContext(ctx, stmt); err != nil {
			raw.Close()
			t.Fatalf("%.40s: %v", stmt, err)
		}
	}
	if err := raw.Close(); err != nil {
		t.Fatal(err)
	}

	db := mustOpenPath(t, path)
	if v, _ := db.SchemaVersion(ctx); v != len(ms) {
		t.Fatalf("schema version %d, want %d", v, len(ms))
	}
	got, err := db.UndispatchedArticles(ctx, 0, time.Now(), 10)
	if err != nil || len(got) != 0 {
		t.Fatalf("old articles undispatched after the upgrade: %+v, %v", got, err)
	}
}
