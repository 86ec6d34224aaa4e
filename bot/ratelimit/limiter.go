// Package ratelimit paces requests to Discord's REST API the way Discord
// asks (https://discord.com/developers/docs/topics/rate-limits):
//
//   - the global limit: requests counted toward it are spaced by a token
//     bucket, and a global 429 holds every one of them for its retry_after;
//   - per-route buckets, learned from the X-RateLimit-* headers as answers
//     arrive: which bucket a route is in (X-RateLimit-Bucket; routes can
//     share one, such as creating and editing messages of a channel), how
//     many requests are left in the window and when it resets. A bucket
//     that is exhausted, or not known yet, lets one request through at a
//     time, until an answer says more;
//   - a 429 for a bucket ("user" scope) or for the resource ("shared"
//     scope) holds exactly that bucket for its retry_after, and nothing
//     else.
//
// A Limiter is safe for concurrent use; many goroutines share one.
package ratelimit

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// Limiter is the rate-limit state of one bot token.
type Limiter struct {
	global *rate.Limiter // nil: no proactive global pacing

	mu          sync.Mutex
	globalUntil time.Time     // a global 429 holds global requests until then
	globalWake  chan struct{} // closed and replaced when globalUntil changes
	routes      map[string]string
	buckets     map[string]*bucket
	sweepAt     int // sweep idle buckets when there are this many
}

// minSweep is the bucket count below which idle buckets are kept: each
// is a few dozen bytes, and keeping them saves relearning.
const minSweep = 4096

// bucket is what is known of one bucket of one resource.
type bucket struct {
	id string
	// known: an answer said whether and how this bucket is limited.
	known bool
	// unlimited: answers carry no limit for this route.
	unlimited bool
	limit     int
	// remaining requests that may start in the current window; requests
	// in flight are already taken off.
	remaining int
	resetAt   time.Time // when the current window ends
	// pausedUntil: a 429 for this bucket holds it until then.
	pausedUntil time.Time
	inflight    int
	wake        chan struct{} // closed and replaced on every change
}

// Options are New's optional settings; the zero value works.
type Options struct {
	// Global paces the requests that count toward the global limit
	// (Discord allows 50 a second; leave a margin). Nil paces them only
	// after a global 429.
	Global *rate.Limiter
}

// New returns a Limiter; opts may be zero.
func New(opts Options) *Limiter {
	return &Limiter{
		global:     opts.Global,
		globalWake: make(chan struct{}),
		routes:     map[string]string{},
		buckets:    map[string]*bucket{},
		sweepAt:    minSweep,
	}
}

// WaitError is returned by Acquire, without sending anything, when a known
// rate-limit window lasts longer than the caller is willing to wait.
type WaitError struct {
	Wait   time.Duration // until the window ends
	Global bool          // the window is the global limit's
}

func (e *WaitError) Error() string {
	what := "the route's bucket"
	if e.Global {
		what = "the global limit"
	}
	return fmt.Sprintf("ratelimit: %s is exhausted for %v more; not sending before it resets", what, e.Wait.Round(time.Millisecond))
}

// Ticket is the right to send one request. Exactly one of Answer or Abort
// must be called on it.
type Ticket struct {
	l     *Limiter
	route Route
	b     *bucket
	once  sync.Once
}

