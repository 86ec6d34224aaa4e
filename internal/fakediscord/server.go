// Package fakediscord is an in-process fake of the parts of Discord that
// backchannel uses: the REST API (messages, application commands,
// interaction callbacks and webhooks), the gateway websocket, and Discord's
// side of an HTTP interactions endpoint (PostInteraction). The real
// discordgo client talks to it over loopback HTTP, so tests exercise the
// same code paths as production, including discordgo's rate-limit buckets.
//
// Everything the fake receives is recorded and can be inspected; faults
// (429s, 5xx before or after a message was created, dropped connections,
// Missing Permissions, Unknown Channel, 401) can be injected per route.
// Discord's rate limits (the global limit, the per-channel message bucket
// shared by creating and editing) can be enforced with SetLimits, and a
// latency added with SetLatency, for throughput tests; LimitStats reports
// the 429s and the request rate. Channel messages can be edited (PATCH,
// with their history kept) and deleted (DeleteMessage).
//
// It is a test-only package: import it from _test.go files only.
package fakediscord

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
)

// APIPrefix is the path under which the fake serves the REST API. URL()
// returns the server address with this prefix.
const APIPrefix = "/api/v10"

// Default identities of the fake. They are constants, not configuration:
// tests compare against them.
const (
	DefaultToken  = "fake-bot-token"
	ApplicationID = "100000000000000001"
	BotUserID     = "100000000000000002"
	BotUsername   = "backchannel-test"
)

// maxNonceLen is Discord's limit on a message nonce.
const maxNonceLen = 25

// Server is a running fake Discord. Create it with New; it is closed when
// the test ends.
type Server struct {
	tb   testing.TB
	http *httptest.Server
	gwWG sync.WaitGroup // gateway connection goroutines, waited for on Close

	mu                   sync.Mutex
	changed              chan struct{} // closed and replaced on every recorded change
	closed               bool
	nextID               int64
	token                string
	messages             map[string][]Message                       // channel id -> messages in order
	nonces               map[string]map[string]string               // channel id -> enforced nonce -> message id
	history              map[string][]Message                       // message id -> versions (as created, after each edit)
	deleted              map[string]Message                         // message id -> deleted channel message
	commands             []CommandOverwrite                         // every bulk overwrite, in order
	current              map[string][]*discordgo.ApplicationCommand // guild ("" global) -> registered
	interactionResponses []InteractionResponse
	webhookMessages      map[string]*Message // "token/messageID" -> message ("@original" included)
	deletedOriginals     map[string]bool     // tokens whose original response was deleted
	followups            []Message
	inflight             map[string]bool // tokens of PostInteraction calls awaiting the bot's HTTP answer
	signer               ed25519.PrivateKey
	requests             []Request
	faults               []*fault
	gateway              gatewayState

	// Rate limits and latency (limits.go).
	limits         Limits
	latency        []latencyRule
	global         window
	messageWindows map[string]*window // channel id -> message bucket window
	tooMany        map[string]int     // bucket -> 429s answered by enforced limits
	arrivals       []time.Time        // arrival of each request counted toward the global limit
	inFlight       int
	maxInFlight    int
}

// Message is a message the fake accepted, as the bot sent it.
type Message struct {
	ID              string
	ChannelID       string
	Content         string
	Nonce           string
	EnforceNonce    bool
	Embeds          []*discordgo.MessageEmbed
	AllowedMentions *AllowedMentions // nil when the request carried none
	Flags           int
	// Token is the interaction token for interaction responses and
	// follow-ups; empty for channel messages.
	Token string
	// Edits counts the PATCHes applied to a channel message; Raw and the
	// other fields then show it as the last one left it (MessageHistory
	// has every version).
	Edits int
	// Loading is set on the original response of a deferred response
	// (type 5) until an edit or a follow-up completes it: users see the
	// "is thinking..." placeholder, publicly unless the deferral was
	// ephemeral.
	Loading bool
	// CompletedDeferral is set on a follow-up that arrived while the
	// original response was Loading. Discord does not post such a
	// follow-up as a message of its own: it completes the deferred
	// original instead, which keeps the deferral's visibility whatever
	// flags the follow-up asked for (Flags here are the follow-up's as
	// sent; the original shows the result). ID is the original's.
	CompletedDeferral bool
	Raw               json.RawMessage // the request body as received
}

// AllowedMentions is the allowed_mentions object of a request. Parse is nil
// when the key was absent and an empty non-nil slice for "parse": [].
type AllowedMentions struct {
	Parse       []string `json:"parse"`
	Users       []string `json:"users"`
	Roles       []string `json:"roles"`
	RepliedUser bool     `json:"replied_user"`
}

// MentionsSuppressed reports whether the message carried allowed_mentions
// with an explicitly empty parse list and no user or role allowed: nothing
// in it can ping anyone. "parse": null (what discordgo sends for a nil
// slice) does not count: docs/CONTRACT.md asks for an empty list.
func (m Message) MentionsSuppressed() bool {
	am := m.AllowedMentions
	return am != nil && am.Parse != nil && len(am.Parse) == 0 && len(am.Users) == 0 && len(am.Roles) == 0
}

