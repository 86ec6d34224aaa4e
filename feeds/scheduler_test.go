package feeds

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/schedule"
)

// TestSchedulesRefused: the scheduler refuses what the schedule package
// refuses, for the default and for a feed, and schedules nothing then.
func TestSchedulesRefused(t *testing.T) {
	for _, spec := range []string{"nonsense", "@every 100ms", "@every 0s", "0 0 30 2 *", "TZ=UTC"} {
		if _, err := NewScheduler(nil, spec, SchedulerOptions{Concurrency: 1}); err == nil || !strings.Contains(err.Error(), strconv.Quote(spec)) {
			t.Errorf("default %q: %v", spec, err)
		}
	}
	s, err := NewScheduler(NewPoller(nil, newMemStore(), nil, PollerOptions{}), "@every 5m", SchedulerOptions{Concurrency: 1})
	if err != nil {
		t.Fatal(err)
	}
	err = s.Add(model.Feed{ID: 1, Name: "fast", URL: "http://a.example/", Schedule: "@every 100ms"})
	var se *schedule.Error
	if !errors.As(err, &se) || !strings.Contains(err.Error(), "fast") || !strings.Contains(err.Error(), "under one second") {
		t.Fatalf("Add: %v", err)
	}
	if len(s.cron.Entries()) != 0 || !s.Next(1).IsZero() {
		t.Fatal("a refused feed was scheduled")
	}
}

func TestSpreadSlots(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		spec   string
		period time.Duration
		slots  int // how many distinct slots 1,000 feeds use
	}{
		{"@every 5m", 5 * time.Minute, maxSlots},
		{"@every 60s", time.Minute, maxSlots},
		{"@every 10s", 10 * time.Second, maxSlots},
		{"@every 3s", 3 * time.Second, 3},
		{"@every 1s", time.Second, 1},
		{"*/5 * * * *", 5 * time.Minute, maxSlots},
		{"0 9 * * *", time.Hour, maxSlots}, // spread over an hour, not the day
	} {
		inner, err := schedule.Parse(tc.spec)
		if err != nil {
			t.Fatal(err)
		}
		perSlot := map[time.Duration]int{}
		for i := range 1000 {
			f := model.Feed{ID: int64(i + 1), Name: fmt.Sprintf("feed-%d", i)}
			off := slotOffset(inner, spreadKey(f))
			if off < 0 || off >= tc.period || off%time.Second != 0 {
				t.Fatalf("%s: offset %v", tc.spec, off)
			}
			// Deterministic: a restart keeps the slot.
			if again := slotOffset(inner, spreadKey(f)); again != off {
				t.Fatalf("%s: offset %v, then %v", tc.spec, off, again)
			}
			perSlot[off]++
			s := newSpreadSchedule(inner, off)
			next := s.Next(now)
			if !next.After(now) {
				t.Fatalf("%s: next %v", tc.spec, next)
			}
			if strings.HasPrefix(tc.spec, "@every") {
				if next.After(now.Add(tc.period)) || s.Next(next).Sub(next) != tc.period {
					t.Fatalf("%s: next %v, then %v", tc.spec, next, s.Next(next))
				}
			} else if base := inner.Next(now.Add(-off)); !next.Equal(base.Add(off)) {
				t.Fatalf("%s: next %v, want %v", tc.spec, next, base.Add(off))
			}
		}
		busiest := 0
		for _, n := range perSlot {
			busiest = max(busiest, n)
		}
		// Evenly spread would be 1000/slots in each; allow twice that.
		if len(perSlot) != tc.slots || busiest > 2*1000/tc.slots {
			t.Errorf("%s: %d slots, busiest has %d feeds", tc.spec, len(perSlot), busiest)
		}
	}
}

