package bot

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"

	"github.com/backchannel/backchannel/bot/ratelimit"
)

// Discord JSON error codes that mean the bot cannot post in a channel, so
// its subscription must be disabled rather than retried.
const (
	discordCodeUnknownChannel     = 10003
	discordCodeMissingAccess      = 50001
	discordCodeMissingPermissions = 50013
)

// discordCodeUnknownMessage: the message to edit was deleted.
const discordCodeUnknownMessage = 10008

// PostError is a failed post to a channel, or edit of a message,
// classified for the outbox: retry or not, when, whether the channel is
// unusable, whether the message is gone.
//
// The outbox does not import this package; it reads the classification
// through the methods Temporary, RetryDelay, ChannelUnusable,
// InvalidRequest and MessageGone.
type PostError struct {
	ChannelID string
	MessageID string // the message edited; empty for a post
	Status    int    // HTTP status; 0 when no answer arrived
	Code      int    // Discord JSON error code, 0 if none
	Message   string // Discord's message, if any
	// Retry: the same request may succeed later (5xx, 429, network, 401).
	Retry bool
	// RetryAfter: Discord asked to wait this long (429), or the rate-limit
	// window that kept the request from being sent lasts this long; zero
	// otherwise.
	RetryAfter time.Duration
	// Global: the rate limit was the global one, not this channel's.
	Global bool
	// Scope is a 429's X-RateLimit-Scope: "user", "global" or "shared"
	// (the resource's limit, shared with others).
	Scope string
	// DisableChannel: the bot cannot post here (Missing Access, Missing
	// Permissions, Unknown Channel); the subscription should be disabled.
	DisableChannel bool
	// Gone: the edited message no longer exists (deleted in Discord); the
	// edit is to be dropped, never retried nor reposted.
	Gone bool
	Err  error
}

func (e *PostError) Error() string {
	msg := "bot: post to channel " + e.ChannelID + ": "
	if e.MessageID != "" {
		msg = "bot: edit message " + e.MessageID + " in channel " + e.ChannelID + ": "
	}
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

// Temporary reports whether retrying the same request may succeed.
func (e *PostError) Temporary() bool { return e.Retry }

// RetryDelay is the wait Discord asked for, zero when it asked none.
func (e *PostError) RetryDelay() time.Duration { return e.RetryAfter }

// ChannelUnusable reports whether the bot can no longer post in the channel.
func (e *PostError) ChannelUnusable() bool { return e.DisableChannel }

// MessageGone reports whether the edited message was deleted: the edit
// can never succeed, and posting the alert again would be a repost.
func (e *PostError) MessageGone() bool { return e.Gone }

// InvalidRequest reports whether Discord counts this answer against the
// bot's invalid-request limit (401, 403, 429: 10,000 in 10 minutes gets the
// bot banned for an hour), so callers can stop sending for a while. A 429
// of the "shared" scope is a resource's limit, not the bot's doing, and
// Discord does not count it.
func (e *PostError) InvalidRequest() bool {
	switch e.Status {
	case http.StatusUnauthorized, http.StatusForbidden:
		return true
	case http.StatusTooManyRequests:
		return e.Scope != "shared"
	}
	return false
}

// classifyTransportError classifies a request that got no usable answer:
// our context ended, the rate limiter refused to wait that long, or the
// connection failed. Whether a message was created is unknown; the nonce
// makes the retry safe.
func classifyTransportError(channelID, messageID string, err error) *PostError {
	pe := &PostError{ChannelID: channelID, MessageID: messageID, Retry: true, Err: err}
	var we *ratelimit.WaitError
	if errors.As(err, &we) {
		pe.RetryAfter, pe.Global = we.Wait, we.Global
	}
	return pe
}

// classifyAnswer classifies a non-2xx answer from its status, headers and
// JSON body.
func classifyAnswer(channelID, messageID string, status int, header http.Header, body []byte) *PostError {
	pe := &PostError{ChannelID: channelID, MessageID: messageID, Status: status}
	var de struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
		Global  bool   `json:"global"`
	}
	if json.Unmarshal(body, &de) == nil {
		pe.Code, pe.Message = de.Code, de.Message
	} else if len(body) > 0 {
		// A proxy's HTML page: keep a little of it for the log.
		pe.Err = fmt.Errorf("answer: %.80q", body)
	}
	switch {
	case status == http.StatusTooManyRequests:
		pe.Retry = true
		pe.RetryAfter = ratelimit.RetryAfter(header, body)
		pe.Scope = header.Get("X-RateLimit-Scope")
		pe.Global = de.Global || header.Get("X-RateLimit-Global") != "" || pe.Scope == "global"
	case status >= 500:
		pe.Retry = true
	case status == http.StatusUnauthorized:
		// A wrong or revoked token fails every post alike; retrying keeps
		// the queue for when the token is fixed (the outbox's breaker stops
		// the request storm meanwhile).
		pe.Retry = true
	case status == http.StatusRequestTimeout:
		pe.Retry = true
	case pe.Code == discordCodeMissingPermissions || pe.Code == discordCodeMissingAccess || pe.Code == discordCodeUnknownChannel:
		pe.DisableChannel = true
	case messageID != "" && (pe.Code == discordCodeUnknownMessage || status == http.StatusNotFound):
		pe.Gone = true
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
