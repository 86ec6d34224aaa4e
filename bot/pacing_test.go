package bot_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/backchannel/backchannel/bot"
	"github.com/backchannel/backchannel/internal/fakediscord"
	"github.com/backchannel/backchannel/outbox"
)

// Tests of the Poster's pacing against the fake Discord with its limits
// enforced. They assert the order and the lower bounds of what the fake
// received, never how fast the machine is.

// postAll posts one delivery to each channel, each from its own goroutine,
// and fails the test on an error.
func postAll(t *testing.T, p *bot.Poster, first int64, channels ...string) {
	t.Helper()
	var wg sync.WaitGroup
	for i, ch := range channels {
		wg.Go(func() {
			if _, err := p.Post(t.Context(), postDelivery(first+int64(i), ch)); err != nil {
				t.Errorf("post to %s: %v", ch, err)
			}
		})
	}
	wg.Wait()
}

// requestsTo returns the requests the fake received for one channel's
// messages, in order of arrival.
func requestsTo(fd *fakediscord.Server, channel string) []fakediscord.Request {
	var out []fakediscord.Request
	for _, r := range fd.Requests() {
		if strings.HasPrefix(r.Path, "/channels/"+channel+"/messages") {
			out = append(out, r)
		}
	}
	return out
}

func TestPosterGlobal429PausesEveryChannel(t *testing.T) {
	t.Parallel()
	env := newPostEnvWith(t, bot.PosterOptions{RateLimitRetries: -1, MaxRateLimitWait: time.Minute})
	env.fd.FailRateLimited(fakediscord.CreateMessage("c0"), 1, 300*time.Millisecond, true)
	_, err := env.poster.Post(t.Context(), postDelivery(1, "c0"))
	var pe *bot.PostError
	if !errors.As(err, &pe) || !pe.Global || pe.Scope != "global" || pe.RetryAfter != 300*time.Millisecond || !pe.InvalidRequest() {
		t.Fatalf("err = %#v", err)
	}
	limited := env.fd.Requests()[0]
	postAll(t, env.poster, 2, "c0", "c1", "c2", "c3")
	for _, r := range env.fd.Requests()[1:] {
		if r.Received.Before(limited.Time.Add(300 * time.Millisecond)) {
			t.Errorf("%s arrived %v after the global 429 was answered, inside its 300ms", r.Path, r.Received.Sub(limited.Time))
		}
	}
	for _, ch := range []string{"c0", "c1", "c2", "c3"} {
		if n := len(env.fd.Messages(ch)); n != 1 {
			t.Errorf("%s has %d messages", ch, n)
		}
	}
}

func TestPosterBucket429PausesOnlyThatChannel(t *testing.T) {
	t.Parallel()
	env := newPostEnvWith(t, bot.PosterOptions{RateLimitRetries: -1, MaxRateLimitWait: time.Minute})
	env.fd.SetLimits(fakediscord.Limits{Messages: 5})
	env.fd.FailRateLimited(fakediscord.CreateMessage("c0"), 1, time.Second, false)
	_, err := env.poster.Post(t.Context(), postDelivery(1, "c0"))
	var pe *bot.PostError
	if !errors.As(err, &pe) || pe.Global || pe.Scope != "user" || pe.RetryAfter != time.Second {
		t.Fatalf("err = %#v", err)
	}
	postAll(t, env.poster, 2, "c0", "c1", "c2", "c3")
	c0 := requestsTo(env.fd, "c0")
	if len(c0) != 2 || c0[1].Received.Before(c0[0].Time.Add(time.Second)) {
		t.Fatalf("c0's requests %+v: the retry came inside the 429's second", c0)
	}
	// The other channels did not wait for c0's bucket.
	for _, ch := range []string{"c1", "c2", "c3"} {
		if r := requestsTo(env.fd, ch); len(r) != 1 || !r[0].Received.Before(c0[1].Received) {
			t.Errorf("%s: %+v, want one request before c0's retry", ch, r)
		}
	}
}

