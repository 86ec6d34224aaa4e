package feeds

import (
	"cmp"
	"context"
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
	"github.com/backchannel/backchannel/schedule"
)

// maxSpread bounds how far a feed's firings are shifted from its schedule.
// For "@every 5m" feeds spread over the full 5 minutes; a daily "0 9 * * *"
// feed fires somewhere between 9:00 and 10:00, not at 3 p.m.
const maxSpread = time.Hour

// maxSlots is how many time slots the feeds of one schedule are spread
// over, each at least a second from the next. A slot is one cron entry that
// starts all its feeds. One entry per feed made robfig/cron sort all 1,000
// entries at each of its 1,000 wake-ups a period; and every wake-up of an
// idle process costs thread and runtime wake-ups beyond the polls' own work:
// on the poll-cost rig (1,000 unchanged feeds a minute) 12 slots cost about
// a fifth less CPU than 60, and 4 a fifth less than 12 (0.135 against 0.170
// CPU-s per 1,000 polls, BENCHMARKS.md). Four still spread the feeds:
// "@every 5m" starts a quarter of them every 75 seconds, each slot's polls
// paced by poll.concurrency and the per-host limit.
const maxSlots = 4

// slotOffset returns where in the schedule's period the feed keyed key
// fires: one of up to maxSlots slots, picked by a hash of the key so that it
// is the same across restarts.
func slotOffset(inner cron.Schedule, key string) time.Duration {
	width := slotWidth(inner)
	n := uint64(min(maxSlots, schedulePeriod(inner)/width))
	if n <= 1 {
		return 0
	}
	h := fnv.New64a()
	h.Write([]byte(key))
	return time.Duration(mix(h.Sum64())%n) * width
}

// mix is MurmurHash3's 64-bit finalizer. FNV's low bits barely change
// between keys that differ in their last characters ("7/feed-7",
// "8/feed-8"), so its value modulo a small slot count is lopsided.
func mix(h uint64) uint64 {
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

// slotWidth is the distance between neighbouring slots of a schedule: its
// period over maxSlots, in whole seconds (cron's own resolution), at least
// one.
func slotWidth(inner cron.Schedule) time.Duration {
	return max(time.Second, (schedulePeriod(inner) / maxSlots).Truncate(time.Second))
}

// schedulePeriod is the span a schedule's feeds are spread over: its
// interval, or the shortest gap between its first firings after a fixed
// date (so it does not depend on when the program starts), at most
// maxSpread.
func schedulePeriod(inner cron.Schedule) time.Duration {
	if d, ok := inner.(cron.ConstantDelaySchedule); ok {
		return min(maxSpread, d.Delay)
	}
	period := maxSpread
	t := inner.Next(time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC))
	for range 8 {
		next := inner.Next(t)
		if t.IsZero() || next.IsZero() {
			break
		}
		if gap := next.Sub(t); gap > 0 {
			period = min(period, gap)
		}
		t = next
	}
	return period
}

// spreadSchedule shifts a schedule by a fixed offset so feeds on the same
// schedule do not all fire in the same second.
type spreadSchedule struct {
	inner  cron.Schedule
	every  time.Duration // for @every: fire at epoch + offset + k*every
	offset time.Duration
}

