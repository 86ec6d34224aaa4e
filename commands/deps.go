package commands

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/backchannel/backchannel/metrics"
	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/rules"
)

// The interfaces below are the slices of the store and of the rest of the
// program that the commands need. *db.DB satisfies the store ones;
// *rulebook.Book satisfies RuleBook; the feeds package provides the prober and
// the scheduler.

// SubscriptionStore keeps which channels receive which alerts.
type SubscriptionStore interface {
	// Subscribe returns false when the subscription already existed (it is
	// re-enabled if it had been disabled).
	Subscribe(ctx context.Context, s model.Subscription) (bool, error)
	// Unsubscribe returns false when there was no such subscription.
	Unsubscribe(ctx context.Context, guildID, channelID, rule string) (bool, error)
	Subscriptions(ctx context.Context, guildID string) ([]model.Subscription, error)
}

// AlertStore reads one guild's stored alerts.
type AlertStore interface {
	LatestAlerts(ctx context.Context, guildID, actor string, n int) ([]model.Alert, error)
	SearchAlerts(ctx context.Context, guildID, query string, n int) ([]model.Alert, error)
	// Alert returns model.ErrNotFound also for another guild's alert.
	Alert(ctx context.Context, guildID string, id int64) (model.Alert, error)
}

// RuleStore persists a guild's changes to the default rules.
type RuleStore interface {
	GuildOverrides(ctx context.Context, guildID string) ([]model.Override, error)
	PutGuildRule(ctx context.Context, guildID string, r model.RuleSpec) error
	// RemoveGuildRule writes a tombstone, so a default rule can be removed
	// for one guild.
	RemoveGuildRule(ctx context.Context, guildID, name string) error
}

// RuleBook hands out each guild's compiled rules. Invalidate is called after
// every change so the next poll recompiles that guild's set.
type RuleBook interface {
	ForGuild(ctx context.Context, guildID string) (*rules.Set, error)
	Invalidate(guildID string)
}

// FeedStore keeps the polled feeds, which all guilds share.
type FeedStore interface {
	Feeds(ctx context.Context) ([]model.Feed, error)
	// AddFeed returns model.ErrDuplicate on the same name or URL.
	AddFeed(ctx context.Context, f model.Feed) (model.Feed, error)
	// RemoveFeed returns model.ErrNotFound.
	RemoveFeed(ctx context.Context, name string) (model.Feed, error)
}

// FeedProber fetches a URL once and says whether it is a feed. It applies
// the fetcher's limits, including the private-network guard for feeds added
// from Discord.
type FeedProber interface {
	Probe(ctx context.Context, url string) (title string, items int, err error)
}

// Scheduler polls feeds on their schedules.
type Scheduler interface {
	Add(f model.Feed) error
	Remove(feedID int64)
	// Next returns the feed's next scheduled poll, zero when it has none.
	Next(feedID int64) time.Time
}

// Options are what the Handler works with, every one optional: a nil
// store or service makes the commands that need it answer that they are
// unavailable, rather than fail, so the zero value works.
type Options struct {
	Subscriptions SubscriptionStore
	Alerts        AlertStore
	Rules         RuleStore
	Book          RuleBook
	Feeds         FeedStore
	Prober        FeedProber
	Scheduler     Scheduler

	// OwnerIDs are the user ids allowed the owner-only commands.
	OwnerIDs []string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Logger gets one line per failed interaction; discarded when nil.
	Logger *slog.Logger
	// Metrics counts interactions by command; optional.
	Metrics *metrics.Metrics
}

// Handler answers interactions. It is safe for concurrent use: each
// interaction is handled on its own goroutine by both transports.
type Handler struct {
	d      Options
	owners map[string]bool

	// ruleMu serialises rule edits so that "validate against the current
	// set, then save" cannot interleave with another edit of the same guild.
	ruleMu sync.Mutex
}

// New returns a Handler over opts; opts may be zero.
func New(opts Options) *Handler {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	owners := make(map[string]bool, len(opts.OwnerIDs))
	for _, id := range opts.OwnerIDs {
		if id != "" {
			owners[id] = true
		}
	}
	return &Handler{d: opts, owners: owners}
}
