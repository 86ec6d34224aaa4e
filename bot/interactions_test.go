package bot

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/backchannel/backchannel/commands"
	"github.com/backchannel/backchannel/model"
)

// itxFeeds is the one store the transport tests need: /feeds list reads it.
type itxFeeds struct{}

func (itxFeeds) Feeds(context.Context) ([]model.Feed, error) {
	return []model.Feed{{ID: 1, Name: "wire", URL: "https://wire.example/feed", State: model.FeedState{Status: "ok"}}}, nil
}
func (itxFeeds) AddFeed(context.Context, model.Feed) (model.Feed, error) { return model.Feed{}, nil }
func (itxFeeds) RemoveFeed(context.Context, string) (model.Feed, error) {
	return model.Feed{}, model.ErrNotFound
}

func itxCommands() *commands.Handler {
	return commands.New(commands.Options{Feeds: itxFeeds{}})
}

// itxInteraction is a /feeds list (or another command) as Discord sends it.
func itxInteraction(id, token, command string) []byte {
	b, _ := json.Marshal(map[string]any{
		"id": id, "application_id": "app", "type": 2, "token": token, "version": 1,
		"guild_id": "100000000000000001", "channel_id": "110000000000000001",
		"member": map[string]any{"user": map[string]any{"id": "900000000000000001"}, "permissions": "0"},
		"data":   map[string]any{"id": "c1", "name": command, "type": 1, "options": []any{map[string]any{"name": "list", "type": 1}}},
	})
	return b
}

type itxKeys struct {
	pub  ed25519.PublicKey
	priv ed25519.PrivateKey
}

func itxNewKeys(t *testing.T) itxKeys {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	return itxKeys{pub, priv}
}

