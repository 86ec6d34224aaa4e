package bot

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/backchannel/backchannel/commands"
	"github.com/backchannel/backchannel/internal/fakediscord"
	"github.com/backchannel/backchannel/model"
)

// The automatic acknowledgement, on both transports, against the fake
// Discord with the real discordgo client. A slow handler is one that waits
// until the fake has the automatic deferral, so no test depends on a
// machine being fast; a fast one gets an acknowledgement deadline it cannot
// miss.
const (
	ackSlow = 10 * time.Millisecond
	ackFast = time.Minute
	ackWait = 5 * time.Second // bound of every wait in these tests
)

// ackEnv is one transport wired to a fake Discord.
type ackEnv struct {
	fake    *fakediscord.Server
	deliver func(t *testing.T, interaction map[string]any)
}

type ackTransport struct {
	name  string
	start func(t *testing.T, h InteractionHandler, ackWait time.Duration) *ackEnv
}

var ackTransports = []ackTransport{
	{"gateway", ackGateway},
	{"http", ackHTTP},
}

// ackGateway: INTERACTION_CREATE over the fake's gateway, answered through
// the callback route.
func ackGateway(t *testing.T, h InteractionHandler, wait time.Duration) *ackEnv {
	t.Helper()
	fake := fakediscord.New(t)
	s, err := NewSession(SessionConfig{Token: fake.Token(), APIURL: fake.URL()})
	if err != nil {
		t.Fatal(err)
	}
	s.AddHandler(func(s *discordgo.Session, ic *discordgo.InteractionCreate) {
		serveGatewayInteraction(s, h, ic.Interaction, wait)
	})
	if err := s.Open(); err != nil {
		t.Fatalf("open gateway: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	fake.WaitGatewayConnected(t, ackWait)
	return &ackEnv{fake: fake, deliver: func(t *testing.T, m map[string]any) {
		t.Helper()
		if err := fake.Dispatch("INTERACTION_CREATE", m); err != nil {
			t.Fatal(err)
		}
	}}
}

// ackHTTP: the fake posts the interaction, signed, to the bot's
// interactions endpoint on a loopback port and takes the answer's body as
// the initial response.
func ackHTTP(t *testing.T, h InteractionHandler, wait time.Duration) *ackEnv {
	t.Helper()
	fake := fakediscord.New(t)
	s, err := NewSession(SessionConfig{Token: fake.Token(), APIURL: fake.URL()})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewInteractionsServer(fake.PublicKey(), h, s, InteractionsOptions{})
	if err != nil {
		t.Fatal(err)
	}
	srv.ackWait = wait
	hs := httptest.NewServer(srv)
	t.Cleanup(hs.Close)
	return &ackEnv{fake: fake, deliver: func(t *testing.T, m map[string]any) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), ackWait)
		defer cancel()
		if _, err := fake.PostInteraction(ctx, hs.URL+"/interactions", m); err != nil {
			t.Fatal(err)
		}
	}}
}

// ackInteraction is a slash command as Discord sends it: sub is the
// subcommand of command, opts its string options.
func ackInteraction(token, command, sub string, opts map[string]string) map[string]any {
	var os []any
	for k, v := range opts {
		os = append(os, map[string]any{"name": k, "type": 3, "value": v})
	}
	return map[string]any{
		"id": "id-" + token, "application_id": fakediscord.ApplicationID, "type": 2, "token": token, "version": 1,
		"guild_id": "100000000000000001", "channel_id": "110000000000000001",
		"member": map[string]any{"user": map[string]any{"id": ackOwner}, "permissions": "0"},
		"data": map[string]any{"id": "c1", "name": command, "type": 1,
			"options": []any{map[string]any{"name": sub, "type": 1, "options": os}}},
	}
}

const ackOwner = "900000000000000001"

// acked waits, boundedly, until the fake has the initial response of the
// interaction with this token (the automatic deferral, for a slow handler).
func acked(fake *fakediscord.Server, token string) bool {
	deadline := time.Now().Add(ackWait)
	for range 1000 {
		if _, ok := initialResponse(fake, token); ok {
			return true
		}
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	return false
}

func initialResponse(fake *fakediscord.Server, token string) (fakediscord.InteractionResponse, bool) {
	for _, r := range fake.InteractionResponses() {
		if r.Token == token {
			return r, true
		}
	}
	return fakediscord.InteractionResponse{}, false
}

// webhookRequests lists the webhook requests the fake received, as
// "METHOD what" with the token left out: "DELETE @original", "POST
// follow-up", "PATCH <id>".
func webhookRequests(fake *fakediscord.Server, token string) []string {
	var out []string
	prefix := "/webhooks/" + fakediscord.ApplicationID + "/" + token
	for _, r := range fake.Requests() {
		rest, ok := strings.CutPrefix(r.Path, prefix)
		if !ok {
			continue
		}
		switch {
		case rest == "":
			out = append(out, r.Method+" follow-up")
		default:
			out = append(out, r.Method+" "+strings.TrimPrefix(rest, "/messages/"))
		}
	}
	return out
}

func message(content string, flags discordgo.MessageFlags) *discordgo.InteractionResponse {
	return &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Content: content, Flags: flags, AllowedMentions: commands.NoMentions()}}
}

