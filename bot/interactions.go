package bot

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
)

// Limits of POST /interactions.
const (
	// interactionsMaxBody: interaction payloads are a few kilobytes; the
	// largest (resolved members and channels) stay far below this.
	interactionsMaxBody = 1 << 20
	// interactionsMaxSkew: a signed request is accepted this long after
	// (or, for clock drift, before) its timestamp, and no longer, so a
	// captured request cannot be replayed later.
	interactionsMaxSkew = 5 * time.Minute
)

// InteractionsServer serves Discord's HTTP interactions endpoint. Every
// request must carry a valid Ed25519 signature of timestamp+body by the
// application's public key; anything else is answered 401 before the body
// is even parsed. The first response goes back as the HTTP response body;
// what follows a deferred response (edits, and the delete and ephemeral
// follow-up that replace an automatic deferral; see interactionReply) goes
// through the REST webhook routes of the session.
type InteractionsServer struct {
	key      ed25519.PublicKey
	h        InteractionHandler
	session  *discordgo.Session
	logger   *slog.Logger
	rejected func(reason string)
	now      func() time.Time
	ackWait  time.Duration

	// seen remembers recently answered interaction ids, so a signed
	// request replayed within the timestamp window is refused too.
	mu   sync.Mutex
	seen map[string]time.Time
}

// Why a request to the interactions endpoint was refused, as told to
// InteractionsOptions.Rejected (and counted by metrics).
const (
	RejectBadSignature   = "bad_signature"   // no signature, or not the application's
	RejectStaleTimestamp = "stale_timestamp" // signed too long ago (or ahead)
	RejectReplay         = "replay"          // an interaction id already received
	RejectMalformed      = "malformed"       // unreadable body, or not an interaction
	RejectTooLarge       = "too_large"       // body over interactionsMaxBody
)

// InteractionsOptions are NewInteractionsServer's optional settings; the
// zero value works.
type InteractionsOptions struct {
	Logger *slog.Logger // [discard]
	// Rejected, when set, is told why each request was refused before the
	// handler ran: one of the Reject* reasons.
	Rejected func(reason string)
}

// NewInteractionsServer returns the endpoint for the hex-encoded public key
// shown in the Discord developer portal; opts may be zero. session is used
// only for the webhook routes that complete deferred responses; it may be
// nil when every answer fits the HTTP body.
func NewInteractionsServer(publicKeyHex string, h InteractionHandler, session *discordgo.Session, opts InteractionsOptions) (*InteractionsServer, error) {
	key, err := hex.DecodeString(strings.TrimSpace(publicKeyHex))
	if err != nil || len(key) != ed25519.PublicKeySize {
		return nil, errors.New("bot: discord.public_key is not a hex Ed25519 public key (64 hex characters)")
	}
	if h == nil {
		return nil, errors.New("bot: interactions endpoint without a handler")
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &InteractionsServer{
		key: key, h: h, session: session, logger: logger, rejected: opts.Rejected,
		now: time.Now, ackWait: interactionAckDeadline, seen: map[string]time.Time{},
	}, nil
}

// InteractionsHandler is NewInteractionsServer for wiring: it returns nil
// (serve no endpoint) when no public key is configured, and an endpoint
// that refuses every request, logging why, when the key is invalid.
func InteractionsHandler(publicKeyHex string, h InteractionHandler, session *discordgo.Session, opts InteractionsOptions) http.Handler {
	if strings.TrimSpace(publicKeyHex) == "" {
		return nil
	}
	srv, err := NewInteractionsServer(publicKeyHex, h, session, opts)
	if err != nil {
		if opts.Logger != nil {
			opts.Logger.Error("POST /interactions refuses every request", "err", err)
		}
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "interactions endpoint misconfigured", http.StatusServiceUnavailable)
		})
	}
	return srv
}

func (s *InteractionsServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	body, status, reason := s.verified(w, r)
	if status != http.StatusOK {
		s.reject(reason)
		http.Error(w, http.StatusText(status), status)
		return
	}
	var i discordgo.Interaction
	if err := json.Unmarshal(body, &i); err != nil {
		s.reject(RejectMalformed)
		http.Error(w, "malformed interaction", http.StatusBadRequest)
		return
	}
	if i.Type == discordgo.InteractionPing {
		// Discord checks the endpoint with a PING when it is saved.
		_ = s.writeJSON(w, &discordgo.InteractionResponse{Type: discordgo.InteractionResponsePong})
		return
	}
	if s.replayed(i.ID) {
		s.reject(RejectReplay)
		http.Error(w, "interaction already received", http.StatusUnauthorized)
		return
	}
	s.answer(w, r, &i)
}

