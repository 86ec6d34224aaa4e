package bot_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/bwmarrin/discordgo"
	"golang.org/x/time/rate"

	"github.com/backchannel/backchannel/bot"
	"github.com/backchannel/backchannel/internal/fakediscord"
	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/outbox"
)

// postLogBuffer collects log output so tests can check the token never
// appears in it.
type postLogBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *postLogBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *postLogBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type postEnv struct {
	fd     *fakediscord.Server
	s      *discordgo.Session
	poster *bot.Poster
	logs   *postLogBuffer
}

func newPostEnv(t *testing.T) *postEnv {
	t.Helper()
	return newPostEnvWith(t, bot.PosterOptions{})
}

// newPostEnvWith is newPostEnv with a Poster built with opts; the logger
// and, unless set, the channel pacing are the test's.
func newPostEnvWith(t *testing.T, opts bot.PosterOptions) *postEnv {
	t.Helper()
	fd := fakediscord.New(t)
	logs := &postLogBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	s, err := bot.NewSession(bot.SessionConfig{Token: fd.Token(), APIURL: fd.URL(), Logger: logger, HTTPTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if strings.Contains(logs.String(), fd.Token()) {
			t.Errorf("the token reached the logs:\n%s", logs.String())
		}
	})
	// Fast pacing keeps the tests quick; the defaults are tested apart.
	if opts.ChannelEvery == 0 {
		opts.ChannelEvery, opts.ChannelBurst = time.Millisecond, 100
	}
	opts.Logger = logger
	return &postEnv{fd: fd, s: s, poster: bot.NewPoster(s, opts), logs: logs}
}

func postDelivery(id int64, channel string) model.Delivery {
	a := embedSeedAlert()
	a.ID = 1000 + id
	a.Article.Title = fmt.Sprintf("Alert %d: @everyone meet <@1>", id)
	return model.Delivery{ID: id, Alert: a, ChannelID: channel, Nonce: fmt.Sprintf("bc0123abcd-%d", id)}
}

func TestNewSessionValidates(t *testing.T) {
	t.Parallel()
	for _, cfg := range []bot.SessionConfig{
		{Token: "", APIURL: "http://127.0.0.1:1/api/v10"},
		{Token: "t", APIURL: "ftp://x"},
		{Token: "t", APIURL: "http://127.0.0.1:1", Intents: discordgo.IntentsGuildMembers},
		{Token: "t", APIURL: "http://127.0.0.1:1", Intents: discordgo.IntentMessageContent},
	} {
		if _, err := bot.NewSession(cfg); err == nil {
			t.Errorf("%+v accepted", cfg)
		} else if cfg.Token != "" && strings.Contains(err.Error(), cfg.Token+"\"") {
			t.Errorf("error shows the token: %v", err)
		}
	}
}

func TestNewSessionTalksToConfiguredAPIAndGateway(t *testing.T) {
	t.Parallel()
	env := newPostEnv(t)
	u, err := env.s.User("@me")
	if err != nil {
		t.Fatal(err)
	}
	if u.ID != fakediscord.BotUserID {
		t.Errorf("user %+v", u)
	}
	if err := env.s.Open(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = env.s.Close() })
	env.fd.WaitGatewayConnected(t, 5*time.Second)
	if got := env.fd.GatewayIntents(); got != 0 {
		t.Errorf("identified with intents %d, want none", got)
	}
}

