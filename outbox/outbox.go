// Package outbox delivers alerts: it takes the deliveries that are due from
// the store, posts each through a Poster, and records the result. A
// delivery is marked sent only after the Poster returned a message id;
// retryable failures are rescheduled with exponential backoff and jitter,
// permanent ones are marked failed, and a channel the bot cannot post in is
// disabled.
//
// Exactly-once from the user's point of view rests on two things: the
// delivery row is only marked delivered after Discord answered with the
// message, and every post carries a nonce stable for that delivery, so
// re-posting after a lost answer or a crash returns the existing message.
package outbox

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/backchannel/backchannel/metrics"
	"github.com/backchannel/backchannel/model"
)

// Store is what the outbox needs of the database (*db.DB satisfies it).
type Store interface {
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]model.Delivery, error)
	MarkDelivered(ctx context.Context, id int64, messageID string) error
	MarkRetry(ctx context.Context, id int64, next time.Time, reason string) error
	MarkFailed(ctx context.Context, id int64, reason string) error
	DisableChannel(ctx context.Context, guildID, channelID, reason string) error
}

// Poster sends one delivery and returns the id of the message created.
type Poster interface {
	Post(ctx context.Context, d model.Delivery) (messageID string, err error)
}

// Outcome is what the outbox does with a failed post.
type Outcome struct {
	// Retry: reschedule; otherwise the delivery is marked failed.
	Retry bool
	// RetryAfter: the earliest retry the receiver asked for.
	RetryAfter time.Duration
	// DisableChannel: the channel is unusable (missing access, unknown
	// channel); its subscription is disabled.
	DisableChannel bool
	// Invalid: the answer counts against Discord's invalid-request limit
	// (401, 403, 429); enough of them in a row open the circuit breaker.
	Invalid bool
}

// Classify is the default error classification. It reads the behaviour
// of the error through small interfaces (bot.PostError implements them), so
// the outbox needs no import of the Discord adapter. An error that says
// nothing about itself is retried: most such errors are transport errors.
func Classify(err error) Outcome {
	o := Outcome{Retry: true}
	var tmp interface{ Temporary() bool }
	if errors.As(err, &tmp) {
		o.Retry = tmp.Temporary()
	}
	var ra interface{ RetryDelay() time.Duration }
	if errors.As(err, &ra) {
		o.RetryAfter = ra.RetryDelay()
	}
	var cu interface{ ChannelUnusable() bool }
	if errors.As(err, &cu) && cu.ChannelUnusable() {
		o.DisableChannel, o.Retry = true, false
	}
	var inv interface{ InvalidRequest() bool }
	if errors.As(err, &inv) {
		o.Invalid = inv.InvalidRequest()
	}
	return o
}

// Options tune the worker. Zero values take the defaults in brackets.
type Options struct {
	Batch        int           // deliveries claimed per round [20]
	BackoffBase  time.Duration // first retry delay [5s]
	BackoffMax   time.Duration // longest retry delay [10m]
	Jitter       float64       // ± fraction of the delay, 0..1 [0.2]; negative: none
	MaxAttempts  int           // attempts before a retryable failure is final [50]
	PollInterval time.Duration // how often Run looks for due deliveries [2s]
	// ShutdownGrace is how long an in-flight post (and the recording of
	// its result) may run on after Run's or Flush's context is cancelled [5s].
	ShutdownGrace time.Duration
	// BreakerThreshold consecutive invalid answers (401/403/429) pause all
	// posting for BreakerPause [5, 1m].
	BreakerThreshold int
	BreakerPause     time.Duration
	Now              func() time.Time    // [time.Now]
	Classify         func(error) Outcome // [Classify]
	Rand             func() float64      // jitter source in [0,1) [math/rand/v2]
}

func (o *Options) defaults() {
	if o.Batch <= 0 {
		o.Batch = 20
	}
	if o.BackoffBase <= 0 {
		o.BackoffBase = 5 * time.Second
	}
	if o.BackoffMax <= 0 {
		o.BackoffMax = 10 * time.Minute
	}
	if o.BackoffMax < o.BackoffBase {
		o.BackoffMax = o.BackoffBase
	}
	switch {
	case o.Jitter == 0:
		o.Jitter = 0.2
	case o.Jitter < 0:
		o.Jitter = 0
	case o.Jitter > 1:
		o.Jitter = 1
	}
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 50
	}
	if o.PollInterval <= 0 {
		o.PollInterval = 2 * time.Second
	}
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = 5 * time.Second
	}
	if o.BreakerThreshold <= 0 {
		o.BreakerThreshold = 5
	}
	if o.BreakerPause <= 0 {
		o.BreakerPause = time.Minute
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Classify == nil {
		o.Classify = Classify
	}
	if o.Rand == nil {
		o.Rand = rand.Float64
	}
}

