package feeds

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/backchannel/backchannel/metrics"
	"github.com/backchannel/backchannel/model"
)

func TestBackoffDelay(t *testing.T) {
	want := []time.Duration{0, time.Minute, 2 * time.Minute, 4 * time.Minute, 8 * time.Minute,
		16 * time.Minute, 32 * time.Minute, time.Hour, time.Hour}
	for n, w := range want {
		if got := backoffDelay(n); got != w {
			t.Errorf("backoffDelay(%d) = %v, want %v", n, got, w)
		}
	}
	if got := backoffDelay(1 << 30); got != BackoffMax {
		t.Errorf("huge failure count: %v", got)
	}
}

// etagServer serves body with an ETag and answers 304 to a matching
// If-None-Match; it counts full and conditional answers.
type etagServer struct {
	body         atomic.Pointer[[]byte]
	full, notMod atomic.Int32
	status       atomic.Int32 // non-zero: answer this status instead
	etagFor      func([]byte) string
}

func newEtagServer(t testing.TB, body []byte) (*etagServer, string) {
	s := &etagServer{etagFor: func(b []byte) string { return fmt.Sprintf(`"%x"`, len(b)) }}
	s.body.Store(&body)
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if code := s.status.Load(); code != 0 {
			http.Error(w, "failing", int(code))
			return
		}
		b := *s.body.Load()
		etag := s.etagFor(b)
		if r.Header.Get("If-None-Match") == etag {
			s.notMod.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		s.full.Add(1)
		w.Header().Set("ETag", etag)
		w.Header().Set("Last-Modified", "Sat, 01 Mar 2025 12:00:00 GMT")
		writeFeed(w, b)
	})
	return s, srv.URL
}

func TestPollRecordsStateAndUsesItsOwn(t *testing.T) {
	srv, url := newEtagServer(t, makeRSS("state", 5))
	store, got := newMemStore(), &batches{}
	clock := &fakeClock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	m := metrics.NewUnregistered()
	p := NewPoller(NewFetcher(Config{Logger: testLogger(t)}), store, got, PollerOptions{Metrics: m, Logger: testLogger(t), Now: clock.Now})
	// The snapshot the caller holds never changes: the poller must use its
	// own state (ETag) for the second poll.
	feed := model.Feed{ID: 7, Name: "state", URL: url, Source: model.SourceConfig}

	st, err := p.Poll(t.Context(), feed)
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != model.StatusOK || st.ETag == "" || st.LastModified == "" || st.ItemsSeen != 5 ||
		!st.LastPoll.Equal(clock.Now()) || !st.LastSuccess.Equal(clock.Now()) || st.Failures != 0 || st.Error != "" {
		t.Fatalf("first poll state %+v", st)
	}
	if store.state(7) != st {
		t.Fatalf("saved state %+v, returned %+v", store.state(7), st)
	}
	b := got.forFeed(7)
	if len(b) != 1 || len(b[0].Articles) != 5 || !b[0].Articles[0].Backlog || b[0].Feed.Name != "state" {
		t.Fatalf("batches %+v", b)
	}
	for _, a := range b[0].Articles {
		if a.FeedID != 7 || a.Feed != "state" || a.ID == 0 {
			t.Fatalf("article not attributed: %+v", a)
		}
	}

	clock.Set(clock.Now().Add(5 * time.Minute))
	st, err = p.Poll(t.Context(), feed)
	if err != nil {
		t.Fatal(err)
	}
	if st.Status != model.StatusNotModified || st.ItemsSeen != 5 || srv.notMod.Load() != 1 || srv.full.Load() != 1 {
		t.Fatalf("second poll: %+v (304s %d, 200s %d)", st, srv.notMod.Load(), srv.full.Load())
	}
	// A 304 is not parsed: nothing reached the store or the handler.
	if store.calls() != 1 || len(got.forFeed(7)) != 1 {
		t.Fatalf("304 was processed: %d store calls, %d batches", store.calls(), len(got.forFeed(7)))
	}

	// New content: only the new items are handed over, not as a first fetch.
	body := append(makeRSS("state", 5), []byte("<!-- changed -->")...)
	body = bytes.Replace(body, []byte("<item>"), []byte("<item><title>Breaking</title><guid>new-1</guid></item><item>"), 1)
	srv.body.Store(&body)
	clock.Set(clock.Now().Add(5 * time.Minute))
	st, err = p.Poll(t.Context(), feed)
	if err != nil {
		t.Fatal(err)
	}
	b = got.forFeed(7)
	if st.ItemsSeen != 6 || len(b) != 2 || len(b[1].Articles) != 1 || b[1].Articles[0].Backlog || b[1].Articles[0].GUID != "new-1" {
		t.Fatalf("third poll: %+v, batches %+v", st, b)
	}
	if v := counterValue(t, m.FeedItems); v != 6 {
		t.Errorf("FeedItems = %v", v)
	}
	for result, want := range map[string]float64{"ok": 2, "not_modified": 1, "error": 0, "skipped": 0} {
		if v := counterValue(t, m.FeedPolls.WithLabelValues(result)); v != want {
			t.Errorf("FeedPolls{%s} = %v, want %v", result, v, want)
		}
	}
}

