package ratelimit_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/time/rate"

	"github.com/backchannel/backchannel/bot/ratelimit"
)

// The tests run in synctest bubbles: time is fake and only advances when
// every goroutine of the test is blocked, so "waits exactly 2 s" is exact
// and takes no real time.

func bucketHeaders(bucket string, limit, remaining int, resetAfter time.Duration) http.Header {
	h := http.Header{}
	h.Set("X-RateLimit-Bucket", bucket)
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset-After", strconv.FormatFloat(resetAfter.Seconds(), 'f', 3, 64))
	return h
}

func tooMany(scope string) http.Header {
	h := http.Header{}
	h.Set("X-RateLimit-Scope", scope)
	if scope == "global" {
		h.Set("X-RateLimit-Global", "true")
	}
	return h
}

var (
	postC1  = ratelimit.RouteOf(http.MethodPost, "/channels/1/messages")
	postC2  = ratelimit.RouteOf(http.MethodPost, "/channels/2/messages")
	patchC1 = ratelimit.RouteOf(http.MethodPatch, "/channels/1/messages/900")
	itxEdit = ratelimit.RouteOf(http.MethodPatch, "/webhooks/10/tok/messages/@original")
)

// acquireAt acquires in a goroutine and reports the fake time it got the
// ticket at (or the error).
type acquired struct {
	t   *ratelimit.Ticket
	at  time.Duration
	err error
}

func acquireAsync(ctx context.Context, l *ratelimit.Limiter, r ratelimit.Route, start time.Time) <-chan acquired {
	ch := make(chan acquired, 1)
	go func() {
		t, err := l.Acquire(ctx, r, 0)
		ch <- acquired{t, time.Since(start), err}
	}()
	return ch
}

func mustAcquire(t *testing.T, l *ratelimit.Limiter, r ratelimit.Route) *ratelimit.Ticket {
	t.Helper()
	tk, err := l.Acquire(t.Context(), r, 0)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// ready reports whether ch has a result, after every goroutine settled.
func ready(ch <-chan acquired) (acquired, bool) {
	synctest.Wait()
	select {
	case a := <-ch:
		return a, true
	default:
		return acquired{}, false
	}
}

func TestRouteOf(t *testing.T) {
	t.Parallel()
	cases := []struct {
		method, path string
		want         ratelimit.Route
	}{
		{"POST", "/channels/123/messages", ratelimit.Route{Key: "POST /channels/{major}/messages", Major: "123", Global: true}},
		{"PATCH", "/channels/123/messages/456", ratelimit.Route{Key: "PATCH /channels/{major}/messages/{id}", Major: "123", Global: true}},
		{"PUT", "/channels/1/messages/2/reactions/%F0%9F%91%8D/@me", ratelimit.Route{Key: "PUT /channels/{major}/messages/{id}/reactions/{emoji}", Major: "1", Global: true}},
		{"PUT", "/applications/77/guilds/88/commands", ratelimit.Route{Key: "PUT /applications/{id}/guilds/{id}/commands", Global: true}},
		{"GET", "/guilds/88/members?limit=5", ratelimit.Route{Key: "GET /guilds/{major}/members", Major: "88", Global: true}},
		{"GET", "/users/@me", ratelimit.Route{Key: "GET /users/@me", Global: true}},
		{"POST", "/interactions/5/tok/callback", ratelimit.Route{Key: "POST /interactions/{major}/{token}/callback", Major: "5"}},
		{"PATCH", "/webhooks/10/tok/messages/@original", ratelimit.Route{Key: "PATCH /webhooks/{major}/{token}/messages/@original", Major: "10/tok"}},
		{"POST", "/webhooks/10/tok?wait=true", ratelimit.Route{Key: "POST /webhooks/{major}/{token}", Major: "10/tok"}},
	}
	for _, tc := range cases {
		if got := ratelimit.RouteOf(tc.method, tc.path); got != tc.want {
			t.Errorf("RouteOf(%s %s) = %+v, want %+v", tc.method, tc.path, got, tc.want)
		}
	}
}

func TestUnknownBucketLetsOneRequestThrough(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(ratelimit.Options{})
		start := time.Now()
		first := mustAcquire(t, l, postC1)
		second := acquireAsync(t.Context(), l, postC1, start)
		if _, ok := ready(second); ok {
			t.Fatal("a second request went out before the bucket was known")
		}
		// Another channel is another bucket.
		other := mustAcquire(t, l, postC2)
		other.Answer(200, bucketHeaders("msg", 5, 4, 5*time.Second), 0)
		time.Sleep(30 * time.Millisecond)
		first.Answer(200, bucketHeaders("msg", 5, 4, 5*time.Second), 0)
		a, ok := ready(second)
		if !ok || a.err != nil || a.at != 30*time.Millisecond {
			t.Fatalf("second request: %+v, %v; want it at 30ms, when the first was answered", a, ok)
		}
		// Known with 3 left (one in flight): 3 more may go at once.
		for i := range 3 {
			if _, err := l.Acquire(t.Context(), postC1, 0); err != nil {
				t.Fatal(i, err)
			}
		}
		if _, ok := ready(acquireAsync(t.Context(), l, postC1, start)); ok {
			t.Fatal("more requests than the bucket had left")
		}
	})
}