func newSpreadSchedule(inner cron.Schedule, offset time.Duration) spreadSchedule {
	s := spreadSchedule{inner: inner, offset: offset}
	if d, ok := inner.(cron.ConstantDelaySchedule); ok {
		// robfig's @every counts from when the entry is added, so feeds
		// added at start-up would fire together forever. Aligning to the
		// epoch plus an offset also keeps a feed's slot across restarts.
		s.every = d.Delay
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

// Scheduler runs each feed's polls on its cron schedule. Feeds sharing a
// schedule and a slot (see maxSlots) share one cron entry, which starts
// their polls interleaved by host.
type Scheduler struct {
	poller      *Poller
	defaultSpec string
	logger      *slog.Logger
	cron        *cron.Cron
	sem         chan struct{} // bounds polls (fetch+parse+store) at once

	ctx      context.Context // polls run under it; cancelled when Stop gives up
	cancel   context.CancelFunc
	stopping chan struct{}  // closed by Stop: no poll starts after it
	polls    sync.WaitGroup // every poll started, by a slot or by PollAll

	mu      sync.Mutex
	entries map[int64]entry   // by feed id
	slots   map[slotKey]*slot // the cron entries
	stopped bool              // set by Stop, with stopping closed
}

// slotKey identifies a slot: the schedule as written and the offset in it.
type slotKey struct {
	spec   string
	offset time.Duration
}

// slot is one cron entry and the feeds it starts.
type slot struct {
	id       cron.EntryID
	schedule spreadSchedule
	// feeds are the slot's feeds in no order; ordered is the same feeds
	// in the order they are started, interleaved by host, worked out at
	// the first firing after a change (nil until then): ordering a slot at
	// every Add made starting with 1,000 feeds quadratic. Both slices are
	// replaced on every change, never modified, so a firing can walk the
	// one it took without holding the lock.
	feeds, ordered []model.Feed
}

// order returns the slot's feeds in the order they are started. s.mu is
// held.
func (sl *slot) order() []model.Feed {
	if sl.ordered == nil {
		sl.ordered = interleaveByHost(sl.feeds)
	}
	return sl.ordered
}

type entry struct {
	feed model.Feed
	slot slotKey
}

// SchedulerOptions are NewScheduler's optional settings; the zero value
// works.
type SchedulerOptions struct {
	Concurrency int          // polls at once [DefaultConcurrency]
	Logger      *slog.Logger // [discard]
}

// NewScheduler returns a Scheduler using defaultSpec for feeds without their
// own schedule; opts may be zero.
func NewScheduler(p *Poller, defaultSpec string, opts SchedulerOptions) (*Scheduler, error) {
	if _, err := schedule.Parse(defaultSpec); err != nil {
		return nil, fmt.Errorf("feeds: default schedule: %w", err)
	}
	concurrency, logger := opts.Concurrency, opts.Logger
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
		// outer Recover would leave the slot skipped forever. A slot's job
		// runs until it has started its last poll, so a slot still waiting
		// for free poll slots when it fires again skips that firing.
		cron: cron.New(
			cron.WithLogger(clog),
			cron.WithChain(cron.SkipIfStillRunning(clog), cron.Recover(clog)),
		),
		sem:      make(chan struct{}, concurrency),
		ctx:      ctx,
		cancel:   cancel,
		stopping: make(chan struct{}),
		entries:  map[int64]entry{},
		slots:    map[slotKey]*slot{},
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
	inner, err := schedule.Parse(spec)
	if err != nil {
		return fmt.Errorf("feeds: schedule of %s: %w", feed.Name, err)
	}
	key := slotKey{spec: spec, offset: slotOffset(inner, spreadKey(feed))}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.unslot(feed.ID)
	sl := s.slots[key]
	if sl == nil {
		sl = &slot{schedule: newSpreadSchedule(inner, key.offset)}
		sl.id = s.cron.Schedule(sl.schedule, cron.FuncJob(func() { s.runSlot(key) }))
		s.slots[key] = sl
	}
	sl.feeds, sl.ordered = append(slices.Clip(sl.feeds), feed), nil
	s.entries[feed.ID] = entry{feed: feed, slot: key}
	return nil
}

// unslot takes a feed out of its slot, removing the slot's cron entry with
// its last feed. s.mu is held.
func (s *Scheduler) unslot(feedID int64) {
	e, ok := s.entries[feedID]
	if !ok {
		return
	}
	delete(s.entries, feedID)
	sl := s.slots[e.slot]
	if sl == nil {
		return
	}
	rest := make([]model.Feed, 0, len(sl.feeds))
	for _, f := range sl.feeds {
		if f.ID != feedID {
			rest = append(rest, f)
		}
	}
	if len(rest) == 0 {
		s.cron.Remove(sl.id)
		delete(s.slots, e.slot)
		return
	}
	sl.feeds, sl.ordered = rest, nil
}

// Remove unschedules a feed and drops its remembered state. A poll already
// running finishes.
func (s *Scheduler) Remove(feedID int64) {
	s.mu.Lock()
	s.unslot(feedID)
	s.mu.Unlock()
	s.poller.Forget(feedID)
}

// Next returns when the feed will next be polled (zero if it is not
// scheduled): its next firing at or after the end of any backoff.
func (s *Scheduler) Next(feedID int64) time.Time {
	s.mu.Lock()
	e, ok := s.entries[feedID]
	var sched spreadSchedule
	if ok {
		sched = s.slots[e.slot].schedule
	}
	s.mu.Unlock()
	if !ok {
		return time.Time{}
	}
	next := sched.Next(time.Now())
	backoff := s.poller.State(e.feed).NextPoll
	// Bounded: backoff is at most an hour, schedules fire at least yearly.
	for i := 0; i < 10000 && !next.IsZero() && next.Before(backoff); i++ {
		next = sched.Next(next)
	}
	return next
}

// Start starts running scheduled polls.
func (s *Scheduler) Start() { s.cron.Start() }

// Stop stops scheduling and waits for running polls until ctx ends; then it
// cancels them and returns ctx's error. A stopped Scheduler stays stopped.
func (s *Scheduler) Stop(ctx context.Context) error {
	s.mu.Lock()
	if !s.stopped {
		// After this no poll starts, so polls.Add cannot race with
		// polls.Wait below.
		s.stopped = true
		close(s.stopping)
	}
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
		if !s.start(ctx, f.ID, &wg) {
			break
		}
	}
	wg.Wait()
}

// runSlot is the cron job of one slot: it starts a poll of each of the
// slot's feeds as poll slots free up, and returns once it has started the
// last. Panics in polls are caught by safePoll; one in here is left to
// cron.Recover in the chain.
func (s *Scheduler) runSlot(key slotKey) {
	s.mu.Lock()
	var feeds []model.Feed
	if sl := s.slots[key]; sl != nil {
		feeds = sl.order()
	}
	s.mu.Unlock()
	for _, f := range feeds {
		if !s.start(s.ctx, f.ID, nil) {
			return
		}
	}
}

// start waits for a free poll slot and starts polling the feed with the
// given id in a goroutine, tracked by wg when it is not nil. It returns
// false, starting nothing, when ctx ends or the Scheduler stops; a feed
// removed meanwhile is skipped, and one replaced is polled as it is now.
func (s *Scheduler) start(ctx context.Context, feedID int64, wg *sync.WaitGroup) bool {
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return false
	case <-s.stopping:
		return false
	}
	s.mu.Lock()
	e, ok := s.entries[feedID]
	if s.stopped || !ok {
		s.mu.Unlock()
		<-s.sem
		return !s.stopped
	}
	s.polls.Add(1)
	s.mu.Unlock()
	if wg != nil {
		wg.Add(1)
	}
	go func() {
		defer s.polls.Done()
		if wg != nil {
			defer wg.Done()
		}
		defer func() { <-s.sem }()
		s.safePoll(ctx, e.feed)
	}()
	return true
}

// safePoll polls one feed. It runs in a goroutine of its own, outside cron's
// chain: a panic in one feed's poll is logged and the others carry on.
func (s *Scheduler) safePoll(ctx context.Context, feed model.Feed) {
	defer func() {
		if r := recover(); r != nil {
			s.logger.Error("feed poll panicked", "feed", feed.Name, "panic", r, "stack", string(debug.Stack()))
		}
	}()
	// The poller logs failures itself.
	_, _ = s.poller.Poll(ctx, feed)
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

func (c cronLogger) Info(msg string, kv ...any) {
	if c.l.Enabled(context.Background(), slog.LevelDebug) { // skip building the message at every wake-up
		c.l.Debug("cron: "+msg, kv...)
	}
}

func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append([]any{"err", err}, kv...)...)
}
