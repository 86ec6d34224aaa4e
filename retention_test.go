package main

import (
	"context"
	"log/slog"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/backchannel/backchannel/config"
	"github.com/backchannel/backchannel/db"
	"github.com/backchannel/backchannel/metrics"
	"github.com/backchannel/backchannel/model"
)

// TestRunRetention: the app's retention loop prunes on its interval with
// the configured windows, and counts what it pruned.
func TestRunRetention(t *testing.T) {
	ctx := context.Background()
	store, err := db.Open(ctx, filepath.Join(t.TempDir(), "bot.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	feed, err := store.AddFeed(ctx, model.Feed{Name: "wire", URL: "https://wire.example/feed"})
	if err != nil {
		t.Fatal(err)
	}
	var items []model.Article
	for i := range 30 {
		// Fetched days ago: keys expire by whole days (see db.Retention).
		items = append(items, model.Article{GUID: strconv.Itoa(i), Title: "Item " + strconv.Itoa(i),
			Published: time.Now(), Fetched: time.Now().Add(-72 * time.Hour)})
	}
	stored, err := store.StoreArticles(ctx, feed.ID, items)
	if err != nil || len(stored) != len(items) {
		t.Fatalf("stored %d, %v", len(stored), err)
	}
	var ids []int64
	for _, a := range stored {
		ids = append(ids, a.ID)
	}
	if err := store.MarkDispatched(ctx, ids); err != nil {
		t.Fatal(err)
	}

	cfg := config.Default()
	cfg.Retention = config.Retention{
		Text: config.Duration{D: time.Millisecond}, Keys: config.Duration{D: time.Millisecond},
		Interval: config.Duration{D: 10 * time.Millisecond},
	}
	a := &App{cfg: config.Loaded{Config: cfg}, store: store, logger: slog.New(slog.DiscardHandler), metrics: metrics.NewUnregistered()}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { a.runRetention(runCtx); close(done) }()
	var n int64 = -1
	for range 500 { // bounded: at most 500 looks, 10 ms apart
		if n, err = store.ArticleCount(ctx); err != nil || n == 0 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if n != 0 {
		t.Fatalf("%d articles left after retention ran (%v); want none", n, err)
	}
	if got := testutilCounter(t, a.metrics, "texts"); got != float64(len(items)) {
		t.Errorf("backchannel_db_pruned_total{what=\"texts\"} = %v, want %d", got, len(items))
	}
	// Each item has a GUID and a title key, and no link.
	if got := testutilCounter(t, a.metrics, "keys"); got != float64(2*len(items)) {
		t.Errorf("backchannel_db_pruned_total{what=\"keys\"} = %v, want %d", got, 2*len(items))
	}
}

func testutilCounter(t *testing.T, m *metrics.Metrics, what string) float64 {
	t.Helper()
	var out dto.Metric
	if err := m.Pruned.WithLabelValues(what).Write(&out); err != nil {
		t.Fatal(err)
	}
	return out.GetCounter().GetValue()
}
