package feeds

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/backchannel/backchannel/model"
)

const benchFeeds = 1000

// cpuTime is the process's user+system CPU time: the server, the client,
// parsing and GC all count, on every thread.
func cpuTime(tb testing.TB) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchBodies are 1,000 realistic feeds of 20 to 100 items.
func benchBodies() [][]byte {
	bodies := make([][]byte, benchFeeds)
	for i := range bodies {
		bodies[i] = makeRSS("feed"+strconv.Itoa(i), 20+(i*37)%81)
	}
	return bodies
}

// benchServer serves /feed/N from bodies. With etags, it answers a matching
// If-None-Match with 304; without, every poll gets the full body.
func benchServer(tb testing.TB, bodies [][]byte, etags bool) string {
	srv := serve(tb, func(w http.ResponseWriter, r *http.Request) {
		i, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/feed/"))
		if err != nil || i < 0 || i >= len(bodies) {
			http.NotFound(w, r)
			return
		}
		if etags {
			etag := `"v1-` + strconv.Itoa(i) + `"`
			if r.Header.Get("If-None-Match") == etag {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Header().Set("ETag", etag)
		}
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		w.Header().Set("Content-Length", strconv.Itoa(len(bodies[i])))
		_, _ = w.Write(bodies[i])
	})
	return srv.URL
}

func benchScheduler(tb testing.TB, url string, store Store, h Handler) (*Scheduler, *Poller) {
	p := NewPoller(NewFetcher(Config{Logger: quietLogger()}), store, h, PollerOptions{Logger: quietLogger()})
	s, err := NewScheduler(p, "@every 5m", SchedulerOptions{Concurrency: DefaultConcurrency, Logger: quietLogger()})
	if err != nil {
		tb.Fatal(err)
	}
	for i := range benchFeeds {
		if err := s.Add(model.Feed{ID: int64(i + 1), Name: fmt.Sprint("feed", i), URL: fmt.Sprintf("%s/feed/%d", url, i), Source: model.SourceConfig}); err != nil {
			tb.Fatal(err)
		}
	}
	return s, p
}

// BenchmarkPollAllNotModified: a full poll of 1,000 feeds where nothing
// changed (every answer a 304). Target: under 0.2 CPU-seconds per poll.
func BenchmarkPollAllNotModified(b *testing.B) {
	bodies := benchBodies()
	url := benchServer(b, bodies, true)
	s, p := benchScheduler(b, url, newMemStore(), &batches{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	s.PollAll(ctx) // first poll: full bodies, ETags recorded
	var cpu time.Duration
	for b.Loop() {
		before := cpuTime(b)
		s.PollAll(ctx)
		cpu += cpuTime(b) - before
	}
	for i := range benchFeeds {
		if st := p.State(model.Feed{ID: int64(i + 1)}); st.Status != model.StatusNotModified {
			b.Fatalf("feed %d: %+v", i, st)
		}
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/poll")
}

// BenchmarkPollAllChanged: a full poll of 1,000 feeds where every feed
// changed and every item is new (fresh store each time), against parsing
// the same bytes with gofeed alone (default parser, and the parser as Parse
// configures it). Target: within 1.3× of gofeed.
func BenchmarkPollAllChanged(b *testing.B) {
	bodies := benchBodies()
	total := 0
	for _, body := range bodies {
		total += len(body)
	}
	url := benchServer(b, bodies, false)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var ours, floor, lean, leanPar time.Duration
	for b.Loop() {
		// Count batches, do not keep them: a real handler writes them to
		// the database, and holding 60,000 articles would make the garbage
		// collector's work, not ours, dominate.
		var handled atomic.Int64
		count := handlerFunc(func(_ context.Context, batch Batch) error {
			handled.Add(int64(len(batch.Articles)))
			return nil
		})
		s, _ := benchScheduler(b, url, newMemStore(), count)
		// Each phase starts from a swept heap, so none pays for the
		// garbage of the one before.
		runtime.GC()
		before := cpuTime(b)
		s.PollAll(ctx)
		ours += cpuTime(b) - before
		if handled.Load() < 20*benchFeeds {
			b.Fatalf("%d articles handled", handled.Load())
		}

		runtime.GC()
		before = cpuTime(b)
		for _, body := range bodies {
			if _, err := gofeed.NewParser().Parse(bytes.NewReader(body)); err != nil {
				b.Fatal(err)
			}
		}
		floor += cpuTime(b) - before

		// The same parser configuration Parse uses (no image scan): the
		// overhead of everything around gofeed, measured honestly.
		runtime.GC()
		before = cpuTime(b)
		for _, body := range bodies {
			p := gofeed.NewParser()
			p.RSSTranslator = &gofeed.DefaultRSSTranslator{DisableContentImageScan: true}
			if _, err := p.Parse(bytes.NewReader(body)); err != nil {
				b.Fatal(err)
			}
		}
		lean += cpuTime(b) - before

		// The same, on every CPU at once as the poller does: parallel threads
		// on shared cores each burn more CPU time for the same work, and
		// this floor shows how much of the gap that is.
		runtime.GC()
		before = cpuTime(b)
		next := make(chan []byte)
		var wg sync.WaitGroup
		for range runtime.GOMAXPROCS(0) {
			wg.Go(func() {
				for body := range next {
					p := gofeed.NewParser()
					p.RSSTranslator = &gofeed.DefaultRSSTranslator{DisableContentImageScan: true}
					if _, err := p.Parse(bytes.NewReader(body)); err != nil {
						b.Error(err)
					}
				}
			})
		}
		for _, body := range bodies {
			next <- body
		}
		close(next)
		wg.Wait()
		leanPar += cpuTime(b) - before
	}
	b.ReportMetric(ours.Seconds()/float64(b.N), "cpu-s/poll")
	b.ReportMetric(floor.Seconds()/float64(b.N), "gofeed-cpu-s")
	b.ReportMetric(ours.Seconds()/floor.Seconds(), "x-gofeed")
	b.ReportMetric(lean.Seconds()/float64(b.N), "gofeed-noimg-cpu-s")
	b.ReportMetric(ours.Seconds()/lean.Seconds(), "x-gofeed-noimg")
	b.ReportMetric(leanPar.Seconds()/float64(b.N), "gofeed-noimg-par-cpu-s")
	b.ReportMetric(ours.Seconds()/leanPar.Seconds(), "x-gofeed-noimg-par")
	b.ReportMetric(float64(total)/float64(benchFeeds), "bytes/feed")
}

// BenchmarkParse is one typical 60-item feed through Parse.
func BenchmarkParse(b *testing.B) {
	body := makeRSS("bench", 60)
	now := time.Now()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := Parse(body, "https://news.example.org/rss", now); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkGofeedParse is the floor for BenchmarkParse.
func BenchmarkGofeedParse(b *testing.B) {
	body := makeRSS("bench", 60)
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := gofeed.NewParser().Parse(bytes.NewReader(body)); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkFetchAllChanged is the HTTP part of BenchmarkPollAllChanged
// alone (client and in-process server): 1,000 full bodies, no parsing.
func BenchmarkFetchAllChanged(b *testing.B) {
	bodies := benchBodies()
	url := benchServer(b, bodies, false)
	f := NewFetcher(Config{Logger: quietLogger()})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	var cpu time.Duration
	for b.Loop() {
		before := cpuTime(b)
		var wg sync.WaitGroup
		work := make(chan int)
		for range DefaultConcurrency {
			wg.Go(func() {
				for i := range work {
					if _, err := f.Fetch(ctx, Request{URL: fmt.Sprintf("%s/feed/%d", url, i), Trusted: true}); err != nil {
						b.Error(err)
					}
				}
			})
		}
		for i := range benchFeeds {
			work <- i
		}
		close(work)
		wg.Wait()
		cpu += cpuTime(b) - before
	}
	b.ReportMetric(cpu.Seconds()/float64(b.N), "cpu-s/poll")
}
