package bot

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"golang.org/x/time/rate"

	"github.com/backchannel/backchannel/bot/ratelimit"
	"github.com/backchannel/backchannel/model"
)

// Poster posts alert deliveries to Discord channels and edits them. It is
// safe for concurrent use by many goroutines: every request is paced by
// the session's rate limiter (the global limit, the channel's bucket as
// Discord's answers describe it, 429s waited out exactly), so requests to
// different channels go out in parallel and no channel's wait holds
// another's.
type Poster struct {
	session *discordgo.Session
	client  *http.Client // paced
	logger  *slog.Logger
	opts    PosterOptions

	mu       sync.Mutex
	channels map[string]*rate.Limiter // channel id -> pacing, with ChannelEvery only
}

// PosterOptions are NewPoster's optional settings; the zero value works,
// with the defaults in brackets.
type PosterOptions struct {
	Logger *slog.Logger // [discard]
	// GlobalLimiter makes every request of the Poster also wait on it.
	// Sessions from NewSession already pace all their requests
	// (SessionConfig.Limiter); this is for a stricter limit on posts
	// alone [none].
	GlobalLimiter *rate.Limiter
	// ChannelEvery spaces requests to one channel: at most ChannelBurst
	// at once, then one per ChannelEvery. The buckets Discord announces
	// already pace each channel; this is a fixed limit on top of them
	// [0: off; burst 1].
	ChannelEvery time.Duration
	ChannelBurst int
	// RateLimitRetries is how many 429 answers one Post or Edit waits out
	// before giving up [3; negative: none], and MaxRateLimitWait the
	// longest rate-limit wait it takes on itself [30s]; a longer one is
	// returned to the caller as a retryable PostError (without sending,
	// when the window was known beforehand).
	RateLimitRetries int
	MaxRateLimitWait time.Duration
}

func (o *PosterOptions) defaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	o.ChannelBurst = max(o.ChannelBurst, 1)
	switch {
	case o.RateLimitRetries == 0:
		o.RateLimitRetries = 3
	case o.RateLimitRetries < 0:
		o.RateLimitRetries = 0
	}
	if o.MaxRateLimitWait <= 0 {
		o.MaxRateLimitWait = 30 * time.Second
	}
}

// NewPoster returns a Poster using session (see NewSession); opts may be
// zero. A session built otherwise gets a rate limiter of the Poster's own,
// pacing the Poster's requests only.
func NewPoster(session *discordgo.Session, opts PosterOptions) *Poster {
	opts.defaults()
	client := session.Client
	if client == nil {
		client = &http.Client{}
	}
	if _, paced := client.Transport.(*sessionAPIRewriter); !paced {
		var next http.RoundTripper = http.DefaultTransport
		if client.Transport != nil {
			next = client.Transport
		}
		if client.Timeout > 0 {
			// Started after the limiter's wait, as in NewSession.
			next = sessionTimeout{next: next, d: client.Timeout}
		}
		client = &http.Client{
			Transport: &sessionAPIRewriter{
				from: discordgo.EndpointAPI, to: discordgo.EndpointAPI, next: next,
				limiter: ratelimit.New(ratelimit.Options{Global: rate.NewLimiter(DefaultRequestLimit, DefaultRequestBurst)}),
			},
			Jar:           client.Jar,
			CheckRedirect: client.CheckRedirect,
		}
	}
	return &Poster{session: session, client: client, logger: opts.Logger, opts: opts, channels: map[string]*rate.Limiter{}}
}

// postAlertRequest is the JSON body of the message. discordgo's
// MessageSend has no nonce.
type postAlertRequest struct {
	Embeds          []*discordgo.MessageEmbed         `json:"embeds"`
	AllowedMentions *discordgo.MessageAllowedMentions `json:"allowed_mentions"`
	Nonce           string                            `json:"nonce"`
	EnforceNonce    bool                              `json:"enforce_nonce"`
}

// editAlertRequest is the JSON body of an edit: the embed is replaced,
// and nothing in it may ping anyone.
type editAlertRequest struct {
	Embeds          []*discordgo.MessageEmbed         `json:"embeds"`
	AllowedMentions *discordgo.MessageAllowedMentions `json:"allowed_mentions"`
}