// post sends body signed with priv at ts (unless headers are overridden).
func itxPost(t *testing.T, h http.Handler, priv ed25519.PrivateKey, ts time.Time, body []byte, tweak func(*http.Request)) *httptest.ResponseRecorder {
	t.Helper()
	stamp := strconv.FormatInt(ts.Unix(), 10)
	sig := ed25519.Sign(priv, append([]byte(stamp), body...))
	r := httptest.NewRequest(http.MethodPost, "/interactions", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("X-Signature-Ed25519", hex.EncodeToString(sig))
	r.Header.Set("X-Signature-Timestamp", stamp)
	if tweak != nil {
		tweak(r)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func itxServer(t *testing.T, k itxKeys, h InteractionHandler, s *discordgo.Session) *InteractionsServer {
	t.Helper()
	srv, err := NewInteractionsServer(hex.EncodeToString(k.pub), h, s, InteractionsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return srv
}

func TestInteractionsSignedCommand(t *testing.T) {
	k := itxNewKeys(t)
	srv := itxServer(t, k, itxCommands(), nil)
	w := itxPost(t, srv, k.priv, time.Now(), itxInteraction("1", "tok", "feeds"), nil)
	if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("status %d %q: %s", w.Code, w.Header().Get("Content-Type"), w.Body)
	}
	var raw struct {
		Type int `json:"type"`
		Data struct {
			Embeds          []discordgo.MessageEmbed `json:"embeds"`
			AllowedMentions *struct {
				Parse []string `json:"parse"`
			} `json:"allowed_mentions"`
		} `json:"data"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &raw); err != nil {
		t.Fatalf("reply is not JSON: %v: %s", err, w.Body)
	}
	if raw.Type != int(discordgo.InteractionResponseChannelMessageWithSource) {
		t.Errorf("type %d", raw.Type)
	}
	if len(raw.Data.Embeds) != 1 || !strings.Contains(raw.Data.Embeds[0].Description, "wire — <https://wire.example/feed>") {
		t.Errorf("embeds: %+v", raw.Data.Embeds)
	}
	if raw.Data.AllowedMentions == nil || raw.Data.AllowedMentions.Parse == nil || len(raw.Data.AllowedMentions.Parse) != 0 {
		t.Errorf("allowed_mentions not an empty parse list: %s", w.Body)
	}
	if !strings.Contains(w.Body.String(), `"parse":[]`) {
		t.Errorf("body lacks \"parse\":[]: %s", w.Body)
	}
}

func TestInteractionsPingPong(t *testing.T) {
	k := itxNewKeys(t)
	srv := itxServer(t, k, itxCommands(), nil)
	w := itxPost(t, srv, k.priv, time.Now(), []byte(`{"id":"p","type":1,"token":"t","application_id":"app"}`), nil)
	if w.Code != http.StatusOK || strings.TrimSpace(w.Body.String()) != `{"type":1}` {
		t.Fatalf("PING: %d %s", w.Code, w.Body)
	}
}

// TestInteractionsRefused: nothing unsigned, badly signed, stale or too big
// reaches the handler.
func TestInteractionsRefused(t *testing.T) {
	k := itxNewKeys(t)
	other := itxNewKeys(t)
	body := itxInteraction("1", "tok", "feeds")
	called := false
	h := itxHandlerFunc(func(ctx context.Context, i *discordgo.Interaction, r commands.Responder) {
		called = true
		_ = r.Respond(ctx, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource, Data: &discordgo.InteractionResponseData{Content: "x"}})
	})
	var rejected []string
	srv, err := NewInteractionsServer(hex.EncodeToString(k.pub), h, nil, InteractionsOptions{
		Rejected: func(reason string) { rejected = append(rejected, reason) },
	})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	tests := []struct {
		name   string
		priv   ed25519.PrivateKey
		ts     time.Time
		body   []byte
		tweak  func(*http.Request)
		status int
		reason string // told to Rejected; "" for none
	}{
		{"wrong key", other.priv, now, body, nil, 401, RejectBadSignature},
		{"missing signature", k.priv, now, body, func(r *http.Request) { r.Header.Del("X-Signature-Ed25519") }, 401, RejectBadSignature},
		{"missing timestamp", k.priv, now, body, func(r *http.Request) { r.Header.Del("X-Signature-Timestamp") }, 401, RejectBadSignature},
		{"missing both", k.priv, now, body, func(r *http.Request) { r.Header = http.Header{} }, 401, RejectBadSignature},
		{"signature not hex", k.priv, now, body, func(r *http.Request) { r.Header.Set("X-Signature-Ed25519", "zz") }, 401, RejectBadSignature},
		{"signature short", k.priv, now, body, func(r *http.Request) { r.Header.Set("X-Signature-Ed25519", "abcd") }, 401, RejectBadSignature},
		{"timestamp not a number", k.priv, now, body, func(r *http.Request) { r.Header.Set("X-Signature-Timestamp", "yesterday") }, 401, RejectBadSignature},
		{"stale timestamp", k.priv, now.Add(-6 * time.Minute), body, nil, 401, RejectStaleTimestamp},
		{"future timestamp", k.priv, now.Add(6 * time.Minute), body, nil, 401, RejectStaleTimestamp},
		{"timestamp changed after signing", k.priv, now, body, func(r *http.Request) {
			r.Header.Set("X-Signature-Timestamp", strconv.FormatInt(now.Unix()+1, 10))
		}, 401, RejectBadSignature},
		{"body changed after signing", k.priv, now, body, func(r *http.Request) {
			r.Body = io.NopCloser(bytes.NewReader(bytes.Replace(body, []byte(`"permissions":"0"`), []byte(`"permissions":"8"`), 1)))
		}, 401, RejectBadSignature},
		{"too big", k.priv, now, bytes.Repeat([]byte(" "), interactionsMaxBody+1), nil, 413, RejectTooLarge},
		{"signed garbage", k.priv, now, []byte(`{"type":2,"data":[`), nil, 400, RejectMalformed},
		{"GET", k.priv, now, body, func(r *http.Request) { r.Method = http.MethodGet }, 405, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rejected = nil
			w := itxPost(t, srv, tt.priv, tt.ts, tt.body, tt.tweak)
			if w.Code != tt.status {
				t.Errorf("status %d, want %d: %s", w.Code, tt.status, w.Body)
			}
			if want := []string{tt.reason}; tt.reason == "" && len(rejected) != 0 || tt.reason != "" && !slices.Equal(rejected, want) {
				t.Errorf("rejected %q, want %q", rejected, tt.reason)
			}
		})
	}
	if called {
		t.Error("a refused request reached the handler")
	}
	// Within the window, the same signed interaction is not handled twice.
	if w := itxPost(t, srv, k.priv, now, body, nil); w.Code != 200 || !called {
		t.Fatalf("first delivery: %d", w.Code)
	}
	called = false
	rejected = nil
	if w := itxPost(t, srv, k.priv, now, body, nil); w.Code != 401 || called || !slices.Equal(rejected, []string{RejectReplay}) {
		t.Errorf("replay: %d, handled=%v, rejected %q", w.Code, called, rejected)
	}
}

type itxHandlerFunc func(ctx context.Context, i *discordgo.Interaction, r commands.Responder)

func (f itxHandlerFunc) Handle(ctx context.Context, i *discordgo.Interaction, r commands.Responder) {
	f(ctx, i, r)
}

// itxREST records webhook edits, standing in for Discord's REST API.
type itxREST struct {
	mu    sync.Mutex
	edits []string // "PATCH path body"
	got   chan struct{}
}

func itxNewREST(t *testing.T) (*itxREST, *discordgo.Session) {
	t.Helper()
	rec := &itxREST{got: make(chan struct{}, 16)}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		rec.mu.Lock()
		rec.edits = append(rec.edits, r.Method+" "+r.URL.Path+" "+string(b))
		rec.mu.Unlock()
		rec.got <- struct{}{}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"id":"5","channel_id":"1"}`))
	}))
	t.Cleanup(ts.Close)
	s, err := NewSession(SessionConfig{Token: "t", APIURL: ts.URL + "/api/v10"})
	if err != nil {
		t.Fatal(err)
	}
	return rec, s
}

func (rec *itxREST) wait(t *testing.T) string {
	t.Helper()
	select {
	case <-rec.got:
	case <-time.After(5 * time.Second):
		t.Fatal("no REST request")
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return rec.edits[len(rec.edits)-1]
}

// TestInteractionsDeferredThenEdit: a handler that defers gets the deferral
// in the HTTP body and its later edit goes to the webhook route.
func TestInteractionsDeferredThenEdit(t *testing.T) {
	k := itxNewKeys(t)
	rec, s := itxNewREST(t)
	release := make(chan struct{})
	h := itxHandlerFunc(func(ctx context.Context, i *discordgo.Interaction, r commands.Responder) {
		_ = r.Respond(ctx, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral, AllowedMentions: commands.NoMentions()}})
		<-release // the slow part runs after the HTTP answer
		content := "Added feed"
		_ = r.EditResponse(ctx, &discordgo.WebhookEdit{Content: &content, AllowedMentions: commands.NoMentions()})
	})
	srv := itxServer(t, k, h, s)
	w := itxPost(t, srv, k.priv, time.Now(), itxInteraction("2", "tok2", "feeds"), nil)
	if !strings.HasPrefix(w.Body.String(), `{"type":5`) || !strings.Contains(w.Body.String(), `"flags":64`) {
		t.Fatalf("want an ephemeral deferral in the body, got %s", w.Body)
	}
	close(release)
	got := rec.wait(t)
	if !strings.HasPrefix(got, "PATCH /api/v10/webhooks/app/tok2/messages/@original ") || !strings.Contains(got, `"content":"Added feed"`) || !strings.Contains(got, `"parse":[]`) {
		t.Errorf("edit: %s", got)
	}
}

