package stories

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel/model"
)

var t0 = time.Date(2025, 3, 10, 12, 0, 0, 0, time.UTC)

// base is a report of a Rubio–Lavrov meeting on 10 March.
func base() Features {
	return Features{
		Ref: "new", Published: t0, Parties: []string{"RU", "US"},
		Offices: []Office{{Country: "RU", ID: "ru-fm", Kind: "diplomatic"}, {Country: "US", ID: "us-fm", Kind: "diplomatic"}},
		Holders: []Holder{{Office: "ru-fm", Name: "Sergei Lavrov"}, {Office: "us-fm", Name: "Marco Rubio"}},
		Mode:    ModeInPerson, When: []Span{{DayOf(t0) - 2, DayOf(t0)}}, Bilateral: true, Contact: true,
	}
}

// TestConflict covers each way two contacts of the same countries differ,
// and the look-alikes that are still one contact.
func TestConflict(t *testing.T) {
	lex := newEnv(t).lex
	day := DayOf(t0)
	for _, tc := range []struct {
		name   string
		story  func(*Features) // the story's one report, changed from base
		report func(*Features) // the new report, changed from base
		want   string          // part of the reason; "" for no conflict
	}{
		{"same contact", nil, nil, ""},
		{"other words, same day", func(f *Features) { f.When = []Span{{day, day}}; f.Dated = true }, func(f *Features) { f.Mode = ModeUnknown }, ""},
		{"another day", func(f *Features) { f.When = []Span{{day - 3, day - 3}} }, func(f *Features) { f.When = []Span{{day, day}} }, "was on"},
		{"a call and a meeting", func(f *Features) { f.Mode = ModeRemote }, nil, "is a call, this a meeting"},
		{"talks agree with a call", func(f *Features) { f.Mode = ModeRemote }, func(f *Features) { f.Mode = ModeUnknown }, ""},
		{"another holder of one office", func(f *Features) {
			f.Offices = []Office{{Country: "RU", ID: "ru-svr", Kind: "intel"}, {Country: "US", ID: "us-cia", Kind: "intel"}}
			f.Holders = []Holder{{Office: "ru-svr", Name: "Sergei Naryshkin"}, {Office: "us-cia", Name: "William Burns"}}
		}, func(f *Features) {
			f.Offices = []Office{{Country: "RU", ID: "ru-svr", Kind: "intel"}, {Country: "US", ID: "us-cia", Kind: "intel"}}
			f.Holders = []Holder{{Office: "ru-svr", Name: "Sergei Naryshkin"}, {Office: "us-cia", Name: "John Ratcliffe"}}
		}, "names William Burns as CIA Director, this John Ratcliffe"},
		{"the office without a name", nil, func(f *Features) { f.Holders = nil }, ""},
		{"other offices", nil, func(f *Features) {
			f.Offices = []Office{{Country: "RU", ID: "ru-svr", Kind: "intel"}, {Country: "US", ID: "us-cia", Kind: "intel"}}
			f.Holders = nil
		}, "is a contact of"},
		{"one office shared, another office of the other country", nil, func(f *Features) {
			f.Offices = []Office{{Country: "RU", ID: "ru-fm", Kind: "diplomatic"}, {Country: "US", ID: "us-nsa-adviser", Kind: "diplomatic"}}
			f.Holders = nil
		}, "is a contact of Secretary of State, this of"},
		{"another member of a delegation", func(f *Features) {
			f.Offices = append(f.Offices, Office{Country: "US", ID: "us-defence", Kind: "diplomatic"})
		}, func(f *Features) {
			f.Offices = []Office{{Country: "RU", ID: "ru-defence", Kind: "diplomatic"}, {Country: "US", ID: "us-defence", Kind: "diplomatic"}}
			f.Holders = nil
		}, ""},
		{"a report naming another member of a gathering", func(f *Features) {
			f.Bilateral, f.Group, f.PluralGroup = false, true, true
			f.Parties = []string{"DE", "FR", "GB", "IR"}
			f.Offices = []Office{{Country: "IR", ID: "ir-fm", Kind: "diplomatic"}}
			f.Holders = nil
		}, func(f *Features) {
			f.Parties = []string{"DE", "IR"}
			f.Offices = []Office{{Country: "DE", ID: "de-fm", Kind: "diplomatic"}, {Country: "IR", ID: "ir-fm", Kind: "diplomatic"}}
			f.Named = []string{"FR", "GB"}
			f.Holders = nil
		}, ""},
		{"two gatherings of one member", func(f *Features) {
			f.Bilateral, f.Group, f.PluralGroup = false, true, true
			f.Parties = []string{"CA", "UA"}
			f.Offices, f.Holders = nil, nil
		}, func(f *Features) {
			f.Bilateral, f.Group, f.PluralGroup = false, true, true
			f.Parties = []string{"FR", "UA"}
			f.Offices, f.Holders = nil, nil
		}, ""},
		{"gatherings of other ministers, one member shared", func(f *Features) {
			f.Bilateral, f.Group, f.PluralGroup = false, true, true
			f.Parties = []string{"DK", "FI", "NO", "SE"}
			f.Offices, f.Holders = []Office{{ID: "multi-fm", Kind: "diplomatic"}}, nil
		}, func(f *Features) {
			f.Bilateral, f.Group, f.PluralGroup = false, true, true
			f.Parties = []string{"EE", "FI", "LT", "LV"}
			f.Offices, f.Holders = []Office{{ID: "multi-defence", Kind: "diplomatic"}}, nil
		}, "is a meeting of foreign ministers, this of defence ministers"},
		{"gatherings of the same ministers, one member shared", func(f *Features) {
			f.Bilateral, f.Group, f.PluralGroup = false, true, true
			f.Parties = []string{"DK", "FI", "NO", "SE"}
			f.Offices, f.Holders = []Office{{ID: "multi-fm", Kind: "diplomatic"}}, nil
		}, func(f *Features) {
			f.Bilateral, f.Group, f.PluralGroup = false, true, true
			f.Parties = []string{"EE", "FI"}
			f.Offices, f.Holders = []Office{{ID: "multi-fm", Kind: "diplomatic"}}, nil
		}, ""},
		{"gatherings of different names", func(f *Features) {
			f.Bilateral, f.Group, f.PluralGroup, f.Gatherings = false, true, true, []string{"NATO"}
			f.Parties = []string{"UA"}
			f.Offices, f.Holders = nil, nil
		}, func(f *Features) {
			f.Bilateral, f.Group, f.PluralGroup, f.Gatherings = false, true, true, []string{"EU"}
			f.Parties = []string{"UA"}
			f.Offices, f.Holders = nil, nil
		}, "is a meeting of NATO, this of EU"},
		{"a gathering named by its members' offices and a multilateral report", func(f *Features) {
			f.Bilateral = false
			f.Parties = []string{"DE", "FR", "GB", "IR"}
		}, func(f *Features) {
			f.Bilateral, f.Group, f.PluralGroup = false, true, true
			f.Parties = []string{"IR"}
			f.Offices, f.Holders = nil, nil
		}, ""},
		{"a gathering and a contact of one member", func(f *Features) {
			f.Bilateral = false
			f.Parties = []string{"CA", "US"}
			f.Offices, f.Holders = nil, nil
		}, func(f *Features) {
			f.Bilateral, f.Group, f.PluralGroup = false, true, true
			f.Parties = []string{"CA", "UA"}
			f.Offices, f.Holders = nil, nil
		}, "is a contact of CA–US, this of CA–UA"},
		{"a role is any office of its kind", func(f *Features) {
			f.Offices = []Office{{Country: "RU", ID: "ru-svr", Kind: "intel"}, {Country: "US", ID: "us-cia", Kind: "intel"}}
			f.Holders = nil
		}, func(f *Features) {
			f.Offices = []Office{{Country: "RU", ID: "ru-intel", Kind: "intel", Generic: true}, {Country: "US", ID: "us-counterpart", Generic: true}}
			f.Holders = nil
		}, ""},
		{"a gathering and a bilateral", nil, func(f *Features) {
			f.Bilateral, f.Group, f.PluralGroup = false, true, true
			f.Parties = []string{"CN", "IN", "RU", "US"}
			f.Offices, f.Holders = nil, nil
		}, "bilateral contact, this a multilateral one"},
		{"the host joins a bilateral", nil, func(f *Features) {
			f.Bilateral, f.Group, f.Plural = false, true, []string{"RU", "SA", "US"}
			f.Parties = []string{"RU", "SA", "US"}
			f.Offices, f.Holders = nil, nil
		}, ""},
		{"a bilateral on the sidelines", func(f *Features) {
			f.Bilateral, f.Group, f.PluralGroup = false, true, true
			f.Parties = []string{"CN", "IN", "RU", "US"}
		}, func(f *Features) { f.Sidelines = true }, "bilateral one on its sidelines"},
		{"two of a gathering's participants", func(f *Features) {
			f.Bilateral, f.Group, f.PluralGroup = false, true, true
			f.Parties = []string{"CN", "IN", "RU", "US"}
		}, nil, ""},
		{"a bilateral the gathering never named", func(f *Features) {
			f.Bilateral, f.Group, f.PluralGroup = false, true, true
			f.Parties = []string{"CN", "IN", "RU", "US"}
			f.Offices, f.Holders = nil, nil
		}, nil, "multilateral contact, this a bilateral one"},
		{"again, a day later", nil, func(f *Features) { f.Repeat = true; f.Published = t0.Add(26 * time.Hour) }, "another contact, 26h after"},
		{"again, the same morning", nil, func(f *Features) { f.Repeat = true; f.Published = t0.Add(2 * time.Hour) }, ""},
		{"again, in a story of a repeat", func(f *Features) { f.Repeat = true }, func(f *Features) { f.Repeat = true; f.Published = t0.Add(26 * time.Hour) }, ""},
	} {
		sf, rf := base(), base()
		sf.Ref = "old"
		if tc.story != nil {
			tc.story(&sf)
		}
		if tc.report != nil {
			tc.report(&rf)
		}
		got := lex.conflict(newStory(sf), rf)
		switch {
		case tc.want == "" && got != "":
			t.Errorf("%s: conflict %q, want none", tc.name, got)
		case tc.want != "" && !strings.Contains(got, tc.want):
			t.Errorf("%s: conflict %q, want one saying %q", tc.name, got, tc.want)
		}
	}
}

