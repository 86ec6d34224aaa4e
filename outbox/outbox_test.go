package outbox_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/backchannel/backchannel/metrics"
	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/outbox"
)

// ---- fakes ----

type rowState int

const (
	pending rowState = iota
	delivered
	failed
)

type row struct {
	d       model.Delivery
	state   rowState
	msgID   string
	reason  string
	retries []time.Time
	sending int // MarkSending calls
}

// memStore is an in-memory outbox.Store with the semantics of the SQLite
// one: due = pending with NextAttempt <= now, in id order, paged by id.
// (The store's own rules — an edit owed again when its story grew, a
// channel's posts in order — are tested in package db.)
type memStore struct {
	mu       sync.Mutex
	rows     map[int64]*row
	disabled map[string]string // guild/channel -> reason
	dueErr   error
	dueCalls int // DueDeliveries calls
}

var _ outbox.Store = (*memStore)(nil)

func newMemStore(ds ...model.Delivery) *memStore {
	s := &memStore{rows: map[int64]*row{}, disabled: map[string]string{}}
	for _, d := range ds {
		s.add(d)
	}
	return s
}

func (s *memStore) add(d model.Delivery) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows[d.ID] = &row{d: d}
}

func (s *memStore) DueDeliveries(_ context.Context, now time.Time, after int64, limit int) ([]model.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dueCalls++
	if s.dueErr != nil {
		return nil, s.dueErr
	}
	var out []model.Delivery
	for _, r := range s.rows {
		if r.state == pending && r.d.ID > after && !r.d.NextAttempt.After(now) {
			out = append(out, r.d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (s *memStore) NextDue(context.Context) (time.Time, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var next time.Time
	ok := false
	for _, r := range s.rows {
		if r.state == pending && (!ok || r.d.NextAttempt.Before(next)) {
			next, ok = r.d.NextAttempt, true
		}
	}
	return next, ok, nil
}

func (s *memStore) get(id int64) (*row, error) {
	r, ok := s.rows[id]
	if !ok {
		return nil, model.ErrNotFound
	}
	if r.state != pending {
		return nil, fmt.Errorf("delivery %d is not pending", id)
	}
	return r, nil
}

func (s *memStore) MarkDelivered(_ context.Context, d model.Delivery, messageID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.get(d.ID)
	if err != nil {
		return err
	}
	r.state, r.msgID = delivered, messageID
	return nil
}

func (s *memStore) MarkSending(_ context.Context, id int64, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.get(id)
	if err != nil {
		return err
	}
	r.d.LastError = "sending"
	r.sending++
	return nil
}

func (s *memStore) MarkRetry(_ context.Context, id int64, next time.Time, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.get(id)
	if err != nil {
		return err
	}
	r.d.Attempts++
	r.d.NextAttempt, r.d.LastError = next, reason
	r.retries = append(r.retries, next)
	return nil
}

func (s *memStore) MarkFailed(_ context.Context, id int64, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, err := s.get(id)
	if err != nil {
		return err
	}
	r.state, r.reason = failed, reason
	return nil
}

func (s *memStore) DisableChannel(_ context.Context, guildID, channelID, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.disabled[guildID+"/"+channelID] = reason
	return nil
}

func (s *memStore) row(id int64) row {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *s.rows[id]
}

// posterFunc is a Poster from a function, called for posts and edits
// alike (an edit has d.MessageID); it counts calls.
type posterFunc struct {
	mu    sync.Mutex
	calls []model.Delivery
	fn    func(ctx context.Context, d model.Delivery, call int) (string, error)
}

func (p *posterFunc) Post(ctx context.Context, d model.Delivery) (string, error) {
	p.mu.Lock()
	p.calls = append(p.calls, d)
	n := len(p.calls)
	p.mu.Unlock()
	return p.fn(ctx, d, n)
}

func (p *posterFunc) Edit(ctx context.Context, d model.Delivery) error {
	_, err := p.Post(ctx, d)
	return err
}

func (p *posterFunc) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.calls)
}

// postErr implements the behaviour interfaces outbox.Classify reads.
type postErr struct {
	retry, disable, invalid, gone bool
	after                         time.Duration
}

func (e postErr) Error() string {
	return fmt.Sprintf("post error retry=%v disable=%v invalid=%v", e.retry, e.disable, e.invalid)
}
func (e postErr) Temporary() bool           { return e.retry }
func (e postErr) RetryDelay() time.Duration { return e.after }
func (e postErr) ChannelUnusable() bool     { return e.disable }
func (e postErr) InvalidRequest() bool      { return e.invalid }
func (e postErr) MessageGone() bool         { return e.gone }

// clock is a manual clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func delivery(id int64, channel string) model.Delivery {
	return model.Delivery{
		ID:        id,
		ChannelID: channel,
		Nonce:     fmt.Sprintf("bc0123abcd-%d", id),
		Alert: model.Alert{ID: 100 + id, GuildID: "g1", Article: model.Article{Title: "t"},
			Matches: []model.Match{{Rule: "intel-heads"}}},
	}
}

type harness struct {
	store  *memStore
	poster *posterFunc
	clock  *clock
	reg    *prometheus.Registry
	ob     *outbox.Outbox
}

func newHarness(t *testing.T, opts outbox.Options, fn func(ctx context.Context, d model.Delivery, call int) (string, error), ds ...model.Delivery) *harness {
	t.Helper()
	h := &harness{store: newMemStore(ds...), poster: &posterFunc{fn: fn}, clock: newClock(), reg: prometheus.NewRegistry()}
	m := metrics.New(h.reg, metrics.Options{})
	opts.Now = h.clock.Now
	if opts.Jitter == 0 {
		opts.Jitter = -1
	}
	opts.Metrics = m
	h.ob = outbox.New(h.store, h.poster, opts)
	return h
}

// counter reads a counter from the registry; labels as "k=v".
func (h *harness) counter(t *testing.T, name, label string) float64 {
	t.Helper()
	mfs, err := h.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			ok := label == ""
			for _, lp := range m.GetLabel() {
				if lp.GetName()+"="+lp.GetValue() == label {
					ok = true
				}
			}
			if ok {
				return m.GetCounter().GetValue()
			}
		}
	}
	t.Fatalf("no metric %s{%s}", name, label)
	return 0
}

