package rules

import (
	"fmt"
	"slices"
	"unicode/utf8"
)

// automaton is the one multi-pattern matcher of a Set: a trie of every
// folded alias over byte classes.
//
// Why not a general Aho-Corasick automaton: every alias must start on a
// word boundary, so matching only ever begins at the start of a word, and
// the failure links that let Aho-Corasick find matches starting mid-word
// would only produce hits to throw away. Walking the trie from each word
// start visits each byte at most once per alias length of overlap, needs no
// allocation per hit, and, like Aho-Corasick, costs the same whether the
// set has a hundred aliases or a hundred thousand. (The Aho-Corasick
// library in go.mod allocated for every hit, mid-word ones included, and
// took half a second to build a DFA for the default rules.)
//
// Layout, 4 bytes a state and 4 an edge: most states have one edge
// (aliases in Chinese, Arabic or Russian are two or three bytes a letter
// and share few prefixes), which node[s] holds itself. A few have
// several; their edges are listed, (class, target) in 4 bytes each, and
// found by a short scan. Only states with many edges (the root, where
// every walk starts, and the first letters of aliases) get a dense row
// over all byte classes, where it pays for its size. A target carries
// whether patterns end at it in its low bit, so the walk looks up
// outputs only there.
type automaton struct {
	class [256]uint8 // byte → class; 0: the byte occurs in no pattern
	ncol  int        // classes + 1
	// node[s]: edges of s. A state with one edge holds it: class (never
	// 0) | target<<8. Otherwise the low byte is 0 and node>>8 indexes
	// multi, whose entry is the number of edges, listed at
	// edges[m>>8:], or denseNode with the row at rows[(m>>8)*ncol:],
	// indexed by class. multi[0] is a state without edges.
	node  []uint32
	multi []uint32
	edges []uint32 // class | target<<8
	rows  []uint32 // targets; 0: no edge
	// Patterns ending at state s (1 to len(outAt)-2, the states
	// numbered first): outs[outAt[s]:outAt[s+1]].
	outAt []int32
	outs  []int32
	// firsts has a bit for every rune of the Basic Multilingual Plane
	// that begins a pattern: in Chinese, Japanese and Korean every
	// character is a start, and most begin no alias.
	firsts [1 << 10]uint64
}

// A target is state<<1 | 1 when patterns end at the state; 0 is no state
// (the root is never a target).
type target = uint32

const (
	// denseNode marks a state with a dense row.
	denseNode = 0xFF
	// denseMin is the number of edges from which a state gets a dense
	// row: below it, scanning the list is as fast and far smaller.
	denseMin = 8
	// maxSlots bounds states, edges and row slots: a target must fit in
	// the 24 bits an edge has for it. The default rules need about 150
	// thousand.
	maxSlots = 1 << 23
)

// newAutomaton builds the trie of patterns; pattern i is reported as i.
// It refuses a trie too large for its layout (maxSlots).
func newAutomaton(patterns []string) (*automaton, error) {
	return buildAutomaton(patterns, maxSlots)
}