func TestExhaustedBucketHoldsUntilReset(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(ratelimit.Options{})
		start := time.Now()
		mustAcquire(t, l, postC1).Answer(200, bucketHeaders("msg", 5, 0, 2500*time.Millisecond), 0)
		next := acquireAsync(t.Context(), l, postC1, start)
		otherChannel := acquireAsync(t.Context(), l, postC2, start)
		if a, ok := ready(otherChannel); !ok || a.err != nil || a.at != 0 {
			t.Errorf("another channel waited: %+v", a)
		}
		a := <-next
		if a.err != nil || a.at != 2500*time.Millisecond {
			t.Fatalf("next request %+v, want it at the reset (2.5s)", a)
		}
		// After the reset with nothing in flight the bucket is refilled:
		// the limit goes at once, not one by one.
		for i := range 4 {
			if _, err := l.Acquire(t.Context(), postC1, 0); err != nil {
				t.Fatal(i, err)
			}
		}
		if time.Since(start) != 2500*time.Millisecond {
			t.Errorf("refilled bucket waited %v", time.Since(start)-2500*time.Millisecond)
		}
		a.t.Answer(200, bucketHeaders("msg", 5, 4, 5*time.Second), 0)
	})
}

func TestBucket429PausesOnlyThatBucket(t *testing.T) {
	t.Parallel()
	for _, scope := range []string{"user", "shared"} {
		t.Run(scope, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				l := ratelimit.New(ratelimit.Options{})
				start := time.Now()
				// Learn both channels' buckets first.
				mustAcquire(t, l, postC1).Answer(200, bucketHeaders("msg", 5, 4, 5*time.Second), 0)
				mustAcquire(t, l, postC2).Answer(200, bucketHeaders("msg", 5, 4, 5*time.Second), 0)
				h := bucketHeaders("msg", 5, 0, 1234*time.Millisecond)
				h.Set("X-RateLimit-Scope", scope)
				mustAcquire(t, l, postC1).Answer(http.StatusTooManyRequests, h, 1234*time.Millisecond)

				c1 := acquireAsync(t.Context(), l, postC1, start)
				c2 := acquireAsync(t.Context(), l, postC2, start)
				if a, ok := ready(c2); !ok || a.at != 0 {
					t.Errorf("channel 2 held by channel 1's 429: %+v %v", a, ok)
				}
				if a := <-c1; a.err != nil || a.at != 1234*time.Millisecond {
					t.Errorf("channel 1 went at %v (%v), want after exactly retry_after 1.234s", a.at, a.err)
				}
			})
		})
	}
}

