package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/backchannel/backchannel/db"
	"github.com/backchannel/backchannel/metrics"
	"github.com/backchannel/backchannel/model"
)

// TestHealthzWhileDiskFull: while the database cannot write, /healthz
// answers 503 saying why and the metric counts the failures; liveness
// stays up (a restart frees no space); once there is room, /healthz is 200
// again without anything else writing first.
func TestHealthzWhileDiskFull(t *testing.T) {
	ctx := context.Background()
	store, err := db.Open(ctx, filepath.Join(t.TempDir(), "bot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	a := &App{store: store, logger: slog.New(slog.DiscardHandler)}
	reg := prometheus.NewRegistry()
	metrics.New(reg, metrics.Options{DBWriteErrors: store.WriteErrors})
	srv := httptest.NewServer(newMux(health{ping: store.Ping, writable: a.writable}, reg, nil))
	defer srv.Close()
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, readBody(t, resp)
	}
	fullCount := func() int {
		t.Helper()
		_, body := get("/metrics")
		m := regexp.MustCompile(`(?m)^backchannel_db_write_errors_total\{reason="full"\} (\d+)$`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no full write error count in /metrics")
		}
		n, _ := strconv.Atoi(m[1])
		return n
	}

	if code, body := get("/healthz"); code != 200 {
		t.Fatalf("healthy store: /healthz %d %q", code, body)
	}
	feed, err := store.AddFeed(ctx, model.Feed{Name: "wire", URL: "https://wire.example/feed"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.LimitPages(ctx, 1); err != nil { // never below the current size: full now
		t.Fatal(err)
	}
	var items []model.Article
	for i := range 200 {
		items = append(items, model.Article{GUID: strconv.Itoa(i), Title: "Item " + strconv.Itoa(i), Content: strings.Repeat("x", 2000)})
	}
	if _, err := store.StoreArticles(ctx, feed.ID, items); err == nil {
		t.Fatal("storing into a full database succeeded")
	}
	if code, body := get("/healthz"); code != 503 || !strings.Contains(body, "database cannot write (full)") {
		t.Fatalf("full store: /healthz %d %q; want 503 saying the database cannot write", code, body)
	}
	if code, body := get("/livez"); code != 200 {
		t.Fatalf("full store: /livez %d %q; want 200", code, body)
	}
	if n := fullCount(); n < 1 {
		t.Fatalf("backchannel_db_write_errors_total{reason=\"full\"} = %d, want at least 1", n)
	}

	if _, err := store.LimitPages(ctx, 1<<30); err != nil {
		t.Fatal(err)
	}
	if code, body := get("/healthz"); code != 200 {
		t.Fatalf("room again: /healthz %d %q; want 200", code, body)
	}
	if got, err := store.StoreArticles(ctx, feed.ID, items); err != nil || len(got) != len(items) {
		t.Fatalf("storing after recovery: %d stored, %v", len(got), err)
	}
}
