package rulebook

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/rules"
)

// sanctionsItem fires the keyword rules of keywordRule (a sanctions
// keyword and the CIA director) and none of the defaults.
var sanctionsItem = model.Article{Title: "CIA Director Ratcliffe warns of new sanctions"}

func ruleNames(s *rules.Set) []string {
	var out []string
	for _, r := range s.Rules() {
		out = append(out, r.Name)
	}
	return out
}

func firing(s *rules.Set, a model.Article) []string {
	var out []string
	for _, m := range s.Match(a) {
		out = append(out, m.Rule)
	}
	return out
}

func TestGuildWithoutOverridesGetsTheDefaults(t *testing.T) {
	ctx := context.Background()
	defaults := compileDefaults(t)
	store := newFakeStore()
	book := NewBook(defaults, store, Options{})
	if book.Defaults() != defaults {
		t.Error("Defaults is not the set given")
	}
	for range 2 {
		s, err := book.ForGuild(ctx, "")
		if err != nil || s != defaults {
			t.Fatalf("ForGuild(\"\") = %p, %v; want the defaults", s, err)
		}
		s, err = book.ForGuild(ctx, guildName(1))
		if err != nil || s != defaults {
			t.Fatalf("guild without overrides: %p, %v; want the defaults", s, err)
		}
	}
	if n := store.loadsOf(""); n != 0 {
		t.Errorf("the store was asked %d times for no guild", n)
	}
	if n := store.loadsOf(guildName(1)); n != 1 {
		t.Errorf("the guild's overrides were loaded %d times; want once, then cached", n)
	}
	if s, err := NewBook(defaults, nil, Options{}).ForGuild(ctx, guildName(1)); err != nil || s != defaults {
		t.Errorf("book without a store: %p, %v; want the defaults", s, err)
	}
}

func TestGuildSetsBuildOnTheDefaultVocabulary(t *testing.T) {
	ctx := context.Background()
	defaults := compileDefaults(t)
	store := newFakeStore()
	store.set(guildName(1), model.Override{Name: "watch-1", Rule: keywordRule(1)})
	store.set(guildName(2), model.Override{Name: "intel-heads"}, model.Override{Name: "watch-2", Rule: keywordRule(2)})
	book := NewBook(defaults, store, Options{})

	g1, err := book.ForGuild(ctx, guildName(1))
	if err != nil {
		t.Fatal(err)
	}
	g2, err := book.ForGuild(ctx, guildName(2))
	if err != nil {
		t.Fatal(err)
	}
	if g1 == defaults || g2 == defaults || g1 == g2 {
		t.Fatal("customised guilds did not get sets of their own")
	}
	if g1.Vocabulary() != defaults.Vocabulary() || g2.Vocabulary() != defaults.Vocabulary() {
		t.Error("a customised guild's set has a vocabulary of its own")
	}
	if got := ruleNames(g1); !slices.Equal(got, []string{"intel-heads", "diplomatic-heads", "watch-1"}) {
		t.Errorf("guild 1 rules %v", got)
	}
	if got := ruleNames(g2); !slices.Equal(got, []string{"diplomatic-heads", "watch-2"}) {
		t.Errorf("guild 2 rules %v", got)
	}
	if got := ruleNames(defaults); !slices.Equal(got, []string{"intel-heads", "diplomatic-heads"}) {
		t.Errorf("the defaults changed: %v", got)
	}
	if got := firing(g1, sanctionsItem); !slices.Equal(got, []string{"watch-1"}) {
		t.Errorf("guild 1 fires %v on %q", got, sanctionsItem.Title)
	}
	if got := firing(defaults, sanctionsItem); len(got) != 0 {
		t.Errorf("the defaults fire %v on %q", got, sanctionsItem.Title)
	}
	again, err := book.ForGuild(ctx, guildName(1))
	if err != nil || again != g1 || store.loadsOf(guildName(1)) != 1 {
		t.Errorf("second ForGuild: same set %v, %d loads, %v; want the cached set", again == g1, store.loadsOf(guildName(1)), err)
	}
}

func TestInvalidate(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	book := NewBook(compileDefaults(t), store, Options{})
	g, other := guildName(1), guildName(2)
	store.set(other, model.Override{Name: "watch-2", Rule: keywordRule(2)})
	before, err := book.ForGuild(ctx, g)
	if err != nil {
		t.Fatal(err)
	}
	otherSet, err := book.ForGuild(ctx, other)
	if err != nil {
		t.Fatal(err)
	}

	store.set(g, model.Override{Name: "watch-1", Rule: keywordRule(1)})
	if s, _ := book.ForGuild(ctx, g); s != before {
		t.Fatal("the cached set changed before Invalidate")
	}
	book.Invalidate(g)
	after, err := book.ForGuild(ctx, g)
	if err != nil {
		t.Fatal(err)
	}
	if after == before || !slices.Contains(ruleNames(after), "watch-1") {
		t.Errorf("after Invalidate: rules %v; want the stored watch-1", ruleNames(after))
	}
	if s, _ := book.ForGuild(ctx, other); s != otherSet || store.loadsOf(other) != 1 {
		t.Error("Invalidate of one guild dropped another's set")
	}

	store.set(g)
	book.Invalidate(g)
	if s, _ := book.ForGuild(ctx, g); s != book.Defaults() {
		t.Error("a guild whose overrides are all gone did not get the defaults back")
	}
	book.Invalidate(guildName(3)) // a guild never loaded: nothing to drop
}

