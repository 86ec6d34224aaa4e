package stories

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// The cost of finding a report's story with 100,000 reports stored. The
// synthetic stream has the shape of the real one: a few countries (the
// US, Russia, China…) in most contacts, each contact reported one to six
// times over a day or two, about ninety reports a day for three years.

const benchReports = 100_000

var benchCountries = []string{"US", "RU", "CN", "UA", "GB", "FR", "DE", "TR", "IR", "IL", "IN", "QA", "SA", "EG",
	"PK", "JP", "KR", "AE", "OM", "IQ", "SY", "JO", "BY", "KZ", "AZ", "AM", "PL", "IT", "ES", "NL", "CA", "AU",
	"BR", "ZA", "MA", "HU", "RS", "GR", "CZ", "NZ"}

// benchGen makes synthetic reports, each the features of a report of one
// of its contact events.
type benchGen struct {
	rng  *rand.Rand
	zipf *rand.Zipf
	day  Day
	n    int
}

func newBenchGen(seed uint64) *benchGen {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	return &benchGen{rng: rng, zipf: rand.NewZipf(rng, 1.3, 2, uint64(len(benchCountries)-1)), day: DayOf(time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC))}
}

func (g *benchGen) country() string { return benchCountries[g.zipf.Uint64()] }

// event returns the reports of one contact event.
func (g *benchGen) event() []Features {
	a, b := g.country(), g.country()
	for b == a {
		b = g.country()
	}
	parties := []string{a, b}
	slices.Sort(parties)
	mode := Mode(g.rng.IntN(3))
	kind := []string{"intel", "diplomatic"}[g.rng.IntN(2)]
	offices := []Office{{Country: parties[0], ID: fmt.Sprintf("%s-%s", parties[0], kind), Kind: kind},
		{Country: parties[1], ID: fmt.Sprintf("%s-%s", parties[1], kind), Kind: kind}}
	holders := []Holder{{Office: offices[0].ID, Name: "holder of " + offices[0].ID}}
	// About ninety reports a day: an event every 1/30 day on average.
	if g.rng.IntN(30) == 0 {
		g.day++
	}
	var out []Features
	for i := range 1 + g.rng.IntN(6) {
		g.n++
		pub := g.day.Time().Add(time.Duration(i*6+g.rng.IntN(6)) * time.Hour)
		p := DayOf(pub)
		f := Features{Ref: fmt.Sprintf("r%06d", g.n), Published: pub, Parties: parties, Offices: offices,
			Mode: mode, When: []Span{{p - pastDays, p}}, Bilateral: true, Contact: true}
		if g.rng.IntN(2) == 0 {
			f.Holders = holders
		}
		if g.rng.IntN(3) == 0 {
			f.When, f.Dated = []Span{{g.day, g.day}}, true
		}
		out = append(out, f)
	}
	return out
}

// filledGrouper stores benchReports synthetic reports and returns the
// grouper, its index, and reports of other contacts on the same days (the
// queries).
func filledGrouper(b *testing.B) (*Grouper, *MemIndex, []Features) {
	b.Helper()
	lex := newEnv(b).lex
	idx := NewMemIndex()
	g := NewGrouper(lex, idx)
	gen, other := newBenchGen(1), newBenchGen(2)
	ctx := context.Background()
	var queries []Features
	for n := 0; n < benchReports; {
		for _, f := range gen.event() {
			if _, err := g.AssignFeatures(ctx, f); err != nil {
				b.Fatal(err)
			}
			n++
		}
		other.day = gen.day
		if ev := other.event(); n%3 == 0 {
			queries = append(queries, ev[0])
		}
	}
	return g, idx, queries
}

// BenchmarkLookup100k: finding the story of a new report (index lookup and
// decision, nothing stored) among 100,000 stored reports.
func BenchmarkLookup100k(b *testing.B) {
	g, idx, queries := filledGrouper(b)
	ctx := context.Background()
	cands, i := 0, 0
	b.Logf("%d reports stored in %d stories", benchReports, idx.Len())
	b.ResetTimer()
	for b.Loop() {
		f := queries[i%len(queries)]
		i++
		cs, err := idx.Candidates(ctx, Query{Keys: lookupKeys(f), When: f.When})
		if err != nil {
			b.Fatal(err)
		}
		cands += len(cs)
		g.lex.decide(f, lookupKeys(f), cs)
	}
	b.ReportMetric(float64(cands)/float64(i), "candidates/op")
}

// BenchmarkLookup100kHotPair: the same for the busiest pair of countries,
// the worst case.
func BenchmarkLookup100kHotPair(b *testing.B) {
	g, _, queries := filledGrouper(b)
	idx := g.idx
	ctx := context.Background()
	cands, i := 0, 0
	b.ResetTimer()
	for b.Loop() {
		f := queries[i%len(queries)]
		i++
		f.Parties = []string{"RU", "US"}
		cs, err := idx.Candidates(ctx, Query{Keys: lookupKeys(f), When: f.When})
		if err != nil {
			b.Fatal(err)
		}
		cands += len(cs)
		g.lex.decide(f, lookupKeys(f), cs)
	}
	b.ReportMetric(float64(cands)/float64(i), "candidates/op")
}

// BenchmarkAssign100k: a real report from the dev stream, read, placed and
// stored among 100,000 stored reports.
func BenchmarkAssign100k(b *testing.B) {
	g, _, _ := filledGrouper(b)
	e := newEnv(b)
	var reports []Report
	for _, it := range loadStream(b, "testdata/dev_stories.jsonl") {
		a := it.article()
		if ms := e.set.Match(a); len(ms) > 0 {
			reports = append(reports, Report{Ref: it.ID, Article: a, Matches: ms})
		}
	}
	ctx := context.Background()
	i := 0
	b.ResetTimer()
	for b.Loop() {
		r := reports[i%len(reports)]
		r.Ref = fmt.Sprintf("%s-%d", r.Ref, i)
		i++
		if _, err := g.Assign(ctx, r); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExtract: reading one report (the scans of title and summary).
func BenchmarkExtract(b *testing.B) {
	e := newEnv(b)
	var reports []Report
	for _, it := range loadStream(b, "testdata/dev_stories.jsonl") {
		a := it.article()
		if ms := e.set.Match(a); len(ms) > 0 {
			reports = append(reports, Report{Ref: it.ID, Article: a, Matches: ms})
		}
	}
	i := 0
	for b.Loop() {
		e.lex.Extract(reports[i%len(reports)])
		i++
	}
}