// CommandOverwrite is one bulk overwrite of application commands.
type CommandOverwrite struct {
	ApplicationID string
	GuildID       string // empty for global commands
	Commands      []*discordgo.ApplicationCommand
}

// InteractionResponse is the initial response to an interaction: one POST
// to /interactions/{id}/{token}/callback, or the HTTP response body of the
// bot's interactions endpoint to PostInteraction.
type InteractionResponse struct {
	InteractionID string
	Token         string
	Response      discordgo.InteractionResponse
	Raw           json.RawMessage
	// ViaHTTP: the response came as the body of the bot's answer to
	// PostInteraction, not through the callback route.
	ViaHTTP bool
}

// Request is one REST request the fake received, with the status it
// answered (0 when the connection was dropped).
type Request struct {
	Method string
	Path   string // relative to APIPrefix, e.g. /channels/1/messages
	Status int
	Time   time.Time // when it was answered
	// Received is when the request arrived: rate limits count it then,
	// and a latency set with SetLatency runs from then to Time.
	Received time.Time
}

// New starts a fake Discord on a loopback port and registers its shutdown
// with tb.Cleanup.
func New(tb testing.TB) *Server {
	tb.Helper()
	s := &Server{
		tb:               tb,
		changed:          make(chan struct{}),
		nextID:           200000000000000000,
		token:            DefaultToken,
		messages:         map[string][]Message{},
		nonces:           map[string]map[string]string{},
		history:          map[string][]Message{},
		deleted:          map[string]Message{},
		messageWindows:   map[string]*window{},
		tooMany:          map[string]int{},
		current:          map[string][]*discordgo.ApplicationCommand{},
		webhookMessages:  map[string]*Message{},
		deletedOriginals: map[string]bool{},
		inflight:         map[string]bool{},
	}
	_, s.signer, _ = ed25519.GenerateKey(nil) // crypto/rand; cannot fail
	s.gateway.sessions = map[string]bool{}
	mux := http.NewServeMux()
	s.routes(mux)
	// httptest.NewServer listens on 127.0.0.1 only.
	s.http = httptest.NewServer(mux)
	tb.Cleanup(s.Close)
	return s
}

// URL is the REST base URL, e.g. http://127.0.0.1:40000/api/v10.
func (s *Server) URL() string { return s.http.URL + APIPrefix }

// GatewayURL is the websocket URL the fake hands out from GET /gateway.
func (s *Server) GatewayURL() string {
	return "ws" + strings.TrimPrefix(s.http.URL, "http") + "/gateway"
}

// Token is the bot token the fake accepts (sent as "Bot <token>").
func (s *Server) Token() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.token
}

// SetToken changes the accepted token; requests with another token get 401.
func (s *Server) SetToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token = token
}

// Close stops the server and drops gateway connections. It is registered
// with tb.Cleanup by New and safe to call more than once.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	conns := s.gateway.all()
	s.notifyLocked()
	s.mu.Unlock()
	for _, c := range conns {
		c.close()
	}
	s.http.CloseClientConnections()
	s.http.Close()
	s.gwWG.Wait()
}

// newIDLocked returns a fresh snowflake-like id.
func (s *Server) newIDLocked() string {
	s.nextID++
	return strconv.FormatInt(s.nextID, 10)
}

// notifyLocked wakes every waiter; callers hold s.mu.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// waitFor polls cond under the lock, waking on every change, until it
// returns true or the timeout passes. It reports whether cond held.
func (s *Server) waitFor(timeout time.Duration, cond func() bool) bool {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		ok := cond()
		ch := s.changed
		closed := s.closed
		s.mu.Unlock()
		if ok {
			return true
		}
		if closed {
			return false
		}
		select {
		case <-ch:
		case <-timer.C:
			return false
		}
	}
}

// Messages returns a copy of the messages accepted in a channel, oldest
// first.
func (s *Server) Messages(channelID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.messages[channelID]...)
}

// AllMessages returns every channel's messages, keyed by channel id.
func (s *Server) AllMessages() map[string][]Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[string][]Message, len(s.messages))
	for ch, ms := range s.messages {
		out[ch] = append([]Message(nil), ms...)
	}
	return out
}

// WaitMessages waits until channelID holds at least n messages and returns
// them; it fails the test after timeout.
func (s *Server) WaitMessages(tb testing.TB, channelID string, n int, timeout time.Duration) []Message {
	tb.Helper()
	ok := s.waitFor(timeout, func() bool { return len(s.messages[channelID]) >= n })
	msgs := s.Messages(channelID)
	if !ok {
		tb.Fatalf("fakediscord: channel %s has %d messages after %v, want at least %d", channelID, len(msgs), timeout, n)
	}
	return msgs
}

