package dispatch

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/rules"
)

type created struct {
	alert    model.Alert
	channels []string
}

// fakeStore records CreateAlert calls; it is the dispatcher's whole view of
// the database.
type fakeStore struct {
	subs       []model.Subscription
	created    []created
	failFor    string // guild whose alerts fail
	stored     []model.Article
	dispatched map[int64]bool
}

var _ Store = (*fakeStore)(nil)

func (f *fakeStore) ActiveSubscriptions(context.Context) ([]model.Subscription, error) {
	return f.subs, nil
}

func (f *fakeStore) CreateAlert(_ context.Context, a model.Alert, routes []model.Subscription, _ time.Duration) (model.Alert, bool, error) {
	if f.failFor != "" && a.GuildID == f.failFor {
		return model.Alert{}, false, errors.New("disk full")
	}
	// Idempotent per guild and article, like the database's unique key.
	for _, c := range f.created {
		if c.alert.GuildID == a.GuildID && c.alert.Article.ID == a.Article.ID && a.Article.ID != 0 {
			return c.alert, false, nil
		}
	}
	a.ID = int64(len(f.created) + 1)
	var channels []string
	for _, r := range routes {
		ch := r.ChannelID
		if r.MinSources != 1 {
			ch += fmt.Sprintf("≥%d", r.MinSources)
		}
		channels = append(channels, ch)
	}
	f.created = append(f.created, created{a, channels})
	return a, true, nil
}

func (f *fakeStore) MarkDispatched(_ context.Context, ids []int64) error {
	if f.dispatched == nil {
		f.dispatched = map[int64]bool{}
	}
	for _, id := range ids {
		f.dispatched[id] = true
	}
	return nil
}

func (f *fakeStore) UndispatchedArticles(_ context.Context, after int64, before time.Time, limit int) ([]model.Article, error) {
	var out []model.Article
	for _, a := range f.stored {
		if a.ID > after && !f.dispatched[a.ID] && a.Fetched.Before(before) && len(out) < limit {
			out = append(out, a)
		}
	}
	return out, nil
}

// guildSets gives guild "g2" its own rules and everyone else the defaults.
type guildSets struct{ def, g2 *rules.Set }

func (g guildSets) Defaults() *rules.Set { return g.def }

func (g guildSets) ForGuild(_ context.Context, id string) (*rules.Set, error) {
	if id == "g2" {
		return g.g2, nil
	}
	return g.def, nil
}

func mustCompile(t *testing.T, rs ...model.RuleSpec) *rules.Set {
	t.Helper()
	s, err := rules.Compile(rules.Spec{Rules: rs})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDispatch(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	def := mustCompile(t,
		model.RuleSpec{Name: "spies", Keywords: []string{`naryshkin`}},
		model.RuleSpec{Name: "calls", Keywords: []string{`phone call`}})
	g2 := mustCompile(t, model.RuleSpec{Name: "weather", Keywords: []string{`storm`}})
	fresh := now.Add(-time.Hour)
	articles := []model.Article{
		{ID: 1, Title: "Naryshkin and Ratcliffe talk", Published: fresh},
		{ID: 2, Title: "Naryshkin phone call, old news", Published: now.Add(-72 * time.Hour)},
		{ID: 3, Title: "Naryshkin phone call, undated"},
		{ID: 4, Title: "Storm and phone call", Published: fresh},
	}
	tests := []struct {
		name    string
		backlog bool
		subs    []model.Subscription
		want    map[int64]map[string][]string // article -> guild -> channels
	}{
		{
			name: "routes by guild and rule filter",
			subs: []model.Subscription{
				{GuildID: "g1", ChannelID: "all"},
				{GuildID: "g1", ChannelID: "calls-only", Rule: "calls"},
				{GuildID: "g1", ChannelID: "off", Disabled: "Missing Access"},
				{GuildID: "g2", ChannelID: "wx"},
			},
			want: map[int64]map[string][]string{
				1: {"g1": {"all"}},
				3: {"g1": {"all", "calls-only"}},
				4: {"g1": {"all", "calls-only"}, "g2": {"wx"}},
			},
		},
		{
			name:    "back catalogue: undated items do not alert",
			backlog: true,
			subs:    []model.Subscription{{GuildID: "g1", ChannelID: "all"}},
			want: map[int64]map[string][]string{
				1: {"g1": {"all"}},
				4: {"g1": {"all"}},
			},
		},
		{
			name: "a channel subscribed twice gets one delivery",
			subs: []model.Subscription{{GuildID: "g1", ChannelID: "c"}, {GuildID: "g1", ChannelID: "c", Rule: "spies"}},
			want: map[int64]map[string][]string{1: {"g1": {"c"}}, 3: {"g1": {"c"}}, 4: {"g1": {"c"}}},
		},
		{
			name: "min_sources: the least of the channel's subscriptions that want the alert",
			subs: []model.Subscription{{GuildID: "g1", ChannelID: "slow", MinSources: 3}, {GuildID: "g1", ChannelID: "slow", Rule: "calls", MinSources: 2},
				{GuildID: "g1", ChannelID: "unset"}},
			want: map[int64]map[string][]string{1: {"g1": {"slow≥3", "unset"}}, 3: {"g1": {"slow≥2", "unset"}}, 4: {"g1": {"slow≥2", "unset"}}},
		},
		{name: "no subscriptions, no alerts", want: map[int64]map[string][]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			store := &fakeStore{subs: tt.subs}
			notified := 0
			d := New(store, guildSets{def, g2}, Options{MaxAge: 48 * time.Hour, Now: func() time.Time { return now }, Notify: func() { notified++ }})
			batch := slices.Clone(articles)
			for i := range batch {
				batch[i].Backlog = tt.backlog
			}
			if err := d.Dispatch(context.Background(), model.Feed{Name: "Wire"}, batch); err != nil {
				t.Fatal(err)
			}
			// Every article was decided, alerting or not: none is left for Retry.
			for _, a := range articles {
				if !store.dispatched[a.ID] {
					t.Errorf("article %d not marked dispatched", a.ID)
				}
			}
			got := map[int64]map[string][]string{}
			for _, c := range store.created {
				if got[c.alert.Article.ID] == nil {
					got[c.alert.Article.ID] = map[string][]string{}
				}
				got[c.alert.Article.ID][c.alert.GuildID] = c.channels
				if c.alert.Article.Feed != "Wire" || len(c.alert.Matches) == 0 {
					t.Errorf("alert %+v", c.alert)
				}
			}
			if !equal(got, tt.want) {
				t.Errorf("alerts = %v\nwant     %v", got, tt.want)
			}
			if wantNotify := len(tt.want) > 0; (notified > 0) != wantNotify {
				t.Errorf("notified %d times", notified)
			}
		})
	}
}