// TestDecideIgnoresCandidateOrder: the index may return candidates in any
// order; the decision must not depend on it.
func TestDecideIgnoresCandidateOrder(t *testing.T) {
	lex := newEnv(t).lex
	var cands []Story
	for i := range 6 {
		f := base()
		f.Ref = fmt.Sprintf("s%d", i)
		f.Published = t0.Add(-time.Duration(i%3) * time.Hour) // ties on score and time
		if i%2 == 0 {
			f.Holders = f.Holders[:1]
		}
		cands = append(cands, newStory(f))
	}
	want := lex.decide(base(), lookupKeys(base()), append([]Story(nil), cands...))
	rng := rand.New(rand.NewPCG(3, 4))
	for range 20 {
		rng.Shuffle(len(cands), func(i, j int) { cands[i], cands[j] = cands[j], cands[i] })
		got := lex.decide(base(), lookupKeys(base()), append([]Story(nil), cands...))
		if got.Story.ID != want.Story.ID || got.Reason != want.Reason {
			t.Fatalf("decision changed with the order of candidates: %s (%s), then %s (%s)", want.Story.ID, want.Reason, got.Story.ID, got.Reason)
		}
	}
	if want.New || want.Story.ID != "s3" {
		t.Errorf("joined %s (%s); want s3: both holders shared, reported most recently", want.Story.ID, want.Reason)
	}
}