// Acquire waits until a request on route may be sent and reserves its
// place. When a known window (a 429's retry_after, an exhausted bucket's
// reset, a global 429) would hold the request longer than maxWait, it
// returns a *WaitError at once instead; maxWait <= 0 waits as long as ctx
// allows. Other errors are ctx's.
func (l *Limiter) Acquire(ctx context.Context, route Route, maxWait time.Duration) (*Ticket, error) {
	t := &Ticket{l: l, route: route}
	for {
		l.mu.Lock()
		now := time.Now()
		if len(l.buckets) >= l.sweepAt {
			l.sweepLocked(now)
		}
		b := l.bucketLocked(route)
		wait, global, wake := l.delayLocked(b, route, now)
		if wake == nil {
			b.inflight++
			if b.known && !b.unlimited {
				b.remaining--
			}
			t.b = b
			l.mu.Unlock()
			break
		}
		l.mu.Unlock()
		if wait > 0 && maxWait > 0 && wait > maxWait {
			return nil, &WaitError{Wait: wait, Global: global}
		}
		if err := sleep(ctx, wait, wake); err != nil {
			return nil, err
		}
	}
	if !route.Global || l.global == nil {
		return t, nil
	}
	if err := l.global.Wait(ctx); err != nil {
		t.release(false)
		return nil, fmt.Errorf("ratelimit: global pacing: %w", err)
	}
	// A global 429 may have come while this request waited for its turn.
	for {
		l.mu.Lock()
		wait, wake := time.Until(l.globalUntil), l.globalWake
		l.mu.Unlock()
		if wait <= 0 {
			return t, nil
		}
		if maxWait > 0 && wait > maxWait {
			t.release(false)
			return nil, &WaitError{Wait: wait, Global: true}
		}
		if err := sleep(ctx, wait, wake); err != nil {
			t.release(false)
			return nil, err
		}
	}
}

// sleep waits for d (0: no time limit), a wake-up or ctx.
func sleep(ctx context.Context, d time.Duration, wake <-chan struct{}) error {
	var timeout <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-wake:
	case <-timeout:
	}
	return nil
}

// bucketLocked returns the state of route's bucket for its resource,
// creating it unknown.
func (l *Limiter) bucketLocked(route Route) *bucket {
	name := route.Key
	if hash, ok := l.routes[route.Key]; ok {
		name = hash
	}
	return l.bucketByIDLocked(name + " " + route.Major)
}

func (l *Limiter) bucketByIDLocked(id string) *bucket {
	if b, ok := l.buckets[id]; ok {
		return b
	}
	b := &bucket{id: id, wake: make(chan struct{})}
	l.buckets[id] = b
	return b
}

// sweepLocked forgets buckets with nothing in flight whose windows are
// over: a fresh bucket behaves the same but for relearning, and the map
// would otherwise grow with every channel ever posted to.
func (l *Limiter) sweepLocked(now time.Time) {
	for id, b := range l.buckets {
		if b.inflight == 0 && !now.Before(b.resetAt) && !now.Before(b.pausedUntil) {
			delete(l.buckets, id)
			// Waiters look the bucket up again.
			close(b.wake)
		}
	}
	l.sweepAt = max(minSweep, 2*len(l.buckets))
}

// delayLocked says whether a request on route may go now (wake == nil)
// or must wait: for wait (0: no known end) or until wake is closed.
func (l *Limiter) delayLocked(b *bucket, route Route, now time.Time) (wait time.Duration, global bool, wake <-chan struct{}) {
	if route.Global && now.Before(l.globalUntil) {
		return l.globalUntil.Sub(now), true, l.globalWake
	}
	if now.Before(b.pausedUntil) {
		return b.pausedUntil.Sub(now), false, b.wake
	}
	switch {
	case !b.known:
		// One request finds out how the bucket is limited.
		if b.inflight > 0 {
			return 0, false, b.wake
		}
	case b.unlimited, b.remaining > 0:
	case now.Before(b.resetAt):
		return b.resetAt.Sub(now), false, b.wake
	case b.inflight > 0:
		// The window is over, but requests still in flight may have
		// started the next one; their answers will tell.
		return 0, false, b.wake
	default:
		b.remaining = max(b.limit, 1)
	}
	return 0, false, nil
}

// notifyLocked wakes the waiters of b.
func notifyLocked(b *bucket) {
	close(b.wake)
	b.wake = make(chan struct{})
}

// Abort gives the ticket back when the request got no answer (a
// transport error): nothing is learned, and the request is assumed to have
// counted.
func (t *Ticket) Abort() { t.release(true) }