// ErrPaused is returned by Flush while the circuit breaker holds posting
// back; the deliveries stay queued.
var ErrPaused = errors.New("outbox: posting paused after repeated invalid requests")

// Outbox is the delivery worker. Run it in one goroutine; Notify and Flush
// may be called from others (Flush calls are serialised).
type Outbox struct {
	store  Store
	poster Poster
	m      *metrics.Metrics
	log    *slog.Logger
	opts   Options
	notify chan struct{}

	flushMu sync.Mutex // one round at a time

	mu          sync.Mutex
	invalidRun  int       // consecutive invalid answers
	pausedUntil time.Time // breaker open until then
}

// New returns an outbox worker. m may be nil (metrics are then kept on a
// private registry); logger may be nil.
func New(store Store, poster Poster, m *metrics.Metrics, logger *slog.Logger, opts Options) *Outbox {
	opts.defaults()
	if m == nil {
		m = metrics.NewUnregistered()
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Outbox{
		store:  store,
		poster: poster,
		m:      m,
		log:    logger,
		opts:   opts,
		notify: make(chan struct{}, 1),
	}
}

// Notify wakes Run early, e.g. after new deliveries were stored. It never
// blocks.
func (o *Outbox) Notify() {
	select {
	case o.notify <- struct{}{}:
	default:
	}
}

// Run delivers due deliveries until ctx is done, waking every PollInterval
// or on Notify. It returns nil when stopped by ctx: an in-flight post is
// given ShutdownGrace to finish and be recorded; everything else stays
// queued for the next start.
func (o *Outbox) Run(ctx context.Context) error {
	timer := time.NewTimer(0)
	defer timer.Stop()
	var lastErr string
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-o.notify:
		}
		err := o.Flush(ctx)
		if ctx.Err() != nil {
			return nil
		}
		// Log only when the error changes, not on every poll.
		switch {
		case err == nil:
			lastErr = ""
		case err.Error() != lastErr:
			lastErr = err.Error()
			if errors.Is(err, ErrPaused) {
				o.log.Warn("outbox paused", "until", o.pausedTill())
			} else {
				o.log.Error("outbox round failed", "err", err)
			}
		}
		wait := o.opts.PollInterval
		if until := o.pausedTill(); !until.IsZero() {
			if d := until.Sub(o.opts.Now()); d > 0 && d < wait {
				wait = d
			}
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(wait)
	}
}

// Flush delivers everything due now and returns when no due delivery is
// left that it has not tried in this call, when ctx is done, or when the
// breaker opens (ErrPaused). Errors reading or writing the store are
// returned; post failures are recorded on their deliveries, not returned.
func (o *Outbox) Flush(ctx context.Context) error {
	o.flushMu.Lock()
	defer o.flushMu.Unlock()
	tried := map[int64]bool{}
	// Channels found unusable in this call: their other due deliveries are
	// failed without posting. The memory is per call on purpose: a channel
	// re-subscribed after its permissions were fixed must work again, and
	// the store stops creating deliveries for disabled subscriptions.
	disabled := map[string]string{}
	// Each round either sees a delivery not tried before or stops, so the
	// loop ends; the cap is a second guard against a store that keeps
	// inventing ids.
	for round := 0; round < 10_000; round++ {
		if err := ctx.Err(); err != nil {
			return nil
		}
		if o.paused() {
			return ErrPaused
		}
		due, err := o.store.DueDeliveries(ctx, o.opts.Now(), o.opts.Batch)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("outbox: due deliveries: %w", err)
		}
		fresh := 0
		for _, d := range due {
			if tried[d.ID] {
				continue
			}
			fresh++
			tried[d.ID] = true
			if err := ctx.Err(); err != nil {
				return nil
			}
			if o.paused() {
				return ErrPaused
			}
			if err := o.deliver(ctx, d, disabled); err != nil {
				return err
			}
		}
		if fresh == 0 || len(due) < o.opts.Batch {
			return nil
		}
	}
	return nil
}

// graceContext outlives ctx by ShutdownGrace, so a post that started
// before shutdown can finish and its result be recorded.
func (o *Outbox) graceContext(ctx context.Context) (context.Context, context.CancelFunc) {
	gctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		time.AfterFunc(o.opts.ShutdownGrace, cancel)
	})
	return gctx, func() {
		stop()
		cancel()
	}
}

