package dispatch

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/rules"
	"github.com/backchannel/backchannel/stories"
)

// memStories is a StoryStore over a stories.MemIndex, with the store's
// once-per-article rule.
type memStories struct {
	idx     *stories.MemIndex
	placed  map[int64]stories.Decision
	saveErr error
}

func newMemStories() *memStories {
	return &memStories{idx: stories.NewMemIndex(), placed: map[int64]stories.Decision{}}
}

func (m *memStories) ArticleStory(_ context.Context, id int64) (string, string, bool, error) {
	d, ok := m.placed[id]
	return d.Story.ID, d.Reason, ok, nil
}

func (m *memStories) SaveStory(ctx context.Context, id int64, d stories.Decision) (bool, error) {
	if m.saveErr != nil {
		return false, m.saveErr
	}
	if _, ok := m.placed[id]; ok {
		return false, nil
	}
	m.placed[id] = d
	return true, m.idx.Put(ctx, d.Story)
}

// countingPlacer records the reports it was asked to place.
type countingPlacer struct {
	next    Placer
	reports []stories.Report
}

func (p *countingPlacer) Place(ctx context.Context, r stories.Report) (stories.Decision, error) {
	p.reports = append(p.reports, r)
	return p.next.Place(ctx, r)
}

func defaultRules(t *testing.T) *rules.Set {
	t.Helper()
	spec, err := rules.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	set, err := rules.Compile(spec)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

func grouper(t *testing.T, set *rules.Set, st *memStories) *countingPlacer {
	t.Helper()
	lex, err := stories.NewLexicon(set.Spec())
	if err != nil {
		t.Fatal(err)
	}
	return &countingPlacer{next: stories.NewGrouper(lex, st.idx)}
}

func at(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// The Burns–Naryshkin meeting in Ankara as four outlets reported it, then
// another contact of the same two countries.
var ankara = []model.Article{
	{ID: 11, Feed: "Wire One", Title: "CIA Director Burns meets Russian intelligence chief Naryshkin in Ankara",
		Summary: "The meeting was arranged at the request of the American side, a Turkish official said.", Published: at("2022-11-14T12:10:00+03:00")},
	{ID: 12, Feed: "Moscow Desk", Title: "US and Russian spy chiefs held talks in Ankara, Kremlin confirms",
		Summary: "Peskov said the heads of the SVR and the CIA discussed nuclear risks.", Published: at("2022-11-14T14:30:00+03:00")},
	{ID: 13, Feed: "Capital Report", Title: "White House confirms CIA director met Russian intelligence head in Turkey",
		Summary: "The director carried a warning about the consequences of any use of nuclear weapons, a spokesman said.", Published: at("2022-11-14T09:45:00-05:00")},
	{ID: 14, Feed: "Le Quotidien", Title: "Le directeur de la CIA a rencontré le chef du renseignement extérieur russe à Ankara",
		Summary: "William Burns et Sergueï Narychkine se sont entretenus lundi, selon la Maison Blanche.", Published: at("2022-11-14T18:20:00+01:00")},
	{ID: 15, Feed: "Moscow Desk", Title: "Lavrov and Rubio speak by phone",
		Summary: "The Russian foreign minister and the US secretary of state discussed Ukraine, the Russian foreign ministry said.", Published: at("2025-05-05T11:00:00+03:00")},
}

// TestReportsOfOneContactAreOneStory: each report is put in its story
// once, with the default rules' reading, and every guild's alert names it.
func TestReportsOfOneContactAreOneStory(t *testing.T) {
	def := defaultRules(t)
	st := newMemStories()
	placer := grouper(t, def, st)
	store := &fakeStore{subs: []model.Subscription{{GuildID: "g1", ChannelID: "c1"}, {GuildID: "g3", ChannelID: "c3"}}}
	d := New(store, guildSets{def: def}, Options{Stories: &Stories{Placer: placer, Store: st}})
	for _, a := range ankara {
		if err := d.Dispatch(context.Background(), model.Feed{}, []model.Article{a}); err != nil {
			t.Fatal(err)
		}
	}
	if len(store.created) != 2*len(ankara) || len(placer.reports) != len(ankara) {
		t.Fatalf("%d alerts, %d reports placed; want %d and %d", len(store.created), len(placer.reports), 2*len(ankara), len(ankara))
	}
	for _, c := range store.created {
		want := "a11"
		if c.alert.Article.ID == 15 {
			want = "a15"
		}
		if c.alert.Story != want || c.alert.StoryReason == "" {
			t.Errorf("article %d in guild %s: story %q (%s), want %s", c.alert.Article.ID, c.alert.GuildID, c.alert.Story, c.alert.StoryReason, want)
		}
	}
	if r := store.created[len(store.created)-1].alert.StoryReason; !strings.HasPrefix(r, "new story") {
		t.Errorf("another contact's reason %q", r)
	}
}

// TestStoryReadWithTheRulesThatMatched: the default rules' matches read
// the report when they matched, else the matching guild's own.
func TestStoryReadWithTheRulesThatMatched(t *testing.T) {
	def := mustCompile(t, model.RuleSpec{Name: "spies", Keywords: []string{`naryshkin`}})
	g2 := mustCompile(t, model.RuleSpec{Name: "weather", Keywords: []string{`storm`}}, model.RuleSpec{Name: "spies-too", Keywords: []string{`naryshkin`}})
	for _, tc := range []struct {
		title, wantRule string
	}{
		{"Naryshkin in a storm", "spies"},
		{"A storm", "weather"},
	} {
		st := newMemStories()
		placer := grouper(t, def, st)
		store := &fakeStore{subs: []model.Subscription{{GuildID: "g1", ChannelID: "c1"}, {GuildID: "g2", ChannelID: "c2"}}}
		d := New(store, guildSets{def, g2}, Options{Stories: &Stories{Placer: placer, Store: st}})
		if err := d.Dispatch(context.Background(), model.Feed{}, []model.Article{{ID: 1, Title: tc.title}}); err != nil {
			t.Fatal(err)
		}
		if len(placer.reports) != 1 || placer.reports[0].Matches[0].Rule != tc.wantRule || placer.reports[0].Ref != "a1" {
			t.Errorf("%q: placed %+v; want one report read with rule %s", tc.title, placer.reports, tc.wantRule)
		}
	}
}

// TestRetriedArticleKeepsItsStory: a dispatch that failed after the story
// was decided reuses it; one that failed to store it records no alert.
func TestRetriedArticleKeepsItsStory(t *testing.T) {
	def := defaultRules(t)
	st := newMemStories()
	placer := grouper(t, def, st)
	store := &fakeStore{failFor: "bad", subs: []model.Subscription{{GuildID: "bad", ChannelID: "1"}, {GuildID: "good", ChannelID: "2"}}}
	d := New(store, guildSets{def: def}, Options{Stories: &Stories{Placer: placer, Store: st}})
	ctx := context.Background()

	st.saveErr = errors.New("disk full")
	if err := d.Dispatch(ctx, model.Feed{}, ankara[:1]); err == nil || len(store.created) != 0 || store.dispatched[11] {
		t.Fatalf("story not stored: err %v, %d alerts, dispatched %v; want an error, none, false", err, len(store.created), store.dispatched[11])
	}
	st.saveErr = nil
	if err := d.Dispatch(ctx, model.Feed{}, ankara[:2]); err == nil || store.dispatched[11] {
		t.Fatalf("a failing guild: err %v, dispatched %v", err, store.dispatched[11])
	}
	placed := len(placer.reports)
	store.failFor = ""
	if err := d.Dispatch(ctx, model.Feed{}, ankara[:2]); err != nil {
		t.Fatal(err)
	}
	if len(placer.reports) != placed {
		t.Errorf("retrying placed the reports again (%d, then %d)", placed, len(placer.reports))
	}
	for _, c := range store.created {
		if c.alert.Story != "a11" {
			t.Errorf("article %d in %s: story %q, want a11", c.alert.Article.ID, c.alert.GuildID, c.alert.Story)
		}
	}
	if len(store.created) != 4 || !store.dispatched[11] || !store.dispatched[12] {
		t.Fatalf("%d alerts, dispatched %v; want 4, both", len(store.created), store.dispatched)
	}
}