func TestPostSendsNonceEmbedAndNoMentions(t *testing.T) {
	t.Parallel()
	env := newPostEnv(t)
	d := postDelivery(1, "c1")
	id, err := env.poster.Post(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	msgs := env.fd.Messages("c1")
	if len(msgs) != 1 || msgs[0].ID != id {
		t.Fatalf("messages %+v, id %s", msgs, id)
	}
	m := msgs[0]
	if m.Nonce != d.Nonce || !m.EnforceNonce || !m.MentionsSuppressed() {
		t.Errorf("nonce %q enforce %v mentions %+v", m.Nonce, m.EnforceNonce, m.AllowedMentions)
	}
	if !strings.Contains(string(m.Raw), `"parse":[]`) {
		t.Errorf("allowed_mentions.parse is not an empty list: %s", m.Raw)
	}
	if len(m.Embeds) != 1 || m.Embeds[0].Footer.Text != "alert 1001 · rule intel-heads" || strings.Contains(m.Embeds[0].Title, "@everyone") {
		t.Errorf("embed %+v", m.Embeds)
	}
	// Posting the same delivery again returns the same message.
	id2, err := env.poster.Post(t.Context(), d)
	if err != nil || id2 != id || len(env.fd.Messages("c1")) != 1 {
		t.Errorf("repeat: %v %s, %d messages", err, id2, len(env.fd.Messages("c1")))
	}
}

func TestPostRefusesBadNonce(t *testing.T) {
	t.Parallel()
	env := newPostEnv(t)
	d := postDelivery(1, "c1")
	d.Nonce = strings.Repeat("n", 26)
	if _, err := env.poster.Post(t.Context(), d); err == nil {
		t.Fatal("26-character nonce accepted")
	}
	if n := env.fd.CountRequests(fakediscord.AnyRequest); n != 0 {
		t.Errorf("%d requests sent", n)
	}
}

func TestPostErrorClassification(t *testing.T) {
	t.Parallel()
	cases := []struct {
		kind                    fakediscord.FaultKind
		status                  int
		retry, disable, invalid bool
	}{
		{fakediscord.ServerError, 500, true, false, false},
		{fakediscord.ServerErrorAfterCreate, 500, true, false, false},
		{fakediscord.BadGateway, 502, true, false, false},
		{fakediscord.DropConnection, 0, true, false, false},
		{fakediscord.MissingPermissions, 403, false, true, true},
		{fakediscord.MissingAccess, 403, false, true, true},
		{fakediscord.UnknownChannel, 404, false, true, false},
		{fakediscord.Unauthorized, 401, true, false, true},
	}
	for _, tc := range cases {
		t.Run(tc.kind.String(), func(t *testing.T) {
			t.Parallel()
			env := newPostEnv(t)
			env.fd.Fail(fakediscord.CreateMessage("c1"), 1, tc.kind)
			_, err := env.poster.Post(t.Context(), postDelivery(1, "c1"))
			var pe *bot.PostError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v (%T), want *bot.PostError", err, err)
			}
			if pe.Status != tc.status || pe.Retry != tc.retry || pe.DisableChannel != tc.disable || pe.InvalidRequest() != tc.invalid {
				t.Errorf("%+v", pe)
			}
			if o := outbox.Classify(err); o.Retry != tc.retry || o.DisableChannel != tc.disable || o.Invalid != tc.invalid {
				t.Errorf("outbox sees %+v", o)
			}
			// One request each: discordgo's own retries are off.
			if n := env.fd.CountRequests(fakediscord.AnyRequest); n != 1 {
				t.Errorf("%d requests", n)
			}
		})
	}
}

func TestPostBadRequestIsPermanent(t *testing.T) {
	t.Parallel()
	env := newPostEnv(t)
	// A channel id Discord's router refuses gives a 404 without a code.
	_, err := env.poster.Post(t.Context(), postDelivery(1, "c1/x"))
	var pe *bot.PostError
	if !errors.As(err, &pe) || pe.Retry || pe.DisableChannel {
		t.Fatalf("err = %#v", err)
	}
}

func TestPostWaitsOutRateLimits(t *testing.T) {
	t.Parallel()
	for _, global := range []bool{false, true} {
		t.Run(fmt.Sprint("global=", global), func(t *testing.T) {
			t.Parallel()
			env := newPostEnv(t)
			env.fd.FailRateLimited(fakediscord.CreateMessage("c1"), 2, 80*time.Millisecond, global)
			start := time.Now()
			id, err := env.poster.Post(t.Context(), postDelivery(1, "c1"))
			if err != nil {
				t.Fatal(err)
			}
			if el := time.Since(start); el < 160*time.Millisecond {
				t.Errorf("answered after %v: retry_after not waited out", el)
			}
			reqs := env.fd.Requests()
			if len(reqs) != 3 {
				t.Fatalf("requests %+v", reqs)
			}
			// The retry came no earlier than retry_after.
			for i := 1; i < 3; i++ {
				if gap := reqs[i].Time.Sub(reqs[i-1].Time); gap < 75*time.Millisecond {
					t.Errorf("request %d came %v after a 429", i, gap)
				}
			}
			if msgs := env.fd.Messages("c1"); len(msgs) != 1 || msgs[0].ID != id {
				t.Errorf("messages %+v", msgs)
			}
		})
	}
}