// jsonIndex keeps stories as JSON, as a store would, over a MemIndex.
type jsonIndex struct{ mem *MemIndex }

func (j jsonIndex) Put(ctx context.Context, s Story) error {
	b, err := json.Marshal(s)
	if err != nil {
		return err
	}
	var back Story
	if err := json.Unmarshal(b, &back); err != nil {
		return err
	}
	return j.mem.Put(ctx, back)
}

func (j jsonIndex) Candidates(ctx context.Context, q Query) ([]Story, error) {
	return j.mem.Candidates(ctx, q)
}

// TestRestartAndStorage groups the dev stream three ways: in one run; with
// stories stored as JSON; and with a new grouper (a restart) halfway over
// the same stored stories. All give the same stories and reasons.
func TestRestartAndStorage(t *testing.T) {
	e := newEnv(t)
	items := loadStream(t, "testdata/dev_stories.jsonl")
	want := e.group(t, items)
	idx := jsonIndex{NewMemIndex()}
	g := NewGrouper(e.lex, idx)
	for i, it := range items {
		if i == len(items)/2 {
			g = NewGrouper(e.lex, idx)
		}
		a := it.article()
		ms := e.set.Match(a)
		if len(ms) == 0 {
			continue
		}
		d, err := g.Assign(t.Context(), Report{Ref: it.ID, Article: a, Matches: ms})
		if err != nil {
			t.Fatal(err)
		}
		if w := want[i].decision; d.Story.ID != w.Story.ID || d.Reason != w.Reason {
			t.Errorf("%s: %s (%s); in one run: %s (%s)", it.ID, d.Story.ID, d.Reason, w.Story.ID, w.Reason)
		}
	}
}

