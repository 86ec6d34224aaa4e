// Package outbox delivers stories: it takes the deliveries that are due
// from the store, posts each through a Poster (or, for a story whose
// message exists, edits that message), and records the result. A
// delivery is marked sent only after the Poster returned a message id;
// retryable failures are rescheduled with exponential backoff and jitter,
// permanent ones are marked failed, a channel the bot cannot post in is
// disabled, and an edit of a message deleted in Discord is dropped, never
// posted again.
//
// Deliveries go out in parallel, a bounded pool of workers, one request in
// flight per channel: each channel's deliveries are a lane, taken in the
// order of its stories, so a channel's slow answers or failures hold only
// that channel. Pacing (Discord's global limit, per-route buckets, 429s)
// is the Poster's.
//
// Exactly-once from the user's point of view rests on two things: the
// delivery row is only marked delivered after Discord answered with the
// message, and every post carries a nonce stable for that delivery, so
// re-posting after a lost answer or a crash returns the existing message.
// An edit carries the story's whole state, so one repeated after a lost
// answer shows the same thing again.
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
// DueDeliveries pages through the due deliveries in id order (after: the
// last id of the previous page). MarkDelivered records what d rendered.
// MarkSending notes, before an edit is sent, that its outcome is unknown
// until recorded: should the bot stop first, the delivery comes back at
// settled with a LastError.
type Store interface {
	DueDeliveries(ctx context.Context, now time.Time, after int64, limit int) ([]model.Delivery, error)
	// NextDue says when the earliest pending delivery is due (false: none
	// is pending), so that an idle outbox sleeps instead of polling.
	NextDue(ctx context.Context) (time.Time, bool, error)
	MarkDelivered(ctx context.Context, d model.Delivery, messageID string) error
	MarkSending(ctx context.Context, id int64, settled time.Time) error
	MarkRetry(ctx context.Context, id int64, next time.Time, reason string) error
	MarkFailed(ctx context.Context, id int64, reason string) error
	DisableChannel(ctx context.Context, guildID, channelID, reason string) error
}

// Poster sends one delivery: Post creates its message and returns the
// message's id; Edit makes the message d.MessageID show d. Both must be
// safe for concurrent use by the workers.
type Poster interface {
	Post(ctx context.Context, d model.Delivery) (messageID string, err error)
	Edit(ctx context.Context, d model.Delivery) error
}

// Checker is a Poster that can tell whether a message already shows a
// delivery (bot.Poster). An edit whose last attempt's outcome is unknown —
// the bot died while it was in flight, or it failed after Discord may
// have applied it — is checked first, and not sent again when the message
// shows it: a retry never edits a message twice to the same state.
type Checker interface {
	Shows(ctx context.Context, d model.Delivery) (bool, error)
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
	// Gone: the edited message was deleted; the edit is dropped.
	Gone bool
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
	var gone interface{ MessageGone() bool }
	if errors.As(err, &gone) && gone.MessageGone() {
		o.Gone, o.Retry = true, false
	}
	return o
}

// Options are New's optional settings: the worker's logger, metrics and
// clock, and its tuning. Zero values take the defaults in brackets.
type Options struct {
	Logger  *slog.Logger     // [discard]
	Metrics *metrics.Metrics // [unregistered]

	Batch       int           // deliveries read from the store at a time [100]
	Workers     int           // deliveries in flight at once, each to another channel [32]
	BackoffBase time.Duration // first retry delay [5s]
	BackoffMax  time.Duration // longest retry delay [10m]
	Jitter      float64       // ± fraction of the delay, 0..1 [0.2]; negative: none
	MaxAttempts int           // attempts before a retryable failure is final [50]
	// PollInterval is the shortest sleep between Run's rounds [2s], and
	// IdleInterval the longest: Run sleeps until the earliest pending
	// delivery is due, within those bounds, or until Notify [30s].
	PollInterval time.Duration
	IdleInterval time.Duration
	// ShutdownGrace is how long an in-flight post (and the recording of
	// its result) may run on after Run's or Flush's context is cancelled [5s].
	ShutdownGrace time.Duration
	// BreakerThreshold consecutive invalid answers (401/403/429) pause all
	// posting for BreakerPause [5, 1m].
	BreakerThreshold int
	BreakerPause     time.Duration
	// ProbeWait: until Discord has answered a request validly (at start,
	// and after an invalid answer), requests go one at a time, so a
	// refused token or a ban costs one invalid request, not one per
	// worker; the others wait for that one's answer, at most ProbeWait
	// (an unanswered request says nothing about the next) [5s].
	ProbeWait time.Duration
	// EditSettle: an edit the bot stopped sending (a crash, a shutdown
	// grace run out) is checked and sent again no sooner than this after
	// it was sent, by when it has reached Discord or never will; checked
	// earlier, an edit still on its way would look missing and be sent
	// twice [15s, the session's request timeout].
	EditSettle time.Duration
	Now        func() time.Time    // [time.Now]
	Classify   func(error) Outcome // [Classify]
	Rand       func() float64      // jitter source in [0,1) [math/rand/v2]
}