func okPost(_ context.Context, d model.Delivery, _ int) (string, error) {
	return fmt.Sprintf("m%d", d.ID), nil
}

// ---- tests ----

func TestFlushDeliversAndMarksAfterPost(t *testing.T) {
	t.Parallel()
	h := newHarness(t, outbox.Options{Batch: 2}, okPost, delivery(1, "c1"), delivery(2, "c1"), delivery(3, "c2"))
	if err := h.ob.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{1, 2, 3} {
		r := h.store.row(id)
		if r.state != delivered || r.msgID != fmt.Sprintf("m%d", id) {
			t.Errorf("delivery %d: %+v", id, r)
		}
	}
	if h.poster.count() != 3 {
		t.Errorf("posted %d times, want 3", h.poster.count())
	}
	if got := h.counter(t, "backchannel_alerts_posted_total", ""); got != 3 {
		t.Errorf("alerts posted metric %v", got)
	}
	// Nothing due: a second flush posts nothing.
	if err := h.ob.Flush(t.Context()); err != nil || h.poster.count() != 3 {
		t.Errorf("second flush: %v, %d posts", err, h.poster.count())
	}
}

func TestEmptyMessageIDIsNotDelivered(t *testing.T) {
	t.Parallel()
	h := newHarness(t, outbox.Options{}, func(context.Context, model.Delivery, int) (string, error) { return "", nil }, delivery(1, "c1"))
	if err := h.ob.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if r := h.store.row(1); r.state != pending || r.d.Attempts != 1 {
		t.Errorf("a post without message id was recorded as %+v", r)
	}
}

