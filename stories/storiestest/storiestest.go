// Package storiestest checks an implementation of stories.Index against
// the contract the grouper relies on, so a store's index (SQLite, say) can
// run the same checks as the in-memory one.
package storiestest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/backchannel/backchannel/stories"
)

// TestIndex runs the contract's checks; open returns a new, empty index.
func TestIndex(t *testing.T, open func(t *testing.T) stories.Index) {
	t.Run("empty", func(t *testing.T) {
		got := candidates(t, open(t), []string{"RU|US"}, span(0, 1000))
		if len(got) != 0 {
			t.Errorf("empty index returned %v", ids(got))
		}
	})
	t.Run("by key and day", func(t *testing.T) {
		idx := open(t)
		put(t, idx, story("a", []string{"RU", "US"}, span(10, 12)))
		put(t, idx, story("b", []string{"CN", "US"}, span(10, 12)))
		put(t, idx, story("c", []string{"IR"}, span(10, 12))) // names one side only
		g7 := story("g", nil, span(10, 12))                   // a gathering of no country named
		g7.Gatherings = []string{"G7"}
		put(t, idx, g7)
		for _, tc := range []struct {
			name string
			keys []string
			when []stories.Span
			want []string
		}{
			{"pair, last day", []string{"RU|US"}, span(12, 12), []string{"a"}},
			{"pair, first day", []string{"RU|US"}, span(5, 10), []string{"a"}},
			{"pair, inside", []string{"RU|US"}, span(11, 11), []string{"a"}},
			{"pair, around", []string{"RU|US"}, span(1, 100), []string{"a"}},
			{"pair, day after", []string{"RU|US"}, span(13, 20), nil},
			{"pair, day before", []string{"RU|US"}, span(1, 9), nil},
			{"other pair", []string{"CN|RU"}, span(10, 12), nil},
			{"single country", []string{"US|*"}, span(11, 11), []string{"a", "b"}},
			{"two keys, one story each", []string{"RU|US", "CN|US", "US|*"}, span(10, 12), []string{"a", "b"}},
			{"two spans", []string{"RU|US"}, append(span(1, 2), span(12, 30)...), []string{"a"}},
			{"one side only", []string{"IR|1"}, span(11, 11), []string{"c"}},
			{"one side only, not of a pair", []string{"US|1"}, span(11, 11), nil},
			{"a gathering", []string{"G7|#"}, span(12, 12), []string{"g"}},
			{"another gathering", []string{"NATO|#"}, span(12, 12), nil},
		} {
			got := candidates(t, idx, tc.keys, tc.when)
			if missing := missingFrom(got, tc.want); len(missing) > 0 {
				t.Errorf("%s: %v missing from %v", tc.name, missing, ids(got))
			}
			if tc.want == nil {
				for _, s := range got {
					if matches(s, tc.keys, tc.when) {
						t.Errorf("%s: returned %s, which matches; want none", tc.name, s.ID)
					}
				}
			}
		}
	})
	t.Run("put replaces", func(t *testing.T) {
		idx := open(t)
		s := story("a", []string{"RU", "US"}, span(10, 12))
		put(t, idx, s)
		s.Reports = 2
		s.Parties = []string{"RU", "TR", "US"}
		s.When = span(11, 11)
		put(t, idx, s)
		got := candidates(t, idx, []string{"TR|US"}, span(11, 11))
		if len(got) != 1 || got[0].Reports != 2 || !slices.Equal(got[0].Parties, s.Parties) {
			t.Fatalf("after a second Put, got %+v; want the story in its latest state", got)
		}
		got = candidates(t, idx, []string{"RU|US"}, span(11, 11))
		if len(got) != 1 || got[0].Reports != 2 {
			t.Errorf("old key: got %+v; want the story once, in its latest state", got)
		}
	})
	t.Run("state round trip", func(t *testing.T) {
		idx := open(t)
		s := stories.Story{
			ID: "k1", Reports: 3, Parties: []string{"RU", "US"},
			First: time.Date(2025, 2, 15, 11, 20, 0, 0, time.FixedZone("", 3*3600)),
			Last:  time.Date(2025, 2, 16, 9, 0, 0, 0, time.UTC),
			Offices: []stories.Office{{Country: "RU", ID: "ru-fm", Kind: "diplomatic"},
				{Country: "US", ID: "us-fm", Kind: "diplomatic"}, {Country: "US", ID: "us-counterpart", Generic: true},
				{ID: "multi-fm", Kind: "diplomatic"}}, // a plural office, of no one country
			Holders: []stories.Holder{{Office: "ru-fm", Name: "Sergei Lavrov"}},
			Remote:  2, InPerson: 1, Group: 1, Bilateral: 2, Repeat: true, Dated: true,
			Gatherings: []string{"G20"},
			When:       append(span(20134, 20134), span(20141, 20141)...),
		}
		put(t, idx, s)
		got := candidates(t, idx, []string{"RU|US"}, span(20141, 20141))
		if len(got) != 1 {
			t.Fatalf("got %d stories", len(got))
		}
		g := got[0]
		if !g.First.Equal(s.First) || !g.Last.Equal(s.Last) {
			t.Errorf("times: got %v, %v; want %v, %v", g.First, g.Last, s.First, s.Last)
		}
		g.First, g.Last = s.First, s.Last
		if fmt.Sprintf("%+v", g) != fmt.Sprintf("%+v", s) {
			t.Errorf("stored story changed:\n got %+v\nwant %+v", g, s)
		}
	})
	t.Run("long spans", func(t *testing.T) {
		idx := open(t)
		put(t, idx, story("month", []string{"RU", "US"}, span(1, 31)))
		put(t, idx, story("day", []string{"RU", "US"}, span(40, 40)))
		if got := candidates(t, idx, []string{"RU|US"}, span(30, 30)); len(missingFrom(got, []string{"month"})) > 0 {
			t.Errorf("a month-long story must be found on its last days; got %v", ids(got))
		}
	})
	t.Run("against a scan", func(t *testing.T) {
		idx := open(t)
		rng := rand.New(rand.NewPCG(1, 2))
		countries := []string{"CN", "FR", "GB", "IN", "IR", "RU", "TR", "UA", "US"}
		var all []stories.Story
		for i := range 500 {
			parties := pick(rng, countries, 2+rng.IntN(2))
			from := stories.Day(rng.IntN(400))
			when := span(from, from+stories.Day(rng.IntN(10)))
			if rng.IntN(4) == 0 {
				when = append(when, span(from+20, from+20)...)
			}
			s := story(fmt.Sprintf("s%03d", i), parties, when)
			put(t, idx, s)
			all = append(all, s)
		}
		for range 200 {
			q := pick(rng, countries, 2)
			keys := []string{q[0] + "|" + q[1]}
			if rng.IntN(3) == 0 {
				keys = []string{q[0] + "|*"}
			}
			from := stories.Day(rng.IntN(420))
			when := span(from, from+stories.Day(rng.IntN(5)))
			got := candidates(t, idx, keys, when)
			var want []string
			for _, s := range all {
				if matches(s, keys, when) {
					want = append(want, s.ID)
				}
			}
			if missing := missingFrom(got, want); len(missing) > 0 {
				t.Fatalf("query %v %v: missing %v (got %v)", keys, when, missing, ids(got))
			}
		}
	})
}