// buildAutomaton is newAutomaton with limit in place of maxSlots.
func buildAutomaton(patterns []string, limit int) (*automaton, error) {
	a := &automaton{}
	nclass := 0
	for _, p := range patterns {
		for i := 0; i < len(p); i++ {
			if a.class[p[i]] == 0 {
				nclass++
				a.class[p[i]] = uint8(nclass)
			}
		}
	}
	// Build with a map of edges, then lay them out flat.
	edges := make(map[uint64]int32, len(patterns)*8)
	states := int32(1)
	var ends [][2]int32 // (state, pattern)
	for id, p := range patterns {
		if r, _ := utf8.DecodeRuneInString(p); r < 1<<16 {
			a.firsts[r>>6] |= 1 << (r & 63)
		}
		st := int32(0)
		for i := 0; i < len(p); i++ {
			k := uint64(st)<<8 | uint64(a.class[p[i]])
			nx, ok := edges[k]
			if !ok {
				if int(states) >= limit {
					return nil, fmt.Errorf("the aliases make a trie of more than %d states", limit)
				}
				nx = states
				states++
				edges[k] = nx
			}
			st = nx
		}
		ends = append(ends, [2]int32{st, int32(id)})
	}
	a.ncol = nclass + 1
	// Number the states where patterns end first, 1 to nacc, so that
	// the table of their outputs leaves the others out.
	id := make([]int32, states)
	nacc := int32(0)
	for _, e := range ends {
		if e[0] != 0 && id[e[0]] == 0 {
			nacc++
			id[e[0]] = nacc
		}
	}
	next := nacc + 1
	for s := int32(1); s < states; s++ {
		if id[s] == 0 {
			id[s] = next
			next++
		}
	}
	tgt := func(s int32) target { // s renumbered
		t := target(s) << 1
		if s <= nacc {
			t |= 1
		}
		return t
	}
	count := make([]int32, states)
	for k := range edges {
		count[id[k>>8]]++
	}
	nrows, nedges := 0, 0
	for s, n := range count {
		switch {
		case n >= denseMin || s == 0:
			nrows++
		case n >= 2:
			nedges += int(n)
		}
	}
	if nrows*a.ncol > limit || nedges > limit {
		return nil, fmt.Errorf("the aliases make a trie of %d dense slots and %d edges; at most %d each", nrows*a.ncol, nedges, limit)
	}
	// Lay the states out in order, then put each edge in its place.
	a.node = make([]uint32, states)
	// multi[0]: no edges; multi[1]: the root, with row 0.
	a.multi = []uint32{0, denseNode}
	a.node[0] = 1 << 8
	a.edges = make([]uint32, nedges)
	a.rows = make([]uint32, nrows*a.ncol)
	row, off := 1, 0
	for st := int32(1); st < states; st++ {
		switch n := int(count[st]); {
		case n >= denseMin:
			a.node[st] = uint32(len(a.multi)) << 8
			a.multi = append(a.multi, uint32(row)<<8|denseNode)
			row++
		case n >= 2:
			a.node[st] = uint32(len(a.multi)) << 8
			a.multi = append(a.multi, uint32(off)<<8|uint32(n))
			off += n
			count[st] = 0 // from here on: edges placed so far
		}
	}
	for k, nx := range edges {
		st, c, nx := id[k>>8], uint8(k), id[nx]
		n := a.node[st]
		switch {
		case st == 0:
			a.rows[c] = tgt(nx)
		case n == 0:
			// The one edge of st.
			a.node[st] = uint32(c) | tgt(nx)<<8
		case a.multi[n>>8]&0xFF == denseNode:
			a.rows[int(a.multi[n>>8]>>8)*a.ncol+int(c)] = tgt(nx)
		default:
			a.edges[int(a.multi[n>>8]>>8)+int(count[st])] = uint32(c) | tgt(nx)<<8
			count[st]++
		}
	}
	// Edge lists in class order, which the walk relies on.
	for _, m := range a.multi[2:] {
		if m&0xFF != denseNode {
			list := a.edges[m>>8 : m>>8+m&0xFF]
			slices.SortFunc(list, func(x, y uint32) int { return int(uint8(x)) - int(uint8(y)) })
		}
	}
	for i := range ends {
		ends[i][0] = id[ends[i][0]]
	}
	slices.SortFunc(ends, func(x, y [2]int32) int {
		if x[0] != y[0] {
			return int(x[0] - y[0])
		}
		return int(x[1] - y[1])
	})
	// Patterns ending at the root (empty ones) are never reported.
	for len(ends) > 0 && ends[0][0] == 0 {
		ends = ends[1:]
	}
	a.outAt = make([]int32, nacc+2)
	a.outs = make([]int32, len(ends))
	for i, e := range ends {
		a.outAt[e[0]+1]++
		a.outs[i] = e[1]
	}
	for s := int32(1); s <= nacc+1; s++ {
		a.outAt[s] += a.outAt[s-1]
	}
	return a, nil
}

// accepting is the number of states where patterns end: 1 to accepting.
func (a *automaton) accepting() int { return len(a.outAt) - 2 }

// outputs returns the patterns that end at state s (1 to accepting), in
// index order.
func (a *automaton) outputs(s uint32) []int32 {
	return a.outs[a.outAt[s]:a.outAt[s+1]]
}

// mayStart reports whether a pattern may begin with rune r.
func (a *automaton) mayStart(r rune) bool {
	return r >= 1<<16 || a.firsts[r>>6]&(1<<(r&63)) != 0
}

// walk reports every state where patterns end (see outputs) that the walk
// from text[start] reaches, shortest first, by calling emit with the state
// and its end offset.
func (a *automaton) walk(text []byte, start int, emit func(state uint32, end int)) {
	if start >= len(text) {
		return
	}
	// Every walk leaves the root, whose row is rows[:ncol].
	t := a.rows[a.class[text[start]]]
	for j := start; t != 0; {
		st := t >> 1
		if t&1 != 0 {
			emit(st, j+1)
		}
		if j++; j >= len(text) {
			return
		}
		c := a.class[text[j]]
		if c == 0 {
			return
		}
		// The next state: most states hold their one edge; the
		// others have a dense row or a list.
		switch n := a.node[st]; {
		case uint8(n) == c:
			t = n >> 8
		case uint8(n) != 0:
			return
		default:
			if m := a.multi[n>>8]; m&0xFF == denseNode {
				t = a.rows[int(m>>8)*a.ncol+int(c)]
			} else {
				// The list is in class order: stop at the first
				// class not below c.
				t = 0
				for _, x := range a.edges[m>>8 : m>>8+m&0xFF] {
					if uint8(x) >= c {
						if uint8(x) == c {
							t = x >> 8
						}
						break
					}
				}
			}
		}
	}
}

// size is the memory the automaton holds, in bytes.
func (a *automaton) size() int {
	return len(a.class) + 4*(len(a.node)+len(a.multi)+len(a.edges)+len(a.rows)+len(a.outAt)+len(a.outs)) + 8*len(a.firsts)
}