func deferral(flags discordgo.MessageFlags) *discordgo.InteractionResponse {
	return &discordgo.InteractionResponse{Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Flags: flags, AllowedMentions: commands.NoMentions()}}
}

func edit(content string) *discordgo.WebhookEdit {
	return &discordgo.WebhookEdit{Content: &content, AllowedMentions: commands.NoMentions()}
}

const eph = discordgo.MessageFlagsEphemeral

// TestAutoAck: what the user sees, and what went over the wire, when a
// handler answers in time or after the automatic deferral.
func TestAutoAck(t *testing.T) {
	tests := []struct {
		name string
		slow bool
		// answer is the handler after the wait; its errors fail the test.
		answer func(ctx context.Context, r commands.Responder) error
		// initial is the response type Discord got first.
		initial discordgo.InteractionResponseType
		// webhooks are the webhook requests after it, in order.
		webhooks []string
		// original is what @original reads at the end ("" with
		// deleted: none).
		original string
		deleted  bool
		// private is the ephemeral follow-up the user got, if any, as it
		// reads at the end.
		private string
	}{
		{
			name:    "fast public answer is the response",
			answer:  func(ctx context.Context, r commands.Responder) error { return r.Respond(ctx, message("fast", 0)) },
			initial: discordgo.InteractionResponseChannelMessageWithSource, original: "fast",
		},
		{
			name: "fast ephemeral answer is the response",
			answer: func(ctx context.Context, r commands.Responder) error {
				return r.Respond(ctx, message("fast secret", eph))
			},
			initial: discordgo.InteractionResponseChannelMessageWithSource, original: "fast secret",
		},
		{
			name:     "slow public answer edits the deferral",
			slow:     true,
			answer:   func(ctx context.Context, r commands.Responder) error { return r.Respond(ctx, message("slow", 0)) },
			initial:  discordgo.InteractionResponseDeferredChannelMessageWithSource,
			webhooks: []string{"PATCH @original"}, original: "slow",
		},
		{
			name: "slow ephemeral answer replaces the public deferral",
			slow: true,
			answer: func(ctx context.Context, r commands.Responder) error {
				return r.Respond(ctx, message("slow secret", eph))
			},
			initial:  discordgo.InteractionResponseDeferredChannelMessageWithSource,
			webhooks: []string{"DELETE @original", "POST follow-up"}, deleted: true, private: "slow secret",
		},
		{
			name: "slow ephemeral answer, then its edit",
			slow: true,
			answer: func(ctx context.Context, r commands.Responder) error {
				if err := r.Respond(ctx, message("first", eph)); err != nil {
					return err
				}
				return r.EditResponse(ctx, edit("second"))
			},
			initial:  discordgo.InteractionResponseDeferredChannelMessageWithSource,
			webhooks: []string{"DELETE @original", "POST follow-up", "PATCH follow-up-id"}, deleted: true, private: "second",
		},
		{
			name: "slow handler that defers publicly edits the deferral",
			slow: true,
			answer: func(ctx context.Context, r commands.Responder) error {
				if err := r.Respond(ctx, deferral(0)); err != nil {
					return err
				}
				return r.EditResponse(ctx, edit("public result"))
			},
			initial:  discordgo.InteractionResponseDeferredChannelMessageWithSource,
			webhooks: []string{"PATCH @original"}, original: "public result",
		},
		{
			name: "slow handler that defers ephemerally answers privately",
			slow: true,
			answer: func(ctx context.Context, r commands.Responder) error {
				if err := r.Respond(ctx, deferral(eph)); err != nil {
					return err
				}
				if err := r.EditResponse(ctx, edit("private result")); err != nil {
					return err
				}
				return r.EditResponse(ctx, edit("private result, revised"))
			},
			initial:  discordgo.InteractionResponseDeferredChannelMessageWithSource,
			webhooks: []string{"DELETE @original", "POST follow-up", "PATCH follow-up-id"}, deleted: true, private: "private result, revised",
		},
	}
	for _, tr := range ackTransports {
		for n, tt := range tests {
			t.Run(tr.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel() // a gateway session takes a second to close
				token := "ack-" + tr.name + "-" + string(rune('a'+n))
				var env *ackEnv
				finished := make(chan error, 1)
				h := itxHandlerFunc(func(ctx context.Context, _ *discordgo.Interaction, r commands.Responder) {
					if tt.slow && !acked(env.fake, token) {
						finished <- errors.New("no automatic deferral")
						return
					}
					finished <- tt.answer(ctx, r)
				})
				wait := ackFast
				if tt.slow {
					wait = ackSlow
				}
				env = tr.start(t, h, wait)
				env.deliver(t, ackInteraction(token, "feeds", "list", nil))
				select {
				case err := <-finished:
					if err != nil {
						t.Fatalf("handler: %v", err)
					}
				case <-time.After(ackWait):
					t.Fatal("handler did not finish")
				}
				fake := env.fake

				first, ok := initialResponse(fake, token)
				if !ok {
					t.Fatal("no initial response")
				}
				if all := fake.InteractionResponses(); len(all) != 1 {
					t.Errorf("%d initial responses, want 1", len(all))
				}
				if first.ViaHTTP != (tr.name == "http") {
					t.Errorf("initial response via HTTP body = %v on the %s transport", first.ViaHTTP, tr.name)
				}
				if first.Response.Type != tt.initial {
					t.Errorf("initial response type %d, want %d: %s", first.Response.Type, tt.initial, first.Raw)
				}
				if tt.initial == discordgo.InteractionResponseDeferredChannelMessageWithSource &&
					first.Response.Data != nil && first.Response.Data.Flags&eph != 0 {
					t.Errorf("the automatic deferral is ephemeral: %s", first.Raw)
				}
				if !strings.Contains(string(first.Raw), `"parse":[]`) {
					t.Errorf("initial response without allowed_mentions.parse == []: %s", first.Raw)
				}

				got := webhookRequests(fake, token)
				fus := fake.Followups()
				var fuID string
				if len(fus) > 0 {
					fuID = fus[0].ID
				}
				want := make([]string, len(tt.webhooks))
				for i, w := range tt.webhooks {
					want[i] = strings.Replace(w, "follow-up-id", fuID, 1)
				}
				if strings.Join(got, ", ") != strings.Join(want, ", ") {
					t.Errorf("webhook requests %q, want %q", got, want)
				}

				orig, hasOrig := fake.OriginalResponse(token)
				if deleted := fake.OriginalDeleted(token); deleted != tt.deleted || hasOrig == tt.deleted {
					t.Errorf("original deleted=%v present=%v (%+v), want deleted=%v", deleted, hasOrig, orig, tt.deleted)
				}
				if hasOrig && (orig.Content != tt.original || orig.Loading || !orig.MentionsSuppressed()) {
					t.Errorf("original %+v, want %q, complete, no mentions", orig, tt.original)
				}

				if tt.private == "" {
					if len(fus) != 0 {
						t.Errorf("follow-ups %+v, want none", fus)
					}
					return
				}
				if len(fus) != 1 {
					t.Fatalf("follow-ups %+v, want 1", fus)
				}
				fu := fus[0]
				if fu.Token != token || fu.Flags&int(eph) == 0 || fu.CompletedDeferral || !fu.MentionsSuppressed() {
					t.Errorf("follow-up %+v: want an ephemeral message of its own, no mentions", fu)
				}
				if shown, ok := fake.WebhookMessage(token, fu.ID); !ok || shown.Content != tt.private || shown.Flags&int(eph) == 0 {
					t.Errorf("follow-up reads %+v (%v), want ephemeral %q", shown, ok, tt.private)
				}
			})
		}
	}
}