// checkInterleaved fails unless ordered holds feeds, each once, in rounds
// over their hosts: a feed comes only once every host with more feeds than
// its host has had so far had as many.
func checkInterleaved(t *testing.T, feeds, ordered []model.Feed) {
	t.Helper()
	host := func(f model.Feed) string { u, _ := url.Parse(f.URL); return u.Hostname() }
	total, seen := map[string]int{}, map[string]int{}
	for _, f := range feeds {
		total[host(f)]++
	}
	ids := map[int64]bool{}
	for i, f := range ordered {
		h := host(f)
		for other, n := range total {
			if n > seen[h] && seen[other] < seen[h] {
				t.Fatalf("slot not interleaved by host: feed %d (%s) at %d before %s had %d turns", f.ID, h, i, other, seen[h])
			}
		}
		seen[h]++
		ids[f.ID] = true
	}
	if len(ordered) != len(feeds) || len(ids) != len(feeds) {
		t.Fatalf("slot order has %d feeds (%d distinct), the slot %d", len(ordered), len(ids), len(feeds))
	}
}

// TestSlotEntries: feeds share one cron entry per slot, whatever their
// number, and Add, re-Add and Remove keep entries and slots in step.
func TestSlotEntries(t *testing.T) {
	s, err := NewScheduler(NewPoller(nil, newMemStore(), nil, PollerOptions{}), "@every 60s", SchedulerOptions{Concurrency: 4})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 1000 {
		if err := s.Add(model.Feed{ID: int64(i + 1), Name: fmt.Sprint("f", i), URL: fmt.Sprintf("http://h%d.example/%d", i%7, i)}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(s.cron.Entries()); n != maxSlots {
		t.Fatalf("%d cron entries for 1,000 feeds", n)
	}
	count := func() (feeds int) {
		for _, sl := range s.slots {
			feeds += len(sl.feeds)
			checkInterleaved(t, sl.feeds, sl.order())
		}
		return feeds
	}
	if n := count(); n != 1000 {
		t.Fatalf("%d feeds in slots", n)
	}
	// Re-adding a feed with another schedule moves it.
	if err := s.Add(model.Feed{ID: 1, Name: "f0", URL: "http://h0.example/0", Schedule: "@every 2h"}); err != nil {
		t.Fatal(err)
	}
	if n := count(); n != 1000 || len(s.cron.Entries()) != maxSlots+1 || s.entries[1].slot.spec != "@every 2h" {
		t.Fatalf("after re-add: %d feeds, %d entries", n, len(s.cron.Entries()))
	}
	if d := time.Until(s.Next(1)); d <= 0 || d > 2*time.Hour {
		t.Fatalf("next poll of the moved feed in %v", d)
	}
	for i := range 1000 {
		s.Remove(int64(i + 1))
	}
	if len(s.cron.Entries()) != 0 || len(s.slots) != 0 || len(s.entries) != 0 {
		t.Fatalf("after removing all: %d entries, %d slots", len(s.cron.Entries()), len(s.slots))
	}
}

// TestSlotsFire: every feed is polled by its slot's firing, at most
// concurrency at once; a feed removed at run time is polled no more, one
// added at run time is.
func TestSlotsFire(t *testing.T) {
	var mu sync.Mutex
	var cur, peak int
	polled := map[string]int{}
	fetch := fetchFunc(func(ctx context.Context, req Request) (Response, error) {
		mu.Lock()
		cur++
		peak = max(peak, cur)
		polled[req.URL]++
		mu.Unlock()
		time.Sleep(2 * time.Millisecond)
		mu.Lock()
		cur--
		mu.Unlock()
		return Response{NotModified: true, Status: 304}, nil
	})
	count := func(url string) int {
		mu.Lock()
		defer mu.Unlock()
		return polled[url]
	}
	s, err := NewScheduler(NewPoller(fetch, newMemStore(), nil, PollerOptions{Logger: quietLogger()}), "@every 1s", SchedulerOptions{Concurrency: 3, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	const n = 40
	for i := range n {
		_ = s.Add(model.Feed{ID: int64(i + 1), Name: fmt.Sprint(i), URL: fmt.Sprintf("http://h%d.example/%d", i%3, i)})
	}
	s.Start()
	defer func() { _ = s.Stop(context.Background()) }()
	waitFor(t, 10*time.Second, "every feed polled twice", func() bool {
		for i := range n {
			if count(fmt.Sprintf("http://h%d.example/%d", i%3, i)) < 2 {
				return false
			}
		}
		return true
	})
	s.Remove(1)
	_ = s.Add(model.Feed{ID: 100, Name: "late", URL: "http://late.example/"})
	removed := count("http://h0.example/0")
	waitFor(t, 10*time.Second, "the added feed polled", func() bool { return count("http://late.example/") >= 1 })
	// A firing in progress when Remove ran may still poll it once.
	if got := count("http://h0.example/0"); got > removed+1 {
		t.Errorf("removed feed polled %d more times", got-removed)
	}
	mu.Lock()
	defer mu.Unlock()
	if peak > 3 {
		t.Errorf("%d polls at once, limit 3", peak)
	}
}

func TestSchedulerNext(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	fail := fetchFunc(func(ctx context.Context, req Request) (Response, error) { return Response{}, errTest })
	p := NewPoller(fail, newMemStore(), nil, PollerOptions{Logger: testLogger(t), Now: clock.Now})
	s, err := NewScheduler(p, "@every 5m", SchedulerOptions{Concurrency: 2, Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	feed := model.Feed{ID: 1, Name: "a", URL: "http://a.example/"}
	if err := s.Add(feed); err != nil {
		t.Fatal(err)
	}
	if err := s.Add(model.Feed{ID: 2, Name: "b", URL: "http://b.example/", Schedule: "bad spec"}); err == nil {
		t.Fatal("bad per-feed schedule accepted")
	}
	n := s.Next(1)
	if d := time.Until(n); d <= 0 || d > 5*time.Minute {
		t.Fatalf("next in %v", d)
	}
	// After failures, Next reports the first firing after the backoff.
	for range 7 {
		_, _ = p.Poll(t.Context(), feed)
		clock.Set(p.State(feed).NextPoll)
	}
	backoff := p.State(feed).NextPoll
	if n := s.Next(1); n.Before(backoff) || n.Sub(backoff) > 5*time.Minute {
		t.Fatalf("next %v, backoff until %v", n, backoff)
	}
	s.Remove(1)
	if !s.Next(1).IsZero() || p.State(feed) != feed.State {
		t.Fatal("removed feed still known")
	}
}

// waitFor polls cond every 10ms for at most d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestSchedulerRecoversPanics(t *testing.T) {
	var panics, healthy atomic.Int32
	fetch := fetchFunc(func(ctx context.Context, req Request) (Response, error) {
		if strings.Contains(req.URL, "panic") {
			panics.Add(1)
			panic("poll exploded")
		}
		healthy.Add(1)
		return Response{NotModified: true, Status: 304}, nil
	})
	p := NewPoller(fetch, newMemStore(), nil, PollerOptions{Logger: quietLogger()})
	s, err := NewScheduler(p, "@every 1s", SchedulerOptions{Concurrency: 4, Logger: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	_ = s.Add(model.Feed{ID: 1, Name: "bad", URL: "http://panic.example/"})
	_ = s.Add(model.Feed{ID: 2, Name: "good", URL: "http://good.example/"})

	// Outside cron (start-up poll): the panic is contained too.
	s.PollAll(t.Context())
	if panics.Load() != 1 || healthy.Load() != 1 {
		t.Fatalf("PollAll: %d panics, %d healthy polls", panics.Load(), healthy.Load())
	}

	s.Start()
	defer func() { _ = s.Stop(context.Background()) }()
	// Twice more: the panicking entry keeps firing (SkipIfStillRunning got
	// its token back) and the process, and the other feed, carry on.
	waitFor(t, 5*time.Second, "two more firings of each feed", func() bool {
		return panics.Load() >= 3 && healthy.Load() >= 3
	})
	if st := p.State(model.Feed{ID: 1}); st.Status != "" {
		t.Fatalf("a panicked poll recorded state %+v", st)
	}
}

func TestSchedulerStopWaitsForInFlight(t *testing.T) {
	var started chan string
	var release chan struct{}
	var cancelled atomic.Int32
	newSched := func(spec string) (*Scheduler, *memStore) {
		started, release = make(chan string, 4), make(chan struct{})
		started, release := started, release
		fetch := fetchFunc(func(ctx context.Context, req Request) (Response, error) {
			started <- req.URL
			select {
			case <-release:
				return Response{NotModified: true, Status: 304}, nil
			case <-ctx.Done():
				cancelled.Add(1)
				return Response{}, ctx.Err()
			}
		})
		store := newMemStore()
		s, err := NewScheduler(NewPoller(fetch, store, nil, PollerOptions{Logger: quietLogger()}), spec, SchedulerOptions{Concurrency: 4, Logger: quietLogger()})
		if err != nil {
			t.Fatal(err)
		}
		return s, store
	}

	t.Run("cron poll finishes", func(t *testing.T) {
		s, store := newSched("@every 1s")
		_ = s.Add(model.Feed{ID: 1, Name: "slow", URL: "http://slow.example/"})
		s.Start()
		select {
		case <-started:
		case <-time.After(5 * time.Second):
			t.Fatal("no scheduled poll within 5s")
		}
		stopped := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			stopped <- s.Stop(ctx)
		}()
		select {
		case err := <-stopped:
			t.Fatalf("Stop returned %v while a poll was running", err)
		case <-time.After(200 * time.Millisecond):
		}
		close(release)
		select {
		case err := <-stopped:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("Stop did not return after the poll finished")
		}
		if st := store.state(1); st.Status != model.StatusNotModified {
			t.Fatalf("in-flight poll not recorded: %+v", st)
		}
	})

	t.Run("deadline cancels PollAll polls", func(t *testing.T) {
		s, _ := newSched("@every 1h")
		_ = s.Add(model.Feed{ID: 1, Name: "a", URL: "http://a.example/"})
		_ = s.Add(model.Feed{ID: 2, Name: "b", URL: "http://b.example/"})
		s.Start()
		done := make(chan struct{})
		go func() { defer close(done); s.PollAll(context.Background()) }()
		<-started
		<-started
		ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
		defer cancel()
		if err := s.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Stop: %v", err)
		}
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("PollAll still running after Stop gave up")
		}
		if cancelled.Load() != 2 {
			t.Fatalf("%d polls cancelled", cancelled.Load())
		}
	})
}

func TestPollAllBoundedAndInterleaved(t *testing.T) {
	var mu sync.Mutex
	var cur, peak int
	var order []string
	fetch := fetchFunc(func(ctx context.Context, req Request) (Response, error) {
		mu.Lock()
		cur++
		peak = max(peak, cur)
		order = append(order, req.URL)
		mu.Unlock()
		time.Sleep(5 * time.Millisecond)
		mu.Lock()
		cur--
		mu.Unlock()
		return Response{NotModified: true, Status: 304}, nil
	})
	s, _ := NewScheduler(NewPoller(fetch, newMemStore(), nil, PollerOptions{Logger: quietLogger()}), "@every 5m", SchedulerOptions{Concurrency: 3, Logger: quietLogger()})
	for i := range 30 {
		host := "a.example"
		if i >= 20 {
			host = "b.example"
		}
		_ = s.Add(model.Feed{ID: int64(i), Name: fmt.Sprint(i), URL: fmt.Sprintf("http://%s/%d", host, i)})
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	s.PollAll(ctx)
	if len(order) != 30 || peak > 3 {
		t.Fatalf("%d polls, peak %d", len(order), peak)
	}
	// The first polls alternate hosts instead of 20 a.example in a row.
	if got := interleaveByHost([]model.Feed{
		{ID: 3, URL: "http://a/3"}, {ID: 1, URL: "http://a/1"}, {ID: 2, URL: "http://b/2"},
	}); got[0].ID != 1 || got[1].ID != 2 || got[2].ID != 3 {
		t.Fatalf("interleave: %+v", got)
	}
}
