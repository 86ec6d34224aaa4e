package feeds

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"sync"
	"time"

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
type Store interface {
	StoreArticles(ctx context.Context, feedID int64, items []model.Article) ([]model.Article, error)
	SaveFeedState(ctx context.Context, feedID int64, st model.FeedState) error
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
type Poller struct {
	fetcher FeedFetcher
	store   Store
	handler Handler
	metrics *metrics.Metrics
	logger  *slog.Logger
	now     func() time.Time

	// parseSlots bounds parsing to one per CPU: fetches wait on the network
	// and may run many at once, but more parses than CPUs only add memory.
	parseSlots chan struct{}

	mu       sync.Mutex
	states   map[int64]model.FeedState
	inFlight map[int64]bool
}

// NewPoller returns a Poller. now is the clock (time.Now when nil); m may be
// nil in tools that do not export metrics.
func NewPoller(fetcher FeedFetcher, store Store, h Handler, m *metrics.Metrics, logger *slog.Logger, now func() time.Time) *Poller {
	if now == nil {
		now = time.Now
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if m == nil {
		m = metrics.NewUnregistered()
	}
	return &Poller{
		fetcher: fetcher, store: store, handler: h, metrics: m, logger: logger, now: now,
		parseSlots: make(chan struct{}, runtime.GOMAXPROCS(0)),
		states:     map[int64]model.FeedState{},
		inFlight:   map[int64]bool{},
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

// Forget drops what the poller remembers about a feed (it was removed).
func (p *Poller) Forget(feedID int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.states, feedID)
}

// begin marks the feed in flight and returns its current state; ok is false
// if another poll of the same feed is running (PollAll and a cron firing can
// overlap), in which case this one is skipped.
func (p *Poller) begin(feed model.Feed) (model.FeedState, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st, known := p.states[feed.ID]
	if !known {
		st = feed.State
	}
	if p.inFlight[feed.ID] {
		return st, false
	}
	p.inFlight[feed.ID] = true
	return st, true
}

func (p *Poller) end(feedID int64, st model.FeedState, record bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.inFlight, feedID)
	if record {
		p.states[feedID] = st
	}
}

// Poll polls feed once and returns its new state. It skips the feed
// (metric result "skipped", state unchanged, nil error) while it is backing
// off or already being polled. A failure is recorded in the state and
// returned; it never affects other feeds.
func (p *Poller) Poll(ctx context.Context, feed model.Feed) (st model.FeedState, err error) {
	prev, ok := p.begin(feed)
	record := false
	defer func() { p.end(feed.ID, st, record) }()
	log := p.logger.With("feed", feed.Name, "url", feed.URL)
	now := p.now()
	if !ok || now.Before(prev.NextPoll) {
		p.metrics.FeedPolls.WithLabelValues(resultSkipped).Inc()
		log.Debug("poll skipped", "next_poll", prev.NextPoll, "in_flight", !ok)
		return prev, nil
	}

	st, result, pollErr := p.poll(ctx, feed, prev, now)
	if pollErr != nil && ctx.Err() != nil && errors.Is(pollErr, context.Canceled) {
		// Shutting down is not the feed's fault: leave its state alone.
		return prev, pollErr
	}
	record = true
	p.metrics.FeedPolls.WithLabelValues(result).Inc()

	saveCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), stateSaveTimeout)
	defer cancel()
	if err := p.store.SaveFeedState(saveCtx, feed.ID, st); err != nil {
		log.Error("saving feed state", "err", err)
		pollErr = errors.Join(pollErr, fmt.Errorf("feeds: save state of %s: %w", feed.URL, err))
	}
	if pollErr != nil {
		log.Warn("poll failed", "err", pollErr, "failures", st.Failures, "next_poll", st.NextPoll)
	} else {
		log.Debug("polled", "status", st.Status)
	}
	return st, pollErr
}

func (p *Poller) parse(ctx context.Context, body []byte, feedURL string, now time.Time) ([]model.Article, error) {
	select {
	case p.parseSlots <- struct{}{}:
		defer func() { <-p.parseSlots }()
	case <-ctx.Done():
		return nil, fmt.Errorf("feeds: parse %s: %w", feedURL, context.Cause(ctx))
	}
	return Parse(body, feedURL, now)
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
	firstFetch := prev.LastSuccess.IsZero()
	for i := range items {
		items[i].FeedID = feed.ID
		items[i].Feed = feed.Name
		items[i].Backlog = firstFetch
	}
	fresh, err := p.store.StoreArticles(ctx, feed.ID, items)
	if err != nil {
		return fail(fmt.Errorf("feeds: store articles of %s: %w", feed.URL, err))
	}
	ok(model.StatusOK)
	st.ItemsSeen += int64(len(fresh))
	p.metrics.FeedItems.Add(float64(len(fresh)))
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
		return st, resultError, fmt.Errorf("feeds: handle new articles of %s: %w", feed.URL, err)
	}
	return st, resultOK, nil
}
