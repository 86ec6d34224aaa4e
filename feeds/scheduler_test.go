package feeds

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/backchannel/backchannel/model"
)

func TestValidateSchedule(t *testing.T) {
	for spec, ok := range map[string]bool{
		"@every 5m":   true,
		"@hourly":     true,
		"*/5 * * * *": true,
		"0 9 * * 1-5": true,
		"":            false,
		"@every 0s":   false,
		"@every 10ms": false,
		"@every five": false,
		"* * * *":     false,
		"61 * * * *":  false,
		"@sometimes":  false,
	} {
		if err := ValidateSchedule(spec); (err == nil) != ok {
			t.Errorf("%q: %v", spec, err)
		}
	}
	if _, err := NewScheduler(nil, "nonsense", 1, nil); err == nil || !strings.Contains(err.Error(), `"nonsense"`) {
		t.Errorf("bad default spec: %v", err)
	}
}

func TestSpreadOffsets(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	inner, _ := parseSchedule("@every 5m")
	perSecond := map[int64]int{}
	for i := range 1000 {
		f := model.Feed{ID: int64(i + 1), Name: fmt.Sprintf("feed-%d", i)}
		s := newSpreadSchedule(inner, spreadKey(f), now)
		next := s.Next(now)
		if !next.After(now) || next.After(now.Add(5*time.Minute)) {
			t.Fatalf("feed %d: next %v not within the interval", i, next)
		}
		if again := s.Next(next); again.Sub(next) != 5*time.Minute {
			t.Fatalf("feed %d: period %v", i, again.Sub(next))
		}
		// Deterministic: a new schedule (a restart) keeps the slot.
		if other := newSpreadSchedule(inner, spreadKey(f), now.Add(time.Hour)); other.Next(now) != next {
			t.Fatalf("feed %d: offset not stable", i)
		}
		perSecond[next.Unix()]++
	}
	busiest := 0
	for _, n := range perSecond {
		busiest = max(busiest, n)
	}
	// 1,000 feeds over 300 seconds: about 3.3 a second if evenly spread.
	if len(perSecond) < 250 || busiest > 15 {
		t.Fatalf("%d distinct seconds, busiest second has %d feeds", len(perSecond), busiest)
	}

	// Cron specs are shifted by less than their period, and at most an hour.
	for spec, bound := range map[string]time.Duration{"*/5 * * * *": 5 * time.Minute, "0 9 * * *": time.Hour} {
		inner, _ := parseSchedule(spec)
		for i := range 100 {
			s := newSpreadSchedule(inner, fmt.Sprint(i), now)
			if s.offset < 0 || s.offset >= bound {
				t.Fatalf("%s: offset %v", spec, s.offset)
			}
			base := inner.Next(now.Add(-s.offset))
			if got := s.Next(now); !got.Equal(base.Add(s.offset)) || !got.After(now) {
				t.Fatalf("%s: next %v", spec, got)
			}
		}
	}
}

func TestSchedulerNext(t *testing.T) {
	clock := &fakeClock{t: time.Now()}
	fail := fetchFunc(func(ctx context.Context, req Request) (Response, error) { return Response{}, errTest })
	p := NewPoller(fail, newMemStore(), nil, nil, testLogger(t), clock.Now)
	s, err := NewScheduler(p, "@every 5m", 2, testLogger(t))
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
	p := NewPoller(fetch, newMemStore(), nil, nil, quietLogger(), nil)
	s, err := NewScheduler(p, "@every 1s", 4, quietLogger())
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
		s, err := NewScheduler(NewPoller(fetch, store, nil, nil, quietLogger(), nil), spec, 4, quietLogger())
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
	s, _ := NewScheduler(NewPoller(fetch, newMemStore(), nil, nil, quietLogger(), nil), "@every 5m", 3, quietLogger())
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
