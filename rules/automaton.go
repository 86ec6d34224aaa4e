package rules

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strings"
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
// Layout: the trie is path-compressed. Most states have one edge and no
// pattern ending at them (aliases in Chinese, Arabic or Russian are two or
// three bytes a letter and share few prefixes); such runs are not states
// here but the label of the edge that enters them, compared with the text
// eight bytes at a time. The states kept (the root, states where patterns end,
// states with no or several edges) are numbered depth first, so a walk
// reads its states, edges and labels mostly forward in memory. A state's
// edges are listed in class order; a state with up to packedMax edges
// (most) has their classes in the edge that enters it, one with more (the
// root, where every walk starts, and the first letters of aliases) a
// dense row over all byte classes.
type automaton struct {
	class [256]uint8 // byte → class; 0: the byte occurs in no pattern
	ncol  int        // classes + 1
	// root: the edges of the root (see edge.next).
	root  uint64
	edges []edge
	// rows: a dense row for the states with many edges, by class: the
	// place of the edge in the state's list, plus one; 0: no edge. A row
	// is a byte a class, so the rows of the states most walks go through
	// (the root and the first letters) stay in the fastest cache.
	rows   []uint8
	labels []byte
	// Patterns ending at state s: outs[outAt[s]:outAt[s+1]].
	outAt []int32
	outs  []int32
	// firsts has a bit for every rune of the Basic Multilingual Plane
	// that begins a pattern: in Chinese, Japanese and Korean every
	// character is a start, and most begin no alias.
	firsts [1 << 10]uint64
}

// edge is one edge of the compressed trie.
type edge struct {
	// word: the class (bits 0–7) of the byte that takes the edge, the
	// length (8–15) and offset in labels (16–39) of the bytes that must
	// follow, whether patterns end at its target (bit 40) and the
	// target's number (41–63, see outputs).
	word uint64
	// next says where the edges of the target are: the low byte is their
	// number, or denseNode; bits 8–31 the offset of its dense row in rows,
	// or for up to packedMax edges their classes, a byte each; from bit 32
	// where its edges start in edges.
	next uint64
}

const (
	edgeAccept = 1 << 40
	// maxLabel bounds a label, which an edge holds in 8 bits: a longer
	// run of one-edge states keeps a state every maxLabel bytes.
	maxLabel = 255
)

