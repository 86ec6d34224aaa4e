package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel/config"
	"github.com/backchannel/backchannel/db"
	"github.com/backchannel/backchannel/internal/fakediscord"
)

// TestAppCloseAfterFailedStart: a start-up that fails half way (the HTTP
// address is taken) returns the error, and Close then closes what was
// opened — the database among it — once, however often it is called.
func TestAppCloseAfterFailedStart(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	fs := newFeedServer(t)
	cfg := dryRunConfig(t, fs)
	cfg.HTTP.Listen = taken.Addr().String()

	app := newApp(checked(t, cfg), appOptions{DryRun: true, Stdout: &strings.Builder{}, Logger: testLogger(t)})
	err = app.Run(t.Context())
	if err == nil || !strings.Contains(err.Error(), "http.listen") {
		t.Fatalf("Run = %v; want the http.listen error", err)
	}
	if app.store == nil {
		t.Fatal("the database was not opened before the HTTP step")
	}
	if err := app.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
	if err := app.store.Ping(context.Background()); err == nil {
		t.Fatal("the database is still open after Close")
	}
	if err := app.Close(); err != nil {
		t.Fatalf("second Close = %v", err)
	}
}

// TestAppCloseBeforeRun: Close on an app that never ran has nothing to do.
func TestAppCloseBeforeRun(t *testing.T) {
	app := newApp(checked(t, dryRunConfig(t, newFeedServer(t))), appOptions{})
	if err := app.Close(); err != nil {
		t.Fatalf("Close = %v", err)
	}
}

// dryRunConfig is a dry run's configuration over fs's RSS feed, with its
// own database.
func dryRunConfig(t *testing.T, fs *feedServer) config.Config {
	cfg := config.Default()
	cfg.Database.Path = filepath.Join(t.TempDir(), "dry.db")
	cfg.Discord.APIURL = "http://127.0.0.1:1/api/v10" // never contacted
	cfg.Poll.Schedule = "@every 1s"
	cfg.Feeds = []config.Feed{{Name: "Wire", URL: fs.URL + "/rss"}}
	cfg.Rules = builtinRules(t)
	return cfg
}

func TestDryRunPath(t *testing.T) {
	for in, want := range map[string]string{
		"backchannel.db":       "backchannel.dry-run.db",
		"/data/backchannel.db": "/data/backchannel.dry-run.db",
		"/var/lib/bc/state":    "/var/lib/bc/state.dry-run",
		"dir.d/bot.sqlite3":    "dir.d/bot.dry-run.sqlite3",
		"./relative/x.y.db":    "./relative/x.y.dry-run.db",
	} {
		if got := dryRunPath(in); got != want {
			t.Errorf("dryRunPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDryRunLeavesTheBotsDatabaseAlone: a dry run started with the bot's
// own configuration prints a story, and the bot started afterwards still
// posts it to its subscribers — the dry run stored nothing in the bot's
// database.
func TestDryRunLeavesTheBotsDatabaseAlone(t *testing.T) {
	fd := fakediscord.New(t)
	fs := newFeedServer(t)
	item := feedItem{GUID: "1", Title: "Lavrov and Rubio hold phone call on Ukraine", Link: "https://wire.example/call",
		Summary: "The foreign ministers spoke by phone.", Published: time.Now().UTC().Add(-time.Hour)}
	fs.set([]feedItem{item}, nil)
	cfg := e2eConfig(t, fd, fs)
	const guild, channel = "200000000000000002", "300000000000000003"
	subscribe(t, cfg.Database.Path, guild, channel)

	var out syncBuffer
	_, stop := startApp(t, cfg, appOptions{DryRun: true, Stdout: &out})
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), item.Link) {
		if time.Now().After(deadline) {
			t.Fatalf("the dry run printed nothing in 20s; stdout:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	if _, err := os.Stat(dryRunPath(cfg.Database.Path)); err != nil {
		t.Errorf("the dry run's own database: %v", err)
	}
	store, err := db.Open(t.Context(), cfg.Database.Path)
	if err != nil {
		t.Fatal(err)
	}
	n, err := store.ArticleCount(t.Context())
	store.Close()
	if err != nil || n != 0 {
		t.Fatalf("the bot's database holds %d articles after a dry run (%v); want 0", n, err)
	}

	_, stop = startApp(t, cfg, appOptions{})
	defer stop()
	msgs := fd.WaitMessages(t, channel, 1, 20*time.Second)
	if msgs[0].Embeds[0].URL != item.Link {
		t.Fatalf("posted %q, want %q", msgs[0].Embeds[0].URL, item.Link)
	}
	if len(fd.Messages("stdout")) != 0 {
		t.Fatal("the dry run's pseudo channel reached Discord")
	}
}