func span(from, to stories.Day) []stories.Span { return []stories.Span{{From: from, To: to}} }

func story(id string, parties []string, when []stories.Span) stories.Story {
	return stories.Story{ID: id, Reports: 1, Parties: parties, When: when}
}

func put(t *testing.T, idx stories.Index, s stories.Story) {
	t.Helper()
	if err := idx.Put(context.Background(), s); err != nil {
		t.Fatalf("Put %s: %v", s.ID, err)
	}
}

// candidates queries idx and checks that no story comes twice.
func candidates(t *testing.T, idx stories.Index, keys []string, when []stories.Span) []stories.Story {
	t.Helper()
	got, err := idx.Candidates(context.Background(), stories.Query{Keys: keys, When: when})
	if err != nil {
		t.Fatalf("Candidates(%v, %v): %v", keys, when, err)
	}
	seen := map[string]bool{}
	for _, s := range got {
		if seen[s.ID] {
			t.Errorf("Candidates(%v, %v) returned %s twice", keys, when, s.ID)
		}
		seen[s.ID] = true
	}
	return got
}

// matches is the contract: one of the keys, one overlapping span.
func matches(s stories.Story, keys []string, when []stories.Span) bool {
	keyed := false
	for _, k := range s.Keys() {
		keyed = keyed || slices.Contains(keys, k)
	}
	if !keyed {
		return false
	}
	for _, a := range s.When {
		for _, b := range when {
			if a.Overlaps(b) {
				return true
			}
		}
	}
	return false
}

func ids(ss []stories.Story) []string {
	out := make([]string, len(ss))
	for i, s := range ss {
		out[i] = s.ID
	}
	slices.Sort(out)
	return out
}

func missingFrom(got []stories.Story, want []string) []string {
	have := ids(got)
	var missing []string
	for _, w := range want {
		if !slices.Contains(have, w) {
			missing = append(missing, w)
		}
	}
	return missing
}

func pick(rng *rand.Rand, from []string, n int) []string {
	p := rng.Perm(len(from))[:n]
	out := make([]string, n)
	for i, j := range p {
		out[i] = from[j]
	}
	slices.Sort(out)
	return out
}