func TestAssignErrors(t *testing.T) {
	e := newEnv(t)
	g := NewGrouper(e.lex, NewMemIndex())
	if _, err := g.Assign(t.Context(), Report{}); err == nil {
		t.Error("a report without a ref was accepted")
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	r := rep("2025-03-12T12:00:00Z", "Rubio and Lavrov met", "")
	if _, err := g.Assign(ctx, r); err == nil || !strings.Contains(err.Error(), "canceled") {
		t.Errorf("cancelled context: %v", err)
	}
	d, err := g.Place(t.Context(), r)
	if err != nil || !d.New {
		t.Fatalf("Place: %+v, %v", d, err)
	}
	if d2, _ := g.Place(t.Context(), Report{Ref: "r2", Article: r.Article, Matches: r.Matches}); !d2.New {
		t.Errorf("Place stored its story: the next report joined %s", d2.Story.ID)
	}
	// A keyword rule names no contact: the report stays a story of its
	// own even when it names the same people on the same days.
	kw := Report{Ref: "kw", Article: r.Article, Matches: []model.Match{{Rule: "lavrov-watch", Keywords: []string{"Lavrov"}}}}
	if d, err := g.Assign(t.Context(), kw); err != nil || !d.New || !strings.Contains(d.Reason, "no offices in contact") {
		t.Errorf("keyword-only report: %+v, %v", d, err)
	}
	r.Ref = "r3"
	if d, err := g.Assign(t.Context(), r); err != nil || !d.New {
		t.Errorf("a contact report joined the keyword-only story: %+v, %v", d, err)
	}
}

// TestAssignConcurrently: one grouper may be shared by goroutines (the
// grouper serialises them); run with -race.
func TestAssignConcurrently(t *testing.T) {
	e := newEnv(t)
	idx := NewMemIndex()
	g := NewGrouper(e.lex, idx)
	var reports []Report
	for _, it := range loadStream(t, "testdata/dev_stories.jsonl") {
		a := it.article()
		if ms := e.set.Match(a); len(ms) > 0 {
			reports = append(reports, Report{Ref: it.ID, Article: a, Matches: ms})
		}
	}
	errs := make(chan error, len(reports))
	done := make(chan struct{})
	for w := range 4 {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := w; i < len(reports); i += 4 {
				_, err := g.Assign(t.Context(), reports[i])
				errs <- err
			}
		}()
	}
	for range 4 {
		<-done
	}
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := idx.Len(); n == 0 || n > len(reports) {
		t.Errorf("%d stories for %d reports", n, len(reports))
	}
}
