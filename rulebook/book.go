// Package rulebook hands out each guild's compiled rule set: the defaults,
// or the defaults with the guild's own changes, built once and cached
// until the guild edits them again. A guild's set shares the defaults'
// vocabulary (rules.Vocabulary, the automaton of every alias): only the
// rules the guild changed are compiled and kept for it.
package rulebook

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/rules"
)

// OverrideStore gives a guild's changes to the default rules.
type OverrideStore interface {
	GuildOverrides(ctx context.Context, guildID string) ([]model.Override, error)
}

// Book hands out each guild's compiled rule set. A guild without overrides
// shares the default set; a guild with overrides gets its own over the
// defaults' vocabulary, built once and replaced as a whole when Invalidate
// is called after an edit, so a poll in progress keeps matching against a
// consistent set.
type Book struct {
	defaults *rules.Set
	store    OverrideStore
	logger   *slog.Logger

	mu   sync.RWMutex
	sets map[string]*rules.Set
	gen  map[string]uint64 // bumped by Invalidate, so a load racing an edit is not cached
}

// Options are NewBook's optional settings; the zero value works.
type Options struct {
	// Logger is told when a guild's stored rules no longer compile
	// [discard].
	Logger *slog.Logger
}

// NewBook returns a Book over the compiled defaults and the guilds' changes
// in store (nil: every guild gets the defaults); opts may be zero.
func NewBook(defaults *rules.Set, store OverrideStore, opts Options) *Book {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Book{defaults: defaults, store: store, logger: logger, sets: map[string]*rules.Set{}, gen: map[string]uint64{}}
}

// Defaults returns the configured default rule set.
func (b *Book) Defaults() *rules.Set { return b.defaults }

// ForGuild returns guildID's rule set ("" is the defaults).
func (b *Book) ForGuild(ctx context.Context, guildID string) (*rules.Set, error) {
	if guildID == "" || b.store == nil {
		return b.defaults, nil
	}
	b.mu.RLock()
	s, ok := b.sets[guildID]
	gen := b.gen[guildID]
	b.mu.RUnlock()
	if ok {
		return s, nil
	}
	ov, err := b.store.GuildOverrides(ctx, guildID)
	if err != nil {
		return nil, fmt.Errorf("rulebook: load overrides of guild %s: %w", guildID, err)
	}
	s = b.defaults
	if len(ov) > 0 {
		compiled, err := b.defaults.WithOverrides(ov)
		if err != nil {
			// Stored overrides were valid when saved; they can stop compiling
			// only if the configured actors changed under them. Keep alerting
			// with the defaults rather than going silent for this guild.
			b.logger.Warn("guild rules no longer compile; using the defaults", "guild", guildID, "err", err)
		} else {
			s = compiled
		}
	}
	b.mu.Lock()
	if b.gen[guildID] == gen {
		b.sets[guildID] = s
	}
	b.mu.Unlock()
	return s, nil
}

// Invalidate drops guildID's cached set; the next ForGuild builds it again
// from the store.
func (b *Book) Invalidate(guildID string) {
	b.mu.Lock()
	delete(b.sets, guildID)
	b.gen[guildID]++
	b.mu.Unlock()
}