const (
	// denseNode marks a state with a dense row.
	denseNode = 0xFF
	// packedMax is the number of edges up to which a state's edge
	// classes are held in the word that points to it, so that finding
	// its edge reads no list. A state with more edges (and the root)
	// gets a dense row: scanning a list of four to seven edges cost
	// more than a tenth of the walks' instructions, the rows of those
	// states 40 KB.
	packedMax = 3
	// maxSlots bounds the states of the trie before compression, its
	// edges and row slots: a target must fit in the 23 bits an edge has
	// for it, a label offset in 24 and a row offset in 24. The default
	// rules need about 50 thousand.
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
	// Classes in byte order, so that edges listed by byte are listed by
	// class.
	var used [256]bool
	for _, p := range patterns {
		for i := 0; i < len(p); i++ {
			used[p[i]] = true
		}
	}
	nclass := 0
	for b, ok := range used {
		if ok {
			nclass++
			a.class[b] = uint8(nclass)
		}
	}
	a.ncol = nclass + 1
	// The plain trie first. With the patterns in byte order it is built
	// depth first without looking edges up: a pattern shares with the one
	// before it the states of their common prefix, and adds the rest, each
	// state after its parent and after its earlier siblings. A state s
	// is entered by byte in[s]; its edges are kid[s], then sibling after
	// sibling (-1 ends), nkids of them.
	sorted := make([]int32, len(patterns))
	for i := range sorted {
		sorted[i] = int32(i)
	}
	slices.SortStableFunc(sorted, func(x, y int32) int { return strings.Compare(patterns[x], patterns[y]) })
	// Count the states first: each pattern adds those past the prefix it
	// shares with the one before.
	lcp := func(x, y string) int {
		d := 0
		for d < len(x) && d < len(y) && x[d] == y[d] {
			d++
		}
		return d
	}
	size, prev := 1, ""
	for _, id := range sorted {
		size += len(patterns[id]) - lcp(prev, patterns[id])
		prev = patterns[id]
	}
	if size > limit {
		return nil, fmt.Errorf("the aliases make a trie of more than %d states", limit)
	}
	in := append(make([]byte, 0, size), 0)
	kid := append(make([]int32, 0, size), -1)
	sibling := append(make([]int32, 0, size), -1)
	last := append(make([]int32, 0, size), -1)
	nkids := append(make([]int32, 0, size), 0)
	path := []int32{0}                         // the states of the pattern before, by depth
	ends := make([][2]int32, 0, len(patterns)) // (state, pattern)
	prev = ""
	for _, id := range sorted {
		p := patterns[id]
		if r, _ := utf8.DecodeRuneInString(p); r < 1<<16 {
			a.firsts[r>>6] |= 1 << (r & 63)
		}
		d := lcp(prev, p)
		path = path[:d+1]
		for i := d; i < len(p); i++ {
			s, parent := int32(len(in)), path[i]
			in, kid, sibling, last, nkids = append(in, p[i]), append(kid, -1), append(sibling, -1), append(last, -1), append(nkids, 0)
			if last[parent] < 0 {
				kid[parent] = s
			} else {
				sibling[last[parent]] = s
			}
			last[parent] = s
			nkids[parent]++
			path = append(path, s)
		}
		if len(p) > 0 { // patterns ending at the root (empty ones) are never reported
			ends = append(ends, [2]int32{path[len(p)], id})
		}
		prev = p
	}
	states := int32(len(in))
	accept := make([]bool, states)
	for _, e := range ends {
		accept[e[0]] = true
	}
	// Keep the root, the states where patterns end and those without
	// exactly one edge; number them depth first. The others become the
	// labels of the edges that run through them.
	id := make([]int32, states)     // kept state → its number; 0 also for the root
	order := make([]int32, 0, 1024) // kept states by number
	type cedge struct {
		class    uint8
		off, len int32 // label
		to       int32 // kept state, as in the plain trie
	}
	// The edges of kept state n are flat[at[n]:at[n]+its number of edges].
	flat := make([]cedge, 0, len(patterns)+1024)
	at := make([]int32, 0, 1024)
	var visit func(s int32)
	visit = func(s int32) {
		id[s] = int32(len(order))
		order = append(order, s)
		pos := len(flat)
		at = append(at, int32(pos))
		flat = append(flat, make([]cedge, nkids[s])...)
		for i, c := 0, kid[s]; c >= 0; i, c = i+1, sibling[c] {
			to := c
			off := int32(len(a.labels))
			for !accept[to] && nkids[to] == 1 && len(a.labels)-int(off) < maxLabel {
				to = kid[to]
				a.labels = append(a.labels, in[to])
			}
			flat[pos+i] = cedge{class: a.class[in[c]], off: off, len: int32(len(a.labels)) - off, to: to}
			visit(to)
		}
	}
	visit(0)
	// Room to read any label eight bytes at a time.
	a.labels = append(a.labels, make([]byte, 8)...)
	// Lay the kept states out: packed classes or a dense row each. An
	// edge carries the layout of the state it enters, so a step reads
	// one edge, not a state and then an edge.
	count := func(n int) int { return int(nkids[order[n]]) }
	// The root and the states with more than packedMax edges have a row
	// each; the states with none share one more, all zero (row 0: within
	// the 24 bits of an offset, as limit is at most maxSlots).
	dense := func(n int) bool { return count(n) > packedMax || n == 0 }
	nrows := 0
	for n := range order {
		if dense(n) {
			nrows++
		}
	}
	if nrows*a.ncol > limit || len(flat) > limit {
		return nil, fmt.Errorf("the aliases make a trie of %d dense slots and %d edges; at most %d each", nrows*a.ncol, len(flat), limit)
	}
	node := make([]uint64, len(order))
	a.rows = make([]uint8, (1+nrows)*a.ncol)
	row := 1
	for n := range order {
		switch {
		case dense(n):
			node[n] = uint64(at[n])<<32 | uint64(row*a.ncol)<<8 | denseNode
			for i, ce := range flat[at[n] : int(at[n])+count(n)] {
				a.rows[row*a.ncol+int(ce.class)] = uint8(i + 1)
			}
			row++
		case count(n) == 0:
			node[n] = uint64(at[n])<<32 | denseNode // row 0: no edge
		default:
			// The slots past the edges repeat the first class, so that
			// every slot holds a class and no byte outside the
			// patterns (class 0) takes an edge: walk needs no test for
			// it.
			node[n] = uint64(at[n])<<32 | uint64(count(n))
			first := flat[at[n]].class
			for i := range packedMax {
				c := first
				if i < count(n) {
					c = flat[int(at[n])+i].class
				}
				node[n] |= uint64(c) << (8 + 8*i)
			}
		}
	}
	a.root = node[0]
	a.edges = make([]edge, len(flat))
	for i, ce := range flat {
		to := id[ce.to]
		a.edges[i] = edge{word: uint64(ce.class) | uint64(ce.len)<<8 | uint64(ce.off)<<16 | uint64(to)<<41, next: node[to]}
		if accept[ce.to] {
			a.edges[i].word |= edgeAccept
		}
	}
	// Outputs by kept state, in pattern order.
	for i := range ends {
		ends[i][0] = id[ends[i][0]]
	}
	slices.SortFunc(ends, func(x, y [2]int32) int {
		if x[0] != y[0] {
			return int(x[0] - y[0])
		}
		return int(x[1] - y[1])
	})
	a.outAt = make([]int32, len(order)+1)
	a.outs = make([]int32, len(ends))
	for i, e := range ends {
		a.outAt[e[0]+1]++
		a.outs[i] = e[1]
	}
	for s := 1; s <= len(order); s++ {
		a.outAt[s] += a.outAt[s-1]
	}
	return a, nil
}