func TestPosterSharedScope429IsNotAnInvalidRequest(t *testing.T) {
	t.Parallel()
	env := newPostEnvWith(t, bot.PosterOptions{RateLimitRetries: -1, MaxRateLimitWait: time.Minute})
	env.fd.Fail(fakediscord.CreateMessage("c1"), 1, fakediscord.SharedRateLimited)
	_, err := env.poster.Post(t.Context(), postDelivery(1, "c1"))
	var pe *bot.PostError
	if !errors.As(err, &pe) || pe.Scope != "shared" || pe.Global || !pe.Retry || pe.InvalidRequest() {
		t.Fatalf("err = %#v", err)
	}
	if o := outbox.Classify(err); o.Invalid || !o.Retry || o.RetryAfter != fakediscord.DefaultRetryAfter {
		t.Errorf("outbox sees %+v", o)
	}
	// The resource is held for retry_after, then the post goes through.
	if _, err := env.poster.Post(t.Context(), postDelivery(1, "c1")); err != nil {
		t.Fatal(err)
	}
	reqs := requestsTo(env.fd, "c1")
	if len(reqs) != 2 || reqs[1].Received.Before(reqs[0].Time.Add(fakediscord.DefaultRetryAfter)) {
		t.Errorf("requests %+v", reqs)
	}
}

func TestPosterHoldsAnExhaustedBucketUntilItResets(t *testing.T) {
	t.Parallel()
	env := newPostEnv(t)
	env.fd.SetLimits(fakediscord.Limits{Messages: 2, MessageWindow: 600 * time.Millisecond})
	for i := range int64(3) {
		if _, err := env.poster.Post(t.Context(), postDelivery(i+1, "c1")); err != nil {
			t.Fatal(err)
		}
	}
	reqs := requestsTo(env.fd, "c1")
	if len(reqs) != 3 {
		t.Fatalf("%d requests, want 3 (no 429, no retry)", len(reqs))
	}
	// The second answer said remaining 0: the third waited for the reset.
	if reqs[2].Received.Before(reqs[0].Received.Add(600 * time.Millisecond)) {
		t.Errorf("third post arrived %v after the first, inside the 600ms window", reqs[2].Received.Sub(reqs[0].Received))
	}
	if st := env.fd.LimitStats(); len(st.TooManyRequests) != 0 {
		t.Errorf("429s: %v", st.TooManyRequests)
	}
}

func TestPosterPostsToChannelsInParallel(t *testing.T) {
	t.Parallel()
	env := newPostEnv(t)
	env.fd.SetLimits(fakediscord.DiscordLimits())
	env.fd.SetLatency(fakediscord.CreateMessage(""), 500*time.Millisecond)
	channels := []string{"c1", "c2", "c3", "c4", "c5", "c6"}
	postAll(t, env.poster, 1, channels...)
	st := env.fd.LimitStats()
	if st.MaxInFlight != len(channels) {
		t.Errorf("at most %d posts in flight at once, want all %d", st.MaxInFlight, len(channels))
	}
	if len(st.TooManyRequests) != 0 {
		t.Errorf("429s: %v", st.TooManyRequests)
	}
	for _, ch := range channels {
		if n := len(env.fd.Messages(ch)); n != 1 {
			t.Errorf("%s has %d messages", ch, n)
		}
	}
}

