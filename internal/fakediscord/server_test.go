package fakediscord_test

import (
	"errors"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/backchannel/backchannel/internal/fakediscord"
)

// rewrite sends discordgo's hard-coded API URLs to the fake. The bot
// package has the production version; the fake's tests must not depend on
// it.
type rewrite struct{ base string }

func (rw rewrite) RoundTrip(r *http.Request) (*http.Response, error) {
	u := r.URL.String()
	if rest, ok := strings.CutPrefix(u, discordgo.EndpointAPI); ok {
		r = r.Clone(r.Context())
		nu, err := r.URL.Parse(rw.base + "/" + rest)
		if err != nil {
			return nil, err
		}
		r.URL, r.Host = nu, nu.Host
	}
	return http.DefaultTransport.RoundTrip(r)
}

func session(t *testing.T, fd *fakediscord.Server, token string) *discordgo.Session {
	t.Helper()
	s, err := discordgo.New("Bot " + token)
	if err != nil {
		t.Fatal(err)
	}
	s.Client = &http.Client{Transport: rewrite{fd.URL()}, Timeout: 5 * time.Second}
	s.LogLevel = -1 // discordgo logs identify payloads (with the token) at debug
	s.Identify.Intents = discordgo.IntentsGuilds
	s.MaxRestRetries = 0
	s.ShouldRetryOnRateLimit = false
	return s
}

func send(s *discordgo.Session, channel, nonce string) (*discordgo.Message, error) {
	body := map[string]any{
		"content":          "hello @everyone",
		"nonce":            nonce,
		"enforce_nonce":    true,
		"allowed_mentions": map[string]any{"parse": []string{}},
	}
	b, err := s.RequestWithBucketID(http.MethodPost, discordgo.EndpointChannelMessages(channel), body, discordgo.EndpointChannelMessages(channel))
	if err != nil {
		return nil, err
	}
	var m discordgo.Message
	return &m, discordgo.Unmarshal(b, &m)
}

func TestCreateMessageRecordsAndEnforcesNonce(t *testing.T) {
	t.Parallel()
	fd := fakediscord.New(t)
	s := session(t, fd, fd.Token())

	m1, err := send(s, "c1", "bc1-1")
	if err != nil {
		t.Fatal(err)
	}
	m2, err := send(s, "c1", "bc1-1")
	if err != nil {
		t.Fatal(err)
	}
	if m1.ID != m2.ID {
		t.Errorf("repeated enforced nonce created a new message: %s then %s", m1.ID, m2.ID)
	}
	if _, err := send(s, "c2", "bc1-1"); err != nil {
		t.Fatal(err)
	}
	got := fd.Messages("c1")
	if len(got) != 1 {
		t.Fatalf("c1 has %d messages, want 1", len(got))
	}
	if got[0].Nonce != "bc1-1" || !got[0].EnforceNonce || !got[0].MentionsSuppressed() || got[0].Content != "hello @everyone" {
		t.Errorf("recorded %+v", got[0])
	}
	if n := len(fd.Messages("c2")); n != 1 {
		t.Errorf("nonce is per channel: c2 has %d messages, want 1", n)
	}

	if _, err := send(s, "c1", strings.Repeat("n", 26)); err == nil {
		t.Error("a 26-character nonce was accepted")
	}
}