// release ends the ticket without an answer; a request never sent gives
// its place in the window back.
func (t *Ticket) release(sent bool) {
	t.once.Do(func() {
		l := t.l
		l.mu.Lock()
		defer l.mu.Unlock()
		t.b.inflight--
		if !sent && t.b.known && !t.b.unlimited {
			t.b.remaining++
		}
		notifyLocked(t.b)
	})
}

// Answer learns from the answer to the ticket's request: its status, its
// headers and, for a 429, the retry_after it named (RetryAfter reads it).
func (t *Ticket) Answer(status int, h http.Header, retryAfter time.Duration) {
	t.once.Do(func() { t.l.answer(t, status, h, retryAfter) })
}

func (l *Limiter) answer(t *Ticket, status int, h http.Header, retryAfter time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := time.Now()
	b := t.b
	b.inflight--
	defer notifyLocked(b)

	scope := h.Get("X-RateLimit-Scope")
	if status == http.StatusTooManyRequests && (h.Get("X-RateLimit-Global") != "" || scope == "global") {
		// Says nothing of the route's bucket: the request never reached it.
		if until := now.Add(retryAfter); until.After(l.globalUntil) {
			l.globalUntil = until
			close(l.globalWake)
			l.globalWake = make(chan struct{})
		}
		return
	}
	if hash := h.Get("X-RateLimit-Bucket"); hash != "" {
		l.routes[t.route.Key] = hash
		if nb := l.bucketByIDLocked(hash + " " + t.route.Major); nb != b {
			// Waiters on the stand-in bucket look the route up again.
			b = nb
			defer notifyLocked(b)
		}
	}
	limit, limitErr := strconv.Atoi(h.Get("X-RateLimit-Limit"))
	remaining, remErr := strconv.Atoi(h.Get("X-RateLimit-Remaining"))
	resetAfter, resetErr := strconv.ParseFloat(h.Get("X-RateLimit-Reset-After"), 64)

	if status == http.StatusTooManyRequests {
		// The bucket ("user") or the resource ("shared") is exhausted:
		// hold it, and only it, for exactly what Discord named.
		until := now.Add(retryAfter)
		b.pausedUntil, b.resetAt = until, until
		if limitErr == nil && limit > 0 {
			b.known, b.unlimited, b.limit = true, false, limit
		}
		b.remaining = 0
		return
	}
	if remErr != nil || resetErr != nil {
		if h.Get("X-RateLimit-Bucket") == "" {
			// No per-route limit on this route.
			b.known, b.unlimited = true, true
		}
		return
	}
	resetAt := now.Add(time.Duration(resetAfter * float64(time.Second)))
	// Requests still in flight may not have been counted yet: assume
	// they were not.
	left := remaining - b.inflight
	if !b.known || b.unlimited || !now.Before(b.resetAt) {
		// A new window.
		b.remaining, b.resetAt = left, resetAt
	} else {
		// Answers of one window can arrive in any order; the lowest
		// count is the safe one.
		b.remaining = min(b.remaining, left)
		if resetAt.After(b.resetAt) {
			b.resetAt = resetAt
		}
	}
	b.known, b.unlimited = true, false
	if limitErr == nil && limit > 0 {
		b.limit = limit
	}
}

// RetryAfter is how long a 429 asks to wait: the body's retry_after
// (seconds, with a fraction), else the Retry-After header, else
// X-RateLimit-Reset-After, else one second.
func RetryAfter(h http.Header, body []byte) time.Duration {
	var rl struct {
		RetryAfter *float64 `json:"retry_after"`
	}
	if json.Unmarshal(body, &rl) == nil && rl.RetryAfter != nil && *rl.RetryAfter >= 0 {
		return seconds(*rl.RetryAfter)
	}
	for _, name := range []string{"Retry-After", "X-RateLimit-Reset-After"} {
		if s, err := strconv.ParseFloat(h.Get(name), 64); err == nil && s >= 0 {
			return seconds(s)
		}
	}
	return time.Second
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
