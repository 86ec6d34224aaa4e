package db

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/backchannel/backchannel/model"
)

const (
	benchArticles = 100_000
	benchBatch    = 50
	benchFeeds    = 1000
)

var benchBody = strings.Repeat("Officials said the talks covered prisoner exchanges and strategic stability. ", 20)

func benchArticle(i int) model.Article {
	return model.Article{
		GUID:      fmt.Sprintf("urn:uuid:%08d-bench", i),
		Link:      fmt.Sprintf("https://news%d.example.com/world/2025/03/01/story-%d.html?utm_source=rss", i%97, i),
		Title:     fmt.Sprintf("Intelligence chiefs meet in Ankara for talks, report %d", i),
		Summary:   "The directors discussed a channel of communication, officials said. " + strconv.Itoa(i),
		Content:   benchBody,
		Published: epoch.Add(-time.Duration(i) * time.Minute),
	}
}

// fillArticles stores n articles in batches of benchBatch, spread over the
// feeds as a poll of many feeds would.
func fillArticles(tb testing.TB, db *DB, feeds []int64, n int) {
	tb.Helper()
	ctx := context.Background()
	for start := 0; start < n; start += benchBatch {
		batch := make([]model.Article, 0, benchBatch)
		for i := start; i < start+benchBatch && i < n; i++ {
			batch = append(batch, benchArticle(i))
		}
		got, err := db.StoreArticles(ctx, feeds[(start/benchBatch)%len(feeds)], batch)
		if err != nil {
			tb.Fatal(err)
		}
		if len(got) != len(batch) {
			tb.Fatalf("stored %d of %d", len(got), len(batch))
		}
	}
}

func benchFeedIDs(tb testing.TB, db *DB) []int64 {
	tb.Helper()
	var feeds []model.Feed
	for i := range benchFeeds {
		feeds = append(feeds, model.Feed{Name: fmt.Sprintf("feed-%04d", i), URL: fmt.Sprintf("https://feeds%d.example.com/rss", i)})
	}
	got, err := db.SyncConfigFeeds(context.Background(), feeds)
	if err != nil {
		tb.Fatal(err)
	}
	ids := make([]int64, len(got))
	for i, f := range got {
		ids[i] = f.ID
	}
	return ids
}

// BenchmarkInsert100kArticles: one op stores 100,000 new articles, 50 per
// StoreArticles call, into an empty database.
func BenchmarkInsert100kArticles(b *testing.B) {
	cpu := startCPU(b)
	for b.Loop() {
		b.StopTimer()
		db := MustOpen(b)
		feeds := benchFeedIDs(b, db)
		b.StartTimer()
		fillArticles(b, db, feeds, benchArticles)
		b.StopTimer()
		db.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchArticles), "ns/article")
	cpu.report(b, benchArticles)
}

// BenchmarkStore50Stored: with 100,000 articles stored, one op re-stores a
// 50-item batch that is entirely stored already (a re-fetched feed).
func BenchmarkStore50Stored(b *testing.B) {
	db := MustOpen(b)
	feeds := benchFeedIDs(b, db)
	fillArticles(b, db, feeds, benchArticles)
	ctx := context.Background()
	batches := make([][]model.Article, 0, 64)
	for k := range 64 {
		start := (k * 1543 * benchBatch) % benchArticles
		var batch []model.Article
		for i := start; i < start+benchBatch; i++ {
			a := benchArticle(i)
			a.GUID += "-changed" // a feed that changes GUIDs: the link and title keys must catch it
			if k%2 == 0 {
				a = benchArticle(i) // and the usual case, same GUID
			}
			batch = append(batch, a)
		}
		batches = append(batches, batch)
	}
	b.ResetTimer()
	cpu := startCPU(b)
	k := 0
	for b.Loop() {
		batch := batches[k%len(batches)]
		got, err := db.StoreArticles(ctx, feeds[(batch[0].Published.Unix()/60)%benchFeeds], batch)
		if err != nil {
			b.Fatal(err)
		}
		if len(got) != 0 {
			b.Fatalf("%d stored again", len(got))
		}
		k++
	}
	b.StopTimer()
	cpu.report(b, 1)
	reportMemory(b)
}

// BenchmarkQueries100k: reads the commands and the outbox make, against
// 100,000 articles and 10,000 alerts.
func BenchmarkQueries100k(b *testing.B) {
	db := MustOpen(b)
	feeds := benchFeedIDs(b, db)
	ctx := context.Background()
	for start := 0; start < benchArticles; start += benchBatch {
		batch := make([]model.Article, 0, benchBatch)
		for i := start; i < start+benchBatch; i++ {
			batch = append(batch, benchArticle(i))
		}
		got, err := db.StoreArticles(ctx, feeds[(start/benchBatch)%benchFeeds], batch)
		if err != nil {
			b.Fatal(err)
		}
		for _, a := range got {
			if a.ID%10 != 0 {
				continue
			}
			_, _, err := db.CreateAlert(ctx, model.Alert{GuildID: fmt.Sprintf("g%d", a.ID%3), Article: a,
				Matches: []model.Match{{Rule: "intel-heads", Actors: []model.ActorHit{naryshkin}}}}, routes("c1"), 0)
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	due, _ := db.DueDeliveries(ctx, time.Now(), 0, 0)
	for _, d := range due[:len(due)-50] { // leave 50 pending
		if err := db.MarkDelivered(ctx, d, "m"); err != nil {
			b.Fatal(err)
		}
	}
	for _, q := range []struct {
		name string
		fn   func() error
	}{
		{"LatestAlerts", func() error { _, err := db.LatestAlerts(ctx, "g1", "", 5); return err }},
		{"LatestAlertsActor", func() error { _, err := db.LatestAlerts(ctx, "g1", "naryshkin", 5); return err }},
		{"SearchAlerts", func() error { _, err := db.SearchAlerts(ctx, "g1", "ankara talks", 5); return err }},
		{"DueDeliveries", func() error { _, err := db.DueDeliveries(ctx, time.Now(), 0, 20); return err }},
		{"QueueDepth", func() error { _, err := db.QueueDepth(ctx); return err }},
		{"Feeds", func() error { _, err := db.Feeds(ctx); return err }},
	} {
		b.Run(q.name, func(b *testing.B) {
			for b.Loop() {
				if err := q.fn(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	reportMemory(b)
}

// reportMemory reports the process's resident set and Go heap, for the
// "stays small with 100,000 articles" budget.
func reportMemory(b *testing.B) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/(1<<20), "MB-heap")
	if data, err := os.ReadFile("/proc/self/status"); err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
				kb, _ := strconv.Atoi(f[1])
				b.ReportMetric(float64(kb)/1024, "MB-rss")
			}
		}
	}
}

// cpuClock measures the process's CPU time (user+system), which says more
// than wall time on a machine shared with other work. Setup done while the
// timer is stopped is still counted: keep it out of the measured loop.
type cpuClock struct{ start time.Duration }

func cpuNow(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func startCPU(tb testing.TB) cpuClock { return cpuClock{start: cpuNow(tb)} }

// report adds "cpu-ns/op" and, per item when perOp > 1, "cpu-ns/item".
func (c cpuClock) report(b *testing.B, perOp int) {
	d := float64(cpuNow(b) - c.start)
	b.ReportMetric(d/float64(b.N), "cpu-ns/op")
	if perOp > 1 {
		b.ReportMetric(d/float64(b.N*perOp), "cpu-ns/item")
	}
}