func TestPollBackoffGrowsCapsAndRecovers(t *testing.T) {
	srv, url := newEtagServer(t, makeRSS("flaky", 3))
	srv.status.Store(500)
	store := newMemStore()
	start := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	clock := &fakeClock{t: start}
	m := metrics.NewUnregistered()
	p := NewPoller(NewFetcher(Config{Logger: testLogger(t)}), store, &batches{}, PollerOptions{Metrics: m, Logger: testLogger(t), Now: clock.Now})
	feed := model.Feed{ID: 1, Name: "flaky", URL: url, Source: model.SourceConfig}

	var delays []time.Duration
	for i := range 10 {
		st, err := p.Poll(t.Context(), feed)
		if err == nil || st.Status != model.StatusError || st.Failures != i+1 || !strings.Contains(st.Error, "HTTP 500") {
			t.Fatalf("poll %d: %+v, %v", i, st, err)
		}
		delays = append(delays, st.NextPoll.Sub(clock.Now()))
		// Before NextPoll the feed is skipped without a request.
		hits := srv.full.Load()
		clock.Set(st.NextPoll.Add(-time.Second))
		if st2, err := p.Poll(t.Context(), feed); err != nil || st2 != st {
			t.Fatalf("poll %d during backoff: %+v, %v", i, st2, err)
		}
		if srv.full.Load() != hits {
			t.Fatalf("poll %d: fetched during backoff", i)
		}
		clock.Set(st.NextPoll)
	}
	want := []time.Duration{1, 2, 4, 8, 16, 32, 60, 60, 60, 60}
	for i := range want {
		if delays[i] != want[i]*time.Minute {
			t.Fatalf("delays %v", delays)
		}
	}
	if v := counterValue(t, m.FeedPolls.WithLabelValues("skipped")); v != 10 {
		t.Errorf("skipped = %v", v)
	}
	if store.state(1).Failures != 10 {
		t.Errorf("stored failures %d", store.state(1).Failures)
	}

	srv.status.Store(0)
	st, err := p.Poll(t.Context(), feed)
	if err != nil || st.Status != model.StatusOK || st.Failures != 0 || st.Error != "" || !st.NextPoll.IsZero() || st.ItemsSeen != 3 {
		t.Fatalf("recovery: %+v, %v", st, err)
	}
}

