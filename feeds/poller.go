package feeds

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/backchannel/backchannel/metrics"
	"github.com/backchannel/backchannel/model"
)

// Poll results, the label values of metrics.FeedPolls.
const (
	resultOK          = "ok"
	resultNotModified = "not_modified"
	resultError       = "error"
	resultSkipped     = "skipped"
)

// FeedFetcher is what the poller needs of a Fetcher.
type FeedFetcher interface {
	Fetch(ctx context.Context, req Request) (Response, error)
}

// Store keeps articles and feed state. StoreArticles de-duplicates and
// returns only the articles it had not seen, with their IDs set.
//
// Feed state is saved two ways. SaveFeedState writes it before returning.
// QueueFeedState only hands it over, to be written later together with
// other feeds' states in one transaction (and read back meanwhile by
// whoever lists the feeds), so that polling a feed that has not changed
// writes nothing; it returns an error only to report that an earlier
// write of queued states failed.
type Store interface {
	StoreArticles(ctx context.Context, feedID int64, items []model.Article) ([]model.Article, error)
	SaveFeedState(ctx context.Context, feedID int64, st model.FeedState) error
	QueueFeedState(feedID int64, st model.FeedState) error
}

// Batch is the new articles of one poll of one feed.
type Batch struct {
	Feed model.Feed
	// Articles are only the new ones. On the feed's first successful fetch
	// they are its back catalogue and have Backlog set.
	Articles []model.Article
}

// Handler receives each non-empty batch of new articles.
type Handler interface {
	HandleNew(ctx context.Context, b Batch) error
}

// stateSaveTimeout bounds saving state after a poll. The save uses a context
// detached from the poll's, so a poll cut short by shutdown still records
// what it learnt (ETag, failures) instead of losing it.
const stateSaveTimeout = 5 * time.Second

// Poller polls one feed at a time: fetch, parse, store, hand over the new
// articles, record the state. It keeps every feed's latest state itself,
// because the model.Feed a caller holds is a snapshot that does not see the
// ETag or backoff of the previous poll.
//
// States are queued with the store (Store.QueueFeedState), not written per
// poll. What a crash can lose is therefore the states queued since the
// store last wrote them: last poll and success times, and sometimes a new
// ETag or Last-Modified, an error or a backoff. After a restart such a feed
// is fetched in full once (or before its backoff ends), and the store's
// de-duplication keeps its items from coming back as new; items_seen is
// counted by the store in the transaction that stores the items, so it is
// exact. What must survive is that a feed has been fetched at all: the items
// of a first fetch are its back catalogue (model.Article.Backlog), and a
// feed that forgot its first fetch would take its next new items for back
// catalogue too. A first fetch that stored items is remembered by
// items_seen, written with them; one that stored none writes its state at
// once (Store.SaveFeedState).
type Poller struct {
	fetcher FeedFetcher
	store   Store
	handler Handler
	metrics *metrics.Metrics
	logger  *slog.Logger
	now     func() time.Time
	maxAge  time.Duration

	// parseSlots bounds parsing to one per CPU: fetches wait on the network
	// and may run many at once, but more parses than CPUs only add memory.
	parseSlots chan struct{}

	// results are the FeedPolls counters by result, looked up once: a
	// label lookup hashes the label values on every call.
	results map[string]prometheus.Counter

	mu       sync.Mutex
	states   map[int64]model.FeedState
	inFlight map[int64]uint64 // feed id → the poll holding it
	polls    uint64           // last poll number handed out
}

// PollerOptions are NewPoller's optional settings; the zero value works.
type PollerOptions struct {
	Metrics *metrics.Metrics // [unregistered: tools that export none]
	Logger  *slog.Logger     // [discard]
	Now     func() time.Time // [time.Now]
	// MaxAge is poll.max_age: new items that cannot alert
	// (model.Article.CanAlert) are stored as keys only and not handed to
	// the handler. Zero: no age limit.
	MaxAge time.Duration
}

// NewPoller returns a Poller handing new articles to h (none when nil);
// opts may be zero.
func NewPoller(fetcher FeedFetcher, store Store, h Handler, opts PollerOptions) *Poller {
	now, logger, m := opts.Now, opts.Logger, opts.Metrics
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if m == nil {
		m = metrics.NewUnregistered()
	}
	results := map[string]prometheus.Counter{}
	for _, r := range []string{resultOK, resultNotModified, resultError, resultSkipped} {
		results[r] = m.FeedPolls.WithLabelValues(r)
	}
	return &Poller{
		fetcher: fetcher, store: store, handler: h, metrics: m, logger: logger, now: now, maxAge: opts.MaxAge,
		parseSlots: make(chan struct{}, runtime.GOMAXPROCS(0)),
		results:    results,
		states:     map[int64]model.FeedState{},
		inFlight:   map[int64]uint64{},
	}
}