func (s *InteractionsServer) reject(reason string) {
	if s.rejected != nil {
		s.rejected(reason)
	}
}

// verified reads the body and checks the signature and its timestamp. It
// returns the status to answer, and the reason, when they do not hold.
func (s *InteractionsServer) verified(w http.ResponseWriter, r *http.Request) ([]byte, int, string) {
	sigHex := r.Header.Get("X-Signature-Ed25519")
	ts := r.Header.Get("X-Signature-Timestamp")
	if sigHex == "" || ts == "" {
		return nil, http.StatusUnauthorized, RejectBadSignature
	}
	sig, err := hex.DecodeString(sigHex)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return nil, http.StatusUnauthorized, RejectBadSignature
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return nil, http.StatusUnauthorized, RejectBadSignature
	}
	if skew := s.now().Sub(time.Unix(sec, 0)); skew > interactionsMaxSkew || skew < -interactionsMaxSkew {
		return nil, http.StatusUnauthorized, RejectStaleTimestamp
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, interactionsMaxBody))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, http.StatusRequestEntityTooLarge, RejectTooLarge
		}
		return nil, http.StatusBadRequest, RejectMalformed
	}
	msg := make([]byte, 0, len(ts)+len(body))
	msg = append(append(msg, ts...), body...)
	if !ed25519.Verify(s.key, msg, sig) {
		return nil, http.StatusUnauthorized, RejectBadSignature
	}
	return body, http.StatusOK, ""
}

// replayed records id and reports whether it was already seen within the
// timestamp window. Ids are only remembered that long, so memory stays
// bounded by the request rate.
func (s *InteractionsServer) replayed(id string) bool {
	if id == "" {
		return false
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, t := range s.seen {
		if now.Sub(t) > 2*interactionsMaxSkew {
			delete(s.seen, k)
		}
	}
	if _, ok := s.seen[id]; ok {
		return true
	}
	s.seen[id] = now
	return false
}

// errInteractionRequestGone: the HTTP request of the interaction ended
// (Discord stopped waiting) before the handler's first response.
var errInteractionRequestGone = errors.New("bot: the interaction's HTTP request ended before its response")

// answer runs the handler and writes its first response as the HTTP body.
// The handler runs on its own goroutine with a context that outlives the
// request (up to the token's life), because after a deferred response it
// keeps working and edits the message through the REST route.
func (s *InteractionsServer) answer(w http.ResponseWriter, r *http.Request, i *discordgo.Interaction) {
	type firstResponse struct {
		resp    *discordgo.InteractionResponse
		written chan<- error
	}
	first := make(chan firstResponse)
	finished := make(chan struct{})
	defer close(finished)
	reply := &interactionReply{
		// send returns once the response is written and flushed, so
		// whatever the handler does next through the REST routes (edit,
		// delete, follow up) acts on a message Discord already has.
		send: func(ctx context.Context, resp *discordgo.InteractionResponse) error {
			written := make(chan error, 1)
			select {
			case first <- firstResponse{resp: resp, written: written}:
			case <-finished:
				return errInteractionRequestGone
			case <-ctx.Done():
				return fmt.Errorf("bot: respond to interaction: %w", ctx.Err())
			}
			return <-written // answer always reports once it took the response
		},
		hooks: interactionWebhooksVia(s.session, i),
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), interactionTokenLife)
	done := make(chan struct{})
	go func() {
		defer cancel()
		defer close(done)
		if interactionCanDefer(i) {
			// Slow handler: acknowledge on its behalf; see
			// interactionReply.
			t := time.AfterFunc(s.ackWait, func() { _ = reply.ackIfOpen(ctx) })
			defer t.Stop()
		}
		s.h.Handle(ctx, i, reply)
	}()

	select {
	case f := <-first:
		f.written <- s.writeJSON(w, f.resp)
	case <-done:
		// A handler that answered is still in send until the response is
		// written, so this one did not answer.
		s.logger.Warn("interaction not answered", "interaction", i.ID, "type", int(i.Type))
		http.Error(w, "interaction not answered", http.StatusInternalServerError)
	case <-r.Context().Done():
	}
}

// writeJSON writes resp as the whole response and flushes it.
func (s *InteractionsServer) writeJSON(w http.ResponseWriter, resp *discordgo.InteractionResponse) error {
	b, err := json.Marshal(resp)
	if err != nil {
		s.logger.Error("encode interaction response", "err", err)
		http.Error(w, "encode response", http.StatusInternalServerError)
		return fmt.Errorf("bot: encode interaction response: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("bot: write interaction response: %w", err)
	}
	if err := http.NewResponseController(w).Flush(); err != nil {
		return fmt.Errorf("bot: flush interaction response: %w", err)
	}
	return nil
}
