package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"
	"golang.org/x/time/rate"

	"github.com/backchannel/backchannel/model"
)

// Poster posts alert deliveries to Discord channels. It is safe for
// concurrent use.
type Poster struct {
	session *discordgo.Session
	logger  *slog.Logger
	cfg     posterConfig

	mu       sync.Mutex
	channels map[string]*posterChannel // channel id -> pacing state
	// globalUntil: a global 429 stops every post until then.
	globalUntil time.Time
}

// posterChannel is one channel's pacing. The map of them grows with the
// number of subscribed channels, which is small.
type posterChannel struct {
	limiter *rate.Limiter
	until   time.Time // the channel's bucket is exhausted until then
}

type posterConfig struct {
	global        *rate.Limiter
	channelEvery  time.Duration
	channelBurst  int
	maxRateLimits int
	maxWait       time.Duration
}

// PosterOption configures a Poster.
type PosterOption func(*posterConfig)

// PosterGlobalLimiter makes every post also wait on l. Sessions from
// NewSession already pace all their requests (SessionConfig.Limiter); this
// is for sessions built otherwise, or for a stricter limit on posts alone.
func PosterGlobalLimiter(l *rate.Limiter) PosterOption {
	return func(c *posterConfig) { c.global = l }
}

// PosterChannelPacing spaces posts to one channel: at most burst at once,
// then one per every. Discord allows about 5 messages per 5 s per channel.
func PosterChannelPacing(every time.Duration, burst int) PosterOption {
	return func(c *posterConfig) {
		c.channelEvery, c.channelBurst = every, max(burst, 1)
	}
}

// PosterRateLimitRetries sets how many 429 answers one Post waits out
// before giving up, and the longest retry_after it waits for itself;
// longer waits are returned to the caller as a retryable PostError.
func PosterRateLimitRetries(n int, maxWait time.Duration) PosterOption {
	return func(c *posterConfig) {
		c.maxRateLimits, c.maxWait = max(n, 0), maxWait
	}
}

// NewPoster returns a Poster using session (see NewSession).
func NewPoster(session *discordgo.Session, logger *slog.Logger, opts ...PosterOption) *Poster {
	cfg := posterConfig{
		channelEvery:  time.Second,
		channelBurst:  5,
		maxRateLimits: 3,
		maxWait:       30 * time.Second,
	}
	for _, o := range opts {
		o(&cfg)
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Poster{session: session, logger: logger, cfg: cfg, channels: map[string]*posterChannel{}}
}

// postAlertRequest is the JSON body of the message. discordgo's
// MessageSend has no nonce, so the body is sent through
// RequestWithBucketID.
type postAlertRequest struct {
	Embeds          []*discordgo.MessageEmbed         `json:"embeds"`
	AllowedMentions *discordgo.MessageAllowedMentions `json:"allowed_mentions"`
	Nonce           string                            `json:"nonce"`
	EnforceNonce    bool                              `json:"enforce_nonce"`
}

// postMaxNonce is Discord's nonce length limit.
const postMaxNonce = 25

// Post sends the delivery's alert to its channel and returns the message
// id. The nonce is enforced, so after a lost reply the retry returns the
// message created the first time instead of posting again. Errors are
// *PostError.
func (p *Poster) Post(ctx context.Context, d model.Delivery) (string, error) {
	if d.ChannelID == "" || d.Nonce == "" || len(d.Nonce) > postMaxNonce {
		return "", &PostError{ChannelID: d.ChannelID, Err: fmt.Errorf("delivery %d has channel %q and nonce %q (1 to %d characters needed)", d.ID, d.ChannelID, d.Nonce, postMaxNonce)}
	}
	body := postAlertRequest{
		Embeds: []*discordgo.MessageEmbed{Embed(d.Alert)},
		// An empty, non-nil Parse: "parse": [] lets nothing ping.
		AllowedMentions: &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}},
		Nonce:           d.Nonce,
		EnforceNonce:    true,
	}
	endpoint := discordgo.EndpointChannelMessages(d.ChannelID)
	ch := p.channel(d.ChannelID)

	for rateLimited := 0; ; {
		if err := ctx.Err(); err != nil {
			return "", classifyPostError(d.ChannelID, err, 0, nil)
		}
		if err := p.waitTurn(ctx, d.ChannelID, ch); err != nil {
			return "", err
		}
		rec := &postResponseRecorder{next: p.session.Client.Transport}
		client := &http.Client{Transport: rec, Timeout: p.session.Client.Timeout}
		resp, err := p.session.RequestWithBucketID(http.MethodPost, endpoint, body, endpoint,
			discordgo.WithContext(ctx),
			discordgo.WithClient(client),
			// discordgo would retry 429s forever with a sleep that ignores
			// the context; Post waits them out itself, boundedly.
			discordgo.WithRetryOnRatelimit(false),
			// A 502 may have created the message; the outbox retries with
			// backoff and the nonce.
			discordgo.WithRestRetries(0),
		)
		status, header := rec.last()
		p.observe(ch, status, header)
		if err == nil {
			var m discordgo.Message
			if uerr := discordgo.Unmarshal(resp, &m); uerr != nil || m.ID == "" {
				return "", classifyPostError(d.ChannelID, fmt.Errorf("decode created message: %w", errors.Join(uerr, errors.New("no message id"))), status, header)
			}
			return m.ID, nil
		}
		pe := classifyPostError(d.ChannelID, err, status, header)
		if pe.Status != http.StatusTooManyRequests || rateLimited >= p.cfg.maxRateLimits || pe.RetryAfter > p.cfg.maxWait {
			return "", pe
		}
		rateLimited++
		p.logger.Debug("discord 429, waiting", "channel", d.ChannelID, "retry_after", pe.RetryAfter, "global", pe.Global, "delivery", d.ID)
		// observe recorded the pause; waitTurn waits it out.
	}
}

