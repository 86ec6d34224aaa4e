package bot

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
)

// Discord JSON error codes that mean the bot cannot post in a channel, so
// its subscription must be disabled rather than retried.
const (
	discordCodeUnknownChannel     = 10003
	discordCodeMissingAccess      = 50001
	discordCodeMissingPermissions = 50013
)

// PostError is a failed post to a channel, classified for the outbox: retry
// or not, when, and whether the channel is unusable.
//
// The outbox does not import this package; it reads the classification
// through the methods Temporary, RetryDelay, ChannelUnusable and
// InvalidRequest.
type PostError struct {
	ChannelID string
	Status    int    // HTTP status; 0 when no answer arrived
	Code      int    // Discord JSON error code, 0 if none
	Message   string // Discord's message, if any
	// Retry: the same post may succeed later (5xx, 429, network, 401).
	Retry bool
	// RetryAfter: Discord asked to wait this long (429), zero otherwise.
	RetryAfter time.Duration
	// Global: the 429 was the global limit, not this channel's.
	Global bool
	// DisableChannel: the bot cannot post here (Missing Access, Missing
	// Permissions, Unknown Channel); the subscription should be disabled.
	DisableChannel bool
	Err            error
}

func (e *PostError) Error() string {
	msg := "bot: post to channel " + e.ChannelID + ": "
	switch {
	case e.Status == 0:
		msg += "no answer"
	default:
		msg += "HTTP " + strconv.Itoa(e.Status)
	}
	if e.Code != 0 || e.Message != "" {
		msg += fmt.Sprintf(" (code %d: %s)", e.Code, e.Message)
	}
	if e.RetryAfter > 0 {
		msg += ", retry after " + e.RetryAfter.String()
	}
	if e.Err != nil {
		msg += ": " + redactDiscordURL(e.Err.Error())
	}
	return msg
}

func (e *PostError) Unwrap() error { return e.Err }

// Temporary reports whether retrying the same post may succeed.
func (e *PostError) Temporary() bool { return e.Retry }

// RetryDelay is the wait Discord asked for, zero when it asked none.
func (e *PostError) RetryDelay() time.Duration { return e.RetryAfter }

// ChannelUnusable reports whether the bot can no longer post in the channel.
func (e *PostError) ChannelUnusable() bool { return e.DisableChannel }

// InvalidRequest reports whether Discord counts this answer against the
// bot's invalid-request limit (401, 403, 429: 10,000 in 10 minutes gets the
// bot banned for an hour), so callers can stop sending for a while.
func (e *PostError) InvalidRequest() bool {
	switch e.Status {
	case http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests:
		return true
	}
	return false
}

// classifyPostError turns what discordgo returned into a *PostError. status
// and header are what the transport saw last (discordgo reports some
// answers, such as 502, as plain errors without the status).
func classifyPostError(channelID string, err error, status int, header http.Header) *PostError {
	pe := &PostError{ChannelID: channelID, Status: status, Err: err}
	var rl *discordgo.RateLimitError
	var rest *discordgo.RESTError
	switch {
	case errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded):
		// Our own deadline or shutdown: the post may or may not have
		// arrived; the nonce makes the retry safe.
		pe.Status, pe.Retry = 0, true
		return pe
	case errors.As(err, &rl):
		pe.Status = http.StatusTooManyRequests
		if rl.TooManyRequests != nil {
			pe.RetryAfter = rl.RetryAfter
			pe.Message = rl.Message
		}
	case errors.As(err, &rest):
		if rest.Response != nil {
			pe.Status = rest.Response.StatusCode
		}
		if rest.Message != nil {
			pe.Code, pe.Message = rest.Message.Code, rest.Message.Message
		}
	}
	if pe.Status == http.StatusTooManyRequests && header != nil {
		pe.Global = header.Get("X-RateLimit-Global") != ""
		if pe.RetryAfter == 0 {
			if secs, perr := strconv.ParseFloat(header.Get("Retry-After"), 64); perr == nil {
				pe.RetryAfter = time.Duration(secs * float64(time.Second))
			}
		}
	}
	switch {
	case pe.Status == 0:
		// No HTTP answer: connection refused, reset, timeout. Whether the
		// message was created is unknown; the nonce makes a retry safe.
		pe.Retry = true
	case pe.Status == http.StatusTooManyRequests:
		pe.Retry = true
	case pe.Status >= 500:
		pe.Retry = true
	case pe.Status == http.StatusUnauthorized:
		// A wrong or revoked token fails every post alike; retrying keeps
		// the queue for when the token is fixed (the outbox's breaker stops
		// the request storm meanwhile).
		pe.Retry = true
	case pe.Status == http.StatusRequestTimeout:
		pe.Retry = true
	case pe.Code == discordCodeMissingPermissions || pe.Code == discordCodeMissingAccess || pe.Code == discordCodeUnknownChannel:
		pe.DisableChannel = true
	case pe.Status < 300:
		// 2xx with an unreadable body: the message exists; retrying with
		// the same nonce returns it.
		pe.Retry = true
	}
	return pe
}

// gatewayAuthFailed is the gateway's close code for a refused token.
const gatewayAuthFailed = 4004

// IsUnauthorized reports whether err is Discord refusing the token (HTTP
// 401, or the gateway closing with 4004): retrying cannot help, so callers
// stop and say so.
func IsUnauthorized(err error) bool {
	var closed *websocket.CloseError
	if errors.As(err, &closed) {
		return closed.Code == gatewayAuthFailed
	}
	var rest *discordgo.RESTError
	if errors.As(err, &rest) && rest.Response != nil {
		return rest.Response.StatusCode == http.StatusUnauthorized
	}
	var pe *PostError
	return errors.As(err, &pe) && pe.Status == http.StatusUnauthorized
}