func TestPollKeepsValidatorsOnFailure(t *testing.T) {
	_, url := newEtagServer(t, makeRSS("v", 2))
	store := newMemStore()
	store.storeErr = errTest
	p := NewPoller(NewFetcher(Config{Logger: testLogger(t)}), store, &batches{}, PollerOptions{Logger: testLogger(t)})
	feed := model.Feed{ID: 3, Name: "v", URL: url, Source: model.SourceConfig, State: model.FeedState{ETag: `"old"`}}
	st, err := p.Poll(t.Context(), feed)
	if !errors.Is(err, errTest) || st.ETag != `"old"` || st.Status != model.StatusError {
		t.Fatalf("got %+v, %v", st, err)
	}
	// Next poll fetches the whole feed again rather than getting a 304.
	store.storeErr = nil
	p.now = func() time.Time { return time.Now().Add(time.Hour) }
	st, err = p.Poll(t.Context(), feed)
	if err != nil || st.ItemsSeen != 2 || st.ETag == `"old"` {
		t.Fatalf("retry: %+v, %v", st, err)
	}
}

func TestPollHandlerFailure(t *testing.T) {
	_, url := newEtagServer(t, makeRSS("h", 2))
	p := NewPoller(NewFetcher(Config{Logger: testLogger(t)}), newMemStore(), &batches{err: errTest}, PollerOptions{Logger: testLogger(t)})
	st, err := p.Poll(t.Context(), model.Feed{ID: 4, Name: "h", URL: url, Source: model.SourceConfig})
	if !errors.Is(err, errTest) || st.Status != model.StatusError || st.Failures != 0 || !strings.Contains(st.Error, "handling 2 new articles") {
		t.Fatalf("got %+v, %v", st, err)
	}
}

func TestPollCancelledLeavesStateAlone(t *testing.T) {
	store := newMemStore()
	fetch := fetchFunc(func(ctx context.Context, req Request) (Response, error) {
		<-ctx.Done()
		return Response{}, fmt.Errorf("feeds: fetch %s: %w", req.URL, ctx.Err())
	})
	p := NewPoller(fetch, store, &batches{}, PollerOptions{Logger: testLogger(t)})
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	feed := model.Feed{ID: 5, URL: "http://x/", State: model.FeedState{ETag: `"e"`}}
	st, err := p.Poll(ctx, feed)
	if !errors.Is(err, context.Canceled) || st != feed.State || p.State(feed) != feed.State {
		t.Fatalf("got %+v, %v", st, err)
	}
	if _, saved := store.states[5]; saved {
		t.Fatal("state saved for a cancelled poll")
	}
}

func TestPollSkipsFeedAlreadyInFlight(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	var calls atomic.Int32
	fetch := fetchFunc(func(ctx context.Context, req Request) (Response, error) {
		if calls.Add(1) == 1 {
			close(entered)
			<-release
		}
		return Response{NotModified: true, Status: 304}, nil
	})
	m := metrics.NewUnregistered()
	p := NewPoller(fetch, newMemStore(), nil, PollerOptions{Metrics: m, Logger: testLogger(t)})
	feed := model.Feed{ID: 6, URL: "http://x/"}
	done := make(chan struct{})
	go func() { defer close(done); _, _ = p.Poll(t.Context(), feed) }()
	<-entered
	if _, err := p.Poll(t.Context(), feed); err != nil {
		t.Fatal(err)
	}
	close(release)
	<-done
	if calls.Load() != 1 || counterValue(t, m.FeedPolls.WithLabelValues("skipped")) != 1 {
		t.Fatalf("fetches %d", calls.Load())
	}
}