func TestPostGlobalRateLimitHoldsOtherChannels(t *testing.T) {
	t.Parallel()
	env := newPostEnv(t)
	env.fd.FailRateLimited(fakediscord.CreateMessage("c1"), 1, 200*time.Millisecond, true)
	env.fd.FailRateLimited(fakediscord.CreateMessage("c1"), 1, 200*time.Millisecond, true)
	env.fd.FailRateLimited(fakediscord.CreateMessage("c1"), 1, 200*time.Millisecond, true)
	env.fd.FailRateLimited(fakediscord.CreateMessage("c1"), 1, 200*time.Millisecond, true)
	// c1 gives up after 3 waited-out 429s and returns a retryable error.
	_, err := env.poster.Post(t.Context(), postDelivery(1, "c1"))
	var pe *bot.PostError
	if !errors.As(err, &pe) || !pe.Retry || !pe.Global || pe.Status != 429 {
		t.Fatalf("err = %v", err)
	}
	// The global window also holds a post to another channel.
	start := time.Now()
	if _, err := env.poster.Post(t.Context(), postDelivery(2, "c2")); err != nil {
		t.Fatal(err)
	}
	if el := time.Since(start); el < 150*time.Millisecond {
		t.Errorf("c2 posted %v after a global 429", el)
	}
}

func TestPostLongRetryAfterIsReturnedNotSlept(t *testing.T) {
	t.Parallel()
	env := newPostEnvWith(t, bot.PosterOptions{RateLimitRetries: 3, MaxRateLimitWait: time.Second})
	env.fd.FailRateLimited(fakediscord.CreateMessage("c1"), 1, time.Minute, false)
	start := time.Now()
	_, err := env.poster.Post(t.Context(), postDelivery(1, "c1"))
	var pe *bot.PostError
	if !errors.As(err, &pe) || !pe.Retry || pe.RetryAfter < 59*time.Second {
		t.Fatalf("err = %v", err)
	}
	// While the window lasts, nothing more is sent to that channel.
	if _, err := env.poster.Post(t.Context(), postDelivery(2, "c1")); err == nil {
		t.Fatal("posted inside the rate-limit window")
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("took %v", time.Since(start))
	}
	if n := env.fd.CountRequests(fakediscord.AnyRequest); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
}

func TestPostHonoursContext(t *testing.T) {
	t.Parallel()
	env := newPostEnv(t)
	env.fd.FailRateLimited(fakediscord.CreateMessage("c1"), fakediscord.Always, 5*time.Second, false)
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := env.poster.Post(ctx, postDelivery(1, "c1"))
	var pe *bot.PostError
	if !errors.As(err, &pe) || !pe.Retry || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v", err)
	}
	if time.Since(start) > 2*time.Second {
		t.Errorf("ignored the context for %v", time.Since(start))
	}
}

func TestPosterGlobalLimiterIsShared(t *testing.T) {
	t.Parallel()
	lim := rate.NewLimiter(rate.Every(50*time.Millisecond), 1)
	env := newPostEnvWith(t, bot.PosterOptions{GlobalLimiter: lim})
	start := time.Now()
	for i := int64(1); i <= 4; i++ {
		if _, err := env.poster.Post(t.Context(), postDelivery(i, fmt.Sprint("c", i))); err != nil {
			t.Fatal(err)
		}
	}
	if el := time.Since(start); el < 140*time.Millisecond {
		t.Errorf("4 posts in %v through a 20/s limiter", el)
	}
}

