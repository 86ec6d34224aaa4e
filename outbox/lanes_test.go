package outbox_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/outbox"
)

// waitTimeout bounds every wait of these tests: it is how long a broken
// outbox may hang before the test fails, never a measured duration.
const waitTimeout = 10 * time.Second

// channelProbe is a poster that records, per channel, the deliveries in
// the order they were sent and the most requests it had in flight at once.
type channelProbe struct {
	mu          sync.Mutex
	inFlight    map[string]int
	order       map[string][]int64
	overlap     []string // channels that had two requests in flight
	maxParallel int
	parallel    int
	gate        func(d model.Delivery) // called while the request is in flight
}

func newProbe() *channelProbe {
	return &channelProbe{inFlight: map[string]int{}, order: map[string][]int64{}}
}

func (p *channelProbe) send(d model.Delivery) {
	p.mu.Lock()
	p.inFlight[d.ChannelID]++
	if p.inFlight[d.ChannelID] > 1 {
		p.overlap = append(p.overlap, d.ChannelID)
	}
	p.parallel++
	p.maxParallel = max(p.maxParallel, p.parallel)
	p.order[d.ChannelID] = append(p.order[d.ChannelID], d.ID)
	gate := p.gate
	p.mu.Unlock()
	if gate != nil {
		gate(d)
	}
	p.mu.Lock()
	p.inFlight[d.ChannelID]--
	p.parallel--
	p.mu.Unlock()
}

func (p *channelProbe) Post(_ context.Context, d model.Delivery) (string, error) {
	p.send(d)
	return fmt.Sprintf("m%d", d.ID), nil
}

func (p *channelProbe) Edit(_ context.Context, d model.Delivery) error {
	p.send(d)
	return nil
}

// TestLanes: deliveries to many channels go out in parallel, never two at
// once to one channel, each channel's in id order (the order of its
// stories).
func TestLanes(t *testing.T) {
	t.Parallel()
	const channels, perChannel, workers = 12, 5, 4
	var ds []model.Delivery
	for i := range channels * perChannel {
		// Interleaved: channel c0 gets ids 1, 13, 25…
		ds = append(ds, delivery(int64(i+1), fmt.Sprintf("c%d", i%channels)))
	}
	store := newMemStore(ds...)
	probe := newProbe()
	// The first request goes alone (the outbox waits for one valid
	// answer); each later one waits until workers requests are in flight
	// together (or the timeout passes): an outbox sending one at a time
	// fails.
	var mu sync.Mutex
	arrived := -1
	full := make(chan struct{})
	giveUp := time.After(waitTimeout)
	probe.gate = func(model.Delivery) {
		mu.Lock()
		arrived++
		if arrived == 0 {
			mu.Unlock()
			return
		}
		if arrived == workers {
			close(full)
		}
		mu.Unlock()
		select {
		case <-full:
		case <-giveUp:
		}
	}
	ob := outbox.New(store, probe, outbox.Options{Workers: workers, Batch: 7, Jitter: -1})
	if err := ob.Flush(t.Context()); err != nil {
		t.Fatal(err)
	}
	select {
	case <-full:
	default:
		t.Fatalf("never %d requests in flight at once (at most %d)", workers, probe.maxParallel)
	}
	if probe.maxParallel > workers {
		t.Errorf("%d requests in flight, more than the %d workers", probe.maxParallel, workers)
	}
	if len(probe.overlap) > 0 {
		t.Errorf("two requests in flight at once to %v", probe.overlap)
	}
	for ch, ids := range probe.order {
		if len(ids) != perChannel || !slices.IsSorted(ids) {
			t.Errorf("channel %s got %v; want %d deliveries in id order", ch, ids, perChannel)
		}
	}
	for _, d := range ds {
		if r := store.row(d.ID); r.state != delivered {
			t.Errorf("delivery %d: %+v", d.ID, r)
		}
	}
}

// TestAStuckChannelDoesNotStallOthers: while one channel's request hangs,
// every other channel is delivered; and a channel whose post is retried
// keeps its later posts back (its order) but not its edits.
func TestAStuckChannelDoesNotStallOthers(t *testing.T) {
	t.Parallel()
	ds := []model.Delivery{delivery(1, "stuck"), delivery(2, "stuck")}
	for i := range 30 {
		ds = append(ds, delivery(int64(10+i), fmt.Sprintf("c%d", i)))
	}
	failing := []model.Delivery{delivery(100, "failing"), delivery(101, "failing"), delivery(102, "failing")}
	failing[2].MessageID = "m-earlier"
	ds = append(ds, failing...)

	release := make(chan struct{})
	giveUp := time.After(waitTimeout)
	others := make(chan struct{}, len(ds))
	// The stuck request is the first: the others wait ProbeWait for its
	// answer (the outbox is cautious until it has a valid one), then go.
	h := newHarness(t, outbox.Options{Workers: 3, BackoffBase: time.Minute, ProbeWait: 20 * time.Millisecond},
		func(ctx context.Context, d model.Delivery, _ int) (string, error) {
			switch d.ChannelID {
			case "stuck":
				select {
				case <-release:
				case <-giveUp:
				}
			case "failing":
				if d.MessageID == "" {
					return "", postErr{retry: true}
				}
			default:
				others <- struct{}{}
			}
			return fmt.Sprintf("m%d", d.ID), nil
		}, ds...)
	done := make(chan error, 1)
	go func() { done <- h.ob.Flush(t.Context()) }()
	for range 30 {
		select {
		case <-others:
		case <-time.After(waitTimeout):
			t.Fatal("the other channels were not delivered while one hung")
		}
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		id    int64
		state rowState
	}{
		{1, delivered}, {2, delivered}, {10, delivered}, {39, delivered},
		{100, pending}, // retried
		{101, pending}, // not tried: waits for 100
		{102, delivered},
	} {
		if r := h.store.row(tc.id); r.state != tc.state {
			t.Errorf("delivery %d: %+v, want state %d", tc.id, r, tc.state)
		}
	}
	if r := h.store.row(101); r.d.Attempts != 0 {
		t.Errorf("the post after a retried one was tried: %+v", r)
	}
}