func TestGlobal429PausesEverythingButInteractions(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(ratelimit.Options{})
		start := time.Now()
		mustAcquire(t, l, postC1).Answer(http.StatusTooManyRequests, tooMany("global"), 700*time.Millisecond)
		var waits []<-chan acquired
		for _, r := range []ratelimit.Route{postC1, postC2, ratelimit.RouteOf("GET", "/users/@me")} {
			waits = append(waits, acquireAsync(t.Context(), l, r, start))
		}
		// Interaction endpoints are not bound to the global limit.
		if a, ok := ready(acquireAsync(t.Context(), l, itxEdit, start)); !ok || a.at != 0 {
			t.Errorf("interaction edit held by the global limit: %+v", a)
		}
		for i, ch := range waits {
			if a := <-ch; a.err != nil || a.at != 700*time.Millisecond {
				t.Errorf("request %d went at %v (%v), want after exactly 700ms", i, a.at, a.err)
			}
		}
	})
}

func TestPostAndEditShareTheChannelBucket(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(ratelimit.Options{})
		start := time.Now()
		mustAcquire(t, l, postC1).Answer(200, bucketHeaders("msg", 5, 1, 3*time.Second), 0)
		// The edit route's bucket is not known yet; its answer names the
		// same bucket and says it is exhausted.
		mustAcquire(t, l, patchC1).Answer(200, bucketHeaders("msg", 5, 0, 3*time.Second), 0)
		for _, r := range []ratelimit.Route{postC1, patchC1} {
			if a := <-acquireAsync(t.Context(), l, r, start); a.err != nil || a.at != 3*time.Second {
				t.Errorf("%s went at %v (%v), want at the shared bucket's reset (3s)", r.Key, a.at, a.err)
			}
		}
	})
}

func TestConcurrentRequestsToDifferentBucketsGoTogether(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(ratelimit.Options{})
		start := time.Now()
		var inflight, most atomic.Int32
		done := make(chan struct{})
		for i := range 20 {
			go func() {
				defer func() { done <- struct{}{} }()
				r := ratelimit.RouteOf("POST", fmt.Sprintf("/channels/%d/messages", i))
				tk, err := l.Acquire(t.Context(), r, 0)
				if err != nil {
					t.Error(err)
					return
				}
				n := inflight.Add(1)
				for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
				}
				time.Sleep(100 * time.Millisecond) // the request's round trip
				inflight.Add(-1)
				tk.Answer(200, bucketHeaders("msg", 5, 4, 5*time.Second), 0)
			}()
		}
		for range 20 {
			<-done
		}
		if most.Load() != 20 || time.Since(start) != 100*time.Millisecond {
			t.Errorf("at most %d in flight, all done after %v; want 20 at once, 100ms", most.Load(), time.Since(start))
		}
	})
}

func TestGlobalPacing(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(ratelimit.Options{Global: rate.NewLimiter(50, 1)})
		start := time.Now()
		for i := range 101 {
			tk := mustAcquire(t, l, ratelimit.RouteOf("POST", fmt.Sprintf("/channels/%d/messages", i)))
			tk.Answer(200, bucketHeaders("msg", 5, 4, 5*time.Second), 0)
		}
		if got := time.Since(start); got != 2*time.Second {
			t.Errorf("101 requests at 50/s took %v, want 2s", got)
		}
		// Interaction endpoints do not take from the global budget.
		for range 10 {
			mustAcquire(t, l, itxEdit).Answer(200, http.Header{}, 0)
		}
		if got := time.Since(start); got != 2*time.Second {
			t.Errorf("interaction requests were paced: %v", got)
		}
	})
}

func TestMaxWaitRefusesWithoutSending(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(ratelimit.Options{})
		mustAcquire(t, l, postC1).Answer(http.StatusTooManyRequests, bucketHeaders("msg", 5, 0, time.Minute), time.Minute)
		_, err := l.Acquire(t.Context(), postC1, time.Second)
		var we *ratelimit.WaitError
		if !errors.As(err, &we) || we.Global || we.Wait != time.Minute {
			t.Fatalf("err = %v", err)
		}
		mustAcquire(t, l, postC2).Answer(http.StatusTooManyRequests, tooMany("global"), 10*time.Second)
		if _, err := l.Acquire(t.Context(), postC2, time.Second); !errors.As(err, &we) || !we.Global {
			t.Fatalf("err = %v", err)
		}
		// Within maxWait, it waits.
		if _, err := l.Acquire(t.Context(), postC2, 11*time.Second); err != nil {
			t.Fatal(err)
		}
	})
}