// TestInteractionsSlowHandlerAutoDefers: a handler slower than the
// acknowledgement deadline still gets its answer to the user.
func TestInteractionsSlowHandlerAutoDefers(t *testing.T) {
	k := itxNewKeys(t)
	rec, s := itxNewREST(t)
	acked := make(chan struct{})
	h := itxHandlerFunc(func(ctx context.Context, i *discordgo.Interaction, r commands.Responder) {
		<-acked // slower than the acknowledgement deadline, whatever the machine's load
		if err := r.Respond(ctx, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{Content: "slow answer", AllowedMentions: commands.NoMentions()}}); err != nil {
			t.Errorf("late respond: %v", err)
		}
	})
	srv := itxServer(t, k, h, s)
	srv.ackWait = 20 * time.Millisecond
	w := itxPost(t, srv, k.priv, time.Now(), itxInteraction("3", "tok3", "feeds"), nil)
	close(acked)
	if !strings.HasPrefix(w.Body.String(), `{"type":5`) || !strings.Contains(w.Body.String(), `"parse":[]`) {
		t.Fatalf("want an automatic deferral, got %s", w.Body)
	}
	if got := rec.wait(t); !strings.Contains(got, "/webhooks/app/tok3/messages/@original") || !strings.Contains(got, "slow answer") {
		t.Errorf("edit: %s", got)
	}
}