func TestEdits(t *testing.T) {
	t.Parallel()
	edit := func(id int64) model.Delivery {
		d := delivery(id, fmt.Sprintf("c%d", id))
		d.MessageID = fmt.Sprintf("posted-%d", id)
		return d
	}
	for _, tc := range []struct {
		name       string
		err        error
		wantState  rowState
		wantMsg    string
		wantRetry  time.Duration
		wantReason string
	}{
		{name: "edited", wantState: delivered, wantMsg: "posted-1"},
		{name: "rate limited: retried after what Discord asked", err: postErr{retry: true, invalid: true, after: 40 * time.Second},
			wantState: pending, wantRetry: 40 * time.Second},
		{name: "server error: retried", err: postErr{retry: true}, wantState: pending, wantRetry: time.Second},
		{name: "deleted message: dropped", err: postErr{gone: true}, wantState: failed, wantReason: "message deleted in Discord; edit dropped"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, outbox.Options{BackoffBase: time.Second},
				func(_ context.Context, d model.Delivery, _ int) (string, error) {
					if d.MessageID == "" {
						t.Errorf("delivery %d posted; want an edit of its message", d.ID)
					}
					return "", tc.err
				}, edit(1))
			if err := h.ob.Flush(t.Context()); err != nil {
				t.Fatal(err)
			}
			r := h.store.row(1)
			if r.state != tc.wantState || r.msgID != tc.wantMsg || (tc.wantReason != "" && r.reason != tc.wantReason) {
				t.Errorf("row %+v; want state %d, message %q, reason %q", r, tc.wantState, tc.wantMsg, tc.wantReason)
			}
			if tc.wantRetry > 0 && (len(r.retries) != 1 || r.retries[0].Sub(h.clock.Now()) != tc.wantRetry) {
				t.Errorf("retries %v; want one after %v", r.retries, tc.wantRetry)
			}
			if got := h.counter(t, "backchannel_alerts_posted_total", ""); got != 0 {
				t.Errorf("an edit counted as %v alerts posted", got)
			}
			if h.poster.count() != 1 {
				t.Errorf("%d requests, want 1", h.poster.count())
			}
		})
	}
}

// checkingPoster is a posterFunc that can also tell whether a message
// shows a delivery (outbox.Checker).
type checkingPoster struct {
	*posterFunc
	shows  func(d model.Delivery) (bool, error)
	checks int
}

func (p *checkingPoster) Shows(_ context.Context, d model.Delivery) (bool, error) {
	p.mu.Lock()
	p.checks++
	p.mu.Unlock()
	return p.shows(d)
}

// TestEditWithUnknownOutcomeIsCheckedFirst: an edit whose last attempt's
// outcome is unknown (the bot stopped while it was in flight, or it
// failed) is not sent again when the message already shows it; an edit
// about to be sent is noted first, so a crash leaves it unknown.
func TestEditWithUnknownOutcomeIsCheckedFirst(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name       string
		attempts   int
		lastError  string
		shows      bool
		showsErr   error
		wantChecks int
		wantEdits  int
		wantState  rowState
	}{
		{name: "a fresh edit is sent, unchecked", wantEdits: 1, wantState: delivered},
		{name: "sent before a crash, and shown: not sent again", lastError: "edit sent; its outcome not recorded", shows: true, wantChecks: 1, wantState: delivered},
		{name: "sent before a crash, not shown: sent", lastError: "edit sent; its outcome not recorded", wantChecks: 1, wantEdits: 1, wantState: delivered},
		{name: "failed before, and shown", attempts: 1, lastError: "attempt 1: 502", shows: true, wantChecks: 1, wantState: delivered},
		{name: "deleted meanwhile: dropped", attempts: 1, lastError: "x", showsErr: postErr{gone: true}, wantChecks: 1, wantState: failed},
		{name: "the check fails: retried later", attempts: 1, lastError: "x", showsErr: postErr{retry: true}, wantChecks: 1, wantState: pending},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := delivery(1, "c1")
			d.MessageID, d.Attempts, d.LastError = "m-posted", tc.attempts, tc.lastError
			var h *harness
			h = newHarness(t, outbox.Options{}, func(_ context.Context, d model.Delivery, _ int) (string, error) {
				if r := h.store.row(d.ID); r.sending != 1 {
					t.Errorf("edit sent with %d notes of it, want 1 before", r.sending)
				}
				return "", nil
			}, d)
			cp := &checkingPoster{posterFunc: h.poster, shows: func(model.Delivery) (bool, error) { return tc.shows, tc.showsErr }}
			ob := outbox.New(h.store, cp, outbox.Options{Now: h.clock.Now, Jitter: -1})
			if err := ob.Flush(t.Context()); err != nil {
				t.Fatal(err)
			}
			r := h.store.row(1)
			if cp.checks != tc.wantChecks || h.poster.count() != tc.wantEdits || r.state != tc.wantState {
				t.Errorf("%d checks, %d edits, state %d; want %d, %d, %d", cp.checks, h.poster.count(), r.state, tc.wantChecks, tc.wantEdits, tc.wantState)
			}
			if tc.wantState == delivered && r.msgID != "m-posted" {
				t.Errorf("delivered as %q", r.msgID)
			}
		})
	}
}