// postMaxNonce is Discord's nonce length limit.
const postMaxNonce = 25

// postAnswerMax bounds how much of an answer is read; a message is a few
// kilobytes.
const postAnswerMax = 1 << 20

// noMentions is allowed_mentions with an empty, non-nil parse list:
// "parse": [] lets nothing ping.
func noMentions() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
}

// Post sends the delivery's alert to its channel and returns the message
// id. The nonce is enforced, so after a lost reply the retry returns the
// message created the first time instead of posting again. Errors are
// *PostError.
func (p *Poster) Post(ctx context.Context, d model.Delivery) (string, error) {
	if d.ChannelID == "" || d.Nonce == "" || len(d.Nonce) > postMaxNonce {
		return "", &PostError{ChannelID: d.ChannelID, Err: fmt.Errorf("delivery %d has channel %q and nonce %q (1 to %d characters needed)", d.ID, d.ChannelID, d.Nonce, postMaxNonce)}
	}
	body := postAlertRequest{
		Embeds:          []*discordgo.MessageEmbed{Embed(d.Alert)},
		AllowedMentions: noMentions(),
		Nonce:           d.Nonce,
		EnforceNonce:    true,
	}
	answer, status, err := p.send(ctx, http.MethodPost, discordgo.EndpointChannelMessages(d.ChannelID), body, d.ChannelID, "", d.ID)
	if err != nil {
		return "", err
	}
	var m discordgo.Message
	if uerr := json.Unmarshal(answer, &m); uerr != nil || m.ID == "" {
		// The message exists; retrying with the same nonce returns it.
		return "", &PostError{ChannelID: d.ChannelID, Status: status, Retry: true,
			Err: fmt.Errorf("decode created message: %w", errors.Join(uerr, errors.New("no message id")))}
	}
	return m.ID, nil
}

// Edit replaces the embed of the message d.MessageID in d.ChannelID with
// the delivery's alert, pinging no one. Errors are *PostError; a message
// deleted in Discord gives one whose MessageGone reports true, and editing
// it again can never succeed.
func (p *Poster) Edit(ctx context.Context, d model.Delivery) error {
	if d.ChannelID == "" || d.MessageID == "" {
		return &PostError{ChannelID: d.ChannelID, MessageID: d.MessageID, Err: fmt.Errorf("delivery %d has channel %q and message %q (both needed)", d.ID, d.ChannelID, d.MessageID)}
	}
	body := editAlertRequest{
		Embeds:          []*discordgo.MessageEmbed{Embed(d.Alert)},
		AllowedMentions: noMentions(),
	}
	_, _, err := p.send(ctx, http.MethodPatch, discordgo.EndpointChannelMessage(d.ChannelID, d.MessageID), body, d.ChannelID, d.MessageID, d.ID)
	return err
}

// Shows reports whether the message d.MessageID in d.ChannelID already
// shows the delivery's alert as Edit would render it (its title, link,
// fields and footer). An edit whose answer was lost (a crash, a 5xx after
// Discord applied it) is checked this way before it is sent again, so a
// retry never edits a message twice to the same state. Errors are
// *PostError; a deleted message gives one whose MessageGone reports true.
func (p *Poster) Shows(ctx context.Context, d model.Delivery) (bool, error) {
	if d.ChannelID == "" || d.MessageID == "" {
		return false, &PostError{ChannelID: d.ChannelID, MessageID: d.MessageID, Err: fmt.Errorf("delivery %d has channel %q and message %q (both needed)", d.ID, d.ChannelID, d.MessageID)}
	}
	answer, status, err := p.send(ctx, http.MethodGet, discordgo.EndpointChannelMessage(d.ChannelID, d.MessageID), nil, d.ChannelID, d.MessageID, d.ID)
	if err != nil {
		return false, err
	}
	var m discordgo.Message
	if err := json.Unmarshal(answer, &m); err != nil {
		return false, &PostError{ChannelID: d.ChannelID, MessageID: d.MessageID, Status: status, Retry: true, Err: fmt.Errorf("decode message: %w", err)}
	}
	return len(m.Embeds) == 1 && sameEmbed(m.Embeds[0], Embed(d.Alert)), nil
}