// Commands returns every bulk overwrite of application commands, in order.
func (s *Server) Commands() []CommandOverwrite {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]CommandOverwrite(nil), s.commands...)
}

// RegisteredCommands returns the commands currently registered for a guild
// ("" for global commands).
func (s *Server) RegisteredCommands(guildID string) []*discordgo.ApplicationCommand {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*discordgo.ApplicationCommand(nil), s.current[guildID]...)
}

// WaitCommands waits until at least n bulk overwrites were received.
func (s *Server) WaitCommands(tb testing.TB, n int, timeout time.Duration) []CommandOverwrite {
	tb.Helper()
	ok := s.waitFor(timeout, func() bool { return len(s.commands) >= n })
	got := s.Commands()
	if !ok {
		tb.Fatalf("fakediscord: %d command overwrites after %v, want at least %d", len(got), timeout, n)
	}
	return got
}

// InteractionResponses returns the interaction callbacks received, in order.
func (s *Server) InteractionResponses() []InteractionResponse {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]InteractionResponse(nil), s.interactionResponses...)
}

// WaitInteractionResponses waits until at least n interaction callbacks
// were received.
func (s *Server) WaitInteractionResponses(tb testing.TB, n int, timeout time.Duration) []InteractionResponse {
	tb.Helper()
	ok := s.waitFor(timeout, func() bool { return len(s.interactionResponses) >= n })
	got := s.InteractionResponses()
	if !ok {
		tb.Fatalf("fakediscord: %d interaction responses after %v, want at least %d", len(got), timeout, n)
	}
	return got
}

// OriginalResponse returns the current original response message of an
// interaction (after any PATCH edits), if there is one.
func (s *Server) OriginalResponse(token string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.webhookMessages[token+"/@original"]
	if !ok {
		return Message{}, false
	}
	return *m, true
}

// WaitOriginalResponse waits until the interaction with this token has an
// original response satisfying cond (nil: any), and returns it.
func (s *Server) WaitOriginalResponse(tb testing.TB, token string, timeout time.Duration, cond func(Message) bool) Message {
	tb.Helper()
	ok := s.waitFor(timeout, func() bool {
		m, found := s.webhookMessages[token+"/@original"]
		return found && (cond == nil || cond(*m))
	})
	m, _ := s.OriginalResponse(token)
	if !ok {
		tb.Fatalf("fakediscord: no matching original response for interaction token %q after %v (last: %+v)", token, timeout, m)
	}
	return m
}

// OriginalDeleted reports whether the original response of the
// interaction with this token was deleted (DELETE .../messages/@original).
func (s *Server) OriginalDeleted(token string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deletedOriginals[token]
}

// WebhookMessage returns a message of the interaction with this token as
// it now reads (after any edits): a follow-up by its id, or "@original".
// It reports false for a deleted or unknown message.
func (s *Server) WebhookMessage(token, messageID string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.webhookMessages[token+"/"+messageID]
	if !ok {
		return Message{}, false
	}
	return *m, true
}

// Followups returns the follow-up messages sent through interaction
// webhooks, in order, as they were sent (WebhookMessage has them as they
// now read).
func (s *Server) Followups() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.followups...)
}

// followupsLocked returns the follow-ups of one interaction, in order.
func (s *Server) followupsLocked(token string) []Message {
	var out []Message
	for _, m := range s.followups {
		if m.Token == token {
			out = append(out, m)
		}
	}
	return out
}

// WaitFollowups waits until the interaction with this token has at least n
// follow-ups and returns them, in order; it fails the test after timeout.
func (s *Server) WaitFollowups(tb testing.TB, token string, n int, timeout time.Duration) []Message {
	tb.Helper()
	var got []Message
	ok := s.waitFor(timeout, func() bool {
		got = s.followupsLocked(token)
		return len(got) >= n
	})
	if !ok {
		tb.Fatalf("fakediscord: interaction token %q has %d follow-ups after %v, want at least %d", token, len(got), timeout, n)
	}
	return got
}

// Requests returns every REST request received, in order.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Request(nil), s.requests...)
}

// CountRequests counts the REST requests matching m.
func (s *Server) CountRequests(m Matcher) int {
	n := 0
	for _, r := range s.Requests() {
		if m == nil || m(r.Method, r.Path) {
			n++
		}
	}
	return n
}

// ---- HTTP plumbing ----

// recorder captures the status a handler wrote and logs the request with
// it before the answer leaves, so a client that has its answer finds its
// request in Requests(). It still lets handlers hijack the connection.
type recorder struct {
	http.ResponseWriter
	status int
	log    func(status int)
	logged bool
}

func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
		r.logOnce()
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
		r.logOnce()
	}
	return r.ResponseWriter.Write(b)
}

func (r *recorder) logOnce() {
	if !r.logged {
		r.logged = true
		r.log(r.status)
	}
}

// Unwrap lets http.ResponseController reach the hijacker underneath.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

type apiHandler func(w http.ResponseWriter, r *http.Request, body []byte) (status int, resp any)