// State returns the latest state the poller knows for the feed: its own
// after a poll, else the one the feed was given with.
func (p *Poller) State(feed model.Feed) model.FeedState {
	p.mu.Lock()
	defer p.mu.Unlock()
	if st, ok := p.states[feed.ID]; ok {
		return st
	}
	return feed.State
}

// Forget drops what the poller remembers about a feed (it was removed). A
// poll of it still running records nothing when it ends.
func (p *Poller) Forget(feedID int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.states, feedID)
	delete(p.inFlight, feedID)
}

// begin marks the feed in flight and returns its current state and the
// poll's number; ok is false if another poll of the same feed is running
// (PollAll and a cron firing can overlap), in which case this one is
// skipped.
func (p *Poller) begin(feed model.Feed) (st model.FeedState, poll uint64, ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st, known := p.states[feed.ID]
	if !known {
		st = feed.State
	}
	if _, busy := p.inFlight[feed.ID]; busy {
		return st, 0, false
	}
	p.polls++
	p.inFlight[feed.ID] = p.polls
	return st, p.polls, true
}

// current reports whether poll still holds the feed: Forget lets go of it.
func (p *Poller) current(feedID int64, poll uint64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.inFlight[feedID] == poll
}

// end lets go of the feed. With record it keeps st as the feed's state and,
// with queue, queues it with the store, in the same critical section, so
// that a later poll of the feed cannot queue its state first. A feed
// forgotten meanwhile records nothing.
func (p *Poller) end(feedID int64, poll uint64, st model.FeedState, record, queue bool) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.inFlight[feedID] != poll {
		return nil
	}
	delete(p.inFlight, feedID)
	if !record {
		return nil
	}
	p.states[feedID] = st
	if queue {
		return p.store.QueueFeedState(feedID, st)
	}
	return nil
}

// Poll polls feed once and returns its new state. It skips the feed
// (metric result "skipped", state unchanged, nil error) while it is backing
// off or already being polled. A failure is recorded in the state and
// returned; it never affects other feeds.
func (p *Poller) Poll(ctx context.Context, feed model.Feed) (model.FeedState, error) {
	prev, poll, ok := p.begin(feed)
	if ok {
		// Lets go of the feed however the poll ends, a panic included; a
		// no-op after the end below.
		defer func() { _ = p.end(feed.ID, poll, prev, false, false) }()
	}
	now := p.now()
	if !ok || now.Before(prev.NextPoll) {
		p.results[resultSkipped].Inc()
		if p.logger.Enabled(ctx, slog.LevelDebug) {
			p.logger.DebugContext(ctx, "poll skipped", "feed", feed.Name, "next_poll", prev.NextPoll, "in_flight", !ok)
		}
		return prev, nil
	}

	st, result, pollErr := p.poll(ctx, feed, prev, now)
	if pollErr != nil && ctx.Err() != nil && errors.Is(pollErr, context.Canceled) {
		// Shutting down is not the feed's fault: leave its state alone.
		return prev, pollErr
	}
	p.results[result].Inc()

	// See Poller for why a first success is written at once, unless it
	// stored items, whose count remembers it. Written while the feed is
	// still in flight, so no later poll overtakes it.
	queue := true
	firstSuccess := prev.LastSuccess.IsZero() && prev.ItemsSeen == 0 && !st.LastSuccess.IsZero()
	if firstSuccess && st.ItemsSeen == 0 && p.current(feed.ID, poll) {
		saveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stateSaveTimeout)
		err := p.store.SaveFeedState(saveCtx, feed.ID, st)
		cancel()
		if err != nil {
			pollErr = errors.Join(pollErr, fmt.Errorf("feeds: save state of %s: %w", feed.RedactedURL(), err))
		}
		queue = err != nil // then the queue tries again
	}
	if err := p.end(feed.ID, poll, st, true, queue); err != nil {
		pollErr = errors.Join(pollErr, fmt.Errorf("feeds: save state of %s: %w", feed.RedactedURL(), err))
	}
	p.logResult(ctx, feed, prev, st, pollErr)
	return st, pollErr
}

