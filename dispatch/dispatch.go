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
	"github.com/backchannel/backchannel/rules"
)

// Store records alerts and knows who subscribed.
type Store interface {
	ActiveSubscriptions(ctx context.Context) ([]rules.Subscription, error)
	CreateAlert(ctx context.Context, a rules.Alert, channels []string) (rules.Alert, bool, error)
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
	Subscriptions []rules.Subscription
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
// max age never does, and on a feed's first fetch an undated item does not
// either, so adding a feed never floods channels with its back catalogue.
func Eligible(a rules.Article, firstFetch bool, maxAge time.Duration, now time.Time) bool {
	if a.Published.IsZero() {
		return !firstFetch
	}
	return maxAge <= 0 || now.Sub(a.Published) <= maxAge
}

// Dispatch records alerts for the new articles of one feed poll. It keeps
// going past a failing guild or article and returns the errors joined.
func (d *Dispatcher) Dispatch(ctx context.Context, feed rules.Feed, firstFetch bool, articles []rules.Article) error {
	now := d.opts.Now()
	var todo []rules.Article
	for _, a := range articles {
		if Eligible(a, firstFetch, d.opts.MaxAge, now) {
			todo = append(todo, a)
		}
	}
	if len(todo) == 0 {
		return nil
	}
	subs := d.opts.Subscriptions
	if subs == nil {
		var err error
		if subs, err = d.store.ActiveSubscriptions(ctx); err != nil {
			return fmt.Errorf("dispatch: subscriptions: %w", err)
		}
	}
	byGuild := map[string][]rules.Subscription{}
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
		// Guilds on the default rules share one *Set: match once per set.
		cache := map[*rules.Set][]rules.Match{}
		for _, g := range guilds {
			set, err := d.sets.ForGuild(ctx, g)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			ms, ok := cache[set]
			if !ok {
				ms = set.Match(a)
				cache[set] = ms
			}
			if len(ms) == 0 {
				continue
			}
			channels := route(byGuild[g], ms)
			alert, created, err := d.store.CreateAlert(ctx, rules.Alert{GuildID: g, Article: a, Matches: ms, Created: now}, channels)
			if err != nil {
				errs = append(errs, fmt.Errorf("dispatch: alert for %q in guild %q: %w", a.Title, g, err))
				continue
			}
			if created {
				d.metrics.AlertsMatched.Inc()
				queued = queued || len(channels) > 0
				d.opts.Logger.Info("alert", "id", alert.ID, "guild", g, "rule", alert.Rule(), "title", a.Title, "channels", len(channels))
			}
		}
	}
	if queued {
		d.opts.Notify()
	}
	return errors.Join(errs...)
}

// route returns the channels whose subscriptions want any of the rules that
// fired, each once.
func route(subs []rules.Subscription, ms []rules.Match) []string {
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
