package db

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/rules"
	"github.com/backchannel/backchannel/stories"
)

// Finding a report's story with 100,000 stored alerts. The synthetic
// stream has the shape of the real one (as in package stories' benchmark):
// a few countries (the US, Russia, China…) in most contacts, each contact
// reported one to six times over a day or two, about ninety reports a day
// for three years, each report an article with its alert.

const benchReports = 100_000

var benchCountries = []string{"US", "RU", "CN", "UA", "GB", "FR", "DE", "TR", "IR", "IL", "IN", "QA", "SA", "EG",
	"PK", "JP", "KR", "AE", "OM", "IQ", "SY", "JO", "BY", "KZ", "AZ", "AM", "PL", "IT", "ES", "NL", "CA", "AU",
	"BR", "ZA", "MA", "HU", "RS", "GR", "CZ", "NZ"}

var benchStart = time.Date(2023, 1, 1, 0, 0, 0, 0, time.UTC)

// benchStories is a store holding benchReports reports in their stories,
// and queries: other contacts on the same days.
type benchStories struct {
	db      *DB
	days    stories.Span // the days the stream covers
	queries []stories.Query
}

func fillStories(b *testing.B) *benchStories {
	b.Helper()
	ctx := context.Background()
	db := MustOpen(b)
	rng := rand.New(rand.NewPCG(1, 2))
	zipf := rand.NewZipf(rng, 1.3, 2, uint64(len(benchCountries)-1))
	pair := func() []string {
		a, c := benchCountries[zipf.Uint64()], benchCountries[zipf.Uint64()]
		for c == a {
			c = benchCountries[zipf.Uint64()]
		}
		p := []string{a, c}
		slices.Sort(p)
		return p
	}
	day := stories.DayOf(benchStart)
	bs := &benchStories{db: db, days: stories.Span{From: day}}
	feed := mustFeed(b, db, "wire")
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		addArticle, err := tx.PrepareContext(ctx, `INSERT INTO articles (id, feed_id, published, fetched) VALUES (?, ?, ?, ?)`)
		if err != nil {
			return err
		}
		defer addArticle.Close()
		addAlert, err := tx.PrepareContext(ctx, `INSERT INTO alerts (guild_id, article_id, rule, created, story) VALUES ('g', ?, 'intel-heads', ?, ?)`)
		if err != nil {
			return err
		}
		defer addAlert.Close()
		for n := 0; n < benchReports; {
			if rng.IntN(30) == 0 {
				day++
			}
			parties := pair()
			kind := []string{"intel", "diplomatic"}[rng.IntN(2)]
			s := stories.Story{ID: StoryRef(int64(n + 1)), Parties: parties, Bilateral: 1,
				Offices: []stories.Office{{Country: parties[0], ID: parties[0] + "-" + kind, Kind: kind}, {Country: parties[1], ID: parties[1] + "-" + kind, Kind: kind}},
				When:    []stories.Span{{From: day - 2, To: day}}}
			if rng.IntN(3) == 0 {
				s.When, s.Dated = []stories.Span{{From: day, To: day}}, true
			}
			for i := range 1 + rng.IntN(6) {
				n++
				pub := day.Time().Add(time.Duration(i*6+rng.IntN(6)) * time.Hour)
				if s.First.IsZero() {
					s.First = pub
				}
				s.Last, s.Reports = pub, s.Reports+1
				if _, err := addArticle.ExecContext(ctx, n, feed, pub.UnixMilli(), pub.UnixMilli()); err != nil {
					return err
				}
				if _, err := addAlert.ExecContext(ctx, n, pub.UnixMilli(), s.ID); err != nil {
					return err
				}
			}
			if err := putStory(ctx, tx, s, 0, 0); err != nil {
				return err
			}
			if n%3 == 0 {
				other := pair()
				bs.queries = append(bs.queries, stories.Query{Keys: []string{other[0] + "|" + other[1]}, When: []stories.Span{{From: day - 2, To: day}}})
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	bs.days.To = day
	var alerts, storyRows int
	db.reader.QueryRow(`SELECT count(*) FROM alerts`).Scan(&alerts)
	db.reader.QueryRow(`SELECT count(*) FROM stories`).Scan(&storyRows)
	b.Logf("%d alerts in %d stories over %d days", alerts, storyRows, bs.days.To-bs.days.From+1)
	return bs
}

// BenchmarkStoryCandidates100k: the index lookup alone, for reports of
// other contacts on the same days (what most reports are).
func BenchmarkStoryCandidates100k(b *testing.B) {
	bs := fillStories(b)
	idx := bs.db.StoryIndex()
	ctx := context.Background()
	cands, i := 0, 0
	for b.Loop() {
		got, err := idx.Candidates(ctx, bs.queries[i%len(bs.queries)])
		if err != nil {
			b.Fatal(err)
		}
		cands += len(got)
		i++
	}
	b.ReportMetric(float64(cands)/float64(i), "candidates/op")
}

// BenchmarkStoryPlace100k: placing a real report (read with the default
// rules' vocabulary, candidates looked up, decided), nothing stored: what
// the dispatcher does per matched article before it writes. The reports
// are of the busiest pair (US–RU), published on the stream's last day.
// BenchmarkStoryAssign100k adds the write (SaveStory).
func BenchmarkStoryPlace100k(b *testing.B) {
	benchPlace(b, false)
}

func BenchmarkStoryAssign100k(b *testing.B) {
	benchPlace(b, true)
}

func benchPlace(b *testing.B, save bool) {
	bs := fillStories(b)
	spec, err := rules.Defaults()
	if err != nil {
		b.Fatal(err)
	}
	set, err := rules.Compile(spec)
	if err != nil {
		b.Fatal(err)
	}
	lex, err := stories.NewLexicon(set.Spec())
	if err != nil {
		b.Fatal(err)
	}
	g := stories.NewGrouper(lex, bs.db.StoryIndex())
	pub := bs.days.To.Time().Add(12 * time.Hour)
	var reports []stories.Report
	for _, a := range []model.Article{
		{Title: "CIA Director Burns meets Russian intelligence chief Naryshkin in Ankara", Summary: "The meeting was arranged at the request of the American side."},
		{Title: "US and Russian spy chiefs held talks in Ankara, Kremlin confirms", Summary: "Peskov said the heads of the SVR and the CIA discussed nuclear risks."},
		{Title: "Lavrov and Rubio speak by phone", Summary: "The Russian foreign minister and the US secretary of state discussed Ukraine."},
	} {
		a.Published = pub
		ms := set.Match(a)
		if len(ms) == 0 {
			b.Fatalf("no match for %q", a.Title)
		}
		reports = append(reports, stories.Report{Article: a, Matches: ms})
	}
	ctx := context.Background()
	feed := mustFeed(b, bs.db, "desk")
	i := 0
	for b.Loop() {
		r := reports[i%len(reports)]
		i++
		r.Ref = fmt.Sprintf("bench-%d", i)
		d, err := g.Place(ctx, r)
		if err != nil {
			b.Fatal(err)
		}
		if !save {
			continue
		}
		b.StopTimer()
		r.Article.GUID = r.Ref
		r.Article.Title = fmt.Sprintf("%s (%d)", r.Article.Title, i)
		arts := mustStore(b, bs.db, feed, r.Article)
		b.StartTimer()
		if _, err := bs.db.SaveStory(ctx, arts[0].ID, d); err != nil {
			b.Fatal(err)
		}
	}
}