func TestInteractionsHandlerWiring(t *testing.T) {
	if h := InteractionsHandler("", itxCommands(), nil, InteractionsOptions{}); h != nil {
		t.Error("no public key should serve no endpoint")
	}
	h := InteractionsHandler("not-hex", itxCommands(), nil, InteractionsOptions{})
	if h == nil {
		t.Fatal("invalid key: want a refusing endpoint")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/interactions", strings.NewReader("{}")))
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("invalid key: %d", w.Code)
	}
}

// flushWriter notes when the response was flushed.
type flushWriter struct {
	*httptest.ResponseRecorder
	flushed atomic.Bool
}

func (w *flushWriter) Flush() {
	w.ResponseRecorder.Flush()
	w.flushed.Store(true)
}

// TestInteractionsBodyBeforeWebhooks: the handler's next step after its
// first response (here an edit of its deferral) starts only once that
// response is written and flushed, so it cannot reach Discord before the
// message it acts on exists.
func TestInteractionsBodyBeforeWebhooks(t *testing.T) {
	k := itxNewKeys(t)
	w := &flushWriter{ResponseRecorder: httptest.NewRecorder()}
	var flushedAtEdit atomic.Bool
	got := make(chan struct{}, 1)
	ts := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		flushedAtEdit.Store(w.flushed.Load())
		got <- struct{}{}
		rw.Header().Set("Content-Type", "application/json")
		_, _ = rw.Write([]byte(`{"id":"5","channel_id":"1"}`))
	}))
	t.Cleanup(ts.Close)
	s, err := NewSession(SessionConfig{Token: "t", APIURL: ts.URL + "/api/v10"})
	if err != nil {
		t.Fatal(err)
	}
	h := itxHandlerFunc(func(ctx context.Context, i *discordgo.Interaction, r commands.Responder) {
		if err := r.Respond(ctx, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{AllowedMentions: commands.NoMentions()}}); err != nil {
			t.Errorf("respond: %v", err)
		}
		content := "done"
		_ = r.EditResponse(ctx, &discordgo.WebhookEdit{Content: &content, AllowedMentions: commands.NoMentions()})
	})
	srv := itxServer(t, k, h, s)
	body := itxInteraction("6", "tok6", "feeds")
	stamp := strconv.FormatInt(time.Now().Unix(), 10)
	req := httptest.NewRequest(http.MethodPost, "/interactions", bytes.NewReader(body))
	req.Header.Set("X-Signature-Ed25519", hex.EncodeToString(ed25519.Sign(k.priv, append([]byte(stamp), body...))))
	req.Header.Set("X-Signature-Timestamp", stamp)
	srv.ServeHTTP(w, req)
	if !strings.HasPrefix(w.Body.String(), `{"type":5`) || w.Header().Get("Content-Length") != strconv.Itoa(w.Body.Len()) {
		t.Fatalf("body %s, Content-Length %q", w.Body, w.Header().Get("Content-Length"))
	}
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("no edit")
	}
	if !flushedAtEdit.Load() {
		t.Error("the edit left before the deferral was flushed")
	}
}
