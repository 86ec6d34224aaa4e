package rules

import (
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
// Layout: a state with two or more edges (the root, where every walk
// starts, and the states after the first letters of aliases) has a dense
// row over byte classes; a state with one edge (most of them: aliases in
// Chinese, Arabic or Russian are two or three bytes a letter and share few
// prefixes) keeps that edge alone. A dense table for every state (states
// × classes) took 115 MB with the native-script vocabulary; this one takes
// under 2 MB and walks as fast.
type automaton struct {
	class [256]uint8 // byte → class; 0: the byte occurs in no pattern
	ncol  int        // classes + 1
	// row[s] >= 0: the edges of s are rows[row[s]*ncol+class] (0 for
	// none). row[s] < 0: s has at most one edge, on class label[s] to
	// next[s] (label 0: none).
	row   []int32
	rows  []int32
	label []uint8
	next  []int32
	// Patterns ending at state s: outs[outAt[s]:outAt[s+1]].
	outAt []int32
	outs  []int32
	// firsts has a bit for every rune of the Basic Multilingual Plane
	// that begins a pattern: in Chinese, Japanese and Korean every
	// character is a start, and most begin no alias.
	firsts [1 << 10]uint64
}

// newAutomaton builds the trie of patterns; pattern i is reported as i.
func newAutomaton(patterns []string) *automaton {
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
				nx = states
				states++
				edges[k] = nx
			}
			st = nx
		}
		ends = append(ends, [2]int32{st, int32(id)})
	}
	// Count edges per state, then give the states with two or more a
	// dense row.
	count := make([]int32, states)
	for k := range edges {
		count[k>>8]++
	}
	a.ncol = nclass + 1
	a.row = make([]int32, states)
	a.label = make([]uint8, states)
	a.next = make([]int32, states)
	nrows := 0
	for s, n := range count {
		a.row[s] = -1
		if n >= 2 || s == 0 {
			a.row[s] = int32(nrows)
			nrows++
		}
	}
	a.rows = make([]int32, nrows*a.ncol)
	for k, nx := range edges {
		st, c := int32(k>>8), uint8(k)
		if r := a.row[st]; r >= 0 {
			a.rows[int(r)*a.ncol+int(c)] = nx
		} else {
			a.label[st], a.next[st] = c, nx
		}
	}
	slices.SortFunc(ends, func(x, y [2]int32) int {
		if x[0] != y[0] {
			return int(x[0] - y[0])
		}
		return int(x[1] - y[1])
	})
	a.outAt = make([]int32, states+1)
	a.outs = make([]int32, len(ends))
	for i, e := range ends {
		a.outAt[e[0]+1]++
		a.outs[i] = e[1]
	}
	for s := int32(1); s <= states; s++ {
		a.outAt[s] += a.outAt[s-1]
	}
	return a
}

// mayStart reports whether a pattern may begin with rune r.
func (a *automaton) mayStart(r rune) bool {
	return r >= 1<<16 || a.firsts[r>>6]&(1<<(r&63)) != 0
}

// step returns the state after class c from state st, or 0.
func (a *automaton) step(st int32, c uint8) int32 {
	if r := a.row[st]; r >= 0 {
		return a.rows[int(r)*a.ncol+int(c)]
	}
	if a.label[st] == c {
		return a.next[st]
	}
	return 0
}

// walk reports every pattern that starts at text[start], longest last, by
// calling emit with the pattern and its end offset.
func (a *automaton) walk(text []byte, start int, emit func(pattern int32, end int)) {
	st := int32(0)
	for j := start; j < len(text); j++ {
		c := a.class[text[j]]
		if c == 0 {
			return
		}
		if st = a.step(st, c); st == 0 {
			return
		}
		for _, p := range a.outs[a.outAt[st]:a.outAt[st+1]] {
			emit(p, j+1)
		}
	}
}