// route wraps an API handler with authentication, fault injection,
// request logging and JSON encoding.
func (s *Server) route(auth bool, h apiHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		rel := strings.TrimPrefix(r.URL.Path, APIPrefix)
		s.mu.Lock()
		received := time.Now()
		lim := s.arriveLocked(r.Method, rel, received)
		delay := s.latencyLocked(r.Method, rel)
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.inFlight--
			s.mu.Unlock()
		}()
		rec := &recorder{ResponseWriter: w, log: func(status int) {
			s.mu.Lock()
			s.requests = append(s.requests, Request{Method: r.Method, Path: rel, Status: status, Time: time.Now(), Received: received})
			s.notifyLocked()
			s.mu.Unlock()
		}}
		// Answered without a status (a dropped connection): logged as 0.
		defer rec.logOnce()
		body, err := io.ReadAll(io.LimitReader(r.Body, 8<<20))
		if err != nil {
			writeJSON(rec, http.StatusBadRequest, apiError(0, "unreadable body"))
			return
		}
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		if auth && r.Header.Get("Authorization") != "Bot "+s.Token() {
			writeJSON(rec, http.StatusUnauthorized, apiError(0, "401: Unauthorized"))
			return
		}
		if lim.tooMany {
			serveLimited(rec, lim)
			return
		}
		for k, v := range lim.header {
			rec.Header()[k] = v
		}
		f := s.takeFault(r.Method, rel)
		if f != nil && !f.kind.after() {
			s.serveFault(rec, f)
			return
		}
		status, resp := h(rec, r, body)
		if f != nil && status < 300 {
			// The handler did its work (e.g. created the message); the
			// answer is lost on the way back.
			s.serveFault(rec, f)
			return
		}
		if status == http.StatusNoContent {
			rec.WriteHeader(status)
			return
		}
		writeJSON(rec, status, resp)
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"message":"fakediscord: encode error","code":0}`)
	}
	w.Header().Set("Content-Type", "application/json")
	// Bucket headers on every answer keep discordgo's limiter in its normal
	// state (plenty remaining, immediate reset), unless an enforced limit
	// set them. A global 429 names no bucket, as on Discord.
	if w.Header().Get("X-RateLimit-Limit") == "" && w.Header().Get("X-RateLimit-Global") == "" {
		w.Header().Set("X-RateLimit-Limit", "50")
		w.Header().Set("X-RateLimit-Remaining", "49")
		w.Header().Set("X-RateLimit-Reset-After", "0.001")
		w.Header().Set("X-RateLimit-Bucket", "fake")
	}
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

type apiErr struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
}

func apiError(code int, msg string) apiErr { return apiErr{Code: code, Message: msg} }

func (s *Server) routes(mux *http.ServeMux) {
	p := APIPrefix
	mux.HandleFunc("GET "+p+"/gateway", s.route(false, s.handleGateway))
	mux.HandleFunc("GET "+p+"/gateway/bot", s.route(true, s.handleGatewayBot))
	mux.HandleFunc("GET "+p+"/users/@me", s.route(true, s.handleMe))
	mux.HandleFunc("POST "+p+"/channels/{channel}/messages", s.route(true, s.handleCreateMessage))
	mux.HandleFunc("GET "+p+"/channels/{channel}/messages", s.route(true, s.handleListMessages))
	mux.HandleFunc("GET "+p+"/channels/{channel}/messages/{message}", s.route(true, s.handleGetMessage))
	mux.HandleFunc("PATCH "+p+"/channels/{channel}/messages/{message}", s.route(true, s.handleEditMessage))
	mux.HandleFunc("PUT "+p+"/applications/{app}/commands", s.route(true, s.handleBulkOverwrite))
	mux.HandleFunc("PUT "+p+"/applications/{app}/guilds/{guild}/commands", s.route(true, s.handleBulkOverwrite))
	mux.HandleFunc("GET "+p+"/applications/{app}/commands", s.route(true, s.handleListCommands))
	mux.HandleFunc("GET "+p+"/applications/{app}/guilds/{guild}/commands", s.route(true, s.handleListCommands))
	// Interaction routes are authenticated by the token in the path, as on
	// Discord; the bot header is not required.
	mux.HandleFunc("POST "+p+"/interactions/{id}/{token}/callback", s.route(false, s.handleInteractionCallback))
	mux.HandleFunc("POST "+p+"/webhooks/{app}/{token}", s.route(false, s.handleFollowup))
	mux.HandleFunc("GET "+p+"/webhooks/{app}/{token}/messages/{msg}", s.route(false, s.handleGetWebhookMessage))
	mux.HandleFunc("PATCH "+p+"/webhooks/{app}/{token}/messages/{msg}", s.route(false, s.handleEditWebhookMessage))
	mux.HandleFunc("DELETE "+p+"/webhooks/{app}/{token}/messages/{msg}", s.route(false, s.handleDeleteWebhookMessage))
	// discordgo appends a slash to the gateway URL before its query.
	mux.HandleFunc("GET /gateway", s.handleGatewayWS)
	mux.HandleFunc("GET /gateway/", s.handleGatewayWS)
	mux.HandleFunc(p+"/", s.route(false, func(w http.ResponseWriter, r *http.Request, _ []byte) (int, any) {
		return http.StatusNotFound, apiError(0, "404: Not Found (fakediscord has no route "+r.Method+" "+r.URL.Path+")")
	}))
}

// ---- REST handlers ----

func (s *Server) handleGateway(http.ResponseWriter, *http.Request, []byte) (int, any) {
	return http.StatusOK, map[string]string{"url": s.GatewayURL()}
}

func (s *Server) handleGatewayBot(http.ResponseWriter, *http.Request, []byte) (int, any) {
	return http.StatusOK, map[string]any{
		"url":    s.GatewayURL(),
		"shards": 1,
		"session_start_limit": map[string]int{
			"total": 1000, "remaining": 999, "reset_after": 86400000, "max_concurrency": 1,
		},
	}
}

func botUser() map[string]any {
	return map[string]any{"id": BotUserID, "username": BotUsername, "discriminator": "0", "bot": true}
}

func (s *Server) handleMe(http.ResponseWriter, *http.Request, []byte) (int, any) {
	return http.StatusOK, botUser()
}

// messageRequest is the JSON body of a message create or edit.
type messageRequest struct {
	Content         *string                   `json:"content"`
	Nonce           json.RawMessage           `json:"nonce"`
	EnforceNonce    bool                      `json:"enforce_nonce"`
	Embeds          []*discordgo.MessageEmbed `json:"embeds"`
	AllowedMentions *AllowedMentions          `json:"allowed_mentions"`
	Flags           int                       `json:"flags"`
}

// nonceString accepts a nonce sent as a JSON string or integer, as Discord
// does.
func nonceString(raw json.RawMessage) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var str string
	if err := json.Unmarshal(raw, &str); err == nil {
		return str, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String(), nil
	}
	return "", fmt.Errorf("nonce must be a string or integer")
}

func invalidForm(msg string) apiErr { return apiError(50035, "Invalid Form Body: "+msg) }

// validateMessage applies the Discord limits the bot must respect, so a
// truncation bug shows up as a 400 in tests as it would in production.
func validateMessage(req messageRequest, requireBody bool) *apiErr {
	content := ""
	if req.Content != nil {
		content = *req.Content
	}
	if requireBody && content == "" && len(req.Embeds) == 0 {
		e := apiError(50006, "Cannot send an empty message")
		return &e
	}
	if runeLen(content) > 2000 {
		e := invalidForm("content: Must be 2000 or fewer in length.")
		return &e
	}
	if len(req.Embeds) > 10 {
		e := invalidForm("embeds: Must be 10 or fewer in length.")
		return &e
	}
	total := 0
	for i, e := range req.Embeds {
		if e == nil {
			continue
		}
		if msg := embedProblem(e); msg != "" {
			er := invalidForm(fmt.Sprintf("embeds.%d.%s", i, msg))
			return &er
		}
		total += embedSize(e)
	}
	if total > 6000 {
		e := invalidForm("embeds: Embed size exceeds maximum size of 6000")
		return &e
	}
	return nil
}

func runeLen(s string) int { return len([]rune(s)) }

func embedProblem(e *discordgo.MessageEmbed) string {
	switch {
	case runeLen(e.Title) > 256:
		return "title: Must be 256 or fewer in length."
	case runeLen(e.Description) > 4096:
		return "description: Must be 4096 or fewer in length."
	case len(e.Fields) > 25:
		return "fields: Must be 25 or fewer in length."
	case e.Footer != nil && runeLen(e.Footer.Text) > 2048:
		return "footer.text: Must be 2048 or fewer in length."
	case e.Author != nil && runeLen(e.Author.Name) > 256:
		return "author.name: Must be 256 or fewer in length."
	}
	for i, f := range e.Fields {
		if f == nil {
			continue
		}
		if f.Name == "" || runeLen(f.Name) > 256 {
			return fmt.Sprintf("fields.%d.name: Must be between 1 and 256 in length.", i)
		}
		if f.Value == "" || runeLen(f.Value) > 1024 {
			return fmt.Sprintf("fields.%d.value: Must be between 1 and 1024 in length.", i)
		}
	}
	if e.Timestamp != "" {
		if _, err := time.Parse(time.RFC3339, e.Timestamp); err != nil {
			return "timestamp: Could not parse " + e.Timestamp + "."
		}
	}
	return ""
}

func embedSize(e *discordgo.MessageEmbed) int {
	n := runeLen(e.Title) + runeLen(e.Description)
	for _, f := range e.Fields {
		if f != nil {
			n += runeLen(f.Name) + runeLen(f.Value)
		}
	}
	if e.Footer != nil {
		n += runeLen(e.Footer.Text)
	}
	if e.Author != nil {
		n += runeLen(e.Author.Name)
	}
	return n
}

// messageJSON renders a stored message the way Discord answers.
func messageJSON(m Message) map[string]any {
	out := map[string]any{
		"id":         m.ID,
		"channel_id": m.ChannelID,
		"content":    m.Content,
		"embeds":     m.Embeds,
		"author":     botUser(),
		"timestamp":  time.Now().UTC().Format(time.RFC3339),
		"flags":      m.Flags,
		"type":       0,
	}
	if out["embeds"] == nil {
		out["embeds"] = []any{}
	}
	if m.Nonce != "" {
		out["nonce"] = m.Nonce
	}
	return out
}

func (s *Server) handleCreateMessage(_ http.ResponseWriter, r *http.Request, body []byte) (int, any) {
	channel := r.PathValue("channel")
	var req messageRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return http.StatusBadRequest, apiError(50109, "The request body contains invalid JSON.")
	}
	nonce, err := nonceString(req.Nonce)
	if err != nil {
		return http.StatusBadRequest, invalidForm("nonce: " + err.Error())
	}
	if runeLen(nonce) > maxNonceLen {
		return http.StatusBadRequest, invalidForm("nonce: Must be 25 or fewer in length.")
	}
	if e := validateMessage(req, true); e != nil {
		return http.StatusBadRequest, *e
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if req.EnforceNonce && nonce != "" {
		// Discord keeps enforced nonces for a few minutes; the fake keeps
		// them for its lifetime, which is longer than any test.
		if id, ok := s.nonces[channel][nonce]; ok {
			if i := s.messageIndexLocked(channel, id); i >= 0 {
				return http.StatusOK, messageJSON(s.messages[channel][i])
			}
			// Deleted since: Discord still answers with the message the
			// nonce created, and creates nothing.
			return http.StatusOK, messageJSON(s.deleted[id])
		}
	}
	m := Message{
		ID:              s.newIDLocked(),
		ChannelID:       channel,
		Nonce:           nonce,
		EnforceNonce:    req.EnforceNonce,
		Embeds:          req.Embeds,
		AllowedMentions: req.AllowedMentions,
		Flags:           req.Flags,
		Raw:             append(json.RawMessage(nil), body...),
	}
	if req.Content != nil {
		m.Content = *req.Content
	}
	s.messages[channel] = append(s.messages[channel], m)
	s.history[m.ID] = []Message{m}
	if req.EnforceNonce && nonce != "" {
		if s.nonces[channel] == nil {
			s.nonces[channel] = map[string]string{}
		}
		s.nonces[channel][nonce] = m.ID
	}
	s.notifyLocked()
	return http.StatusOK, messageJSON(m)
}

// messageIndexLocked returns the index of a message in its channel, -1
// when there is none (or it was deleted).
func (s *Server) messageIndexLocked(channel, id string) int {
	for i, m := range s.messages[channel] {
		if m.ID == id {
			return i
		}
	}
	return -1
}

// handleEditMessage is PATCH /channels/{channel}/messages/{message}: the
// fields present replace the message's, validated as a create is.
func (s *Server) handleEditMessage(_ http.ResponseWriter, r *http.Request, body []byte) (int, any) {
	channel, id := r.PathValue("channel"), r.PathValue("message")
	var req messageRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return http.StatusBadRequest, apiError(50109, "The request body contains invalid JSON.")
	}
	if e := validateMessage(req, false); e != nil {
		return http.StatusBadRequest, *e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.messageIndexLocked(channel, id)
	if i < 0 {
		return http.StatusNotFound, apiError(10008, "Unknown Message")
	}
	m := s.messages[channel][i]
	applyEdit(&m, req)
	if m.Content == "" && len(m.Embeds) == 0 {
		return http.StatusBadRequest, apiError(50006, "Cannot send an empty message")
	}
	m.Edits++
	m.Raw = append(json.RawMessage(nil), body...)
	s.messages[channel][i] = m
	s.history[id] = append(s.history[id], m)
	s.notifyLocked()
	return http.StatusOK, messageJSON(m)
}

// ChannelMessage returns a message of a channel as it now reads (after any
// edits); false when there is none or it was deleted.
func (s *Server) ChannelMessage(channelID, messageID string) (Message, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if i := s.messageIndexLocked(channelID, messageID); i >= 0 {
		return s.messages[channelID][i], true
	}
	return Message{}, false
}

// MessageHistory returns every version of a channel message, oldest
// first: as created, then as each PATCH left it (Raw is that request's
// body). A deleted message keeps its history.
func (s *Server) MessageHistory(channelID, messageID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []Message
	for _, m := range s.history[messageID] {
		if m.ChannelID == channelID {
			out = append(out, m)
		}
	}
	return out
}

// WaitMessageEdits waits until a channel message received at least n
// edits and returns it as it then reads; it fails the test after timeout
// or when the message does not exist.
func (s *Server) WaitMessageEdits(tb testing.TB, channelID, messageID string, n int, timeout time.Duration) Message {
	tb.Helper()
	ok := s.waitFor(timeout, func() bool {
		i := s.messageIndexLocked(channelID, messageID)
		return i >= 0 && s.messages[channelID][i].Edits >= n
	})
	m, found := s.ChannelMessage(channelID, messageID)
	if !ok {
		tb.Fatalf("fakediscord: message %s in channel %s has %d edits after %v (exists: %v), want at least %d", messageID, channelID, m.Edits, timeout, found, n)
	}
	return m
}

// DeleteMessage deletes a channel message, as a moderator would in
// Discord: it leaves Messages, and editing it answers 404 Unknown Message
// (code 10008). It reports whether the message existed.
func (s *Server) DeleteMessage(channelID, messageID string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.messageIndexLocked(channelID, messageID)
	if i < 0 {
		return false
	}
	msgs := s.messages[channelID]
	s.deleted[messageID] = msgs[i]
	s.messages[channelID] = append(msgs[:i:i], msgs[i+1:]...)
	s.notifyLocked()
	return true
}

// handleGetMessage is GET /channels/{channel}/messages/{message}: the
// message as it now reads, or 404 Unknown Message once deleted.
func (s *Server) handleGetMessage(_ http.ResponseWriter, r *http.Request, _ []byte) (int, any) {
	m, ok := s.ChannelMessage(r.PathValue("channel"), r.PathValue("message"))
	if !ok {
		return http.StatusNotFound, apiError(10008, "Unknown Message")
	}
	return http.StatusOK, messageJSON(m)
}

func (s *Server) handleListMessages(_ http.ResponseWriter, r *http.Request, _ []byte) (int, any) {
	msgs := s.Messages(r.PathValue("channel"))
	out := make([]map[string]any, 0, len(msgs))
	// Discord lists newest first.
	for i := len(msgs) - 1; i >= 0; i-- {
		out = append(out, messageJSON(msgs[i]))
	}
	return http.StatusOK, out
}

func (s *Server) handleBulkOverwrite(_ http.ResponseWriter, r *http.Request, body []byte) (int, any) {
	if app := r.PathValue("app"); app != ApplicationID {
		return http.StatusForbidden, apiError(50035, "Invalid Form Body: application_id "+app+" is not this bot's")
	}
	var cmds []*discordgo.ApplicationCommand
	if err := json.Unmarshal(body, &cmds); err != nil {
		return http.StatusBadRequest, apiError(50109, "The request body contains invalid JSON.")
	}
	guild := r.PathValue("guild")
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range cmds {
		if c == nil || c.Name == "" {
			return http.StatusBadRequest, invalidForm("name: This field is required")
		}
		if c.ID == "" {
			c.ID = s.newIDLocked()
		}
		c.ApplicationID = ApplicationID
		c.GuildID = guild
		c.Version = "1"
	}
	s.commands = append(s.commands, CommandOverwrite{ApplicationID: ApplicationID, GuildID: guild, Commands: cmds})
	s.current[guild] = cmds
	s.notifyLocked()
	return http.StatusOK, cmds
}

func (s *Server) handleListCommands(_ http.ResponseWriter, r *http.Request, _ []byte) (int, any) {
	cmds := s.RegisteredCommands(r.PathValue("guild"))
	if cmds == nil {
		cmds = []*discordgo.ApplicationCommand{}
	}
	return http.StatusOK, cmds
}

func (s *Server) handleInteractionCallback(_ http.ResponseWriter, r *http.Request, body []byte) (int, any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.recordInitialResponseLocked(r.PathValue("id"), r.PathValue("token"), body, false); e != nil {
		return http.StatusBadRequest, *e
	}
	return http.StatusNoContent, nil
}

// recordInitialResponseLocked records the initial response to an
// interaction, however it came (callback route or HTTP body). It refuses a
// second one, as Discord does.
func (s *Server) recordInitialResponseLocked(id, token string, body []byte, viaHTTP bool) *apiErr {
	var resp discordgo.InteractionResponse
	if err := json.Unmarshal(body, &resp); err != nil {
		e := apiError(50109, "The request body contains invalid JSON.")
		return &e
	}
	var raw struct {
		Data *messageRequest `json:"data"`
	}
	_ = json.Unmarshal(body, &raw)
	for _, prev := range s.interactionResponses {
		if prev.Token == token {
			e := apiError(40060, "Interaction has already been acknowledged.")
			return &e
		}
	}
	s.interactionResponses = append(s.interactionResponses, InteractionResponse{
		InteractionID: id,
		Token:         token,
		Response:      resp,
		Raw:           append(json.RawMessage(nil), body...),
		ViaHTTP:       viaHTTP,
	})
	// Responses that show a message (4) or a "thinking" state (5) create
	// the original response, which the bot can then read, edit or delete.
	if resp.Type == discordgo.InteractionResponseChannelMessageWithSource ||
		resp.Type == discordgo.InteractionResponseDeferredChannelMessageWithSource {
		m := &Message{ID: s.newIDLocked(), Token: token, Raw: append(json.RawMessage(nil), body...)}
		if raw.Data != nil {
			applyEdit(m, *raw.Data)
		}
		m.Loading = resp.Type == discordgo.InteractionResponseDeferredChannelMessageWithSource
		s.webhookMessages[token+"/@original"] = m
	}
	s.notifyLocked()
	return nil
}

// applyEdit copies the fields present in req onto m, as a PATCH does.
func applyEdit(m *Message, req messageRequest) {
	if req.Content != nil {
		m.Content = *req.Content
	}
	if req.Embeds != nil {
		m.Embeds = req.Embeds
	}
	if req.AllowedMentions != nil {
		m.AllowedMentions = req.AllowedMentions
	}
	if req.Flags != 0 {
		m.Flags = req.Flags
	}
}

// settle waits (boundedly) while the bot's HTTP answer to PostInteraction
// for this token is still on its way: Discord has the initial response
// before anything can act on the message it creates, and the fake keeps
// that order even though the bot's next request may reach it first.
func (s *Server) settle(token string) {
	s.waitFor(5*time.Second, func() bool { return !s.inflight[token] })
}

func (s *Server) handleFollowup(_ http.ResponseWriter, r *http.Request, body []byte) (int, any) {
	var req messageRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return http.StatusBadRequest, apiError(50109, "The request body contains invalid JSON.")
	}
	if e := validateMessage(req, true); e != nil {
		return http.StatusBadRequest, *e
	}
	token := r.PathValue("token")
	s.settle(token)
	s.mu.Lock()
	defer s.mu.Unlock()
	m := &Message{ID: s.newIDLocked(), Token: token, Raw: append(json.RawMessage(nil), body...)}
	applyEdit(m, req)
	shown := m
	if orig, ok := s.webhookMessages[token+"/@original"]; ok && orig.Loading {
		// Discord takes the first follow-up after a deferral that nothing
		// completed yet as the completion: it edits the placeholder, which
		// keeps the deferral's flags (an ephemeral follow-up of a public
		// deferral is public).
		keep := orig.Flags
		applyEdit(orig, req)
		orig.Flags = keep
		orig.Loading = false
		orig.Raw = append(json.RawMessage(nil), body...)
		m.ID, m.CompletedDeferral = orig.ID, true
		shown = orig
	} else {
		s.webhookMessages[token+"/"+m.ID] = m
	}
	s.followups = append(s.followups, *m)
	s.notifyLocked()
	if r.URL.Query().Get("wait") != "true" {
		return http.StatusNoContent, nil
	}
	return http.StatusOK, messageJSON(*shown)
}

func (s *Server) handleGetWebhookMessage(_ http.ResponseWriter, r *http.Request, _ []byte) (int, any) {
	s.settle(r.PathValue("token"))
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.webhookMessages[r.PathValue("token")+"/"+r.PathValue("msg")]
	if !ok {
		return http.StatusNotFound, apiError(10008, "Unknown Message")
	}
	return http.StatusOK, messageJSON(*m)
}

func (s *Server) handleEditWebhookMessage(_ http.ResponseWriter, r *http.Request, body []byte) (int, any) {
	var req messageRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return http.StatusBadRequest, apiError(50109, "The request body contains invalid JSON.")
	}
	if e := validateMessage(req, false); e != nil {
		return http.StatusBadRequest, *e
	}
	s.settle(r.PathValue("token"))
	s.mu.Lock()
	defer s.mu.Unlock()
	m, ok := s.webhookMessages[r.PathValue("token")+"/"+r.PathValue("msg")]
	if !ok {
		return http.StatusNotFound, apiError(10008, "Unknown Message")
	}
	// An edit cannot make a message ephemeral or public: Discord keeps the
	// visibility it was created with.
	keep := m.Flags & int(discordgo.MessageFlagsEphemeral)
	applyEdit(m, req)
	m.Flags = m.Flags&^int(discordgo.MessageFlagsEphemeral) | keep
	m.Loading = false
	m.Raw = append(json.RawMessage(nil), body...)
	s.notifyLocked()
	return http.StatusOK, messageJSON(*m)
}

func (s *Server) handleDeleteWebhookMessage(_ http.ResponseWriter, r *http.Request, _ []byte) (int, any) {
	token := r.PathValue("token")
	s.settle(token)
	s.mu.Lock()
	defer s.mu.Unlock()
	key := token + "/" + r.PathValue("msg")
	if _, ok := s.webhookMessages[key]; !ok {
		return http.StatusNotFound, apiError(10008, "Unknown Message")
	}
	delete(s.webhookMessages, key)
	if r.PathValue("msg") == "@original" {
		s.deletedOriginals[token] = true
	}
	s.notifyLocked()
	return http.StatusNoContent, nil
}