// deliver posts one delivery and records what happened. Only store errors
// are returned.
func (o *Outbox) deliver(ctx context.Context, d model.Delivery, disabled map[string]string) error {
	gctx, cancel := o.graceContext(ctx)
	defer cancel()
	log := o.log.With("delivery", d.ID, "alert", d.Alert.ID, "channel", d.ChannelID)

	if why, ok := disabled[d.ChannelID]; ok {
		// Posting would only earn another 403/404.
		o.m.DeliveryFailures.WithLabelValues("permanent").Inc()
		if err := o.store.MarkFailed(gctx, d.ID, "channel disabled: "+why); err != nil {
			return fmt.Errorf("outbox: mark delivery %d failed: %w", d.ID, err)
		}
		return nil
	}

	msgID, err := o.poster.Post(gctx, d)
	if err == nil && msgID != "" {
		o.recordValid()
		o.m.AlertsPosted.Inc()
		if err := o.store.MarkDelivered(gctx, d.ID, msgID); err != nil {
			// The message exists; the next attempt's nonce returns it.
			return fmt.Errorf("outbox: mark delivery %d delivered as %s: %w", d.ID, msgID, err)
		}
		log.Debug("alert posted", "message", msgID)
		return nil
	}
	if err == nil {
		err = errors.New("poster returned no message id")
	}
	out := o.opts.Classify(err)
	if out.Invalid {
		o.recordInvalid()
	} else {
		o.recordValid()
	}
	attempt := d.Attempts + 1
	reason := fmt.Sprintf("attempt %d: %v", attempt, err)

	if out.DisableChannel {
		o.m.DeliveryFailures.WithLabelValues("permanent").Inc()
		disabled[d.ChannelID] = err.Error()
		log.Warn("channel unusable, disabling its subscription", "err", err)
		if derr := o.store.DisableChannel(gctx, d.Alert.GuildID, d.ChannelID, err.Error()); derr != nil {
			return fmt.Errorf("outbox: disable channel %s: %w", d.ChannelID, derr)
		}
		if merr := o.store.MarkFailed(gctx, d.ID, reason); merr != nil {
			return fmt.Errorf("outbox: mark delivery %d failed: %w", d.ID, merr)
		}
		return nil
	}
	if !out.Retry || attempt >= o.opts.MaxAttempts {
		o.m.DeliveryFailures.WithLabelValues("permanent").Inc()
		log.Warn("delivery failed permanently", "attempt", attempt, "err", err)
		if merr := o.store.MarkFailed(gctx, d.ID, reason); merr != nil {
			return fmt.Errorf("outbox: mark delivery %d failed: %w", d.ID, merr)
		}
		return nil
	}
	o.m.DeliveryFailures.WithLabelValues("retry").Inc()
	next := o.opts.Now().Add(max(o.Backoff(attempt), out.RetryAfter))
	log.Info("delivery will be retried", "attempt", attempt, "next", next, "err", err)
	if merr := o.store.MarkRetry(gctx, d.ID, next, reason); merr != nil {
		return fmt.Errorf("outbox: mark delivery %d for retry: %w", d.ID, merr)
	}
	return nil
}

// Backoff is the delay before retry number attempt (1 = first retry):
// BackoffBase doubled per attempt up to BackoffMax, ± Jitter.
func (o *Outbox) Backoff(attempt int) time.Duration {
	d := o.opts.BackoffBase
	for i := 1; i < attempt && d < o.opts.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, o.opts.BackoffMax)
	if j := o.opts.Jitter; j > 0 {
		// Spread retries so deliveries failed together do not come back
		// together.
		d = time.Duration(float64(d) * (1 + j*(2*o.opts.Rand()-1)))
	}
	return max(d, 0)
}

func (o *Outbox) recordValid() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.invalidRun = 0
}

// recordInvalid counts an invalid answer and opens the breaker after
// BreakerThreshold in a row: Discord bans bots that send too many.
func (o *Outbox) recordInvalid() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.invalidRun++
	if o.invalidRun >= o.opts.BreakerThreshold {
		o.pausedUntil = o.opts.Now().Add(o.opts.BreakerPause)
		o.invalidRun = 0
		o.log.Warn("too many invalid Discord answers in a row; pausing delivery", "until", o.pausedUntil)
	}
}

func (o *Outbox) paused() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.opts.Now().Before(o.pausedUntil)
}

// pausedTill returns when the breaker closes, zero when it is closed.
func (o *Outbox) pausedTill() time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.opts.Now().Before(o.pausedUntil) {
		return o.pausedUntil
	}
	return time.Time{}
}

// PausedUntil reports when the circuit breaker lets posting resume; zero
// when posting is not paused.
func (o *Outbox) PausedUntil() time.Time { return o.pausedTill() }
