package main

import (
	"context"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/backchannel/backchannel/config"
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

	app := newApp(cfg, appOptions{DryRun: true, Stdout: &strings.Builder{}, Logger: testLogger(t)})
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
	app := newApp(dryRunConfig(t, newFeedServer(t)), appOptions{})
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
	cfg.Rules = exampleRules(t)
	return cfg
}
