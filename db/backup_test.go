package db

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/backchannel/backchannel/model"
)

// TestBackupWhileWriting copies the database while another connection keeps
// storing articles: the copy opens, passes integrity_check, holds at least
// what was stored before the backup began, and is a backchannel database
// that Open accepts.
func TestBackupWhileWriting(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := mustOpenPath(t, filepath.Join(dir, "live.db"))
	feed := mustFeed(t, db, "wire")
	item := func(i int) model.Article {
		return model.Article{GUID: strconv.Itoa(i), Link: "https://news.example/" + strconv.Itoa(i),
			Title: "Story " + strconv.Itoa(i), Content: strings.Repeat("text ", 100)}
	}
	var first []model.Article
	for i := range 500 {
		first = append(first, item(i))
	}
	mustStore(t, db, feed, first...)

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writeErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1000; i < 1000+2000; i++ { // bounded: 2000 single-item writes at most
			select {
			case <-stop:
				return
			default:
			}
			if _, err := db.StoreArticles(ctx, feed, []model.Article{item(i)}); err != nil {
				writeErr = err
				return
			}
		}
	}()
	out := filepath.Join(dir, "copy.db")
	err := Backup(ctx, db.Path(), out)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatalf("Backup: %v", err)
	}
	if writeErr != nil {
		t.Fatalf("writer during backup: %v", writeErr)
	}

	raw, err := sql.Open("sqlite", "file:"+out+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var check string
	var n int
	if err := raw.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check of the copy = %q, %v", check, err)
	}
	if err := raw.QueryRow(`SELECT count(*) FROM articles`).Scan(&n); err != nil || n < len(first) {
		t.Fatalf("copy holds %d articles, %v; want at least %d", n, err, len(first))
	}
	raw.Close()
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.Contains(e.Name(), ".partial-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
	restored := mustOpenPath(t, out)
	if got, err := restored.ArticleCount(ctx); err != nil || got != int64(n) {
		t.Fatalf("restored copy: %d articles, %v; want %d", got, err, n)
	}
}

func TestBackupRefuses(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := mustOpenPath(t, filepath.Join(dir, "live.db"))
	exists := filepath.Join(dir, "exists.db")
	if err := os.WriteFile(exists, []byte("keep me"), 0o600); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(dir, "foreign.db")
	f, err := sql.Open("sqlite", foreign)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.Exec(`CREATE TABLE notes (x)`); err != nil {
		t.Fatal(err)
	}
	f.Close()
	tests := []struct {
		name, src, out, want string
	}{
		{"output exists", db.Path(), exists, "exists"},
		{"output directory missing", db.Path(), filepath.Join(dir, "no", "such", "dir", "b.db"), "output directory"},
		{"database missing", filepath.Join(dir, "absent.db"), filepath.Join(dir, "b1.db"), "no such file"},
		{"not backchannel's", foreign, filepath.Join(dir, "b2.db"), "not a backchannel database"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Backup(ctx, tt.src, tt.out)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Backup = %v, want an error saying %q", err, tt.want)
			}
			if tt.out != exists {
				if _, err := os.Stat(tt.out); err == nil {
					t.Errorf("%s was created", tt.out)
				}
			}
		})
	}
	if b, _ := os.ReadFile(exists); string(b) != "keep me" {
		t.Errorf("existing output changed: %q", b)
	}
	if _, err := os.Stat(filepath.Join(dir, "absent.db")); err == nil {
		t.Error("backup of a missing database created it")
	}
}