// TestFaultyFeedsDoNotHarmHealthyOnes polls, in one cycle, one healthy feed
// and one feed per fault the issue lists; the healthy feed still delivers,
// and every fault is recorded with a readable reason.
func TestFaultyFeedsDoNotHarmHealthyOnes(t *testing.T) {
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	_, _ = zw.Write(make([]byte, 4<<20))
	_ = zw.Close()
	repeated := regexp.MustCompile(`<guid isPermaLink="false">rep-\d+</guid>`).ReplaceAll(makeRSS("rep", 4), []byte("<guid>same</guid>"))
	latin1 := []byte("<rss version=\"2.0\"><channel><title>L</title><item><title>Caf\xe9 talks</title><guid>l1</guid><pubDate>Sat, 01 Mar 2025 12:00:00 GMT</pubDate></item></channel></rss>")

	hang := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("/healthy", func(w http.ResponseWriter, r *http.Request) { writeFeed(w, makeRSS("healthy", 3)) })
	mux.HandleFunc("/500", func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 500) })
	mux.HandleFunc("/hang", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/huge", func(w http.ResponseWriter, r *http.Request) {
		chunk := bytes.Repeat([]byte("x"), 64<<10)
		for range 800 { // 50 MB
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	})
	mux.HandleFunc("/malformed", func(w http.ResponseWriter, r *http.Request) {
		writeFeed(w, []byte(`<?xml version="1.0"?><rss><channel><item><title>x</title></ite`))
	})
	mux.HandleFunc("/html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<!doctype html><html><body>nope</body></html>"))
	})
	mux.HandleFunc("/loop", func(w http.ResponseWriter, r *http.Request) { http.Redirect(w, r, "/loop", http.StatusFound) })
	mux.HandleFunc("/bomb", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		_, _ = w.Write(bomb.Bytes())
	})
	mux.HandleFunc("/repeated", func(w http.ResponseWriter, r *http.Request) { writeFeed(w, repeated) })
	mux.HandleFunc("/latin1", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/xml") // no charset anywhere
		_, _ = w.Write(latin1)
	})
	srv := serve(t, mux.ServeHTTP)
	defer close(hang)

	feeds := []struct {
		path      string
		source    model.FeedSource
		wantErr   string // "" for feeds that must succeed
		wantItems int64
	}{
		{"/healthy", model.SourceConfig, "", 3},
		{"/500", model.SourceConfig, "HTTP 500", 0},
		{"/hang", model.SourceConfig, "timed out", 0},
		{"/huge", model.SourceConfig, "too large", 0},
		{"/malformed", model.SourceConfig, "malformed feed", 0},
		{"/html", model.SourceConfig, "HTML page", 0},
		{"/loop", model.SourceConfig, "too many redirects", 0},
		{"/bomb", model.SourceConfig, "too large", 0},
		{"/private", model.SourceAdmin, "not allowed", 0},
		{"/repeated", model.SourceConfig, "", 4},
		{"/latin1", model.SourceConfig, "", 1},
	}
	store, got := newMemStore(), &batches{}
	fetcher := NewFetcher(Config{Timeout: 500 * time.Millisecond, MaxBytes: 1 << 20, Logger: testLogger(t)})
	p := NewPoller(fetcher, store, got, PollerOptions{Logger: testLogger(t)})
	s, err := NewScheduler(p, "@every 5m", SchedulerOptions{Concurrency: 4, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range feeds {
		if err := s.Add(model.Feed{ID: int64(i + 1), Name: f.path, URL: srv.URL + f.path, Source: f.source}); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	start := time.Now()
	s.PollAll(ctx)
	if d := time.Since(start); d > 15*time.Second {
		t.Errorf("cycle took %v", d)
	}
	for i, f := range feeds {
		id := int64(i + 1)
		st := store.state(id)
		if f.wantErr == "" {
			if st.Status != model.StatusOK || st.ItemsSeen != f.wantItems || len(got.forFeed(id)) != 1 {
				t.Errorf("%s: %+v, %d batches", f.path, st, len(got.forFeed(id)))
			}
			continue
		}
		if st.Status != model.StatusError || !strings.Contains(st.Error, f.wantErr) || st.Failures != 1 || st.NextPoll.IsZero() {
			t.Errorf("%s: want error containing %q, got %+v", f.path, f.wantErr, st)
		}
	}
	if b := got.forFeed(10); len(b) == 1 {
		for _, a := range b[0].Articles {
			if !strings.HasPrefix(a.GUID, "same#") {
				t.Errorf("repeated GUID feed: GUID %q", a.GUID)
			}
		}
	}
	if b := got.forFeed(11); len(b) == 1 && b[0].Articles[0].Title != "Café talks" {
		t.Errorf("latin1 title %q", b[0].Articles[0].Title)
	}
}

// TestPollQueuesState: a poll hands its state to the store's queue, not to
// a write, except a first success that stored nothing: only then would a
// crash forget that the feed had been fetched (see Poller).
func TestPollQueuesState(t *testing.T) {
	_, url := newEtagServer(t, makeRSS("q", 3))
	_, emptyURL := newEtagServer(t, []byte(`<rss version="2.0"><channel><title>E</title></channel></rss>`))
	failing := serve(t, func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", 500) })
	clock := &fakeClock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	for _, tc := range []struct {
		name          string
		url           string
		polls         int
		saved, queued int
	}{
		{"items, then 304s", url, 3, 0, 3},
		{"empty first fetch, then 304s", emptyURL, 3, 1, 2},
		{"failures", failing.URL, 2, 0, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := newMemStore()
			p := NewPoller(NewFetcher(Config{Logger: quietLogger()}), store, &batches{}, PollerOptions{Logger: quietLogger(), Now: clock.Now})
			feed := model.Feed{ID: 1, Name: "q", URL: tc.url, Source: model.SourceConfig}
			for range tc.polls {
				st, _ := p.Poll(t.Context(), feed)
				if store.state(1) != st {
					t.Fatalf("store has %+v, poll returned %+v", store.state(1), st)
				}
				clock.Set(clock.Now().Add(2 * time.Hour)) // past any backoff
			}
			if saved, queued := store.saves(); saved != tc.saved || queued != tc.queued {
				t.Fatalf("%d states written at once, %d queued; want %d, %d", saved, queued, tc.saved, tc.queued)
			}
		})
	}
}

// TestPollOfForgottenFeedRecordsNothing: a feed removed (Forget) while it
// is being polled gets no state from that poll, in the poller or the store.
func TestPollOfForgottenFeedRecordsNothing(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	fetch := fetchFunc(func(ctx context.Context, req Request) (Response, error) {
		close(entered)
		<-release
		return Response{NotModified: true, Status: 304}, nil
	})
	store := newMemStore()
	p := NewPoller(fetch, store, nil, PollerOptions{Logger: quietLogger()})
	feed := model.Feed{ID: 9, URL: "http://x/"}
	done := make(chan struct{})
	go func() { defer close(done); _, _ = p.Poll(t.Context(), feed) }()
	<-entered
	p.Forget(feed.ID)
	close(release)
	<-done
	if st := p.State(feed); st != feed.State {
		t.Fatalf("forgotten feed has state %+v", st)
	}
	if saved, queued := store.saves(); saved+queued != 0 {
		t.Fatalf("forgotten feed's state stored: %d written, %d queued", saved, queued)
	}
}

// TestPollLogging: a healthy poll logs nothing above debug; a failing feed
// warns when it starts failing and when its error changes, not at every
// poll.
func TestPollLogging(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	var status atomic.Int32
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if code := status.Load(); code != 0 {
			http.Error(w, "down", int(code))
			return
		}
		writeFeed(w, makeRSS("log", 2))
	})
	clock := &fakeClock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)}
	p := NewPoller(NewFetcher(Config{Logger: quietLogger()}), newMemStore(), &batches{}, PollerOptions{Logger: logger, Now: clock.Now})
	feed := model.Feed{ID: 1, Name: "log", URL: srv.URL, Source: model.SourceConfig}
	poll := func(code int32) {
		status.Store(code)
		_, _ = p.Poll(t.Context(), feed)
		clock.Set(clock.Now().Add(2 * time.Hour))
	}
	for range 3 {
		poll(0)
	}
	if logs.Len() != 0 {
		t.Fatalf("healthy polls logged above debug:\n%s", logs.String())
	}
	for _, code := range []int32{500, 500, 500, 503, 503} {
		poll(code)
	}
	if n := strings.Count(logs.String(), "level=WARN"); n != 2 || !strings.Contains(logs.String(), "HTTP 503") {
		t.Fatalf("want 2 warnings (failing, then failing differently), got %d:\n%s", n, logs.String())
	}
}

