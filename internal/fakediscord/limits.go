package fakediscord

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Limits are the rate limits the fake enforces, as Discord does. The zero
// value (what New starts with) enforces none, and every answer then says a
// bucket has plenty left.
type Limits struct {
	// Global is how many requests the bot may make per GlobalWindow on
	// all routes together; interaction endpoints (the callback and the
	// interaction webhooks) do not count, as on Discord. 0: no limit.
	Global int
	// GlobalWindow is the global limit's window; 0 means one second.
	GlobalWindow time.Duration
	// Messages is how many messages the bot may create or edit in one
	// channel per MessageWindow: creating and editing share the channel's
	// bucket (MessageBucket). 0: no limit.
	Messages int
	// MessageWindow is the message bucket's window; 0 means five seconds.
	MessageWindow time.Duration
}

// DiscordLimits are Discord's limits for a bot: 50 requests a second, 5
// messages per 5 seconds in a channel.
func DiscordLimits() Limits {
	return Limits{Global: 50, GlobalWindow: time.Second, Messages: 5, MessageWindow: 5 * time.Second}
}

// MessageBucket is the X-RateLimit-Bucket of creating and editing messages
// while Limits.Messages is enforced. LimitStats names a channel's bucket
// MessageBucket + ":" + the channel id.
const MessageBucket = "80c17d2f203122d936070c88c8d10f33"

// GlobalBucket is the key of the global limit in LimitStats.
const GlobalBucket = "global"

