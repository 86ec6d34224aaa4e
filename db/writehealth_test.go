package db

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/backchannel/backchannel/model"
)

// TestDiskFull makes the database "full" (max_page_count), and checks that
// writes fail saying so, that the failure is counted and reported, that
// nothing stored is lost or damaged, and that writes resume by themselves
// once there is room again.
func TestDiskFull(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	feed := mustFeed(t, db, "wire")
	batch := func(from int) []model.Article {
		var out []model.Article
		for i := from; i < from+50; i++ {
			a := art("g"+strconv.Itoa(i), "https://news.example/"+strconv.Itoa(i), "Story "+strconv.Itoa(i))
			a.Content = strings.Repeat("content ", 200)
			out = append(out, a)
		}
		return out
	}
	stored := len(mustStore(t, db, feed, batch(0)...))
	var pages int64
	if err := db.reader.QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
		t.Fatal(err)
	}
	if _, err := db.LimitPages(ctx, pages); err != nil {
		t.Fatal(err)
	}

	var err error
	for i := 1; i <= 20 && err == nil; i++ { // at most 20 batches: the cap is a few pages away
		var got []model.Article
		got, err = db.StoreArticles(ctx, feed, batch(i*50))
		stored += len(got)
	}
	if !errors.Is(err, ErrCannotWrite) || !strings.Contains(err.Error(), "disk is full") {
		t.Fatalf("storing into a full database: %v; want ErrCannotWrite saying the disk is full", err)
	}
	if werr := db.WriteError(); !errors.Is(werr, ErrCannotWrite) || !strings.Contains(werr.Error(), "(full)") {
		t.Fatalf("WriteError = %v, want the failure", werr)
	}
	if n := db.WriteErrors()[WriteFull]; n == 0 {
		t.Fatalf("WriteErrors = %v, want a full count", db.WriteErrors())
	}
	if err := db.ProbeWrite(ctx); err != nil && !errors.Is(err, ErrCannotWrite) {
		t.Fatalf("probe while full: %v", err)
	}
	if n, err := db.ArticleCount(ctx); err != nil || n != int64(stored) {
		t.Fatalf("articles while full: %d, %v; want the %d stored", n, err, stored)
	}

	if _, err := db.LimitPages(ctx, 1<<30); err != nil {
		t.Fatal(err)
	}
	if err := db.ProbeWrite(ctx); err != nil {
		t.Fatalf("probe with room again: %v", err)
	}
	if err := db.WriteError(); err != nil {
		t.Fatalf("WriteError after a write succeeded: %v", err)
	}
	got := mustStore(t, db, feed, batch(10_000)...)
	if len(got) != 50 {
		t.Fatalf("stored %d after recovery, want 50", len(got))
	}
	var check string
	if err := db.reader.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
	if n, err := db.ArticleCount(ctx); err != nil || n != int64(stored+50) {
		t.Fatalf("articles after recovery: %d, %v; want %d", n, err, stored+50)
	}
}