// sameEmbed compares what an edit changes and Discord returns as sent.
func sameEmbed(a, b *discordgo.MessageEmbed) bool {
	if a.Title != b.Title || a.URL != b.URL || a.Description != b.Description || len(a.Fields) != len(b.Fields) {
		return false
	}
	if (a.Footer == nil) != (b.Footer == nil) || (a.Footer != nil && a.Footer.Text != b.Footer.Text) {
		return false
	}
	for i, f := range a.Fields {
		if g := b.Fields[i]; f.Name != g.Name || f.Value != g.Value || f.Inline != g.Inline {
			return false
		}
	}
	return true
}

// send makes one request, waiting out up to maxRateLimits 429s, and
// returns the body and status of a 2xx answer. A nil payload sends no
// body. Errors are *PostError.
func (p *Poster) send(ctx context.Context, method, endpoint string, payload any, channelID, messageID string, delivery int64) ([]byte, int, error) {
	var body []byte
	if payload != nil {
		var err error
		if body, err = json.Marshal(payload); err != nil {
			return nil, 0, &PostError{ChannelID: channelID, MessageID: messageID, Err: fmt.Errorf("encode: %w", err)}
		}
	}
	for rateLimited := 0; ; {
		if err := ctx.Err(); err != nil {
			return nil, 0, classifyTransportError(channelID, messageID, err)
		}
		if err := p.pace(ctx, channelID); err != nil {
			return nil, 0, classifyTransportError(channelID, messageID, err)
		}
		status, header, answer, err := p.do(ctx, method, endpoint, body)
		if err != nil {
			return nil, status, classifyTransportError(channelID, messageID, err)
		}
		if status >= 200 && status < 300 {
			return answer, status, nil
		}
		pe := classifyAnswer(channelID, messageID, status, header, answer)
		if pe.Status != http.StatusTooManyRequests || rateLimited >= p.opts.RateLimitRetries || pe.RetryAfter > p.opts.MaxRateLimitWait {
			return nil, status, pe
		}
		rateLimited++
		// The limiter learned the window from the answer; the next
		// request waits it out.
		p.logger.Debug("discord 429, waiting", "channel", channelID, "retry_after", pe.RetryAfter, "scope", pe.Scope, "global", pe.Global, "delivery", delivery)
	}
}

// pace applies the optional limits of PosterOptions.GlobalLimiter and
// ChannelEvery.
func (p *Poster) pace(ctx context.Context, channelID string) error {
	if p.opts.ChannelEvery > 0 {
		if err := p.channel(channelID).Wait(ctx); err != nil {
			return fmt.Errorf("channel pacing: %w", errors.Join(err, ctx.Err()))
		}
	}
	if p.opts.GlobalLimiter != nil {
		if err := p.opts.GlobalLimiter.Wait(ctx); err != nil {
			return fmt.Errorf("global limit: %w", errors.Join(err, ctx.Err()))
		}
	}
	return nil
}

func (p *Poster) channel(id string) *rate.Limiter {
	p.mu.Lock()
	defer p.mu.Unlock()
	l, ok := p.channels[id]
	if !ok {
		l = rate.NewLimiter(rate.Every(p.opts.ChannelEvery), p.opts.ChannelBurst)
		p.channels[id] = l
	}
	return l
}

// do sends one request through the paced client. A known rate-limit window
// longer than maxWait fails it unsent (ratelimit.WaitError). The status is
// that of the answer, 0 when none arrived.
func (p *Poster) do(ctx context.Context, method, endpoint string, body []byte) (int, http.Header, []byte, error) {
	req, err := http.NewRequestWithContext(ratelimit.WithMaxWait(ctx, p.opts.MaxRateLimitWait), method, endpoint, bytes.NewReader(body))
	if err != nil {
		return 0, nil, nil, err
	}
	req.Header.Set("Authorization", p.session.Token)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", p.session.UserAgent)
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, postAnswerMax))
	if err != nil {
		return resp.StatusCode, resp.Header, nil, fmt.Errorf("read the answer (HTTP %d): %w", resp.StatusCode, err)
	}
	return resp.StatusCode, resp.Header, answer, nil
}
