package fakediscord_test

import (
	"context"
	"crypto/ed25519"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/backchannel/backchannel/internal/fakediscord"
)

// endpoint is a bot's HTTP interactions endpoint that checks the fake's
// signature and answers with body; before, if set, runs first.
func endpoint(t *testing.T, fd *fakediscord.Server, body string, before func()) string {
	t.Helper()
	key, err := hex.DecodeString(fd.PublicKey())
	if err != nil || len(key) != ed25519.PublicKeySize {
		t.Fatalf("PublicKey %q: %v", fd.PublicKey(), err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		sig, _ := hex.DecodeString(r.Header.Get("X-Signature-Ed25519"))
		ts := r.Header.Get("X-Signature-Timestamp")
		if sec, err := strconv.ParseInt(ts, 10, 64); err != nil || time.Since(time.Unix(sec, 0)).Abs() > time.Minute ||
			!ed25519.Verify(key, append([]byte(ts), b...), sig) {
			http.Error(w, "bad signature", http.StatusUnauthorized)
			return
		}
		if before != nil {
			before()
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/interactions"
}

// itx is an application command interaction; its id is derived from the
// token, so each test interaction has its own.
func itx(token string) *discordgo.Interaction {
	return &discordgo.Interaction{
		ID: "id-" + token, AppID: fakediscord.ApplicationID, Type: discordgo.InteractionApplicationCommand,
		Token: token, Version: 1,
	}
}

func postItx(t *testing.T, fd *fakediscord.Server, url string, i *discordgo.Interaction) fakediscord.InteractionResponse {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := fd.PostInteraction(ctx, url, i)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

const publicDeferral = `{"type":5,"data":{"allowed_mentions":{"parse":[]}}}`

// TestPostInteractionDeferredBody: a deferral in the HTTP body is the
// interaction's original response: it can be read, edited, followed up and
// deleted through the webhook routes, and a callback after it is refused.
func TestPostInteractionDeferredBody(t *testing.T) {
	t.Parallel()
	fd := fakediscord.New(t)
	s := session(t, fd, fd.Token())
	i := itx("http-tok-1")
	got := postItx(t, fd, endpoint(t, fd, publicDeferral, nil), i)
	if !got.ViaHTTP || got.Token != i.Token || got.InteractionID != i.ID || got.Response.Type != discordgo.InteractionResponseDeferredChannelMessageWithSource {
		t.Fatalf("recorded %+v", got)
	}
	if all := fd.InteractionResponses(); len(all) != 1 || !all[0].ViaHTTP {
		t.Errorf("responses %+v", all)
	}
	orig, ok := fd.OriginalResponse(i.Token)
	if !ok || !orig.Loading || orig.Flags != 0 {
		t.Fatalf("original after the deferral: %v %+v", ok, orig)
	}

	content := "done"
	if _, err := s.InteractionResponseEdit(i, &discordgo.WebhookEdit{Content: &content}); err != nil {
		t.Fatalf("PATCH @original: %v", err)
	}
	orig, _ = fd.OriginalResponse(i.Token)
	if orig.Content != "done" || orig.Loading {
		t.Errorf("original after the edit: %+v", orig)
	}
	if m, err := s.InteractionResponse(i); err != nil || m.Content != "done" {
		t.Errorf("GET @original: %v %+v", err, m)
	}

	f, err := s.FollowupMessageCreate(i, true, &discordgo.WebhookParams{Content: "private", Flags: discordgo.MessageFlagsEphemeral,
		AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}})
	if err != nil {
		t.Fatalf("follow-up: %v", err)
	}
	fu := fd.WaitFollowups(t, i.Token, 1, time.Second)
	if fu[0].Content != "private" || fu[0].Flags != int(discordgo.MessageFlagsEphemeral) || fu[0].CompletedDeferral ||
		!fu[0].MentionsSuppressed() || fu[0].ID != f.ID || f.ID == orig.ID {
		t.Errorf("follow-up %+v (answer %+v)", fu[0], f)
	}

	edited := "still private"
	if _, err := s.FollowupMessageEdit(i, f.ID, &discordgo.WebhookEdit{Content: &edited}); err != nil {
		t.Fatalf("edit follow-up: %v", err)
	}
	if m, ok := fd.WebhookMessage(i.Token, f.ID); !ok || m.Content != edited || m.Flags != int(discordgo.MessageFlagsEphemeral) {
		t.Errorf("follow-up after its edit: %v %+v", ok, m)
	}
	if fu := fd.Followups(); len(fu) != 1 || fu[0].Content != "private" {
		t.Errorf("Followups keeps what was sent: %+v", fu)
	}

	if fd.OriginalDeleted(i.Token) {
		t.Error("deleted before DELETE")
	}
	if err := s.InteractionResponseDelete(i); err != nil {
		t.Fatalf("DELETE @original: %v", err)
	}
	if _, ok := fd.OriginalResponse(i.Token); ok || !fd.OriginalDeleted(i.Token) {
		t.Errorf("original still there after DELETE (deleted=%v)", fd.OriginalDeleted(i.Token))
	}
	if err := s.InteractionResponseDelete(i); err == nil {
		t.Error("second DELETE of @original accepted")
	}

	if err := s.InteractionRespond(i, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Content: "again"}}); err == nil || !strings.Contains(err.Error(), "40060") {
		t.Errorf("callback after an HTTP answer: %v, want 40060", err)
	}
}

// TestFollowupCompletesLoadingDeferral: as on Discord, the first follow-up
// after a deferral nothing completed edits the placeholder and keeps its
// visibility; once the placeholder is deleted, a follow-up is a message of
// its own with its own flags.
func TestFollowupCompletesLoadingDeferral(t *testing.T) {
	t.Parallel()
	fd := fakediscord.New(t)
	s := session(t, fd, fd.Token())
	url := endpoint(t, fd, publicDeferral, nil)
	eph := &discordgo.WebhookParams{Content: "secret", Flags: discordgo.MessageFlagsEphemeral}

	i := itx("http-tok-2")
	postItx(t, fd, url, i)
	if _, err := s.FollowupMessageCreate(i, true, eph); err != nil {
		t.Fatal(err)
	}
	fu := fd.WaitFollowups(t, i.Token, 1, time.Second)
	orig, ok := fd.OriginalResponse(i.Token)
	if !fu[0].CompletedDeferral || fu[0].ID != orig.ID || !ok || orig.Loading || orig.Content != "secret" || orig.Flags != 0 {
		t.Errorf("follow-up %+v; original %+v: want the public original completed", fu[0], orig)
	}
	// The next one is a message of its own.
	if _, err := s.FollowupMessageCreate(i, true, eph); err != nil {
		t.Fatal(err)
	}
	if fu := fd.WaitFollowups(t, i.Token, 2, time.Second); fu[1].CompletedDeferral || fu[1].Flags != int(discordgo.MessageFlagsEphemeral) {
		t.Errorf("second follow-up %+v", fu[1])
	}

	j := itx("http-tok-3")
	postItx(t, fd, url, j)
	if err := s.InteractionResponseDelete(j); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FollowupMessageCreate(j, true, eph); err != nil {
		t.Fatal(err)
	}
	if fu := fd.WaitFollowups(t, j.Token, 1, time.Second); fu[0].CompletedDeferral || fu[0].Flags != int(discordgo.MessageFlagsEphemeral) {
		t.Errorf("follow-up after DELETE %+v", fu[0])
	}
	if len(fd.Followups()) != 3 {
		t.Errorf("%d follow-ups in all, want 3", len(fd.Followups()))
	}
}

// TestEditKeepsVisibility: an edit cannot turn a public message ephemeral.
func TestEditKeepsVisibility(t *testing.T) {
	t.Parallel()
	fd := fakediscord.New(t)
	s := session(t, fd, fd.Token())
	i := itx("http-tok-4")
	postItx(t, fd, endpoint(t, fd, `{"type":4,"data":{"content":"public"}}`, nil), i)
	if _, err := s.RequestWithBucketID(http.MethodPatch, discordgo.EndpointWebhookMessage(i.AppID, i.Token, "@original"),
		map[string]any{"content": "still public", "flags": 64}, "x"); err != nil {
		t.Fatal(err)
	}
	if orig, _ := fd.OriginalResponse(i.Token); orig.Content != "still public" || orig.Flags != 0 || orig.Loading {
		t.Errorf("original %+v", orig)
	}
}

// TestWebhookWaitsForTheHTTPAnswer: an edit the bot sends while its HTTP
// answer is still on the way is applied after the answer, not refused.
func TestWebhookWaitsForTheHTTPAnswer(t *testing.T) {
	t.Parallel()
	fd := fakediscord.New(t)
	s := session(t, fd, fd.Token())
	i := itx("http-tok-5")
	edited := make(chan error, 1)
	url := endpoint(t, fd, publicDeferral, func() {
		go func() {
			content := "edited"
			_, err := s.InteractionResponseEdit(i, &discordgo.WebhookEdit{Content: &content})
			edited <- err
		}()
		time.Sleep(20 * time.Millisecond) // let the edit arrive first, usually
	})
	postItx(t, fd, url, i)
	select {
	case err := <-edited:
		if err != nil {
			t.Fatalf("edit racing the answer: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("edit never answered")
	}
	if orig, _ := fd.OriginalResponse(i.Token); orig.Content != "edited" {
		t.Errorf("original %+v", orig)
	}
}

// TestPostInteractionRefusals: an endpoint that refuses, or answers twice
// for one interaction, records nothing.
func TestPostInteractionRefusals(t *testing.T) {
	t.Parallel()
	fd := fakediscord.New(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no", http.StatusUnauthorized)
	}))
	t.Cleanup(refusing.Close)
	if _, err := fd.PostInteraction(ctx, refusing.URL, itx("http-tok-6")); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("refused: %v", err)
	}
	if _, err := fd.PostInteraction(ctx, refusing.URL, map[string]any{"id": "1"}); err == nil {
		t.Error("interaction without a token accepted")
	}
	url := endpoint(t, fd, publicDeferral, nil)
	postItx(t, fd, url, itx("http-tok-7"))
	if _, err := fd.PostInteraction(ctx, url, itx("http-tok-7")); err == nil || !strings.Contains(err.Error(), "40060") {
		t.Errorf("second answer for one interaction: %v", err)
	}
	if n := len(fd.InteractionResponses()); n != 1 {
		t.Errorf("%d responses recorded, want 1", n)
	}
}
