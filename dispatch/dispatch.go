// Package dispatch turns newly stored articles into alerts: for every guild
// with an active subscription it runs that guild's rules and records an
// alert with one outbox delivery per subscribed channel, in one store
// transaction. Posting is the outbox's job; this package never talks to
// Discord.
package dispatch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/backchannel/backchannel/metrics"
	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/rules"
)

// Store records alerts and knows who subscribed. CreateAlert must be
// idempotent per guild and article: a retried dispatch calls it again.
type Store interface {
	ActiveSubscriptions(ctx context.Context) ([]model.Subscription, error)
	CreateAlert(ctx context.Context, a model.Alert, channels []string) (model.Alert, bool, error)
	MarkDispatched(ctx context.Context, articleIDs []int64) error
	UndispatchedArticles(ctx context.Context, afterID int64, fetchedBefore time.Time, limit int) ([]model.Article, error)
}

// RuleSets gives each guild's compiled rules.
type RuleSets interface {
	ForGuild(ctx context.Context, guildID string) (*rules.Set, error)
}

// Options tune a Dispatcher.
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
	Now    func() time.Time
	Logger *slog.Logger
}

// Dispatcher matches new articles and records alerts.
type Dispatcher struct {
	store   Store
	sets    RuleSets
	metrics *metrics.Metrics
	opts    Options
}

// New returns a Dispatcher.
func New(store Store, sets RuleSets, m *metrics.Metrics, opts Options) *Dispatcher {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Notify == nil {
		opts.Notify = func() {}
	}
	if m == nil {
		m = metrics.NewUnregistered()
	}
	return &Dispatcher{store: store, sets: sets, metrics: m, opts: opts}
}

// Eligible reports whether an article may alert at all: an item older than
// max age never does, and an undated item of a feed's back catalogue does
// not either, so adding a feed never floods channels with old news.
func Eligible(a model.Article, maxAge time.Duration, now time.Time) bool {
	if a.Published.IsZero() {
		return !a.Backlog
	}
	return maxAge <= 0 || now.Sub(a.Published) <= maxAge
}

// Dispatch records alerts for the new articles of one feed poll, then marks
// the articles dispatched. It keeps going past a failing guild or article
// and returns the errors joined; an article that failed stays undispatched
// for Retry.
func (d *Dispatcher) Dispatch(ctx context.Context, feed model.Feed, articles []model.Article) error {
	now := d.opts.Now()
	var todo, done []model.Article
	for _, a := range articles {
		if Eligible(a, d.opts.MaxAge, now) {
			todo = append(todo, a)
		} else {
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
		failed := false
		// Guilds on the default rules share one *Set, and guilds with rules
		// of their own share its vocabulary: the batch reads the article
		// once and matches each set once.
		batch := rules.NewBatch(a)
		for _, g := range guilds {
			set, err := d.sets.ForGuild(ctx, g)
			if err != nil {
				errs = append(errs, err)
				failed = true
				continue
			}
			ms := batch.Match(set)
			if len(ms) == 0 {
				continue
			}
			channels := route(byGuild[g], ms)
			alert, created, err := d.store.CreateAlert(ctx, model.Alert{GuildID: g, Article: a, Matches: ms, Created: now}, channels)
			if err != nil {
				errs = append(errs, fmt.Errorf("dispatch: alert for %q in guild %q: %w", a.Title, g, err))
				failed = true
				continue
			}
			if created {
				d.metrics.AlertsMatched.Inc()
				queued = queued || len(channels) > 0
				d.opts.Logger.Info("alert", "id", alert.ID, "guild", g, "rule", alert.Rule(), "title", a.Title, "channels", len(channels))
			}
		}
		batch.Close()
		if !failed {
			done = append(done, a)
		}
	}
	if queued {
		d.opts.Notify()
	}
	if err := d.markDispatched(ctx, done); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

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
// fired, each once.
func route(subs []model.Subscription, ms []model.Match) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range subs {
		if seen[s.ChannelID] {
			continue
		}
		for _, m := range ms {
			if s.Matches(m.Rule) {
				seen[s.ChannelID] = true
				out = append(out, s.ChannelID)
				break
			}
		}
	}
	return out
}
