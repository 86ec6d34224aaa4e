package fakediscord

import (
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// FaultKind is a failure the fake can answer a request with.
type FaultKind int

const (
	// RateLimited answers 429 with retry_after and the X-RateLimit headers
	// of an exhausted per-route bucket.
	RateLimited FaultKind = iota + 1
	// GlobalRateLimited answers 429 with "global": true and
	// X-RateLimit-Global, which stops every bucket.
	GlobalRateLimited
	// ServerError answers 500 without doing anything.
	ServerError
	// ServerErrorAfterCreate performs the request (the message is created)
	// and then answers 500: the lost-reply case.
	ServerErrorAfterCreate
	// BadGateway answers 502 without doing anything.
	BadGateway
	// DropConnection closes the connection without an answer, before doing
	// anything.
	DropConnection
	// DropConnectionAfterCreate performs the request and then closes the
	// connection without an answer.
	DropConnectionAfterCreate
	// MissingPermissions answers 403 with Discord code 50013.
	MissingPermissions
	// MissingAccess answers 403 with Discord code 50001.
	MissingAccess
	// UnknownChannel answers 404 with Discord code 10003.
	UnknownChannel
	// Unauthorized answers 401, as for a wrong token.
	Unauthorized
	// SharedRateLimited answers 429 with X-RateLimit-Scope: shared: the
	// resource's own limit, which Discord does not count as the bot's
	// invalid request.
	SharedRateLimited
)

// Always, as the count given to Fail, makes the fault permanent.
const Always = -1

// DefaultRetryAfter is the retry_after of rate-limit faults injected with
// Fail; use FailRateLimited to choose another.
const DefaultRetryAfter = 100 * time.Millisecond

func (k FaultKind) after() bool {
	return k == ServerErrorAfterCreate || k == DropConnectionAfterCreate
}

func (k FaultKind) String() string {
	switch k {
	case RateLimited:
		return "rate limited"
	case GlobalRateLimited:
		return "globally rate limited"
	case ServerError:
		return "500"
	case ServerErrorAfterCreate:
		return "500 after create"
	case BadGateway:
		return "502"
	case DropConnection:
		return "dropped connection"
	case DropConnectionAfterCreate:
		return "dropped connection after create"
	case MissingPermissions:
		return "403 Missing Permissions"
	case MissingAccess:
		return "403 Missing Access"
	case UnknownChannel:
		return "404 Unknown Channel"
	case Unauthorized:
		return "401 Unauthorized"
	case SharedRateLimited:
		return "rate limited (shared)"
	}
	return "fault(" + strconv.Itoa(int(k)) + ")"
}

// Matcher selects REST requests by method and path relative to APIPrefix
// (e.g. "POST", "/channels/123/messages").
type Matcher func(method, path string) bool

// AnyRequest matches every REST request.
func AnyRequest(string, string) bool { return true }

// Route matches requests with this method ("" for any) whose path starts
// with prefix.
func Route(method, prefix string) Matcher {
	return func(m, p string) bool {
		return (method == "" || m == method) && strings.HasPrefix(p, prefix)
	}
}

// EditMessage matches edits of channel messages: of one message in one
// channel, or any ("" for either).
func EditMessage(channelID, messageID string) Matcher {
	return func(m, p string) bool {
		ch, ok := messageRoute(m, p)
		if !ok || m != http.MethodPatch {
			return false
		}
		return (channelID == "" || ch == channelID) && (messageID == "" || strings.HasSuffix(p, "/messages/"+messageID))
	}
}

// CreateMessage matches message creation in a channel ("" for any channel).
func CreateMessage(channelID string) Matcher {
	return func(m, p string) bool {
		if m != http.MethodPost || !strings.HasPrefix(p, "/channels/") || !strings.HasSuffix(p, "/messages") {
			return false
		}
		return channelID == "" || p == "/channels/"+channelID+"/messages"
	}
}

type fault struct {
	match      Matcher
	remaining  int // Always: forever
	kind       FaultKind
	retryAfter time.Duration
}

// Fail makes the next n requests matching m (n == Always: every one) fail
// with kind. Faults are tried in the order they were added; the first with
// uses left applies.
func (s *Server) Fail(m Matcher, n int, kind FaultKind) {
	s.addFault(&fault{match: m, remaining: n, kind: kind, retryAfter: DefaultRetryAfter})
}

// FailRateLimited makes the next n requests matching m answer 429 with this
// retry_after, per-route or global.
func (s *Server) FailRateLimited(m Matcher, n int, retryAfter time.Duration, global bool) {
	kind := RateLimited
	if global {
		kind = GlobalRateLimited
	}
	s.addFault(&fault{match: m, remaining: n, kind: kind, retryAfter: retryAfter})
}

// ClearFaults removes every injected fault.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = nil
}

