package stories

import (
	"context"
	"fmt"
	"slices"
	"sync"
)

// Query asks for the stories a report may join.
type Query struct {
	Keys []string // the story has at least one of these among Story.Keys()
	When []Span   // and a span of Story.When overlapping one of these
}

// Index stores stories and finds them by key and day, so placing a report
// costs a lookup among the stories of its countries around its days, not a
// scan of every story. The grouper calls it from one goroutine at a time.
type Index interface {
	// Candidates returns every stored story that has one of q.Keys among
	// its Keys() and a span of its When that overlaps a span of q.When.
	// It may return other stories too (the grouper checks each again);
	// each story at most once, in any order, in its latest stored state.
	Candidates(ctx context.Context, q Query) ([]Story, error)
	// Put stores s, replacing the stored story with the same ID. From
	// then on Candidates finds it by its current Keys() and When.
	Put(ctx context.Context, s Story) error
}

// MemIndex is an in-memory Index: for each key, postings sorted by first
// day. A story's When only narrows as reports join it, so a posting made
// once stays valid; only new keys add postings. A key a story no longer
// has ("IR|1" once a report names its other side) keeps its postings,
// which may return the story to a query under it, as Candidates allows.
type MemIndex struct {
	mu       sync.RWMutex
	stories  map[string]*memStory
	postings map[string]*postingList
}

type memStory struct {
	s      Story
	posted map[string][]Span // key → spans posted under it
}

type posting struct {
	span Span
	id   string
}

type postingList struct {
	list   []posting // sorted by span.From
	maxLen Day       // the longest span in list, so a lookup knows how far back to look
}

// NewMemIndex returns an empty in-memory index.
func NewMemIndex() *MemIndex {
	return &MemIndex{stories: map[string]*memStory{}, postings: map[string]*postingList{}}
}

// Len returns the number of stories stored.
func (m *MemIndex) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.stories)
}

// Put implements Index.
func (m *MemIndex) Put(ctx context.Context, s Story) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stories: put %s: %w", s.ID, err)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	ms := m.stories[s.ID]
	if ms == nil {
		ms = &memStory{posted: map[string][]Span{}}
		m.stories[s.ID] = ms
	}
	ms.s = cloneStory(s)
	for _, key := range s.Keys() {
		for _, sp := range s.When {
			if covered(ms.posted[key], sp) {
				continue
			}
			ms.posted[key] = append(ms.posted[key], sp)
			pl := m.postings[key]
			if pl == nil {
				pl = &postingList{}
				m.postings[key] = pl
			}
			pl.maxLen = max(pl.maxLen, sp.To-sp.From)
			i, _ := slices.BinarySearchFunc(pl.list, sp.From, func(p posting, from Day) int { return int(p.span.From) - int(from) })
			// After every posting with the same first day: equal keys keep
			// their order of arrival.
			for i < len(pl.list) && pl.list[i].span.From == sp.From {
				i++
			}
			pl.list = slices.Insert(pl.list, i, posting{span: sp, id: s.ID})
		}
	}
	return nil
}

func covered(spans []Span, sp Span) bool {
	for _, x := range spans {
		if x.From <= sp.From && sp.To <= x.To {
			return true
		}
	}
	return false
}

// Candidates implements Index.
func (m *MemIndex) Candidates(ctx context.Context, q Query) ([]Story, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("stories: candidates: %w", err)
	}
	m.mu.RLock()
	defer m.mu.RUnlock()
	var ids []string
	for _, key := range q.Keys {
		pl := m.postings[key]
		if pl == nil {
			continue
		}
		for _, w := range q.When {
			// Postings that start after w ends cannot overlap it; those
			// that start more than maxLen days before it cannot either.
			end, _ := slices.BinarySearchFunc(pl.list, w.To+1, func(p posting, from Day) int { return int(p.span.From) - int(from) })
			for i := end - 1; i >= 0 && pl.list[i].span.From >= w.From-pl.maxLen; i-- {
				if pl.list[i].span.Overlaps(w) {
					ids = append(ids, pl.list[i].id)
				}
			}
		}
	}
	slices.Sort(ids)
	ids = slices.Compact(ids)
	out := make([]Story, 0, len(ids))
	for _, id := range ids {
		out = append(out, cloneStory(m.stories[id].s))
	}
	return out, nil
}

func cloneStory(s Story) Story {
	s.Parties = slices.Clone(s.Parties)
	s.Offices = slices.Clone(s.Offices)
	s.Holders = slices.Clone(s.Holders)
	s.When = slices.Clone(s.When)
	s.Gatherings = slices.Clone(s.Gatherings)
	return s
}
