package rules

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// naiveWalk is what automaton.walk must report: every pattern that is a
// prefix of text[start:], shortest first, patterns of one length in
// index order.
func naiveWalk(patterns []string, text []byte, start int) [][2]int {
	var out [][2]int
	for id, p := range patterns {
		if p != "" && strings.HasPrefix(string(text[start:]), p) {
			out = append(out, [2]int{id, start + len(p)})
		}
	}
	slices.SortFunc(out, func(x, y [2]int) int {
		if x[1] != y[1] {
			return x[1] - y[1]
		}
		return x[0] - y[0]
	})
	return out
}

func automatonWalk(a *automaton, text []byte, start int) [][2]int {
	var out [][2]int
	a.walk(text, start, func(s uint32, end int) {
		for _, p := range a.outputs(s) {
			out = append(out, [2]int{int(p), end})
		}
	})
	return out
}

// checkAutomaton compares the automaton of patterns with naiveWalk from
// every offset of every text.
func checkAutomaton(t *testing.T, patterns, texts []string) {
	t.Helper()
	a, err := newAutomaton(patterns)
	if err != nil {
		t.Fatal(err)
	}
	for _, text := range texts {
		// The walk reads labels eight bytes at a time where the buffer
		// has room past the text: try it without room, and with room
		// holding bytes that continue the text or a pattern.
		bufs := [][]byte{[]byte(text)}
		for _, pad := range []string{text, strings.Join(patterns, ""), "\xff\x00"} {
			b := append([]byte(text), pad...)
			bufs = append(bufs, b[:len(text)])
		}
		for _, buf := range bufs {
			for start := range len(text) {
				got, want := automatonWalk(a, buf, start), naiveWalk(patterns, buf, start)
				if !slices.Equal(got, want) {
					t.Fatalf("patterns %q, text %q (capacity %d) from %d: got %v, want %v", patterns, text, cap(buf), start, got, want)
				}
			}
		}
	}
}

func TestAutomaton(t *testing.T) {
	for _, tc := range []struct {
		name            string
		patterns, texts []string
	}{
		{"nested", []string{"a", "ab", "abc", "b", "abc"}, []string{"abcabc", "xabx", "", "aaaa"}},
		{"scripts", []string{"цру", "цр", "中情局", "中", "المخابرات", "cia"}, []string{"цру中情局 المخابرات cia", "中中中"}},
		// The first letter with many followers gets a dense row, the
		// others a list of edges.
		{"dense", []string{"xa", "xb", "xc", "xd", "xe", "xf", "xg", "xh", "xi", "xj", "ya", "yb"}, []string{"xaxbxjyayc", "xyz"}},
		{"empty", []string{"", "q"}, []string{"q", "qq", ""}},
		// Bytes in no pattern (class 0) after states of no, one, two
		// and three edges and after a dense row: walk has no test for
		// them, the layout must stop them.
		{"outside", []string{"ab", "ac", "abd", "ae", "x", "xy", "xyz", "xyw", "xyv"},
			[]string{"ab\x00", "a\x00b", "abz!", "ac\xff", "abd\x00d", "x\x00", "xy\x00", "xyz\x01", "\x00ab", "q"}},
		// Runs of one-edge states are edge labels, at most maxLabel bytes
		// each: labels of every length around the eight read at once,
		// and longer than maxLabel.
		{"labels", []string{"abcdefgh", "abcdefghi", "abcdefghijklmnopq", "abx", "b" + strings.Repeat("c", 600), "b" + strings.Repeat("c", 300) + "d"},
			[]string{"abcdefghijklmnopqr", "abcdefgabcdefghi", "abcdefgh", "b" + strings.Repeat("c", 610), "b" + strings.Repeat("c", 300) + "d", "b" + strings.Repeat("c", 299)}},
	} {
		t.Run(tc.name, func(t *testing.T) { checkAutomaton(t, tc.patterns, tc.texts) })
	}
}

// TestAutomatonRandom compares the automaton with naiveWalk over random
// patterns and texts of a small alphabet, so that prefixes are shared and
// states of every layout occur.
func TestAutomatonRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 1))
	alphabet := []string{"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "ж", "中", " "}
	word := func(n int) string {
		var sb strings.Builder
		for range n {
			sb.WriteString(alphabet[r.IntN(len(alphabet))])
		}
		return sb.String()
	}
	for range 50 {
		var patterns, texts []string
		for range 1 + r.IntN(300) {
			patterns = append(patterns, word(1+r.IntN(4)))
		}
		for range 5 {
			texts = append(texts, word(r.IntN(40)))
		}
		checkAutomaton(t, patterns, texts)
	}
}

func TestAutomatonLimit(t *testing.T) {
	patterns := []string{"abcdef", "abcxyz"}
	if _, err := buildAutomaton(patterns, 9); err == nil || !strings.Contains(err.Error(), "more than 9 states") {
		t.Errorf("limit 9: error %v, want too many states", err)
	}
	if _, err := buildAutomaton(patterns, 10); err != nil {
		t.Errorf("limit 10 (10 states): %v", err)
	}
}

// FuzzAutomaton compares the automaton with naiveWalk on arbitrary
// patterns (separated by "|") and text.
func FuzzAutomaton(f *testing.F) {
	f.Add("a|ab|abc|b", "abcab")
	f.Add("цру|中情局|xa|xb|xc|xd|xe|xf|xg|xh|xi", "цру中情局xaxi")
	f.Fuzz(func(t *testing.T, list, text string) {
		if len(list) > 2000 || len(text) > 200 {
			return
		}
		checkAutomaton(t, strings.Split(list, "|"), []string{text})
	})
}