// TestAutoAckDeleteFails: when the public deferral cannot be deleted, the
// ephemeral answer is not sent at all (Discord would show it publicly), and
// the error says why without the interaction token.
func TestAutoAckDeleteFails(t *testing.T) {
	for _, tr := range ackTransports {
		t.Run(tr.name, func(t *testing.T) {
			t.Parallel()
			token := "ack-del-" + tr.name
			var env *ackEnv
			finished := make(chan error, 1)
			h := itxHandlerFunc(func(ctx context.Context, _ *discordgo.Interaction, r commands.Responder) {
				if !acked(env.fake, token) {
					finished <- errors.New("no automatic deferral")
					return
				}
				finished <- r.Respond(ctx, message("secret", eph))
			})
			env = tr.start(t, h, ackSlow)
			env.fake.Fail(fakediscord.Route(http.MethodDelete, "/webhooks/"), fakediscord.Always, fakediscord.DropConnection)
			env.deliver(t, ackInteraction(token, "feeds", "list", nil))
			var err error
			select {
			case err = <-finished:
			case <-time.After(ackWait):
				t.Fatal("handler did not finish")
			}
			var ue *url.Error
			if err == nil || !errors.As(err, &ue) {
				t.Fatalf("err = %v, want the transport error wrapped", err)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("error carries the interaction token: %v", err)
			}
			if fus := env.fake.Followups(); len(fus) != 0 {
				t.Errorf("follow-ups %+v after a failed delete", fus)
			}
			if orig, ok := env.fake.OriginalResponse(token); !ok || orig.Content != "" {
				t.Errorf("original %+v (%v): want the untouched deferral", orig, ok)
			}
		})
	}
}