// SetLimits changes the limits enforced from now on; windows already
// running keep their counts.
func (s *Server) SetLimits(l Limits) {
	if l.GlobalWindow <= 0 {
		l.GlobalWindow = time.Second
	}
	if l.MessageWindow <= 0 {
		l.MessageWindow = 5 * time.Second
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.limits = l
}

// SetLatency makes the fake answer every REST request matching m (nil: any)
// d after it arrived, e.g. 100 ms per message POST. The latest rule that
// matches applies; d = 0 removes the delay for those requests. Rate limits
// count a request when it arrives, before the delay, as Discord does.
func (s *Server) SetLatency(m Matcher, d time.Duration) {
	if m == nil {
		m = AnyRequest
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = append(s.latency, latencyRule{m, d})
}

type latencyRule struct {
	match Matcher
	d     time.Duration
}

// LimitStats is what the fake saw of the request rate, for assertions.
type LimitStats struct {
	// Requests counted toward the global limit (every REST request but
	// interaction endpoints'), whether or not limits are enforced.
	Requests int
	// TooManyRequests counts the 429s the enforced limits answered, by
	// bucket: GlobalBucket, or MessageBucket + ":" + channel id. Faults
	// injected with Fail are not counted.
	TooManyRequests map[string]int
	// PeakPerSecond is the most of those requests that arrived within any
	// one second.
	PeakPerSecond int
	// First and Last are when the first and the last of them arrived.
	First, Last time.Time
	// MaxInFlight is the most REST requests the fake was handling at
	// once (all routes).
	MaxInFlight int
}

// MeanPerSecond is the mean rate of the requests counted toward the
// global limit, between the first and the last.
func (st LimitStats) MeanPerSecond() float64 {
	span := st.Last.Sub(st.First).Seconds()
	if st.Requests < 2 || span <= 0 {
		return 0
	}
	return float64(st.Requests-1) / span
}

// LimitStats returns what the fake saw of the request rate so far.
func (s *Server) LimitStats() LimitStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := LimitStats{
		Requests:        len(s.arrivals),
		TooManyRequests: make(map[string]int, len(s.tooMany)),
		MaxInFlight:     s.maxInFlight,
	}
	for k, v := range s.tooMany {
		st.TooManyRequests[k] = v
	}
	if n := len(s.arrivals); n > 0 {
		st.First, st.Last = s.arrivals[0], s.arrivals[n-1]
	}
	// Arrivals are appended under the lock with the time read under it,
	// so they are in order.
	for lo, hi := 0, 0; hi < len(s.arrivals); hi++ {
		for s.arrivals[hi].Sub(s.arrivals[lo]) >= time.Second {
			lo++
		}
		st.PeakPerSecond = max(st.PeakPerSecond, hi-lo+1)
	}
	return st
}

// window is one fixed rate-limit window: it starts with the first request
// after the previous one ended, as Discord's buckets do.
type window struct {
	end  time.Time
	used int
}

// take counts a request arriving at now against a window of limit
// requests per length. It returns false, with the time left, when the
// window is full.
func (w *window) take(now time.Time, limit int, length time.Duration) (ok bool, left time.Duration) {
	if !now.Before(w.end) {
		w.end, w.used = now.Add(length), 0
	}
	if w.used >= limit {
		return false, w.end.Sub(now)
	}
	w.used++
	return true, w.end.Sub(now)
}

// limited is the answer of an enforced limit to one request.
type limited struct {
	header http.Header // bucket headers for the answer, nil when none apply
	// tooMany: the request is refused with 429; retryAfter is when the
	// window ends.
	tooMany    bool
	global     bool
	retryAfter time.Duration
}

// interactionRoute reports whether a path (relative to APIPrefix) is an
// interaction endpoint, which Discord does not count toward the global
// limit.
func interactionRoute(path string) bool {
	return strings.HasPrefix(path, "/interactions/") || strings.HasPrefix(path, "/webhooks/")
}

// messageRoute returns the channel of a message create or edit.
func messageRoute(method, path string) (channel string, ok bool) {
	rest, ok := strings.CutPrefix(path, "/channels/")
	if !ok {
		return "", false
	}
	parts := strings.Split(rest, "/")
	switch {
	case method == http.MethodPost && len(parts) == 2 && parts[1] == "messages":
	case method == http.MethodPatch && len(parts) == 3 && parts[1] == "messages":
	default:
		return "", false
	}
	return parts[0], true
}

// arriveLocked records a request's arrival and applies the enforced
// limits to it; callers hold s.mu.
func (s *Server) arriveLocked(method, path string, now time.Time) limited {
	s.inFlight++
	s.maxInFlight = max(s.maxInFlight, s.inFlight)
	if interactionRoute(path) {
		return limited{}
	}
	s.arrivals = append(s.arrivals, now)
	if s.limits.Global > 0 {
		if ok, left := s.global.take(now, s.limits.Global, s.limits.GlobalWindow); !ok {
			s.tooMany[GlobalBucket]++
			return limited{tooMany: true, global: true, retryAfter: left}
		}
	}
	channel, ok := messageRoute(method, path)
	if !ok || s.limits.Messages <= 0 {
		return limited{}
	}
	w := s.messageWindows[channel]
	if w == nil {
		w = &window{}
		s.messageWindows[channel] = w
	}
	ok, left := w.take(now, s.limits.Messages, s.limits.MessageWindow)
	h := http.Header{}
	h.Set("X-RateLimit-Bucket", MessageBucket)
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.limits.Messages))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(s.limits.Messages-w.used))
	h.Set("X-RateLimit-Reset", strconv.FormatFloat(ceilMillis(time.Duration(w.end.UnixNano())), 'f', 3, 64))
	h.Set("X-RateLimit-Reset-After", strconv.FormatFloat(ceilMillis(left), 'f', 3, 64))
	if !ok {
		s.tooMany[MessageBucket+":"+channel]++
		return limited{header: h, tooMany: true, retryAfter: left}
	}
	return limited{header: h}
}

// latencyLocked is the delay for a request; callers hold s.mu.
func (s *Server) latencyLocked(method, path string) time.Duration {
	for i := len(s.latency) - 1; i >= 0; i-- {
		if s.latency[i].match(method, path) {
			return s.latency[i].d
		}
	}
	return 0
}

// ceilMillis is d in seconds, rounded up to the millisecond: a client
// that waits what the fake names never comes back early.
func ceilMillis(d time.Duration) float64 {
	return math.Ceil(float64(d)/float64(time.Millisecond)) / 1000
}

// serveLimited answers a request an enforced limit refused.
func serveLimited(w http.ResponseWriter, l limited) {
	h := w.Header()
	for k, v := range l.header {
		h[k] = v
	}
	secs := ceilMillis(l.retryAfter)
	h.Set("Retry-After", strconv.Itoa(int(math.Ceil(secs))))
	if l.global {
		h.Set("X-RateLimit-Global", "true")
		h.Set("X-RateLimit-Scope", "global")
	} else {
		h.Set("X-RateLimit-Scope", "user")
	}
	writeJSON(w, http.StatusTooManyRequests, map[string]any{
		"message":     "You are being rate limited.",
		"retry_after": secs,
		"global":      l.global,
	})
}