// mayStart reports whether a pattern may begin with rune r.
func (a *automaton) mayStart(r rune) bool {
	return r >= 1<<16 || a.firsts[r>>6]&(1<<(r&63)) != 0
}

// walk reports every state where patterns end (see outputs) that the walk
// from text[start] reaches, shortest first, by calling emit with the state
// and its end offset.
func (a *automaton) walk(text []byte, start int, emit func(state uint32, end int)) {
	n := a.root
	// In locals: emit may not change them, and the loop reads them at
	// every step without reloading them from a.
	edges := a.edges
	for j := start; j < len(text); {
		// Class 0 (a byte in no pattern) is in no packed state and is
		// no edge of a dense row: it ends the walk below.
		c := a.class[text[j]]
		var w uint64
		at := int(n >> 32)
		switch cnt := uint8(n); {
		case cnt <= packedMax:
			// Most states have few edges; their classes are in n.
			switch c {
			case uint8(n >> 8):
			case uint8(n >> 16):
				at++
			case uint8(n >> 24):
				at += 2
			default:
				return
			}
			e := &edges[at]
			w, n = e.word, e.next
		default: // denseNode
			i := a.rows[int(uint32(n)>>8)+int(c)]
			if i == 0 {
				return
			}
			e := &edges[at+int(i)-1]
			w, n = e.word, e.next
		}
		j++
		if w&(0xFF00|edgeAccept) == 0 {
			// Most edges have no label and end no pattern.
			continue
		}
		if k := int(uint8(w >> 8)); k > 0 {
			// The label: the bytes of the one-edge states the edge
			// stands for.
			if k > len(text)-j {
				return
			}
			off := int(w>>16) & (1<<24 - 1)
			if k <= 8 && j+8 <= cap(text) {
				// Eight bytes at once; those past the label (and past
				// len(text), still within the buffer) are shifted out.
				x := binary.LittleEndian.Uint64(text[j:j+8]) ^ binary.LittleEndian.Uint64(a.labels[off:off+8])
				if x<<(64-8*k) != 0 {
					return
				}
			} else if string(text[j:j+k]) != string(a.labels[off:off+k]) {
				return
			}
			j += k
		}
		if w&edgeAccept != 0 {
			emit(uint32(w>>41), j)
		}
	}
}

// accepting is the number of states: outputs(s) is defined for s below it.
func (a *automaton) accepting() int { return len(a.outAt) - 2 }

// outputs returns the patterns that end at state s, in index order.
func (a *automaton) outputs(s uint32) []int32 {
	return a.outs[a.outAt[s]:a.outAt[s+1]]
}

// size is the memory the automaton holds, in bytes.
func (a *automaton) size() int {
	return len(a.class) + len(a.rows) + 4*(len(a.outAt)+len(a.outs)) + 16*len(a.edges) + len(a.labels) + 8*len(a.firsts)
}