// ackFeeds is a feed store that is slow: every call waits until the
// interaction was acknowledged automatically.
type ackFeeds struct {
	acked func() bool
	feeds []model.Feed
}

func (f ackFeeds) Feeds(context.Context) ([]model.Feed, error) {
	if !f.acked() {
		return nil, errors.New("test: no automatic deferral")
	}
	return f.feeds, nil
}

func (f ackFeeds) AddFeed(_ context.Context, feed model.Feed) (model.Feed, error) {
	feed.ID = 7
	return feed, nil
}

func (f ackFeeds) RemoveFeed(context.Context, string) (model.Feed, error) {
	if !f.acked() {
		return model.Feed{}, errors.New("test: no automatic deferral")
	}
	return model.Feed{}, model.ErrNotFound
}

type ackProber struct{}

func (ackProber) Probe(context.Context, string) (string, int, error) { return "Wire", 3, nil }

// TestAutoAckCommands: the commands themselves behind a slow store. A
// public answer (/feeds list) edits the automatic deferral; an ephemeral
// refusal (/feeds remove of an unknown feed) and a command that defers
// ephemerally after the automatic deferral (/feeds add) reach only the
// user.
func TestAutoAckCommands(t *testing.T) {
	tests := []struct {
		name, sub string
		opts      map[string]string
		public    string // in @original at the end
		private   string // in the one ephemeral follow-up
	}{
		{"list", "list", nil, "wire — <https://wire.example/feed>", ""},
		{"remove refused", "remove", map[string]string{"name": "nope"}, "", "There is no feed named `nope`"},
		{"add defers", "add", map[string]string{"url": "https://new.example/feed"}, "", "Added feed `Wire`"},
	}
	for _, tr := range ackTransports {
		for _, tt := range tests {
			t.Run(tr.name+"/"+tt.name, func(t *testing.T) {
				t.Parallel() // a gateway session takes a second to close
				token := "ack-cmd-" + tr.name + "-" + tt.sub
				var env *ackEnv
				store := ackFeeds{
					acked: func() bool { return acked(env.fake, token) },
					feeds: []model.Feed{{ID: 1, Name: "wire", URL: "https://wire.example/feed", State: model.FeedState{Status: "ok"}}},
				}
				owners := []string{ackOwner}
				if tt.public != "" {
					owners = nil // an owner's /feeds list is ephemeral (it shows whole URLs)
				}
				cmds := commands.New(commands.Options{Feeds: store, Prober: ackProber{}, OwnerIDs: owners})
				finished := make(chan struct{})
				h := itxHandlerFunc(func(ctx context.Context, i *discordgo.Interaction, r commands.Responder) {
					defer close(finished)
					cmds.Handle(ctx, i, r)
				})
				env = tr.start(t, h, ackSlow)
				env.deliver(t, ackInteraction(token, "feeds", tt.sub, tt.opts))
				select {
				case <-finished:
				case <-time.After(ackWait):
					t.Fatal("command did not finish")
				}
				fake := env.fake
				if first := fake.WaitInteractionResponses(t, 1, ackWait)[0]; first.Response.Type != discordgo.InteractionResponseDeferredChannelMessageWithSource {
					t.Fatalf("initial response %s, want the automatic deferral", first.Raw)
				}
				if tt.public != "" {
					m := fake.WaitOriginalResponse(t, token, ackWait, func(m fakediscord.Message) bool { return !m.Loading })
					var text strings.Builder
					text.WriteString(m.Content)
					for _, e := range m.Embeds {
						text.WriteString(e.Description)
					}
					if !strings.Contains(text.String(), tt.public) || m.Flags != 0 || !m.MentionsSuppressed() {
						t.Errorf("original %+v, want public %q", m, tt.public)
					}
					if fus := fake.Followups(); len(fus) != 0 {
						t.Errorf("follow-ups %+v", fus)
					}
					return
				}
				fu := fake.WaitFollowups(t, token, 1, ackWait)[0]
				if !strings.Contains(fu.Content, tt.private) || fu.Flags&int(eph) == 0 || fu.CompletedDeferral || !fu.MentionsSuppressed() {
					t.Errorf("follow-up %+v, want ephemeral %q", fu, tt.private)
				}
				if _, ok := fake.OriginalResponse(token); ok || !fake.OriginalDeleted(token) {
					t.Error("the public deferral is still there")
				}
				if got := webhookRequests(fake, token); strings.Join(got, ", ") != "DELETE @original, POST follow-up" {
					t.Errorf("webhook requests %q", got)
				}
			})
		}
	}
}
