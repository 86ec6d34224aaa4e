package rules

// automaton is the one multi-pattern matcher of a Set: a trie of every
// folded alias with dense transitions over byte classes.
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
type automaton struct {
	class  [256]uint8 // byte → class; 0: the byte occurs in no pattern
	nclass int
	next   []int32   // next[state*nclass+class]: following state, 0 for none
	out    [][]int32 // patterns ending at each state
}

// newAutomaton builds the trie of patterns; pattern i is reported as i.
func newAutomaton(patterns []string) *automaton {
	a := &automaton{}
	for _, p := range patterns {
		for i := 0; i < len(p); i++ {
			if a.class[p[i]] == 0 {
				a.nclass++
				a.class[p[i]] = uint8(a.nclass)
			}
		}
	}
	a.nclass++ // class 0 is a column too, never followed
	a.next = make([]int32, a.nclass, a.nclass*1024)
	a.out = make([][]int32, 1, 1024)
	for id, p := range patterns {
		st := int32(0)
		for i := 0; i < len(p); i++ {
			k := int(st)*a.nclass + int(a.class[p[i]])
			if a.next[k] == 0 {
				a.next[k] = int32(len(a.out))
				a.next = append(a.next, make([]int32, a.nclass)...)
				a.out = append(a.out, nil)
			}
			st = a.next[k]
		}
		a.out[st] = append(a.out[st], int32(id))
	}
	return a
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
		st = a.next[int(st)*a.nclass+int(c)]
		if st == 0 {
			return
		}
		for _, p := range a.out[st] {
			emit(p, j+1)
		}
	}
}