func TestSessionLimiterPacesEveryRequest(t *testing.T) {
	t.Parallel()
	fd := fakediscord.New(t)
	s, err := bot.NewSession(bot.SessionConfig{Token: fd.Token(), APIURL: fd.URL(), Limiter: rate.NewLimiter(rate.Every(50*time.Millisecond), 1)})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := 0; i < 4; i++ {
		if _, err := s.User("@me"); err != nil {
			t.Fatal(err)
		}
	}
	if el := time.Since(start); el < 140*time.Millisecond {
		t.Errorf("4 requests in %v through a 20/s limiter", el)
	}
}

// ---- the outbox driving the real Poster through Discord faults ----

// dlvStore is an in-memory outbox.Store (the SQLite one is tested in db).
type dlvStore struct {
	mu       sync.Mutex
	rows     map[int64]*model.Delivery
	sent     map[int64]string
	failed   map[int64]string
	disabled map[string]string
}

var _ outbox.Store = (*dlvStore)(nil)

func newDlvStore(ds ...model.Delivery) *dlvStore {
	s := &dlvStore{rows: map[int64]*model.Delivery{}, sent: map[int64]string{}, failed: map[int64]string{}, disabled: map[string]string{}}
	for _, d := range ds {
		s.rows[d.ID] = &d
	}
	return s
}

func (s *dlvStore) DueDeliveries(_ context.Context, now time.Time, after int64, limit int) ([]model.Delivery, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []model.Delivery
	for id, d := range s.rows {
		_, sent := s.sent[id]
		_, failed := s.failed[id]
		if !sent && !failed && id > after && !d.NextAttempt.After(now) {
			out = append(out, *d)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out[:min(limit, len(out))], nil
}

func (s *dlvStore) NextDue(context.Context) (time.Time, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var next time.Time
	ok := false
	for id, d := range s.rows {
		_, sent := s.sent[id]
		_, failed := s.failed[id]
		if !sent && !failed && (!ok || d.NextAttempt.Before(next)) {
			next, ok = d.NextAttempt, true
		}
	}
	return next, ok, nil
}

func (s *dlvStore) MarkDelivered(_ context.Context, d model.Delivery, messageID string) error {
	id := d.ID
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, dup := s.sent[id]; dup {
		return fmt.Errorf("delivery %d marked delivered twice", id)
	}
	s.sent[id] = messageID
	return nil
}

func (s *dlvStore) MarkSending(_ context.Context, id int64, _ time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows[id].LastError = "sending"
	return nil
}

func (s *dlvStore) MarkRetry(_ context.Context, id int64, next time.Time, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows[id].Attempts++
	s.rows[id].NextAttempt, s.rows[id].LastError = next, reason
	return nil
}

func (s *dlvStore) MarkFailed(_ context.Context, id int64, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failed[id] = reason
	return nil
}

func (s *dlvStore) DisableChannel(_ context.Context, guildID, channelID, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.disabled[channelID] = reason
	return nil
}

func (s *dlvStore) done() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sent)+len(s.failed) == len(s.rows)
}

func TestOutboxDeliversExactlyOnceThroughFaults(t *testing.T) {
	t.Parallel()
	faults := []fakediscord.FaultKind{
		fakediscord.RateLimited,
		fakediscord.GlobalRateLimited,
		fakediscord.ServerError,
		fakediscord.ServerErrorAfterCreate,
		fakediscord.BadGateway,
		fakediscord.DropConnection,
		fakediscord.DropConnectionAfterCreate,
	}
	for _, kind := range faults {
		t.Run(kind.String(), func(t *testing.T) {
			t.Parallel()
			env := newPostEnv(t)
			const n = 4
			var ds []model.Delivery
			for i := int64(1); i <= n; i++ {
				ds = append(ds, postDelivery(i, "c1"))
			}
			// Two faults: on the first post and on the first retry.
			env.fd.Fail(fakediscord.CreateMessage("c1"), 2, kind)
			store := newDlvStore(ds...)
			ob := outbox.New(store, env.poster, outbox.Options{
				BackoffBase: 10 * time.Millisecond, BackoffMax: 20 * time.Millisecond, Jitter: -1,
			})
			deadline := time.Now().Add(10 * time.Second)
			for !store.done() {
				if time.Now().After(deadline) {
					t.Fatalf("not delivered after 10s: sent %v failed %v", store.sent, store.failed)
				}
				if err := ob.Flush(t.Context()); err != nil {
					t.Fatal(err)
				}
				time.Sleep(5 * time.Millisecond)
			}
			if len(store.failed) != 0 {
				t.Fatalf("failed: %v", store.failed)
			}
			msgs := env.fd.Messages("c1")
			byNonce := map[string]string{}
			for _, m := range msgs {
				if prev, dup := byNonce[m.Nonce]; dup {
					t.Errorf("nonce %s posted twice (%s, %s)", m.Nonce, prev, m.ID)
				}
				byNonce[m.Nonce] = m.ID
				if !m.MentionsSuppressed() || !strings.Contains(string(m.Raw), `"parse":[]`) {
					t.Errorf("message %s: allowed_mentions %s", m.ID, m.Raw)
				}
			}
			if len(msgs) != n {
				t.Errorf("%d messages in the channel, want exactly %d", len(msgs), n)
			}
			for _, d := range ds {
				if id := byNonce[d.Nonce]; id == "" || store.sent[d.ID] != id {
					t.Errorf("delivery %d: marked %q, channel has %q", d.ID, store.sent[d.ID], id)
				}
			}
		})
	}
}

