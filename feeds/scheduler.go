package feeds

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"net/url"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/backchannel/backchannel/model"
)

// maxSpread bounds how far a feed's firings are shifted from its schedule.
// For "@every 5m" feeds spread over the full 5 minutes; a daily "0 9 * * *"
// feed fires somewhere between 9:00 and 10:00, not at 3 p.m.
const maxSpread = time.Hour

// specParser is robfig/cron's standard five-field syntax plus descriptors
// (@hourly, @every 5m), as INTERFACE.md documents for poll.schedule.
func specParser() cron.Parser {
	return cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
}

// ValidateSchedule reports whether spec is a schedule the scheduler accepts.
func ValidateSchedule(spec string) error {
	_, err := parseSchedule(spec)
	return err
}

func parseSchedule(spec string) (cron.Schedule, error) {
	if strings.TrimSpace(spec) == "" {
		return nil, errors.New("feeds: empty schedule")
	}
	s, err := specParser().Parse(spec)
	if err != nil {
		return nil, fmt.Errorf("feeds: invalid schedule %q: %w", spec, err)
	}
	// robfig silently turns "@every 0s" or "@every 10ms" into one second.
	if rest, ok := strings.CutPrefix(strings.TrimSpace(spec), "@every "); ok {
		if d, err := time.ParseDuration(strings.TrimSpace(rest)); err == nil && d < time.Second {
			return nil, fmt.Errorf("feeds: invalid schedule %q: interval under one second", spec)
		}
	}
	return s, nil
}

// spreadSchedule shifts a schedule by a fixed per-feed offset so feeds on the
// same schedule do not all fire in the same second.
type spreadSchedule struct {
	inner  cron.Schedule
	every  time.Duration // for @every: fire at epoch + offset + k*every
	offset time.Duration
}

func newSpreadSchedule(inner cron.Schedule, key string, now time.Time) spreadSchedule {
	s := spreadSchedule{inner: inner}
	period := maxSpread
	if d, ok := inner.(cron.ConstantDelaySchedule); ok {
		// robfig's @every counts from when the entry is added, so 1,000
		// feeds added at start-up would fire together forever. Aligning to
		// the epoch plus an offset also keeps a feed's slot across restarts.
		s.every = d.Delay
		period = min(period, d.Delay)
	} else {
		first := inner.Next(now)
		if gap := inner.Next(first).Sub(first); gap > 0 {
			period = min(period, gap)
		}
	}
	h := fnv.New64a()
	h.Write([]byte(key))
	if ms := period.Milliseconds(); ms > 0 {
		s.offset = time.Duration(h.Sum64()%uint64(ms)) * time.Millisecond
	}
	return s
}

// Next implements cron.Schedule.
func (s spreadSchedule) Next(t time.Time) time.Time {
	if s.every > 0 {
		since := t.Sub(time.Unix(0, 0).Add(s.offset))
		k := since/s.every + 1
		if since < 0 {
			k = 0
		}
		return time.Unix(0, 0).Add(s.offset + k*s.every).In(t.Location())
	}
	next := s.inner.Next(t.Add(-s.offset))
	if next.IsZero() {
		return next
	}
	return next.Add(s.offset)
}

// Scheduler runs each feed's polls on its cron schedule.
type Scheduler struct {
	poller      *Poller
	defaultSpec string
	logger      *slog.Logger
	cron        *cron.Cron
	slots       chan struct{} // bounds polls (fetch+parse+store) at once

	ctx    context.Context // polls run under it; cancelled when Stop gives up
	cancel context.CancelFunc
	polls  sync.WaitGroup // polls started by PollAll (cron tracks its own)

	mu      sync.Mutex
	entries map[int64]entry
	stopped bool // set by Stop; no new PollAll polls start after it
}

type entry struct {
	id       cron.EntryID
	feed     model.Feed
	schedule cron.Schedule
}