func TestContextEndsTheWaitAndGivesThePlaceBack(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(ratelimit.Options{Global: rate.NewLimiter(rate.Every(time.Second), 1)})
		start := time.Now()
		mustAcquire(t, l, postC1).Answer(200, bucketHeaders("msg", 2, 1, 10*time.Second), 0)
		// The last place of the window, but the global token is a second
		// away and the context only has half of it.
		ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
		defer cancel()
		if _, err := l.Acquire(ctx, postC1, 0); err == nil {
			t.Fatal("acquired past the context's deadline")
		}
		// The unsent request gave its place back.
		tk := mustAcquire(t, l, postC1)
		if got := time.Since(start); got >= 10*time.Second {
			t.Errorf("waited for the reset (%v): the cancelled request kept its place", got)
		}
		tk.Abort()
		// An aborted request may have been sent: its place stays taken.
		if a := <-acquireAsync(t.Context(), l, postC1, start); a.at != 10*time.Second {
			t.Errorf("after an aborted request, the next went at %v, want at the reset", a.at)
		}
	})
}

func TestRoutesWithoutLimitsAreNotSerialised(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(ratelimit.Options{})
		r := ratelimit.RouteOf("GET", "/gateway")
		mustAcquire(t, l, r).Answer(200, http.Header{}, 0)
		for range 5 {
			mustAcquire(t, l, r) // none answered yet
		}
	})
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	h := http.Header{}
	h.Set("Retry-After", "3")
	h.Set("X-RateLimit-Reset-After", "2.5")
	cases := []struct {
		h    http.Header
		body string
		want time.Duration
	}{
		{h, `{"message":"You are being rate limited.","retry_after":0.123,"global":false}`, 123 * time.Millisecond},
		{h, `not json`, 3 * time.Second},
		{http.Header{"X-Ratelimit-Reset-After": {"2.5"}}, ``, 2500 * time.Millisecond},
		{http.Header{}, ``, time.Second},
	}
	for _, tc := range cases {
		if got := ratelimit.RetryAfter(tc.h, []byte(tc.body)); got != tc.want {
			t.Errorf("RetryAfter(%v, %q) = %v, want %v", tc.h, tc.body, got, tc.want)
		}
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestRoundTripLearnsAndHandsTheBodyOn(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		l := ratelimit.New(ratelimit.Options{})
		start := time.Now()
		body := `{"message":"You are being rate limited.","retry_after":0.25,"global":false}`
		calls := 0
		next := roundTripFunc(func(*http.Request) (*http.Response, error) {
			calls++
			h := bucketHeaders("msg", 5, 0, 250*time.Millisecond)
			h.Set("X-RateLimit-Scope", "user")
			return &http.Response{StatusCode: 429, Header: h, Body: io.NopCloser(strings.NewReader(body))}, nil
		})
		req, _ := http.NewRequestWithContext(t.Context(), "POST", "http://x/api/v10/channels/1/messages", nil)
		resp, err := l.RoundTrip(req, postC1, next)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		if string(got) != body {
			t.Errorf("body handed on: %q", got)
		}
		if _, err := l.RoundTrip(req, postC1, next); err != nil {
			t.Fatal(err)
		}
		if calls != 2 || time.Since(start) != 250*time.Millisecond {
			t.Errorf("%d calls, second after %v; want it after the 429's 250ms", calls, time.Since(start))
		}
		// A bounded wait refuses at once.
		req2, _ := http.NewRequestWithContext(ratelimit.WithMaxWait(t.Context(), 100*time.Millisecond), "POST", "http://x/api/v10/channels/1/messages", nil)
		var we *ratelimit.WaitError
		if _, err := l.RoundTrip(req2, postC1, next); !errors.As(err, &we) || calls != 2 {
			t.Errorf("err = %v after %d calls", err, calls)
		}
	})
}