// logResult logs a poll: a failure at warn when the feed starts failing or
// fails differently, everything else at debug, so a healthy poll costs no
// log line and a feed that stays down does not fill the log.
func (p *Poller) logResult(ctx context.Context, feed model.Feed, prev, st model.FeedState, err error) {
	level := slog.LevelDebug
	if err != nil && (prev.Status != model.StatusError || prev.Error != st.Error) {
		level = slog.LevelWarn
	}
	if !p.logger.Enabled(ctx, level) {
		return
	}
	if err != nil {
		p.logger.Log(ctx, level, "poll failed", "feed", feed.Name, "url", feed.RedactedURL(), "err", err,
			"failures", st.Failures, "next_poll", st.NextPoll)
		return
	}
	p.logger.Log(ctx, level, "polled", "feed", feed.Name, "status", st.Status)
}

func (p *Poller) parse(ctx context.Context, body []byte, feedURL string, now time.Time) ([]model.Article, error) {
	select {
	case p.parseSlots <- struct{}{}:
		defer func() { <-p.parseSlots }()
	case <-ctx.Done():
		return nil, fmt.Errorf("feeds: parse %s: %w", model.RedactURL(feedURL), context.Cause(ctx))
	}
	// An item older than max_age cannot alert: see parseDocument.
	var textSince time.Time
	if p.maxAge > 0 {
		textSince = now.Add(-p.maxAge)
	}
	doc, err := parseDocument(body, feedURL, now, textSince)
	return doc.articles, err
}

// poll does the work of Poll and returns the state to record.
func (p *Poller) poll(ctx context.Context, feed model.Feed, prev model.FeedState, now time.Time) (model.FeedState, string, error) {
	st := prev
	st.LastPoll = now
	fail := func(err error) (model.FeedState, string, error) {
		// Validators stay as they were: storing a new ETag for a body we did
		// not process would turn the next poll into a 304 and lose its items.
		st.Status = model.StatusError
		st.Error = err.Error()
		st.Failures++
		st.NextPoll = now.Add(backoffDelay(st.Failures))
		return st, resultError, err
	}

	resp, err := p.fetcher.Fetch(ctx, Request{
		URL:          feed.URL,
		ETag:         prev.ETag,
		LastModified: prev.LastModified,
		// Only feeds from the configuration file are trusted; anything else
		// (admin-added, or of unknown origin) goes through the guard.
		Trusted: feed.Source.Trusted(),
	})
	if err != nil {
		return fail(err)
	}
	ok := func(status model.FeedStatus) {
		st.Status = status
		st.Error = ""
		st.Failures = 0
		st.NextPoll = time.Time{}
		st.LastSuccess = now
		st.ETag = resp.ETag
		st.LastModified = resp.LastModified
	}
	if resp.NotModified {
		ok(model.StatusNotModified)
		return st, resultNotModified, nil
	}

	items, err := p.parse(ctx, resp.Body, feed.URL, now)
	if err != nil {
		return fail(err)
	}
	// A stored item also means an earlier success: items_seen is written
	// with the items, LastSuccess may be lost in a crash (see Poller).
	firstFetch := prev.LastSuccess.IsZero() && prev.ItemsSeen == 0
	for i := range items {
		items[i].FeedID = feed.ID
		items[i].Feed = feed.Name
		items[i].Backlog = firstFetch
		items[i].KeysOnly = !items[i].CanAlert(p.maxAge, now)
	}
	fresh, err := p.store.StoreArticles(ctx, feed.ID, items)
	if err != nil {
		return fail(fmt.Errorf("feeds: store articles of %s: %w", feed.RedactedURL(), err))
	}
	ok(model.StatusOK)
	st.ItemsSeen += int64(len(fresh))
	p.metrics.FeedItems.Add(float64(len(fresh)))
	fresh = slices.DeleteFunc(fresh, func(a model.Article) bool { return a.KeysOnly })
	if len(fresh) == 0 || p.handler == nil {
		return st, resultOK, nil
	}
	feed.State = st
	if err := p.handler.HandleNew(ctx, Batch{Feed: feed, Articles: fresh}); err != nil {
		// The articles are stored, so they will not come back as new: the
		// handler retries them from the store. The fetch itself succeeded,
		// but the feed shows the error until the next good poll. No
		// backoff: the feed is not at fault.
		st.Status = model.StatusError
		st.Error = fmt.Sprintf("handling %d new articles: %v", len(fresh), err)
		return st, resultError, fmt.Errorf("feeds: handle new articles of %s: %w", feed.RedactedURL(), err)
	}
	return st, resultOK, nil
}