func TestRetryWithBackoffThenSuccess(t *testing.T) {
	t.Parallel()
	h := newHarness(t, outbox.Options{BackoffBase: time.Second, BackoffMax: 4 * time.Second},
		func(_ context.Context, d model.Delivery, call int) (string, error) {
			if call <= 3 {
				return "", postErr{retry: true}
			}
			return "m1", nil
		}, delivery(1, "c1"))
	start := h.clock.Now()
	for i, wantDelay := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		if err := h.ob.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
		r := h.store.row(1)
		if r.state != pending || len(r.retries) != i+1 {
			t.Fatalf("after failure %d: %+v", i+1, r)
		}
		if got := r.retries[i].Sub(h.clock.Now()); got != wantDelay {
			t.Errorf("retry %d scheduled after %v, want %v", i+1, got, wantDelay)
		}
		// Not due yet: nothing is posted.
		if err := h.ob.Flush(t.Context()); err != nil || h.poster.count() != i+1 {
			t.Fatalf("flush before due posted: %d", h.poster.count())
		}
		h.clock.Add(wantDelay)
	}
	if err := h.ob.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if r := h.store.row(1); r.state != delivered || r.msgID != "m1" {
		t.Fatalf("final %+v", r)
	}
	if got := h.counter(t, "backchannel_delivery_failures_total", "kind=retry"); got != 3 {
		t.Errorf("retry failures metric %v", got)
	}
	if h.clock.Now().Sub(start) != 7*time.Second {
		t.Errorf("clock moved %v", h.clock.Now().Sub(start))
	}
}

func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	h := newHarness(t, outbox.Options{BackoffBase: time.Second},
		func(context.Context, model.Delivery, int) (string, error) {
			return "", postErr{retry: true, after: 30 * time.Second}
		}, delivery(1, "c1"))
	if err := h.ob.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if r := h.store.row(1); r.d.NextAttempt.Sub(h.clock.Now()) != 30*time.Second {
		t.Errorf("next attempt %v after now, want 30s", r.d.NextAttempt.Sub(h.clock.Now()))
	}
}

func TestPermanentFailure(t *testing.T) {
	t.Parallel()
	h := newHarness(t, outbox.Options{},
		func(context.Context, model.Delivery, int) (string, error) { return "", postErr{} }, delivery(1, "c1"))
	if err := h.ob.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if r := h.store.row(1); r.state != failed || r.reason == "" {
		t.Errorf("%+v", r)
	}
	if h.poster.count() != 1 {
		t.Errorf("posted %d times", h.poster.count())
	}
	if got := h.counter(t, "backchannel_delivery_failures_total", "kind=permanent"); got != 1 {
		t.Errorf("permanent failures metric %v", got)
	}
}

func TestMaxAttemptsMakesRetryFinal(t *testing.T) {
	t.Parallel()
	d := delivery(1, "c1")
	d.Attempts = 2
	h := newHarness(t, outbox.Options{MaxAttempts: 3},
		func(context.Context, model.Delivery, int) (string, error) { return "", errors.New("boom") }, d)
	if err := h.ob.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	if r := h.store.row(1); r.state != failed {
		t.Errorf("%+v", r)
	}
}

func TestUnusableChannelIsDisabledWithoutRetryStorm(t *testing.T) {
	t.Parallel()
	h := newHarness(t, outbox.Options{},
		func(_ context.Context, d model.Delivery, _ int) (string, error) {
			if d.ChannelID == "gone" {
				return "", postErr{disable: true, invalid: true}
			}
			return fmt.Sprintf("m%d", d.ID), nil
		}, delivery(1, "gone"), delivery(2, "gone"), delivery(3, "gone"), delivery(4, "ok"))
	if err := h.ob.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, id := range []int64{1, 2, 3} {
		if r := h.store.row(id); r.state != failed {
			t.Errorf("delivery %d: %+v", id, r)
		}
	}
	if r := h.store.row(4); r.state != delivered {
		t.Errorf("healthy channel: %+v", r)
	}
	calls := 0
	for _, d := range h.poster.calls {
		if d.ChannelID == "gone" {
			calls++
		}
	}
	if calls != 1 {
		t.Errorf("posted %d times to the unusable channel, want 1", calls)
	}
	if _, ok := h.store.disabled["g1/gone"]; !ok || len(h.store.disabled) != 1 {
		t.Errorf("disabled %v", h.store.disabled)
	}
}