// TestPollStoresWhatCannotAlertAsKeysOnly: items older than max age, and
// undated items of a first fetch, can never alert; they are stored (so
// that they are never new again) as keys only, and not handed on.
func TestPollStoresWhatCannotAlertAsKeysOnly(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	item := func(guid string, published time.Time) string {
		date := ""
		if !published.IsZero() {
			date = "<pubDate>" + published.Format(time.RFC1123Z) + "</pubDate>"
		}
		return "<item><title>Item " + guid + "</title><guid>" + guid + "</guid>" + date + "</item>"
	}
	feedWith := func(items ...string) []byte {
		return []byte(`<rss version="2.0"><channel><title>K</title>` + strings.Join(items, "") + `</channel></rss>`)
	}
	recent, old := now.Add(-time.Hour), now.Add(-72*time.Hour)
	srv, url := newEtagServer(t, feedWith(item("recent", recent), item("old", old), item("undated", time.Time{})))
	store, got := newMemStore(), &batches{}
	clock := &fakeClock{t: now}
	p := NewPoller(NewFetcher(Config{Logger: testLogger(t)}), store, got, PollerOptions{Logger: testLogger(t), Now: clock.Now, MaxAge: 48 * time.Hour})
	feed := model.Feed{ID: 3, Name: "k", URL: url, Source: model.SourceConfig}

	st, err := p.Poll(t.Context(), feed)
	if err != nil {
		t.Fatal(err)
	}
	keysOnly := func() map[string]bool {
		store.mu.Lock()
		defer store.mu.Unlock()
		out := map[string]bool{}
		for _, a := range store.stored {
			out[a.GUID] = a.KeysOnly
		}
		return out
	}
	if want := map[string]bool{"recent": false, "old": true, "undated": true}; !maps.Equal(keysOnly(), want) {
		t.Fatalf("stored KeysOnly %v, want %v", keysOnly(), want)
	}
	if st.ItemsSeen != 3 {
		t.Errorf("items seen %d, want all 3", st.ItemsSeen)
	}
	b := got.forFeed(3)
	if len(b) != 1 || len(b[0].Articles) != 1 || b[0].Articles[0].GUID != "recent" {
		t.Fatalf("handed on %+v, want only the recent item", b)
	}

	// Later polls: an undated new item is news now (not back catalogue);
	// an old one is still keys only, and a batch of those alone is not
	// handed on at all.
	body := feedWith(item("recent", recent), item("old", old), item("undated", time.Time{}), item("undated-2", time.Time{}))
	srv.body.Store(&body)
	clock.Set(now.Add(time.Minute))
	if _, err := p.Poll(t.Context(), feed); err != nil {
		t.Fatal(err)
	}
	if k := keysOnly(); k["undated-2"] {
		t.Errorf("an undated item after the first fetch was stored as keys only")
	}
	body = feedWith(item("recent", recent), item("old-2", old))
	srv.body.Store(&body)
	clock.Set(now.Add(2 * time.Minute))
	if _, err := p.Poll(t.Context(), feed); err != nil {
		t.Fatal(err)
	}
	if k, b := keysOnly(), got.forFeed(3); !k["old-2"] || len(b) != 2 {
		t.Errorf("old-2 keys only: %v; %d batches, want 2 (none for old-2 alone)", k["old-2"], len(b))
	}
}
