package ratelimit

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"time"
)

type maxWaitKey struct{}

// WithMaxWait bounds how long RoundTrip waits for a known rate-limit window
// before a request made with ctx: a longer one fails it with a *WaitError,
// unsent.
func WithMaxWait(ctx context.Context, d time.Duration) context.Context {
	return context.WithValue(ctx, maxWaitKey{}, d)
}

func maxWaitFrom(ctx context.Context) time.Duration {
	d, _ := ctx.Value(maxWaitKey{}).(time.Duration)
	return d
}

// rateLimitBodyMax bounds how much of a 429's body is read for its
// retry_after; Discord's is a few dozen bytes.
const rateLimitBodyMax = 64 << 10

// RoundTrip sends req on route through next once the limiter allows it,
// and learns from the answer. The request's context bounds the wait (see
// WithMaxWait). A 429's body is read for its retry_after and handed on
// unchanged.
func (l *Limiter) RoundTrip(req *http.Request, route Route, next http.RoundTripper) (*http.Response, error) {
	ctx := req.Context()
	t, err := l.Acquire(ctx, route, maxWaitFrom(ctx))
	if err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	resp, err := next.RoundTrip(req)
	if err != nil {
		t.Abort()
		return nil, err
	}
	var retryAfter time.Duration
	if resp.StatusCode == http.StatusTooManyRequests {
		body, rerr := io.ReadAll(io.LimitReader(resp.Body, rateLimitBodyMax))
		_ = resp.Body.Close()
		resp.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{rerr}))
		retryAfter = RetryAfter(resp.Header, body)
	}
	t.Answer(resp.StatusCode, resp.Header, retryAfter)
	return resp, nil
}

// errReader hands on the error that cut a body short (nil: EOF).
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	return 0, io.EOF
}
