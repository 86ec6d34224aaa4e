// Package dispatch turns newly stored articles into alerts: for every guild
// with an active subscription it runs that guild's rules, puts a matched
// article in its story (one contact event, however many outlets report
// it; package stories), and records the guild's alert in that story with
// the deliveries it brings (a post to a channel that has not got the
// story, an edit where its message shows fewer sources), in one store
// transaction. Posting is the outbox's job; this package never talks to
// Discord.
package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/backchannel/backchannel/metrics"
	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/rules"
	"github.com/backchannel/backchannel/stories"
)

// Store records alerts and knows who subscribed. CreateAlert must be
// idempotent per guild and article: a retried dispatch calls it again. It
// records the alert in a.Story and owes the story to the routes' channels
// (a post once MinSources feeds reported it), and an edit, editDelay from
// now, to every channel whose message shows fewer sources than the story
// now has (see db.CreateAlert).
type Store interface {
	ActiveSubscriptions(ctx context.Context) ([]model.Subscription, error)
	CreateAlert(ctx context.Context, a model.Alert, routes []model.Subscription, editDelay time.Duration) (model.Alert, bool, error)
	MarkDispatched(ctx context.Context, articleIDs []int64) error
	UndispatchedArticles(ctx context.Context, afterID int64, fetchedBefore time.Time, limit int) ([]model.Article, error)
}

// RuleSets gives the default rules and each guild's compiled rules.
type RuleSets interface {
	Defaults() *rules.Set
	ForGuild(ctx context.Context, guildID string) (*rules.Set, error)
}

// Placer decides which story a report joins, storing nothing
// (*stories.Grouper).
type Placer interface {
	Place(ctx context.Context, r stories.Report) (stories.Decision, error)
}

// StoryStore keeps the story of each article and the stories themselves
// (*db.DB): SaveStory records both in one transaction, and only for an
// article that has none yet.
type StoryStore interface {
	ArticleStory(ctx context.Context, articleID int64) (story, reason string, found bool, err error)
	SaveStory(ctx context.Context, articleID int64, d stories.Decision) (bool, error)
}

// Stories puts each matched article in its story, once: the decision is
// stored with the article, so a retried dispatch reuses it.
type Stories struct {
	Placer Placer
	Store  StoryStore
}

// Options are New's optional settings; the zero value works.
type Options struct {
	// MaxAge: items published longer ago never alert (poll.max_age). Zero
	// means no limit.
	MaxAge time.Duration
	// Subscriptions, when set, replaces the store's subscriptions: the dry
	// run uses one fixed subscription that prints to stdout.
	Subscriptions []model.Subscription
	// Notify is called after alerts with deliveries were recorded, to wake
	// the outbox.
	Notify func()
	// Stories groups the reports of one contact into one story. Nil: every
	// article is a story of its own.
	Stories *Stories
	// EditDelay is how long a story's message waits for more reports
	// before it is edited: the reports of a burst are one edit [5s].
	EditDelay time.Duration
	Now       func() time.Time // [time.Now]
	Logger    *slog.Logger     // [discard]
	Metrics   *metrics.Metrics // [unregistered]
}

// Dispatcher matches new articles and records alerts.
type Dispatcher struct {
	store   Store
	sets    RuleSets
	metrics *metrics.Metrics
	opts    Options
	// recording is held while an article is put in its story and its alerts
	// are recorded, so that the stories' order is the alerts' order: a
	// story's first report is its first alert in every guild.
	recording sync.Mutex
}

// DefaultEditDelay is Options.EditDelay's default.
const DefaultEditDelay = 5 * time.Second

// New returns a Dispatcher recording alerts in store by the rules of sets;
// opts may be zero.
func New(store Store, sets RuleSets, opts Options) *Dispatcher {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Notify == nil {
		opts.Notify = func() {}
	}
	if opts.EditDelay <= 0 {
		opts.EditDelay = DefaultEditDelay
	}
	if opts.Metrics == nil {
		opts.Metrics = metrics.NewUnregistered()
	}
	return &Dispatcher{store: store, sets: sets, metrics: opts.Metrics, opts: opts}
}

