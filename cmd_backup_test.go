package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/backchannel/backchannel/db"
	"github.com/backchannel/backchannel/model"
)

// TestBackupCommand runs `backchannel backup` against a database another
// connection holds open (as `run` would), then checks the exit codes of a
// second backup to the same file and of a missing argument.
func TestBackupCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "bot.db")
	cfg := filepath.Join(dir, "c.toml")
	if err := os.WriteFile(cfg, []byte("[database]\npath = \""+dbPath+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	live, err := db.Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	feed, err := live.AddFeed(ctx, model.Feed{Name: "wire", URL: "https://wire.example/feed"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := live.StoreArticles(ctx, feed.ID, []model.Article{{GUID: "1", Title: "Naryshkin meets Burns"}}); err != nil {
		t.Fatal(err)
	}

	out := filepath.Join(dir, "backup.db")
	code, stdout, stderr := runCLI(t, "", "backup", "-config", cfg, out)
	if code != 0 || !strings.Contains(stdout, out) {
		t.Fatalf("backup: exit %d, stdout %q, stderr %q", code, stdout, stderr)
	}
	copyDB, err := db.Open(ctx, out)
	if err != nil {
		t.Fatalf("opening the backup: %v", err)
	}
	n, err := copyDB.ArticleCount(ctx)
	copyDB.Close()
	if err != nil || n != 1 {
		t.Fatalf("backup holds %d articles, %v; want 1", n, err)
	}

	before, _ := os.ReadFile(out)
	if code, _, stderr := runCLI(t, "", "backup", out, "-config", cfg); code != 1 || !strings.Contains(stderr, "exists") {
		t.Errorf("backup over an existing file: exit %d, stderr %q; want 1 saying it exists", code, stderr)
	}
	if after, _ := os.ReadFile(out); string(after) != string(before) {
		t.Error("the existing backup was changed")
	}
	if code, _, stderr := runCLI(t, "", "backup", "-config", cfg); code != 2 || !strings.Contains(stderr, "OUT") {
		t.Errorf("backup without OUT: exit %d, stderr %q; want 2 and the usage", code, stderr)
	}
	if code, _, stderr := runCLI(t, "", "backup", "-config", cfg, filepath.Join(dir, "missing", "b.db")); code != 1 || !strings.Contains(stderr, "output directory") {
		t.Errorf("backup into a missing directory: exit %d, stderr %q", code, stderr)
	}
}
