package stories

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
)

// Grouper puts each report in a story: the story of the same contact when
// one is stored, a new one otherwise.
type Grouper struct {
	lex *Lexicon
	idx Index
	mu  sync.Mutex // one report at a time: placing and storing is a read-modify-write
}

// NewGrouper returns a grouper that reads reports with lex and keeps
// stories in idx.
func NewGrouper(lex *Lexicon, idx Index) *Grouper {
	return &Grouper{lex: lex, idx: idx}
}

// Decision is where a report went and why.
type Decision struct {
	// Story is the story after the report joined or began it; Story.ID
	// names it.
	Story Story
	// New: the report began the story.
	New bool
	// Reason says in one line why the report joined this story or began
	// a new one, for /explain and the dry run.
	Reason string
	// Features are what the grouper read in the report.
	Features Features
}

// Assign places r and stores the resulting story in the index. Reports
// must come in the order they are to be grouped (publication order for a
// stream); the result depends only on that order and the index's stories.
// r.Ref must be unique among the reports given to one index.
func (g *Grouper) Assign(ctx context.Context, r Report) (Decision, error) {
	if r.Ref == "" {
		return Decision{}, errNoRef
	}
	return g.AssignFeatures(ctx, g.lex.Extract(r))
}

// AssignFeatures is Assign for a report already read with Lexicon.Extract.
func (g *Grouper) AssignFeatures(ctx context.Context, f Features) (Decision, error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	d, err := g.place(ctx, f)
	if err != nil {
		return Decision{}, err
	}
	if err := g.idx.Put(ctx, d.Story); err != nil {
		return Decision{}, fmt.Errorf("stories: store story %s: %w", d.Story.ID, err)
	}
	return d, nil
}

// Place says which story r would join, without storing anything.
func (g *Grouper) Place(ctx context.Context, r Report) (Decision, error) {
	if r.Ref == "" {
		return Decision{}, errNoRef
	}
	f := g.lex.Extract(r)
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.place(ctx, f)
}

var errNoRef = errors.New("stories: report without a ref")

func (g *Grouper) place(ctx context.Context, f Features) (Decision, error) {
	if f.Ref == "" {
		return Decision{}, errNoRef
	}
	keys := lookupKeys(f)
	switch {
	case !f.Contact:
		// Kept out of the index (no parties, no keys): no report joins it.
		alone := f
		alone.Parties = nil
		return Decision{Story: newStory(alone), New: true, Features: f,
			Reason: "new story: the rules that fired name no offices in contact"}, nil
	case len(keys) == 0:
		return Decision{Story: newStory(f), New: true, Features: f,
			Reason: "new story: the report names no country to compare it with others"}, nil
	}
	cands, err := g.idx.Candidates(ctx, Query{Keys: keys, When: f.When})
	if err != nil {
		return Decision{}, fmt.Errorf("stories: look up %s: %w", f.Ref, err)
	}
	return g.lex.decide(f, keys, cands), nil
}

// decide picks the story f joins among the candidates the index returned,
// or begins a new one. It is pure: the same features and candidates give
// the same decision, whatever the order of the candidates.
func (lx *Lexicon) decide(f Features, keys []string, cands []Story) Decision {
	slices.SortFunc(cands, func(a, b Story) int { return strings.Compare(a.ID, b.ID) })
	type option struct {
		s     Story
		score int
	}
	var fits []option
	var refusals []string
	for _, s := range cands {
		if !sharesKey(s, keys) || s.ID == f.Ref {
			continue
		}
		if why := lx.conflict(s, f); why != "" {
			refusals = append(refusals, why)
			continue
		}
		fits = append(fits, option{s, score(s, f)})
	}
	who := whoString(f.Parties, f.Gatherings)
	if len(fits) == 0 {
		d := Decision{Story: newStory(f), New: true, Features: f}
		switch len(refusals) {
		case 0:
			d.Reason = fmt.Sprintf("new story: no %s story on %s", who, spansString(f.When))
		default:
			if len(refusals) > 2 {
				refusals = append(refusals[:2], fmt.Sprintf("%d more", len(refusals)-2))
			}
			d.Reason = "new story: another contact (" + strings.Join(refusals, "; ") + ")"
		}
		return d
	}
	// The best score; on a tie the story reported most recently, then
	// the smallest id, so the choice never depends on the index's order.
	best := slices.MaxFunc(fits, func(a, b option) int {
		if c := cmp.Compare(a.score, b.score); c != 0 {
			return c
		}
		if c := a.s.Last.Compare(b.s.Last); c != 0 {
			return c
		}
		return strings.Compare(b.s.ID, a.s.ID)
	})
	s := best.s
	before := s
	s.add(f, true)
	return Decision{Story: s, Features: f, Reason: lx.joinReason(before, s, f, len(fits))}
}

func sharesKey(s Story, keys []string) bool {
	for _, k := range s.Keys() {
		if slices.Contains(keys, k) {
			return true
		}
	}
	return false
}

// joinReason is e.g. "joins k012 (2 reports): RU–US call on Sat 15 Feb
// 2025; both name Sergey Lavrov, Marco Rubio".
func (lx *Lexicon) joinReason(before, after Story, f Features, fits int) string {
	var b strings.Builder
	fmt.Fprintf(&b, "joins %s (%d earlier report", before.ID, before.Reports)
	if before.Reports != 1 {
		b.WriteByte('s')
	}
	fmt.Fprintf(&b, "): %s %s on %s", whoString(after.Parties, after.Gatherings), after.Mode(), spansString(after.When))
	var shared []string
	for _, h := range f.Holders {
		if _, found := slices.BinarySearchFunc(before.Holders, h, compareHolder); found {
			shared = append(shared, h.Name)
		}
	}
	if len(shared) > 0 {
		fmt.Fprintf(&b, "; both name %s", strings.Join(slices.Compact(shared), ", "))
	}
	if fits > 1 {
		fmt.Fprintf(&b, "; closest of %d stories that fit", fits)
	}
	return b.String()
}

// whoString names who took part for a reason: "RU–US", "G7 (CA–FR)".
func whoString(parties, gatherings []string) string {
	switch {
	case len(gatherings) == 0:
		return partiesString(parties)
	case len(parties) == 0:
		return strings.Join(gatherings, ", ")
	}
	return strings.Join(gatherings, ", ") + " (" + strings.Join(parties, "–") + ")"
}