// Dispatch records alerts for the new articles of one feed poll, then marks
// the articles dispatched. It keeps going past a failing guild or article
// and returns the errors joined; an article that failed stays undispatched
// for Retry.
func (d *Dispatcher) Dispatch(ctx context.Context, feed model.Feed, articles []model.Article) error {
	now := d.opts.Now()
	var todo, done []model.Article
	for _, a := range articles {
		switch {
		case a.KeysOnly: // stored without text, nothing to mark
		case a.CanAlert(d.opts.MaxAge, now):
			todo = append(todo, a)
		default:
			done = append(done, a)
		}
	}
	if len(todo) == 0 {
		return d.markDispatched(ctx, done)
	}
	subs := d.opts.Subscriptions
	if subs == nil {
		var err error
		if subs, err = d.store.ActiveSubscriptions(ctx); err != nil {
			return fmt.Errorf("dispatch: subscriptions: %w", err)
		}
	}
	byGuild := map[string][]model.Subscription{}
	var guilds []string
	for _, s := range subs {
		if s.Disabled != "" {
			continue
		}
		if _, ok := byGuild[s.GuildID]; !ok {
			guilds = append(guilds, s.GuildID)
		}
		byGuild[s.GuildID] = append(byGuild[s.GuildID], s)
	}

	var errs []error
	queued := false
	for _, a := range todo {
		if a.Feed == "" {
			a.Feed = feed.Name
		}
		q, err := d.record(ctx, a, guilds, byGuild, now)
		queued = queued || q
		if err != nil {
			errs = append(errs, err)
			continue
		}
		done = append(done, a)
	}
	if queued {
		d.opts.Notify()
	}
	if err := d.markDispatched(ctx, done); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// record matches one article for every guild, puts it in its story when
// a guild's rules matched, and records each guild's alert. It reports
// whether an alert went to a channel; an error leaves the article to be
// retried (what was recorded stays, and is not recorded twice).
func (d *Dispatcher) record(ctx context.Context, a model.Article, guilds []string, byGuild map[string][]model.Subscription, now time.Time) (bool, error) {
	var errs []error
	// Guilds on the default rules share one *Set, and guilds with rules
	// of their own share its vocabulary: the batch reads the article once
	// and matches each set once.
	batch := rules.NewBatch(a)
	defer batch.Close()
	matched := map[string][]model.Match{}
	var hits []string // guilds whose rules matched, in order
	for _, g := range guilds {
		set, err := d.sets.ForGuild(ctx, g)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if ms := batch.Match(set); len(ms) > 0 {
			matched[g] = ms
			hits = append(hits, g)
		}
	}
	if len(hits) == 0 {
		return false, errors.Join(errs...)
	}

	d.recording.Lock()
	defer d.recording.Unlock()
	story, reason, err := d.story(ctx, a, batch, matched[hits[0]])
	if err != nil {
		return false, errors.Join(append(errs, err)...)
	}
	queued := false
	for _, g := range hits {
		ms := matched[g]
		routes := route(byGuild[g], ms)
		alert, created, err := d.store.CreateAlert(ctx, model.Alert{GuildID: g, Article: a, Matches: ms, Created: now,
			Story: story, StoryReason: reason}, routes, d.opts.EditDelay)
		if err != nil {
			errs = append(errs, fmt.Errorf("dispatch: alert for %q in guild %q: %w", a.Title, g, err))
			continue
		}
		if created {
			d.metrics.AlertsMatched.Inc()
			queued = queued || len(routes) > 0
			d.opts.Logger.Info("alert", "id", alert.ID, "guild", g, "rule", alert.Rule(), "title", a.Title,
				"story", alert.Story, "story_reason", alert.StoryReason, "channels", len(routes))
		}
	}
	return queued, errors.Join(errs...)
}

// story returns the article's story and why, deciding it the first time:
// the report is read with the default rules' matches (the same for every
// guild), or, when only guilds' own rules matched it, with the first such
// guild's.
func (d *Dispatcher) story(ctx context.Context, a model.Article, batch *rules.Batch, guildMatches []model.Match) (string, string, error) {
	st := d.opts.Stories
	if st == nil || a.ID == 0 {
		return "", "", nil
	}
	story, reason, found, err := st.Store.ArticleStory(ctx, a.ID)
	if err != nil || found {
		return story, reason, err
	}
	ms := guildMatches
	if def := d.sets.Defaults(); def != nil {
		if dm := batch.Match(def); len(dm) > 0 {
			ms = dm
		}
	}
	dec, err := st.Placer.Place(ctx, stories.Report{Ref: storyRef(a.ID), Article: a, Matches: ms})
	if err != nil {
		return "", "", fmt.Errorf("dispatch: story of %q: %w", a.Title, err)
	}
	if _, err := st.Store.SaveStory(ctx, a.ID, dec); err != nil {
		return "", "", fmt.Errorf("dispatch: story of %q: %w", a.Title, err)
	}
	// Saved now or, had another dispatch of the article been first,
	// before: what is stored is the article's story.
	story, reason, _, err = st.Store.ArticleStory(ctx, a.ID)
	return story, reason, err
}

// storyRef names a report, and the story it begins, after its article:
// the name the store gives an article's story of its own (db.StoryRef).
func storyRef(articleID int64) string { return "a" + strconv.FormatInt(articleID, 10) }

func (d *Dispatcher) markDispatched(ctx context.Context, as []model.Article) error {
	ids := make([]int64, 0, len(as))
	for _, a := range as {
		if a.ID != 0 {
			ids = append(ids, a.ID)
		}
	}
	if err := d.store.MarkDispatched(ctx, ids); err != nil {
		return fmt.Errorf("dispatch: %w", err)
	}
	return nil
}

// retryPage is how many undispatched articles Retry loads at a time.
const retryPage = 200

// Retry dispatches the articles that were stored but not dispatched: those
// of a poll cut short by a crash, or whose dispatch failed. Only articles
// fetched before the cutoff are taken, so that a poll handling its own
// articles right now is not raced (a race would be harmless: CreateAlert is
// idempotent). It returns how many articles it dispatched.
func (d *Dispatcher) Retry(ctx context.Context, fetchedBefore time.Time) (int, error) {
	var after int64
	n := 0
	var errs []error
	for {
		page, err := d.store.UndispatchedArticles(ctx, after, fetchedBefore, retryPage)
		if err != nil {
			return n, errors.Join(append(errs, fmt.Errorf("dispatch: retry: %w", err))...)
		}
		if len(page) == 0 {
			break
		}
		after = page[len(page)-1].ID
		if err := d.Dispatch(ctx, model.Feed{}, page); err != nil {
			errs = append(errs, err)
		}
		n += len(page)
		if len(page) < retryPage {
			break
		}
	}
	if n > 0 {
		d.opts.Logger.Info("retried undispatched articles", "articles", n, "errors", len(errs))
	}
	return n, errors.Join(errs...)
}

// RunRetries calls Retry every interval until ctx ends, each time for the
// articles fetched more than interval ago: a poll takes far less, so what
// is still undispatched by then was left by a failure. (At start-up, call
// Retry once before polling begins, for what the last run left.)
func (d *Dispatcher) RunRetries(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := d.Retry(ctx, d.opts.Now().Add(-interval)); err != nil && ctx.Err() == nil {
			d.opts.Logger.Warn("retrying undispatched articles", "err", err)
		}
	}
}

// route returns the channels whose subscriptions want any of the rules that
// fired, each once, as a subscription whose MinSources is the least of
// those subscriptions' (the one that lets the story through first).
func route(subs []model.Subscription, ms []model.Match) []model.Subscription {
	at := map[string]int{}
	var out []model.Subscription
	for _, s := range subs {
		wanted := false
		for _, m := range ms {
			wanted = wanted || s.Matches(m.Rule)
		}
		if !wanted {
			continue
		}
		minSources := max(s.MinSources, 1)
		if i, ok := at[s.ChannelID]; ok {
			out[i].MinSources = min(out[i].MinSources, minSources)
			continue
		}
		at[s.ChannelID] = len(out)
		out = append(out, model.Subscription{GuildID: s.GuildID, ChannelID: s.ChannelID, MinSources: minSources})
	}
	return out
}