func TestStoreError(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	store.set(guildName(1), model.Override{Name: "watch-1", Rule: keywordRule(1)})
	book := NewBook(compileDefaults(t), store, Options{})
	broken := errors.New("database is locked")
	store.fail(broken)
	s, err := book.ForGuild(ctx, guildName(1))
	if !errors.Is(err, broken) || s != nil || !strings.HasPrefix(err.Error(), "rulebook: ") || !strings.Contains(err.Error(), guildName(1)) {
		t.Fatalf("ForGuild = %p, %v; want nil and the store's error, wrapped with the guild", s, err)
	}
	store.fail(nil)
	s, err = book.ForGuild(ctx, guildName(1))
	if err != nil || !slices.Contains(ruleNames(s), "watch-1") {
		t.Errorf("after the store recovered: %v, %v; the failure must not be cached", ruleNames(s), err)
	}
}

func TestOverridesThatNoLongerCompileFallBackToTheDefaults(t *testing.T) {
	var logs bytes.Buffer
	store := newFakeStore()
	stale := keywordRule(1)
	stale.Actors = []string{"zz-removed"} // an actor the configuration no longer has
	store.set(guildName(1), model.Override{Name: stale.Name, Rule: stale})
	book := NewBook(compileDefaults(t), store, Options{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	s, err := book.ForGuild(context.Background(), guildName(1))
	if err != nil || s != book.Defaults() {
		t.Fatalf("ForGuild = %v, %v; want the defaults", ruleNames(s), err)
	}
	if l := logs.String(); !strings.Contains(l, "guild rules no longer compile") || !strings.Contains(l, "zz-removed") || !strings.Contains(l, guildName(1)) {
		t.Errorf("log %q does not say which guild's rules failed and why", l)
	}
}

// TestLoadRacingInvalidateIsNotCached: an edit saved while a load is in
// flight invalidates the guild; the set that load builds is returned but
// not cached, so the next ForGuild sees the edit.
func TestLoadRacingInvalidateIsNotCached(t *testing.T) {
	ctx := context.Background()
	store := newFakeStore()
	book := NewBook(compileDefaults(t), store, Options{})
	g := guildName(1)
	store.during = func(string) {
		store.during = nil // the hook runs once, before the edit lands
		store.set(g, model.Override{Name: "watch-1", Rule: keywordRule(1)})
		book.Invalidate(g)
	}
	first, err := book.ForGuild(ctx, g)
	if err != nil || first != book.Defaults() {
		t.Fatalf("the racing load: %v, %v; want the defaults it read", ruleNames(first), err)
	}
	next, err := book.ForGuild(ctx, g)
	if err != nil || !slices.Contains(ruleNames(next), "watch-1") || store.loadsOf(g) != 2 {
		t.Errorf("after the race: rules %v, %d loads, %v; want the edit loaded again", ruleNames(next), store.loadsOf(g), err)
	}
}

// TestConcurrentForGuildAndInvalidate: polls asking for sets while edits
// change the store and invalidate (run with -race). Every set handed out
// is one the store held at some point, and once the edits stop, each
// guild gets its last stored rules.
func TestConcurrentForGuildAndInvalidate(t *testing.T) {
	ctx := context.Background()
	defaults := compileDefaults(t)
	store := newFakeStore()
	book := NewBook(defaults, store, Options{})
	const guilds, editors, readers, rounds = 4, 2, 4, 30
	var wg sync.WaitGroup
	errs := make(chan string, readers+editors)
	for e := range editors {
		wg.Go(func() {
			for i := range rounds {
				g := guildName((e + i) % guilds)
				r := keywordRule(i) // a new version of the guild's rule "watch"
				r.Name = "watch"
				store.set(g, model.Override{Name: r.Name, Rule: r})
				book.Invalidate(g)
			}
		})
	}
	for r := range readers {
		wg.Go(func() {
			for i := range rounds * 2 {
				s, err := book.ForGuild(ctx, guildName((r+i)%guilds))
				switch {
				case err != nil:
					errs <- err.Error()
					return
				case s.Vocabulary() != defaults.Vocabulary():
					errs <- "a set over another vocabulary"
					return
				case s != defaults && !slices.Equal(ruleNames(s), []string{"intel-heads", "diplomatic-heads", "watch"}):
					errs <- "rules " + strings.Join(ruleNames(s), ",")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	for i := range guilds {
		g := guildName(i)
		want, _ := store.GuildOverrides(ctx, g)
		s, err := book.ForGuild(ctx, g)
		if err != nil {
			t.Fatal(err)
		}
		got, ok := s.Rule("watch")
		if !ok || len(want) != 1 || !slices.Equal(got.Keywords, want[0].Rule.Keywords) {
			t.Errorf("guild %d after the edits: %+v; want the last stored %+v", i, got, want)
		}
	}
}