func TestOutboxMissingPermissionsDisablesWithoutStorm(t *testing.T) {
	t.Parallel()
	env := newPostEnv(t)
	env.fd.Fail(fakediscord.CreateMessage("locked"), fakediscord.Always, fakediscord.MissingPermissions)
	var ds []model.Delivery
	for i := int64(1); i <= 10; i++ {
		ds = append(ds, postDelivery(i, "locked"))
	}
	ds = append(ds, postDelivery(11, "open"))
	store := newDlvStore(ds...)
	ob := outbox.New(store, env.poster, outbox.Options{BackoffBase: time.Millisecond, Jitter: -1})
	for i := 0; i < 5; i++ {
		if err := ob.Flush(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	if n := env.fd.CountRequests(fakediscord.CreateMessage("locked")); n != 1 {
		t.Errorf("%d requests to the locked channel, want 1", n)
	}
	if _, ok := store.disabled["locked"]; !ok {
		t.Errorf("subscription not disabled: %v", store.disabled)
	}
	if len(store.failed) != 10 || len(env.fd.Messages("locked")) != 0 {
		t.Errorf("failed %d, messages %d", len(store.failed), len(env.fd.Messages("locked")))
	}
	if m := env.fd.Messages("open"); len(m) != 1 || store.sent[11] != m[0].ID {
		t.Errorf("healthy channel: %+v", m)
	}
}

func TestOutboxBreakerStopsInvalidRequestStorm(t *testing.T) {
	t.Parallel()
	env := newPostEnv(t)
	env.fd.SetToken("rotated") // our token is now wrong: every post is a 401
	var ds []model.Delivery
	for i := int64(1); i <= 30; i++ {
		ds = append(ds, postDelivery(i, fmt.Sprint("c", i)))
	}
	store := newDlvStore(ds...)
	ob := outbox.New(store, env.poster, outbox.Options{BreakerThreshold: 5, BreakerPause: time.Hour, BackoffBase: time.Millisecond, Jitter: -1})
	for i := 0; i < 5; i++ {
		if err := ob.Flush(t.Context()); err != nil && !errors.Is(err, outbox.ErrPaused) {
			t.Fatal(err)
		}
	}
	if n := env.fd.CountRequests(fakediscord.AnyRequest); n != 5 {
		t.Errorf("%d invalid requests sent, want the breaker to stop at 5", n)
	}
	if len(store.failed) != 0 {
		t.Errorf("401s must not lose deliveries: failed %v", store.failed)
	}
}

func TestSessionConfigHidesToken(t *testing.T) {
	t.Parallel()
	cfg := bot.SessionConfig{Token: "s3cr3t-token", APIURL: "http://127.0.0.1:1"}
	var logs postLogBuffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("cfg", "cfg", cfg)
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg), logs.String()} {
		if strings.Contains(s, "s3cr3t") {
			t.Errorf("token shown: %s", s)
		}
	}
}