// NewScheduler returns a Scheduler using defaultSpec for feeds without their
// own schedule and running at most concurrency polls at once.
func NewScheduler(p *Poller, defaultSpec string, concurrency int, logger *slog.Logger) (*Scheduler, error) {
	if _, err := parseSchedule(defaultSpec); err != nil {
		return nil, err
	}
	if concurrency <= 0 {
		concurrency = DefaultConcurrency
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	clog := cronLogger{logger.With("component", "cron")}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Scheduler{
		poller:      p,
		defaultSpec: defaultSpec,
		logger:      logger,
		// SkipIfStillRunning must wrap Recover: robfig's Skip returns its
		// token only when the job returns normally, so a panic escaping to an
		// outer Recover would leave the feed skipped forever.
		cron: cron.New(
			cron.WithParser(specParser()),
			cron.WithLogger(clog),
			cron.WithChain(cron.SkipIfStillRunning(clog), cron.Recover(clog)),
		),
		slots:   make(chan struct{}, concurrency),
		ctx:     ctx,
		cancel:  cancel,
		entries: map[int64]entry{},
	}
	return s, nil
}

// spreadKey identifies a feed for its offset: stable across restarts as long
// as the feed keeps its id and name.
func spreadKey(f model.Feed) string {
	return strconv.FormatInt(f.ID, 10) + "/" + f.Name
}

// Add schedules feed (replacing an earlier entry for the same id) on its own
// schedule or the default.
func (s *Scheduler) Add(feed model.Feed) error {
	spec := feed.Schedule
	if spec == "" {
		spec = s.defaultSpec
	}
	inner, err := parseSchedule(spec)
	if err != nil {
		return fmt.Errorf("feeds: schedule of %s: %w", feed.Name, err)
	}
	sched := newSpreadSchedule(inner, spreadKey(feed), time.Now())
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.entries[feed.ID]; ok {
		s.cron.Remove(old.id)
	}
	id := s.cron.Schedule(sched, cron.FuncJob(func() { s.runPoll(feed) }))
	s.entries[feed.ID] = entry{id: id, feed: feed, schedule: sched}
	return nil
}

// Remove unschedules a feed and drops its remembered state. A poll already
// running finishes.
func (s *Scheduler) Remove(feedID int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e, ok := s.entries[feedID]; ok {
		s.cron.Remove(e.id)
		delete(s.entries, feedID)
	}
	s.poller.Forget(feedID)
}

// Next returns when the feed will next be polled (zero if it is not
// scheduled): its next firing at or after the end of any backoff.
func (s *Scheduler) Next(feedID int64) time.Time {
	s.mu.Lock()
	e, ok := s.entries[feedID]
	s.mu.Unlock()
	if !ok {
		return time.Time{}
	}
	next := e.schedule.Next(time.Now())
	backoff := s.poller.State(e.feed).NextPoll
	// Bounded: backoff is at most an hour, schedules fire at least yearly.
	for i := 0; i < 10000 && !next.IsZero() && next.Before(backoff); i++ {
		next = e.schedule.Next(next)
	}
	return next
}

// Start starts running scheduled polls.
func (s *Scheduler) Start() { s.cron.Start() }

// Stop stops scheduling and waits for running polls until ctx ends; then it
// cancels them and returns ctx's error. A stopped Scheduler stays stopped.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.mu.Lock()
	// polls.Add must not race with polls.Wait below: after this, PollAll
	// starts nothing new.
	s.stopped = true
	s.mu.Unlock()
	cronDone := s.cron.Stop()
	done := make(chan struct{})
	go func() {
		<-cronDone.Done()
		s.polls.Wait()
		close(done)
	}()
	select {
	case <-done:
		s.cancel()
		return nil
	case <-ctx.Done():
		s.cancel() // the polls see a cancelled context and return soon
		return fmt.Errorf("feeds: stop: polls still running: %w", ctx.Err())
	}
}

// PollAll polls every scheduled feed once now, at most concurrency at a
// time, and returns when all are done or ctx ends. Feeds are interleaved by
// host so that a host with many feeds, limited to two fetches at once, does
// not hold every slot while other hosts wait.
func (s *Scheduler) PollAll(ctx context.Context) {
	s.mu.Lock()
	feeds := make([]model.Feed, 0, len(s.entries))
	for _, e := range s.entries {
		feeds = append(feeds, e.feed)
	}
	s.mu.Unlock()
	feeds = interleaveByHost(feeds)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(s.ctx, cancel) // Stop giving up cancels us too
	defer stop()
	var wg sync.WaitGroup
	for _, f := range feeds {
		select {
		case s.slots <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return
		}
		s.mu.Lock()
		if s.stopped {
			s.mu.Unlock()
			<-s.slots
			break
		}
		s.polls.Add(1)
		s.mu.Unlock()
		wg.Add(1)
		go func() {
			defer s.polls.Done()
			defer wg.Done()
			defer func() { <-s.slots }()
			s.safePoll(ctx, f)
		}()
	}
	wg.Wait()
}

// runPoll is the cron job of one feed. Panics are left to cron.Recover in
// the chain.
func (s *Scheduler) runPoll(feed model.Feed) {
	select {
	case s.slots <- struct{}{}:
	case <-s.ctx.Done():
		return
	}
	defer func() { <-s.slots }()
	if _, err := s.poller.Poll(s.ctx, feed); err != nil {
		s.logger.Debug("scheduled poll failed", "feed", feed.Name, "err", err)
	}
}

// safePoll polls one feed for PollAll, which runs outside cron's chain: a
// panic in one feed's poll is logged and the others carry on.
func (s *Scheduler) safePoll(ctx context.Context, feed model.Feed) {
	defer func() {
		if r := recover(); r != nil {
			s.logger.Error("feed poll panicked", "feed", feed.Name, "panic", r, "stack", string(debug.Stack()))
		}
	}()
	if _, err := s.poller.Poll(ctx, feed); err != nil {
		s.logger.Debug("poll failed", "feed", feed.Name, "err", err)
	}
}

// interleaveByHost orders feeds round-robin over their host names, sorted by
// feed id within a host so the order is deterministic.
func interleaveByHost(feeds []model.Feed) []model.Feed {
	byHost := map[string][]model.Feed{}
	var hosts []string
	for _, f := range feeds {
		h := f.URL
		if u, err := url.Parse(f.URL); err == nil {
			h = strings.ToLower(u.Hostname())
		}
		if _, ok := byHost[h]; !ok {
			hosts = append(hosts, h)
		}
		byHost[h] = append(byHost[h], f)
	}
	slices.Sort(hosts)
	for _, h := range hosts {
		slices.SortFunc(byHost[h], func(a, b model.Feed) int { return cmp.Compare(a.ID, b.ID) })
	}
	out := make([]model.Feed, 0, len(feeds))
	for i := 0; len(out) < len(feeds); i++ {
		for _, h := range hosts {
			if fs := byHost[h]; i < len(fs) {
				out = append(out, fs[i])
			}
		}
	}
	return out
}

// cronLogger adapts slog to cron.Logger. cron's Info messages (every wake-up
// and run) are debug-level noise; its errors are real (panics).
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }

func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append([]any{"err", err}, kv...)...)
}