func (s *Server) addFault(f *fault) {
	if f.match == nil {
		f.match = AnyRequest
	}
	if f.remaining == 0 {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, f)
}

// takeFault returns the fault for this request, using one of its uses.
func (s *Server) takeFault(method, path string) *fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, f := range s.faults {
		if !f.match(method, path) {
			continue
		}
		if f.remaining > 0 {
			f.remaining--
			if f.remaining == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		c := *f
		return &c
	}
	return nil
}

// serveFault writes the fault's answer (or drops the connection).
func (s *Server) serveFault(w http.ResponseWriter, f *fault) {
	switch f.kind {
	case RateLimited, GlobalRateLimited, SharedRateLimited:
		global := f.kind == GlobalRateLimited
		secs := f.retryAfter.Seconds()
		h := w.Header()
		h.Set("Retry-After", strconv.Itoa(int(math.Ceil(secs))))
		if h.Get("X-RateLimit-Bucket") == "" {
			// No enforced limit named the route's bucket.
			h.Set("X-RateLimit-Bucket", "fake-limited")
			h.Set("X-RateLimit-Limit", "5")
		}
		h.Set("X-RateLimit-Remaining", "0")
		h.Set("X-RateLimit-Reset-After", strconv.FormatFloat(secs, 'f', 3, 64))
		h.Set("X-RateLimit-Reset", strconv.FormatFloat(float64(time.Now().Add(f.retryAfter).UnixMilli())/1000, 'f', 3, 64))
		scope := "user"
		switch {
		case global:
			h.Set("X-RateLimit-Global", "true")
			scope = "global"
		case f.kind == SharedRateLimited:
			scope = "shared"
		}
		h.Set("X-RateLimit-Scope", scope)
		writeJSON(w, http.StatusTooManyRequests, map[string]any{
			"message":     "You are being rate limited.",
			"retry_after": secs,
			"global":      global,
			"code":        0,
		})
	case ServerError, ServerErrorAfterCreate:
		writeJSON(w, http.StatusInternalServerError, apiError(0, "500: Internal Server Error"))
	case BadGateway:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		_, _ = w.Write([]byte("<html><body>502 Bad Gateway</body></html>"))
	case DropConnection, DropConnectionAfterCreate:
		conn, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			// Cannot happen on HTTP/1.1; answer something distinctive.
			writeJSON(w, http.StatusInternalServerError, apiError(0, "fakediscord: cannot hijack: "+err.Error()))
			return
		}
		if rec, ok := w.(*recorder); ok {
			rec.logOnce() // logged (status 0) before the client sees the drop
		}
		_ = conn.Close()
	case MissingPermissions:
		writeJSON(w, http.StatusForbidden, apiError(50013, "Missing Permissions"))
	case MissingAccess:
		writeJSON(w, http.StatusForbidden, apiError(50001, "Missing Access"))
	case UnknownChannel:
		writeJSON(w, http.StatusNotFound, apiError(10003, "Unknown Channel"))
	case Unauthorized:
		writeJSON(w, http.StatusUnauthorized, apiError(0, "401: Unauthorized"))
	}
}