func TestWrongTokenIs401(t *testing.T) {
	t.Parallel()
	fd := fakediscord.New(t)
	s := session(t, fd, "not-the-token")
	_, err := send(s, "c1", "x")
	var rest *discordgo.RESTError
	if !errors.As(err, &rest) || rest.Response.StatusCode != http.StatusUnauthorized {
		t.Fatalf("err = %v, want a 401 RESTError", err)
	}
	if n := len(fd.Messages("c1")); n != 0 {
		t.Errorf("%d messages created with a wrong token", n)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	cases := []struct {
		kind    fakediscord.FaultKind
		status  int // 0: transport error
		code    int
		created bool
	}{
		{fakediscord.ServerError, 500, 0, false},
		{fakediscord.ServerErrorAfterCreate, 500, 0, true},
		{fakediscord.BadGateway, 502, 0, false},
		{fakediscord.DropConnection, 0, 0, false},
		{fakediscord.DropConnectionAfterCreate, 0, 0, true},
		{fakediscord.MissingPermissions, 403, 50013, false},
		{fakediscord.MissingAccess, 403, 50001, false},
		{fakediscord.UnknownChannel, 404, 10003, false},
		{fakediscord.Unauthorized, 401, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.kind.String(), func(t *testing.T) {
			t.Parallel()
			fd := fakediscord.New(t)
			s := session(t, fd, fd.Token())
			fd.Fail(fakediscord.CreateMessage("c1"), 1, tc.kind)

			_, err := send(s, "c1", "n1")
			if err == nil {
				t.Fatal("no error")
			}
			var rest *discordgo.RESTError
			switch {
			case tc.status == 0:
				if errors.As(err, &rest) {
					t.Fatalf("err = %v, want a transport error", err)
				}
			case tc.status == 502:
				// discordgo reports 502 after its own retries as a plain error.
				if !strings.Contains(err.Error(), "502") {
					t.Fatalf("err = %v, want a 502", err)
				}
			default:
				if !errors.As(err, &rest) || rest.Response.StatusCode != tc.status {
					t.Fatalf("err = %v, want HTTP %d", err, tc.status)
				}
				if tc.code != 0 && (rest.Message == nil || rest.Message.Code != tc.code) {
					t.Fatalf("err = %v, want code %d", err, tc.code)
				}
			}
			if n := len(fd.Messages("c1")); (n == 1) != tc.created {
				t.Fatalf("after the fault: %d messages, created = %v", n, tc.created)
			}
			// The fault was used up: the retry with the same nonce succeeds
			// and never duplicates.
			if _, err := send(s, "c1", "n1"); err != nil {
				t.Fatalf("retry: %v", err)
			}
			if n := len(fd.Messages("c1")); n != 1 {
				t.Fatalf("after retry: %d messages, want exactly 1", n)
			}
		})
	}
}

func TestRateLimitIsWaitedOutByDiscordgo(t *testing.T) {
	t.Parallel()
	for _, global := range []bool{false, true} {
		fd := fakediscord.New(t)
		s := session(t, fd, fd.Token())
		s.ShouldRetryOnRateLimit = true
		fd.FailRateLimited(fakediscord.CreateMessage(""), 2, 50*time.Millisecond, global)
		start := time.Now()
		if _, err := send(s, "c1", "n1"); err != nil {
			t.Fatal(err)
		}
		if el := time.Since(start); el < 100*time.Millisecond {
			t.Errorf("global=%v: answered after %v, want the two retry_after waits", global, el)
		}
		reqs := fd.Requests()
		if len(reqs) != 3 || reqs[0].Status != 429 || reqs[2].Status != 200 {
			t.Errorf("global=%v: requests %+v", global, reqs)
		}
		if n := len(fd.Messages("c1")); n != 1 {
			t.Errorf("global=%v: %d messages", global, n)
		}
	}
}

func TestRateLimitErrorCarriesRetryAfter(t *testing.T) {
	t.Parallel()
	fd := fakediscord.New(t)
	s := session(t, fd, fd.Token())
	fd.FailRateLimited(fakediscord.AnyRequest, 1, 1500*time.Millisecond, false)
	_, err := send(s, "c1", "n1")
	var rl *discordgo.RateLimitError
	if !errors.As(err, &rl) || rl.RetryAfter != 1500*time.Millisecond {
		t.Fatalf("err = %v, want a RateLimitError with 1.5s", err)
	}
}

func TestAlwaysFault(t *testing.T) {
	t.Parallel()
	fd := fakediscord.New(t)
	s := session(t, fd, fd.Token())
	fd.Fail(fakediscord.CreateMessage("c1"), fakediscord.Always, fakediscord.MissingPermissions)
	for i := 0; i < 3; i++ {
		if _, err := send(s, "c1", "n"); err == nil {
			t.Fatal("no error")
		}
	}
	if _, err := send(s, "c2", "n"); err != nil {
		t.Fatalf("other channel: %v", err)
	}
	if got := fd.CountRequests(fakediscord.CreateMessage("c1")); got != 3 {
		t.Errorf("counted %d requests to c1", got)
	}
	fd.ClearFaults()
	if _, err := send(s, "c1", "n"); err != nil {
		t.Fatalf("after ClearFaults: %v", err)
	}
}

func TestEmbedLimitsAreEnforced(t *testing.T) {
	t.Parallel()
	fd := fakediscord.New(t)
	s := session(t, fd, fd.Token())
	body := map[string]any{"embeds": []any{map[string]any{"title": strings.Repeat("é", 257)}}}
	_, err := s.RequestWithBucketID(http.MethodPost, discordgo.EndpointChannelMessages("c1"), body, "x")
	var rest *discordgo.RESTError
	if !errors.As(err, &rest) || rest.Response.StatusCode != 400 || rest.Message.Code != 50035 {
		t.Fatalf("err = %v, want 400 50035", err)
	}
	body = map[string]any{"embeds": []any{map[string]any{"title": strings.Repeat("é", 256)}}}
	if _, err := s.RequestWithBucketID(http.MethodPost, discordgo.EndpointChannelMessages("c1"), body, "x"); err != nil {
		t.Fatalf("256 runes refused: %v", err)
	}
}

func TestGatewayAndInteractions(t *testing.T) {
	t.Parallel()
	fd := fakediscord.New(t)
	s := session(t, fd, fd.Token())

	var interactions atomic.Int32
	got := make(chan *discordgo.InteractionCreate, 4)
	s.AddHandler(func(_ *discordgo.Session, ic *discordgo.InteractionCreate) {
		interactions.Add(1)
		got <- ic
	})
	ready := make(chan *discordgo.Ready, 1)
	s.AddHandler(func(_ *discordgo.Session, r *discordgo.Ready) {
		select {
		case ready <- r:
		default:
		}
	})
	if err := s.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	select {
	case r := <-ready:
		if r.User.ID != fakediscord.BotUserID || r.Application.ID != fakediscord.ApplicationID {
			t.Errorf("READY %+v", r)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no READY")
	}
	fd.WaitGatewayConnected(t, 5*time.Second)
	if fd.GatewayIntents() != int(discordgo.IntentsGuilds) {
		t.Errorf("intents %d", fd.GatewayIntents())
	}
	for _, id := range fd.GatewayIdentifies() {
		if id.Token != "" {
			t.Error("identify records keep the token")
		}
	}

	// Commands.
	cmds, err := s.ApplicationCommandBulkOverwrite(fakediscord.ApplicationID, "g1", []*discordgo.ApplicationCommand{
		{Name: "status", Description: "feeds"},
	})
	if err != nil || len(cmds) != 1 || cmds[0].ID == "" {
		t.Fatalf("overwrite: %v %+v", err, cmds)
	}
	if ow := fd.Commands(); len(ow) != 1 || ow[0].GuildID != "g1" || ow[0].Commands[0].Name != "status" {
		t.Errorf("recorded %+v", ow)
	}

	// Interaction round trip over the gateway.
	err = fd.Dispatch("INTERACTION_CREATE", map[string]any{
		"id": "900", "application_id": fakediscord.ApplicationID, "type": 2, "token": "tok1",
		"guild_id": "g1", "channel_id": "c1",
		"data":   map[string]any{"id": "1", "name": "status", "type": 1},
		"member": map[string]any{"user": map[string]any{"id": "u1"}, "permissions": "8"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var ic *discordgo.InteractionCreate
	select {
	case ic = <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("no INTERACTION_CREATE")
	}
	if ic.ApplicationCommandData().Name != "status" {
		t.Errorf("interaction %+v", ic.Interaction)
	}
	err = s.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{Flags: discordgo.MessageFlagsEphemeral},
	})
	if err != nil {
		t.Fatal(err)
	}
	content := "all ok"
	if _, err := s.InteractionResponseEdit(ic.Interaction, &discordgo.WebhookEdit{
		Content: &content,
		// An empty, non-nil Parse: discordgo sends nil as "parse": null.
		AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}},
	}); err != nil {
		t.Fatal(err)
	}
	orig := fd.WaitOriginalResponse(t, "tok1", time.Second, func(m fakediscord.Message) bool { return m.Content == "all ok" })
	if !orig.MentionsSuppressed() {
		t.Errorf("original %+v", orig)
	}
	if m, err := s.InteractionResponse(ic.Interaction); err != nil || m.Content != "all ok" {
		t.Errorf("GET @original: %v %+v", err, m)
	}
	if _, err := s.FollowupMessageCreate(ic.Interaction, true, &discordgo.WebhookParams{Content: "more"}); err != nil {
		t.Fatal(err)
	}
	if f := fd.Followups(); len(f) != 1 || f[0].Content != "more" || f[0].Token != "tok1" {
		t.Errorf("followups %+v", f)
	}
	if r := fd.WaitInteractionResponses(t, 1, time.Second); r[0].InteractionID != "900" || r[0].Response.Type != discordgo.InteractionResponseDeferredChannelMessageWithSource {
		t.Errorf("responses %+v", r)
	}
	// A second callback for the same interaction is refused, as on Discord.
	if err := s.InteractionRespond(ic.Interaction, &discordgo.InteractionResponse{Type: discordgo.InteractionResponseChannelMessageWithSource}); err == nil {
		t.Error("second callback accepted")
	}

	// A dropped gateway is resumed by discordgo.
	fd.DropGateway()
	deadline := time.Now().Add(10 * time.Second)
	for fd.GatewayResumes() == 0 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if fd.GatewayResumes() == 0 {
		t.Fatal("discordgo did not resume after DropGateway")
	}
	fd.WaitGatewayConnected(t, 5*time.Second)
	if err := fd.Dispatch("INTERACTION_CREATE", map[string]any{
		"id": "901", "application_id": fakediscord.ApplicationID, "type": 2, "token": "tok2",
		"data": map[string]any{"id": "1", "name": "status", "type": 1},
	}); err != nil {
		t.Fatal(err)
	}
	select {
	case <-got:
	case <-time.After(5 * time.Second):
		t.Fatal("no interaction after resume")
	}
}

func TestWaitMessagesTimesOut(t *testing.T) {
	t.Parallel()
	fd := fakediscord.New(t)
	ft := &fakeTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() { _ = recover() }() // fakeTB.Fatalf panics to stop the goroutine
		fd.WaitMessages(ft, "c1", 1, 50*time.Millisecond)
	}()
	<-done
	if !ft.failed {
		t.Error("WaitMessages did not fail on timeout")
	}
}

type fakeTB struct {
	testing.TB
	failed bool
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(string, ...any) {
	f.failed = true
	panic("fatal")
}
