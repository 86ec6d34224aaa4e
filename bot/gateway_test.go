package bot

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/backchannel/backchannel/commands"
	"github.com/backchannel/backchannel/internal/fakediscord"
)

// gwOpen connects a real discordgo session to the fake's gateway with h
// attached.
func gwOpen(t *testing.T, h InteractionHandler) *fakediscord.Server {
	t.Helper()
	fake := fakediscord.New(t)
	s, err := NewSession(SessionConfig{Token: fake.Token(), APIURL: fake.URL()})
	if err != nil {
		t.Fatal(err)
	}
	ServeGateway(s, h, nil)
	if err := s.Open(); err != nil {
		t.Fatalf("open gateway: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	fake.WaitGatewayConnected(t, 5*time.Second)
	return fake
}

func gwInteraction(token string) map[string]any {
	var m map[string]any
	_ = json.Unmarshal(itxInteraction("700000000000000001", token, "feeds"), &m)
	m["application_id"] = fakediscord.ApplicationID
	return m
}

// TestGatewayInteraction: an INTERACTION_CREATE on the gateway is answered
// through the callback route, by the same commands handler as HTTP.
func TestGatewayInteraction(t *testing.T) {
	fake := gwOpen(t, itxCommands())
	if err := fake.Dispatch("INTERACTION_CREATE", gwInteraction("gw-token-1")); err != nil {
		t.Fatal(err)
	}
	got := fake.WaitInteractionResponses(t, 1, 5*time.Second)[0]
	if got.InteractionID != "700000000000000001" || got.Token != "gw-token-1" {
		t.Errorf("callback for %s/%s", got.InteractionID, got.Token)
	}
	if got.Response.Type != discordgo.InteractionResponseChannelMessageWithSource {
		t.Errorf("type %d", got.Response.Type)
	}
	if got.Response.Data == nil || len(got.Response.Data.Embeds) != 1 || !strings.Contains(got.Response.Data.Embeds[0].Description, "wire — <https://wire.example/feed>") {
		t.Errorf("response: %s", got.Raw)
	}
	if !strings.Contains(string(got.Raw), `"parse":[]`) {
		t.Errorf("allowed_mentions not an empty parse list: %s", got.Raw)
	}
	m, ok := fake.OriginalResponse("gw-token-1")
	if !ok || !m.MentionsSuppressed() {
		t.Errorf("original response %+v", m)
	}
}

// TestGatewayDeferredEdit: a slow handler's answer arrives as an edit of
// the automatically deferred response.
func TestGatewayDeferredEdit(t *testing.T) {
	fake := fakediscord.New(t)
	h := itxHandlerFunc(func(ctx context.Context, i *discordgo.Interaction, r commands.Responder) {
		// Slow: answer only once the transport has acknowledged for us
		// (waiting on the fake, not on a clock, so a loaded machine cannot
		// reorder the two).
		fake.WaitInteractionResponses(t, 1, 5*time.Second)
		_ = r.Respond(ctx, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: &discordgo.InteractionResponseData{Content: "late but here", AllowedMentions: commands.NoMentions()}})
	})
	s, err := NewSession(SessionConfig{Token: fake.Token(), APIURL: fake.URL()})
	if err != nil {
		t.Fatal(err)
	}
	s.AddHandler(func(s *discordgo.Session, ic *discordgo.InteractionCreate) {
		serveGatewayInteraction(s, h, ic.Interaction, 20*time.Millisecond)
	})
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	fake.WaitGatewayConnected(t, 5*time.Second)
	if err := fake.Dispatch("INTERACTION_CREATE", gwInteraction("gw-token-2")); err != nil {
		t.Fatal(err)
	}
	if got := fake.WaitInteractionResponses(t, 1, 5*time.Second)[0]; got.Response.Type != discordgo.InteractionResponseDeferredChannelMessageWithSource {
		t.Fatalf("want a deferral first, got %s", got.Raw)
	}
	m := fake.WaitOriginalResponse(t, "gw-token-2", 5*time.Second, func(m fakediscord.Message) bool { return m.Content == "late but here" })
	if !m.MentionsSuppressed() {
		t.Errorf("edit without empty allowed_mentions: %s", m.Raw)
	}
	if n := len(fake.InteractionResponses()); n != 1 {
		t.Errorf("%d callbacks, want 1", n)
	}
}