func TestPosterEditsShareTheChannelBucketWithPosts(t *testing.T) {
	t.Parallel()
	env := newPostEnv(t)
	env.fd.SetLimits(fakediscord.Limits{Messages: 2, MessageWindow: 600 * time.Millisecond})
	d := postDelivery(1, "c1")
	id, err := env.poster.Post(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	d.MessageID = id
	if err := env.poster.Edit(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	// The edit's answer said the shared bucket is exhausted: the next
	// post waits for its reset, while another channel does not.
	postAll(t, env.poster, 2, "c1", "c2")
	reqs := requestsTo(env.fd, "c1")
	if len(reqs) != 3 || reqs[1].Method != "PATCH" {
		t.Fatalf("requests %+v, want POST, PATCH, POST", reqs)
	}
	if reqs[2].Received.Before(reqs[0].Received.Add(600 * time.Millisecond)) {
		t.Errorf("post after the edit arrived %v after the first post, inside the window", reqs[2].Received.Sub(reqs[0].Received))
	}
	if c2 := requestsTo(env.fd, "c2"); len(c2) != 1 || !c2[0].Received.Before(reqs[2].Received) {
		t.Errorf("c2 waited for c1's bucket: %+v", c2)
	}
	if st := env.fd.LimitStats(); len(st.TooManyRequests) != 0 {
		t.Errorf("429s: %v", st.TooManyRequests)
	}
}

func TestPosterEdit(t *testing.T) {
	t.Parallel()
	env := newPostEnv(t)
	d := postDelivery(1, "c1")
	id, err := env.poster.Post(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	d.MessageID = id
	d.Alert.Article.Title = "Edited: @everyone <@&5> still no ping"
	env.fd.FailRateLimited(fakediscord.EditMessage("c1", id), 2, 50*time.Millisecond, false)
	if err := env.poster.Edit(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	m, ok := env.fd.ChannelMessage("c1", id)
	if !ok || m.Edits != 1 || len(m.Embeds) != 1 || !strings.HasPrefix(m.Embeds[0].Title, "Edited:") {
		t.Fatalf("message %+v", m)
	}
	if !m.MentionsSuppressed() || !strings.Contains(string(m.Raw), `"parse":[]`) || strings.Contains(string(m.Raw), "nonce") {
		t.Errorf("edit body %s", m.Raw)
	}
	if n := env.fd.CountRequests(fakediscord.EditMessage("c1", id)); n != 3 {
		t.Errorf("%d PATCHes, want 3 (two 429s waited out)", n)
	}
	if len(env.fd.Messages("c1")) != 1 {
		t.Error("an edit posted a message")
	}
}

func TestPosterEditOfDeletedMessageIsGone(t *testing.T) {
	t.Parallel()
	env := newPostEnv(t)
	d := postDelivery(1, "c1")
	id, err := env.poster.Post(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	env.fd.DeleteMessage("c1", id)
	d.MessageID = id
	err = env.poster.Edit(t.Context(), d)
	var gone interface{ MessageGone() bool }
	if !errors.As(err, &gone) || !gone.MessageGone() {
		t.Fatalf("err = %v, want a gone message", err)
	}
	var pe *bot.PostError
	if !errors.As(err, &pe) || pe.Retry || pe.DisableChannel || pe.Code != 10008 || pe.InvalidRequest() {
		t.Errorf("%#v", pe)
	}
	if o := outbox.Classify(err); o.Retry || o.DisableChannel {
		t.Errorf("outbox sees %+v", o)
	}
	if !strings.Contains(err.Error(), "edit message "+id) {
		t.Errorf("error text %q", err)
	}
	if n := env.fd.CountRequests(fakediscord.CreateMessage("c1")); n != 1 {
		t.Errorf("%d posts: the edit reposted", n)
	}
}

func TestPosterEditErrors(t *testing.T) {
	t.Parallel()
	env := newPostEnv(t)
	d := postDelivery(1, "c1")
	// No message id: refused unsent.
	if err := env.poster.Edit(t.Context(), d); err == nil {
		t.Fatal("edit without a message id accepted")
	}
	if n := env.fd.CountRequests(fakediscord.AnyRequest); n != 0 {
		t.Errorf("%d requests", n)
	}
	cases := []struct {
		kind                 fakediscord.FaultKind
		retry, disable, gone bool
	}{
		{fakediscord.UnknownChannel, false, true, false},
		{fakediscord.MissingAccess, false, true, false},
		{fakediscord.ServerError, true, false, false},
		{fakediscord.DropConnection, true, false, false},
	}
	for i, tc := range cases {
		t.Run(tc.kind.String(), func(t *testing.T) {
			d := postDelivery(int64(i+2), fmt.Sprint("e", i))
			d.MessageID = "300000000000000001"
			env.fd.Fail(fakediscord.EditMessage(d.ChannelID, ""), 1, tc.kind)
			err := env.poster.Edit(t.Context(), d)
			var pe *bot.PostError
			if !errors.As(err, &pe) || pe.Retry != tc.retry || pe.DisableChannel != tc.disable || pe.MessageGone() != tc.gone {
				t.Errorf("%#v", err)
			}
		})
	}
}

func TestHTTPTimeoutStartsWhenTheRequestIsSent(t *testing.T) {
	t.Parallel()
	fd := fakediscord.New(t)
	s, err := bot.NewSession(bot.SessionConfig{Token: fd.Token(), APIURL: fd.URL(), HTTPTimeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	p := bot.NewPoster(s, bot.PosterOptions{})
	// A 429 asking for more than the HTTP timeout is waited out: the
	// timeout bounds the request, not its wait for the rate limit.
	fd.FailRateLimited(fakediscord.CreateMessage("c1"), 1, 700*time.Millisecond, false)
	if _, err := p.Post(t.Context(), postDelivery(1, "c1")); err != nil {
		t.Fatalf("post after a 700ms 429 with a 300ms HTTP timeout: %v", err)
	}
	// An answer that takes longer than the timeout still fails, retryably.
	fd.SetLatency(fakediscord.CreateMessage("c2"), 5*time.Second)
	_, err = p.Post(t.Context(), postDelivery(2, "c2"))
	var pe *bot.PostError
	if !errors.As(err, &pe) || pe.Status != 0 || !pe.Retry || !strings.Contains(err.Error(), "300ms") {
		t.Fatalf("slow answer: %v", err)
	}
}