func TestBreakerPausesAfterInvalidAnswers(t *testing.T) {
	t.Parallel()
	var ds []model.Delivery
	for i := int64(1); i <= 20; i++ {
		ds = append(ds, delivery(i, fmt.Sprintf("c%d", i)))
	}
	failing := true
	var mu sync.Mutex
	// Parallel workers, but an invalid answer makes the next request wait
	// for it: the breaker still stops at exactly its threshold.
	h := newHarness(t, outbox.Options{BreakerThreshold: 3, BreakerPause: time.Minute, BackoffBase: time.Hour},
		func(_ context.Context, d model.Delivery, _ int) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			if failing {
				return "", postErr{retry: true, invalid: true} // e.g. 401
			}
			return fmt.Sprintf("m%d", d.ID), nil
		}, ds...)
	err := h.ob.Flush(t.Context())
	if !errors.Is(err, outbox.ErrPaused) {
		t.Fatalf("flush = %v, want ErrPaused", err)
	}
	if h.poster.count() != 3 {
		t.Fatalf("%d posts before the breaker opened, want 3", h.poster.count())
	}
	if got := h.ob.PausedUntil(); !got.Equal(h.clock.Now().Add(time.Minute)) {
		t.Errorf("paused until %v", got)
	}
	// Still paused: nothing is sent.
	h.clock.Add(30 * time.Second)
	if err := h.ob.Flush(t.Context()); !errors.Is(err, outbox.ErrPaused) || h.poster.count() != 3 {
		t.Fatalf("during pause: %v, %d posts", err, h.poster.count())
	}
	mu.Lock()
	failing = false
	mu.Unlock()
	h.clock.Add(31 * time.Second)
	if err := h.ob.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	// The three refused ones wait for their retry; all the others went.
	retried, sent := 0, 0
	for i := int64(1); i <= 20; i++ {
		switch r := h.store.row(i); {
		case r.state == delivered:
			sent++
		case r.state == pending && len(r.retries) == 1:
			retried++
		default:
			t.Errorf("delivery %d after the pause: %+v", i, r)
		}
	}
	if retried != 3 || sent != 17 {
		t.Errorf("after the pause: %d delivered, %d waiting for a retry; want 17 and 3", sent, retried)
	}
}

func TestBackoffBoundsWithJitter(t *testing.T) {
	t.Parallel()
	for _, r := range []float64{0, 0.5, 0.999} {
		ob := outbox.New(newMemStore(), &posterFunc{fn: okPost}, outbox.Options{
			BackoffBase: time.Second, BackoffMax: time.Minute, Jitter: 0.2, Rand: func() float64 { return r },
		})
		for attempt := 1; attempt <= 40; attempt++ {
			nominal := min(time.Second<<min(attempt-1, 30), time.Minute)
			got := ob.Backoff(attempt)
			if got < time.Duration(float64(nominal)*0.8) || got > time.Duration(float64(nominal)*1.2) {
				t.Fatalf("rand=%v attempt %d: %v outside ±20%% of %v", r, attempt, got, nominal)
			}
		}
	}
}

func TestStoreErrorIsReturned(t *testing.T) {
	t.Parallel()
	h := newHarness(t, outbox.Options{}, okPost)
	h.store.dueErr = errors.New("disk on fire")
	if err := h.ob.Flush(t.Context()); err == nil || !errors.Is(err, h.store.dueErr) {
		t.Fatalf("flush = %v", err)
	}
}