func TestDispatchKeepsGoingPastAFailingGuild(t *testing.T) {
	set := mustCompile(t, model.RuleSpec{Name: "spies", Keywords: []string{`naryshkin`}})
	store := &fakeStore{failFor: "bad", subs: []model.Subscription{{GuildID: "bad", ChannelID: "1"}, {GuildID: "good", ChannelID: "2"}}}
	d := New(store, guildSets{set, set}, Options{})
	err := d.Dispatch(context.Background(), model.Feed{}, []model.Article{{ID: 1, Title: "Naryshkin"}})
	if err == nil {
		t.Fatal("the failing guild's error was swallowed")
	}
	if len(store.created) != 1 || store.created[0].alert.GuildID != "good" {
		t.Fatalf("created = %+v", store.created)
	}
	if store.dispatched[1] {
		t.Fatal("an article whose alert failed was marked dispatched: it would never be retried")
	}
}

// TestRetry: articles left undispatched (a crash, a failed dispatch) get
// their alerts from Retry, once per guild, and only those fetched before
// the cutoff are taken.
func TestRetry(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)
	set := mustCompile(t, model.RuleSpec{Name: "spies", Keywords: []string{`naryshkin`}})
	store := &fakeStore{
		failFor: "bad",
		subs:    []model.Subscription{{GuildID: "bad", ChannelID: "1"}, {GuildID: "good", ChannelID: "2"}},
	}
	// More than one page, plus one article fetched after the cutoff.
	for i := range retryPage + 5 {
		store.stored = append(store.stored, model.Article{ID: int64(i + 1), Title: fmt.Sprintf("Naryshkin %d", i), Fetched: now.Add(-time.Hour)})
	}
	late := model.Article{ID: retryPage + 6, Title: "Naryshkin late", Fetched: now}
	store.stored = append(store.stored, late)
	d := New(store, guildSets{set, set}, Options{Now: func() time.Time { return now }})

	n, err := d.Retry(context.Background(), now)
	if err == nil || n != retryPage+5 {
		t.Fatalf("Retry = %d, %v; want %d articles and the failing guild's error", n, err, retryPage+5)
	}
	if len(store.created) != retryPage+5 || len(store.dispatched) != 0 {
		t.Fatalf("created %d alerts, %d articles dispatched", len(store.created), len(store.dispatched))
	}

	// The failure clears: the next retry completes the bad guild's alerts
	// and the good guild's are not made twice.
	store.failFor = ""
	if n, err := d.Retry(context.Background(), now); err != nil || n != retryPage+5 {
		t.Fatalf("second Retry = %d, %v", n, err)
	}
	if len(store.created) != 2*(retryPage+5) {
		t.Fatalf("created %d alerts, want %d", len(store.created), 2*(retryPage+5))
	}
	if store.dispatched[late.ID] || len(store.dispatched) != retryPage+5 {
		t.Fatalf("dispatched %d articles (late one: %v)", len(store.dispatched), store.dispatched[late.ID])
	}
	if n, err := d.Retry(context.Background(), now); err != nil || n != 0 {
		t.Fatalf("third Retry = %d, %v; want nothing left", n, err)
	}
}

func TestDryRunSubscriptionsReplaceTheStore(t *testing.T) {
	set := mustCompile(t, model.RuleSpec{Name: "spies", Keywords: []string{`naryshkin`}})
	store := &fakeStore{subs: []model.Subscription{{GuildID: "real", ChannelID: "1"}}}
	d := New(store, guildSets{set, set}, Options{Subscriptions: []model.Subscription{{ChannelID: "stdout"}}})
	if err := d.Dispatch(context.Background(), model.Feed{}, []model.Article{{Title: "Naryshkin"}}); err != nil {
		t.Fatal(err)
	}
	if len(store.created) != 1 || store.created[0].alert.GuildID != "" || !slices.Equal(store.created[0].channels, []string{"stdout"}) {
		t.Fatalf("created = %+v", store.created)
	}
}

func equal(a, b map[int64]map[string][]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, ga := range a {
		gb, ok := b[k]
		if !ok || len(ga) != len(gb) {
			return false
		}
		for g, ca := range ga {
			if !slices.Equal(ca, gb[g]) {
				return false
			}
		}
	}
	return true
}