func (p *Poster) channel(id string) *posterChannel {
	p.mu.Lock()
	defer p.mu.Unlock()
	ch, ok := p.channels[id]
	if !ok {
		ch = &posterChannel{limiter: rate.NewLimiter(rate.Every(p.cfg.channelEvery), p.cfg.channelBurst)}
		p.channels[id] = ch
	}
	return ch
}

// waitTurn waits, bounded by ctx and maxWait, until a known rate-limit
// window is over and the limiters allow a request. A window longer than
// maxWait is returned as a retryable 429-class error without sending, so
// no invalid request is spent on it. Waiting here also keeps discordgo's
// bucket sleep (which ignores the context) at zero.
func (p *Poster) waitTurn(ctx context.Context, channelID string, ch *posterChannel) error {
	p.mu.Lock()
	until := ch.until
	global := p.globalUntil.After(until)
	if global {
		until = p.globalUntil
	}
	p.mu.Unlock()
	if wait := time.Until(until); wait > 0 {
		if wait > p.cfg.maxWait {
			return &PostError{ChannelID: channelID, Status: 0, Retry: true, RetryAfter: wait, Global: global,
				Err: errors.New("rate limited: not sending before the limit resets")}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return classifyPostError(channelID, ctx.Err(), 0, nil)
		case <-t.C:
		}
	}
	if err := ch.limiter.Wait(ctx); err != nil {
		return classifyPostError(channelID, fmt.Errorf("channel pacing: %w", errors.Join(err, ctx.Err())), 0, nil)
	}
	if p.cfg.global == nil {
		return nil
	}
	if err := p.cfg.global.Wait(ctx); err != nil {
		return classifyPostError(channelID, fmt.Errorf("global limit: %w", errors.Join(err, ctx.Err())), 0, nil)
	}
	return nil
}

// observe records rate-limit windows from an answer's headers: an
// exhausted bucket pauses its channel, a global limit pauses everything.
func (p *Poster) observe(ch *posterChannel, status int, h http.Header) {
	if h == nil {
		return
	}
	var wait time.Duration
	if secs, err := strconv.ParseFloat(h.Get("X-RateLimit-Reset-After"), 64); err == nil && secs > 0 {
		wait = time.Duration(secs * float64(time.Second))
	}
	if status == http.StatusTooManyRequests {
		if secs, err := strconv.ParseFloat(h.Get("Retry-After"), 64); err == nil && wait == 0 {
			wait = time.Duration(secs * float64(time.Second))
		}
	} else if h.Get("X-RateLimit-Remaining") != "0" {
		return
	}
	if wait <= 0 {
		return
	}
	until := time.Now().Add(wait)
	p.mu.Lock()
	defer p.mu.Unlock()
	if h.Get("X-RateLimit-Global") != "" {
		if until.After(p.globalUntil) {
			p.globalUntil = until
		}
		return
	}
	if until.After(ch.until) {
		ch.until = until
	}
}

// postResponseRecorder remembers the status and headers of the last
// answer, because discordgo reports some (502, after its retries) as plain
// errors.
type postResponseRecorder struct {
	next   http.RoundTripper
	mu     sync.Mutex
	status int
	header http.Header
}

func (r *postResponseRecorder) RoundTrip(req *http.Request) (*http.Response, error) {
	next := r.next
	if next == nil {
		next = http.DefaultTransport
	}
	resp, err := next.RoundTrip(req)
	r.mu.Lock()
	defer r.mu.Unlock()
	if err != nil {
		r.status, r.header = 0, nil
		return nil, err
	}
	r.status, r.header = resp.StatusCode, resp.Header.Clone()
	return resp, nil
}

func (r *postResponseRecorder) last() (int, http.Header) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.status, r.header
}