func TestShutdownLetsInFlightPostFinish(t *testing.T) {
	t.Parallel()
	started := make(chan struct{})
	release := make(chan struct{})
	h := newHarness(t, outbox.Options{ShutdownGrace: 5 * time.Second},
		func(ctx context.Context, d model.Delivery, call int) (string, error) {
			if call == 1 {
				close(started)
				select {
				case <-release:
				case <-ctx.Done():
					return "", ctx.Err()
				}
			}
			return fmt.Sprintf("m%d", d.ID), nil
		}, delivery(1, "c1"), delivery(2, "c1"), delivery(3, "c1"))
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- h.ob.Flush(ctx) }()
	<-started
	cancel()
	close(release)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("flush did not return")
	}
	if r := h.store.row(1); r.state != delivered {
		t.Errorf("in-flight delivery: %+v", r)
	}
	for _, id := range []int64{2, 3} {
		if r := h.store.row(id); r.state != pending || r.d.Attempts != 0 {
			t.Errorf("delivery %d should stay queued untouched: %+v", id, r)
		}
	}
	if h.poster.count() != 1 {
		t.Errorf("posted %d after shutdown began", h.poster.count())
	}
}

func TestShutdownGraceIsBounded(t *testing.T) {
	t.Parallel()
	h := newHarness(t, outbox.Options{ShutdownGrace: 50 * time.Millisecond},
		func(ctx context.Context, _ model.Delivery, _ int) (string, error) {
			<-ctx.Done() // a post that never answers
			return "", ctx.Err()
		}, delivery(1, "c1"))
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	start := time.Now()
	if err := h.ob.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el > 2*time.Second {
		t.Errorf("flush took %v", el)
	}
	if r := h.store.row(1); r.state != pending {
		t.Errorf("an interrupted post must stay queued: %+v", r)
	}
}

func TestRunWakesOnNotifyAndStops(t *testing.T) {
	t.Parallel()
	h := newHarness(t, outbox.Options{PollInterval: time.Hour}, okPost)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- h.ob.Run(ctx) }()

	h.store.add(delivery(7, "c1"))
	h.ob.Notify()
	deadline := time.Now().Add(5 * time.Second)
	for h.store.row(7).state != delivered {
		if time.Now().After(deadline) {
			t.Fatal("Notify did not wake Run")
		}
		time.Sleep(5 * time.Millisecond)
		h.ob.Notify()
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop")
	}
}

// TestRunSleepsUntilTheNextDelivery: an idle outbox does not poll the
// store, and one with a delivery pending wakes when it is due, without a
// Notify (retries, and edits held back to coalesce, are stored that way).
func TestRunSleepsUntilTheNextDelivery(t *testing.T) {
	t.Parallel()
	store := newMemStore()
	poster := &posterFunc{fn: okPost}
	ob := outbox.New(store, poster, outbox.Options{PollInterval: 10 * time.Millisecond, IdleInterval: time.Hour, Jitter: -1})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- ob.Run(ctx) }()
	defer func() {
		cancel()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Error("Run did not stop")
		}
	}()

	// Idle: one round at start, then asleep (an hour), not a round every
	// PollInterval.
	time.Sleep(300 * time.Millisecond)
	store.mu.Lock()
	calls := store.dueCalls
	store.mu.Unlock()
	if calls != 1 {
		t.Errorf("idle for 300ms with PollInterval 10ms: %d rounds, want 1", calls)
	}

	// A retry stored for 200ms from now, with a Notify for the store
	// write: Run wakes, finds it not yet due, and sleeps until it is.
	d := delivery(1, "c1")
	d.NextAttempt = time.Now().Add(200 * time.Millisecond)
	store.add(d)
	ob.Notify()
	deadline := time.Now().Add(5 * time.Second)
	for store.row(1).state != delivered {
		if time.Now().After(deadline) {
			t.Fatal("the pending delivery was not posted when due")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if posted := time.Now(); posted.Before(d.NextAttempt) {
		t.Errorf("posted at %v, before it was due at %v", posted, d.NextAttempt)
	}
}