func (o *Options) defaults() {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = metrics.NewUnregistered()
	}
	if o.Batch <= 0 {
		o.Batch = 100
	}
	if o.Workers <= 0 {
		o.Workers = 32
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
	if o.IdleInterval <= 0 {
		o.IdleInterval = 30 * time.Second
	}
	if o.IdleInterval < o.PollInterval {
		o.IdleInterval = o.PollInterval
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
	if o.ProbeWait <= 0 {
		o.ProbeWait = 5 * time.Second
	}
	if o.EditSettle <= 0 {
		o.EditSettle = 15 * time.Second
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
// may be called from others (Flush calls are serialised). Each Flush runs
// up to Workers deliveries at once.
type Outbox struct {
	store  Store
	poster Poster
	m      *metrics.Metrics
	log    *slog.Logger
	opts   Options
	notify chan struct{}

	flushMu sync.Mutex // one round at a time

	mu          sync.Mutex
	invalidRun  int           // consecutive invalid answers
	validSeen   bool          // Discord answered a request validly
	probe       chan struct{} // closed when the request in flight while cautious is answered; nil: none
	pausedUntil time.Time     // breaker open until then
}

// New returns an outbox worker delivering from store through poster; opts
// may be zero.
func New(store Store, poster Poster, opts Options) *Outbox {
	opts.defaults()
	return &Outbox{
		store:  store,
		poster: poster,
		m:      opts.Metrics,
		log:    opts.Logger,
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

// Run delivers due deliveries until ctx is done. Between rounds it sleeps
// until the earliest pending delivery is due (at least PollInterval, at
// most IdleInterval), until the breaker closes, or until Notify. It
// returns nil when stopped by ctx: an in-flight post is given
// ShutdownGrace to finish and be recorded; everything else stays queued
// for the next start.
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
		if err == nil {
			wait = o.idleWait(ctx)
		}
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

// idleWait is how long Run may sleep after a round that went well: until
// the earliest pending delivery is due, within [PollInterval,
// IdleInterval]. A delivery due already (one waiting behind an earlier
// post's retry, or an edit queued by this round) is looked at again after
// PollInterval; new deliveries come with Notify. IdleInterval bounds what
// a writer that does not notify (another process) waits.
func (o *Outbox) idleWait(ctx context.Context) time.Duration {
	next, ok, err := o.store.NextDue(ctx)
	switch {
	case err != nil:
		if ctx.Err() == nil {
			o.log.Warn("outbox: reading the next due delivery failed", "err", err)
		}
		return o.opts.PollInterval
	case !ok:
		return o.opts.IdleInterval
	}
	return min(max(next.Sub(o.opts.Now()), o.opts.PollInterval), o.opts.IdleInterval)
}

// Flush delivers everything due now and returns when no due delivery is
// left that it has not tried in this call, when ctx is done (in-flight
// deliveries get ShutdownGrace to finish and be recorded), or when the
// breaker opens (ErrPaused). Errors reading or writing the store are
// returned; post failures are recorded on their deliveries, not returned.
func (o *Outbox) Flush(ctx context.Context) error {
	o.flushMu.Lock()
	defer o.flushMu.Unlock()
	f := &flush{
		o:        o,
		ctx:      ctx,
		tried:    map[int64]bool{},
		queue:    map[string][]model.Delivery{},
		busy:     map[string]bool{},
		blocked:  map[string]bool{},
		done:     make(chan laneResult, o.opts.Workers),
		disabled: &disabledChannels{why: map[string]string{}},
	}
	return f.run()
}

// A flush hands each channel's due deliveries to a lane: one goroutine
// delivering them in order, so a channel has one request in flight, while
// up to Workers lanes run at once. The flush's own goroutine owns its
// state; lanes report back on done.
type flush struct {
	o   *Outbox
	ctx context.Context

	tried   map[int64]bool              // read in this flush: never tried twice
	queue   map[string][]model.Delivery // channel → deliveries waiting for a lane
	waiting int                         // deliveries in queue
	ready   []string                    // channels with a queue and no lane, first come first
	busy    map[string]bool             // channels with a lane running
	blocked map[string]bool             // channels whose next post waits for an earlier one's retry
	running int                         // lanes running
	done    chan laneResult             // lanes report here; room for all, so none waits
	err     error                       // the first store error: stop
	// disabled: channels found unusable in this call; their other due
	// deliveries are failed without posting. The memory is per call on
	// purpose: a channel re-subscribed after its permissions were fixed
	// must work again, and the store stops creating deliveries for
	// disabled subscriptions.
	disabled *disabledChannels
}

type laneResult struct {
	channel string
	blocked bool
	err     error
}

type disabledChannels struct {
	mu  sync.Mutex
	why map[string]string
}

func (d *disabledChannels) get(ch string) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	why, ok := d.why[ch]
	return why, ok
}

func (d *disabledChannels) set(ch, why string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.why[ch] = why
}

// maxPasses bounds the passes of one flush. Each pass after the first
// happens only because the one before found a delivery not tried before,
// so the loop ends anyway; the cap guards against a store that keeps
// inventing ids.
const maxPasses = 10_000

func (f *flush) run() error {
	// A pass reads the due deliveries in id order, a page at a time, as
	// lanes make room; a pass that found something new is followed by
	// another, for deliveries that became due meanwhile (a channel's post
	// that waited for the one before it).
	var after int64
	fresh, passDone := false, false
	for pass := 0; pass < maxPasses; {
		f.drain()
		f.startLanes()
		if !f.stopping() && !passDone && f.waiting < f.o.opts.Workers*4 {
			page, err := f.o.store.DueDeliveries(f.ctx, f.o.opts.Now(), after, f.o.opts.Batch)
			if err != nil {
				if f.ctx.Err() == nil {
					f.err = fmt.Errorf("outbox: due deliveries: %w", err)
				}
				continue
			}
			for _, d := range page {
				after = d.ID
				if f.tried[d.ID] {
					continue
				}
				f.tried[d.ID], fresh = true, true
				f.enqueue(d)
			}
			passDone = len(page) < f.o.opts.Batch
			continue
		}
		if f.running == 0 {
			if f.stopping() || !fresh {
				return f.result()
			}
			// passDone here: everything read was delivered.
			after, fresh, passDone = 0, false, false
			pass++
			continue
		}
		f.finish(<-f.done)
	}
	return f.result()
}

// stopping: nothing more is started (lanes stop after their delivery in
// flight) once ctx is done, the breaker is open or the store failed.
func (f *flush) stopping() bool {
	return f.err != nil || f.ctx.Err() != nil || f.o.paused()
}

func (f *flush) result() error {
	switch {
	case f.err != nil:
		return f.err
	case f.ctx.Err() != nil:
		return nil
	case f.o.paused():
		return ErrPaused
	}
	return nil
}

// drain takes the results of the lanes that finished, without waiting.
func (f *flush) drain() {
	for {
		select {
		case r := <-f.done:
			f.finish(r)
		default:
			return
		}
	}
}

func (f *flush) enqueue(d model.Delivery) {
	ch := d.ChannelID
	if len(f.queue[ch]) == 0 && !f.busy[ch] {
		f.ready = append(f.ready, ch)
	}
	f.queue[ch] = append(f.queue[ch], d)
	f.waiting++
}

// startLanes starts a lane for each ready channel while workers are free.
func (f *flush) startLanes() {
	for f.running < f.o.opts.Workers && len(f.ready) > 0 && !f.stopping() {
		ch := f.ready[0]
		f.ready = f.ready[1:]
		ds := f.queue[ch]
		delete(f.queue, ch)
		f.waiting -= len(ds)
		f.busy[ch] = true
		f.running++
		blocked := f.blocked[ch]
		go func() {
			f.done <- f.lane(ch, ds, blocked)
		}()
	}
}

func (f *flush) finish(r laneResult) {
	f.running--
	f.busy[r.channel] = false
	f.blocked[r.channel] = r.blocked
	if r.err != nil && f.err == nil {
		f.err = r.err
	}
	if len(f.queue[r.channel]) > 0 {
		f.ready = append(f.ready, r.channel)
	}
}

// lane delivers one channel's deliveries in order. After a post that will
// be retried, the channel's later posts wait (they stay queued) so that
// the channel gets its stories in order; edits still go.
func (f *flush) lane(ch string, ds []model.Delivery, blocked bool) laneResult {
	for _, d := range ds {
		if f.ctx.Err() != nil || f.o.paused() {
			break
		}
		if blocked && d.MessageID == "" {
			continue
		}
		retried, err := f.o.deliver(f.ctx, d, f.disabled)
		if err != nil {
			return laneResult{channel: ch, blocked: blocked, err: err}
		}
		blocked = blocked || (retried && d.MessageID == "")
	}
	return laneResult{channel: ch, blocked: blocked}
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

// deliver posts or edits one delivery and records what happened. It
// reports whether the delivery will be retried; only store errors are
// returned.
func (o *Outbox) deliver(ctx context.Context, d model.Delivery, disabled *disabledChannels) (bool, error) {
	gctx, cancel := o.graceContext(ctx)
	defer cancel()
	edit := d.MessageID != ""
	log := o.log.With("delivery", d.ID, "alert", d.Alert.ID, "channel", d.ChannelID, "edit", edit)

	if why, ok := disabled.get(d.ChannelID); ok {
		// Posting would only earn another 403/404.
		o.m.DeliveryFailures.WithLabelValues("permanent").Inc()
		if err := o.store.MarkFailed(gctx, d.ID, "channel disabled: "+why); err != nil {
			return false, fmt.Errorf("outbox: mark delivery %d failed: %w", d.ID, err)
		}
		return false, nil
	}

	release, ok := o.admit(ctx)
	if !ok {
		return false, nil // stopped or paused meanwhile: stays queued, untouched
	}
	// release after the answer is counted, so that the request waiting
	// for it sees the breaker it may have opened.
	msgID, err, serr := o.send(gctx, d)
	if serr != nil {
		release()
		return false, serr
	}
	if err == nil {
		o.recordValid()
		release()
		if !edit {
			o.m.AlertsPosted.Inc()
		}
		if err := o.store.MarkDelivered(gctx, d, msgID); err != nil {
			// The message exists; the next attempt's nonce returns it (or
			// the edit shows the same again).
			return false, fmt.Errorf("outbox: mark delivery %d delivered as %s: %w", d.ID, msgID, err)
		}
		log.Debug("delivered", "message", msgID, "sources", len(d.Alert.Sources))
		return false, nil
	}
	out := o.opts.Classify(err)
	if out.Invalid {
		o.recordInvalid()
	} else {
		o.recordValid()
	}
	release()
	attempt := d.Attempts + 1
	reason := fmt.Sprintf("attempt %d: %v", attempt, err)

	switch {
	case out.Gone && edit:
		// Deleted in Discord: a moderator's choice. Posting the story
		// again would undo it.
		log.Info("message deleted in Discord; edit dropped", "message", d.MessageID)
		if merr := o.store.MarkFailed(gctx, d.ID, "message deleted in Discord; edit dropped"); merr != nil {
			return false, fmt.Errorf("outbox: mark delivery %d failed: %w", d.ID, merr)
		}
		return false, nil
	case out.DisableChannel:
		o.m.DeliveryFailures.WithLabelValues("permanent").Inc()
		disabled.set(d.ChannelID, err.Error())
		log.Warn("channel unusable, disabling its subscription", "err", err)
		if derr := o.store.DisableChannel(gctx, d.Alert.GuildID, d.ChannelID, err.Error()); derr != nil {
			return false, fmt.Errorf("outbox: disable channel %s: %w", d.ChannelID, derr)
		}
		if merr := o.store.MarkFailed(gctx, d.ID, reason); merr != nil {
			return false, fmt.Errorf("outbox: mark delivery %d failed: %w", d.ID, merr)
		}
		return false, nil
	case !out.Retry || attempt >= o.opts.MaxAttempts:
		o.m.DeliveryFailures.WithLabelValues("permanent").Inc()
		log.Warn("delivery failed permanently", "attempt", attempt, "err", err)
		if merr := o.store.MarkFailed(gctx, d.ID, reason); merr != nil {
			return false, fmt.Errorf("outbox: mark delivery %d failed: %w", d.ID, merr)
		}
		return false, nil
	}
	o.m.DeliveryFailures.WithLabelValues("retry").Inc()
	next := o.opts.Now().Add(max(o.Backoff(attempt), out.RetryAfter))
	log.Info("delivery will be retried", "attempt", attempt, "next", next, "err", err)
	if merr := o.store.MarkRetry(gctx, d.ID, next, reason); merr != nil {
		return false, fmt.Errorf("outbox: mark delivery %d for retry: %w", d.ID, merr)
	}
	return true, nil
}

// send posts d, or edits its message when it has one, and returns the
// message's id and the Poster's error; storeErr is a store error, which
// stops the flush. An edit whose last attempt's outcome is unknown is
// checked first (Checker); an edit about to be sent is noted (MarkSending)
// so that a crash before its outcome is recorded leaves it unknown.
func (o *Outbox) send(ctx context.Context, d model.Delivery) (msgID string, err, storeErr error) {
	if d.MessageID == "" {
		msgID, err := o.poster.Post(ctx, d)
		if err == nil && msgID == "" {
			err = errors.New("poster returned no message id")
		}
		return msgID, err, nil
	}
	if c, ok := o.poster.(Checker); ok && (d.Attempts > 0 || d.LastError != "") {
		shown, err := c.Shows(ctx, d)
		if err != nil || shown {
			return d.MessageID, err, nil
		}
	}
	if err := o.store.MarkSending(ctx, d.ID, o.opts.Now().Add(o.opts.EditSettle)); err != nil {
		return "", nil, fmt.Errorf("outbox: mark delivery %d sending: %w", d.ID, err)
	}
	return d.MessageID, o.poster.Edit(ctx, d), nil
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

// admit lets a request go. While the outbox is cautious (no valid answer
// yet, or the last answer was invalid) one request at a time goes as a
// probe, and the others wait for its answer, at most ProbeWait. It
// reports false, sending nothing, when ctx ends or the breaker opens
// meanwhile; release is called once the answer is recorded.
func (o *Outbox) admit(ctx context.Context) (release func(), ok bool) {
	var timeout <-chan time.Time
	for {
		if ctx.Err() != nil {
			return nil, false
		}
		o.mu.Lock()
		// The breaker is checked under the same lock as the probe is
		// taken: checked before it, a request could pass the check, then
		// find the probe just released by the answer that opened the
		// breaker, and go out anyway.
		if o.opts.Now().Before(o.pausedUntil) {
			o.mu.Unlock()
			return nil, false
		}
		if o.validSeen && o.invalidRun == 0 {
			o.mu.Unlock()
			return func() {}, true
		}
		if o.probe == nil {
			probe := make(chan struct{})
			o.probe = probe
			o.mu.Unlock()
			return func() {
				o.mu.Lock()
				defer o.mu.Unlock()
				close(probe)
				o.probe = nil
			}, true
		}
		probe := o.probe
		o.mu.Unlock()
		if timeout == nil {
			timer := time.NewTimer(o.opts.ProbeWait)
			defer timer.Stop()
			timeout = timer.C
		}
		select {
		case <-probe:
		case <-timeout:
			return func() {}, true
		case <-ctx.Done():
			return nil, false
		}
	}
}

func (o *Outbox) recordValid() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.invalidRun = 0
	o.validSeen = true
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
