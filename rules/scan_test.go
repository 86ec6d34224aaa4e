package rules

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
)

// TestHitsBetween compares hitsBetween, linear on short lists and by
// halves on long ones, with filtering the list, on lists of every length
// around linearHits.
func TestHitsBetween(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	for n := 0; n <= 2*linearHits+2; n++ {
		for range 20 {
			list := make([]hit, n)
			t0 := int32(0)
			for i := range list {
				t0 += rng.Int32N(3) // repeats included
				list[i].t0 = t0
			}
			lo := rng.Int32N(t0+3) - 1
			hi := lo - 1 + rng.Int32N(6)
			var want []int32
			for _, h := range list {
				if h.t0 >= lo && h.t0 <= hi {
					want = append(want, h.t0)
				}
			}
			got := hitsBetween(list, lo, hi)
			if len(got) != len(want) {
				t.Fatalf("n=%d [%d, %d]: %d hits, want %d", n, lo, hi, len(got), len(want))
			}
			for i := range got {
				if got[i].t0 != want[i] {
					t.Fatalf("n=%d [%d, %d]: hit %d at %d, want %d", n, lo, hi, i, got[i].t0, want[i])
				}
			}
		}
	}
}

// checkHits checks the token ranges keep gives each hit of fs against a
// map of every folded byte to its token: a hit starts in token t0, its
// last word byte is in token t1-1, and it ends on a word boundary.
func checkHits(t *testing.T, fs *fieldScan) {
	t.Helper()
	text := fs.f.text
	tokOf := make([]int32, len(text))
	for i := range tokOf {
		tokOf[i] = -1
	}
	for i, tk := range fs.toks {
		for b := tk.b0; b < tk.b1; b++ {
			tokOf[b] = int32(i)
		}
	}
	for _, h := range fs.hits {
		if h.b0 < 0 || h.b0 >= h.b1 || int(h.b1) > len(text) {
			t.Fatalf("%q: hit at [%d, %d)", text, h.b0, h.b1)
		}
		last := h.b1 - 1
		for last > h.b0 && tokOf[last] < 0 {
			last--
		}
		if tokOf[h.b0] != h.t0 || tokOf[last]+1 != h.t1 {
			t.Errorf("%q: hit %q at tokens [%d, %d), want [%d, %d)", text, text[h.b0:h.b1], h.t0, h.t1, tokOf[h.b0], tokOf[last]+1)
		}
		if e := h.b1; int(e) < len(text) && tokOf[e] >= 0 && tokOf[e] == tokOf[e-1] {
			t.Errorf("%q: hit %q ends inside a word", text, text[h.b0:h.b1])
		}
	}
}

// TestScanTokens checks the hits of every item of the corpora (checkHits).
func TestScanTokens(t *testing.T) {
	v := defaultSet(t).vocab
	for _, path := range []string{"testdata/corpus/dev.jsonl", "testdata/corpus/dev_multi.jsonl", "testdata/extra.jsonl"} {
		for _, it := range loadCorpus(t, path) {
			sc := v.read(it.article())
			for i := range sc.fields {
				checkHits(t, &sc.fields[i])
			}
			v.scratch.Put(sc)
		}
	}
}

// TestPastYearShortcut compares pastYearNear with and without the
// shortcut of fields that hold no year-like token, around every token of
// the corpora and of dates written in several ways.
func TestPastYearShortcut(t *testing.T) {
	v := defaultSet(t).vocab
	items := []corpusItem{
		{Title: "Lavrov met Rubio", Summary: "They met in 2022. They met in November 2022, en 2019, im Jahr 2021; since 2022; in 2099; in 1899; in 1999; in 20222."},
		{Title: "x", Summary: "talks in 1990s and in 2O22 and in ２０２２"},
		{Title: "Talks in 1999", Summary: "They met in 1999."},
	}
	for _, path := range []string{"testdata/corpus/dev.jsonl", "testdata/corpus/dev_multi.jsonl", "testdata/extra.jsonl"} {
		items = append(items, loadCorpus(t, path)...)
	}
	for _, it := range items {
		sc := v.read(it.article())
		for fi := range sc.fields {
			fs := &sc.fields[fi]
			years := fs.years
			for t0 := range int32(len(fs.toks)) {
				for _, year := range []int{2020, 2024, 2026} {
					fs.years = true
					want := fs.pastYearNear(t0, t0+1, year)
					fs.years = years
					if got := fs.pastYearNear(t0, t0+1, year); got != want {
						t.Errorf("%q token %d, year %d: %v, want %v", fs.f.src, t0, year, got, want)
					}
				}
			}
		}
		v.scratch.Put(sc)
	}
}

// TestLinkFlags checks that the walks flag exactly the tokens that are
// link words (fLink), compared with a set of the folded link words, over
// the corpora and words made to look like links.
func TestLinkFlags(t *testing.T) {
	spec := defaultSpec(t)
	v := defaultSet(t).vocab
	want := map[string]bool{}
	var words []string
	for _, l := range spec.Heads.Links {
		want[Fold(l)] = true
		words = append(words, l, l+"s", "x"+l, strings.ToUpper(l), l+"'s")
	}
	items := []corpusItem{{Title: strings.Join(words, " "), Summary: strings.Join(words, ", ") + " والمخابرات وجهاز 的和与及の과와"}}
	for _, path := range []string{"testdata/corpus/dev.jsonl", "testdata/corpus/dev_multi.jsonl"} {
		items = append(items, loadCorpus(t, path)...)
	}
	links := 0
	for _, it := range items {
		sc := v.read(it.article())
		for fi := range sc.fields {
			fs := &sc.fields[fi]
			for k, tk := range fs.toks {
				w := string(fs.f.text[tk.b0:tk.b1])
				if got := fs.flags[k]&fLink != 0; got != want[w] {
					t.Errorf("%q: token %q flagged as link %v, want %v", fs.f.src, w, got, want[w])
				}
				if want[w] {
					links++
				}
			}
		}
		v.scratch.Put(sc)
	}
	if links == 0 {
		t.Error("no link word in the items")
	}
}

// TestKindShortcuts checks that the searches that return at once in a
// field without hits of the kinds they look for (fieldScan.has) answer as
// the full search does, over the corpora, for every token and every pair
// of tokens up to three apart.
func TestKindShortcuts(t *testing.T) {
	v := defaultSet(t).vocab
	var items []corpusItem
	for _, path := range []string{"testdata/corpus/dev.jsonl", "testdata/corpus/dev_multi.jsonl", "testdata/extra.jsonl"} {
		items = append(items, loadCorpus(t, path)...)
	}
	items = append(items, corpusItem{Title: "no spy chief", Summary: "Egypt's and Iraq's heads of intelligence did not meet; deputy foreign minister Ryabkov met"})
	answers := func(fs *fieldScan, t0, t1 int32) string {
		var buf [4]int32
		c1, ok1 := fs.countryEndingAt(t0)
		c2, ok2 := fs.countryStartingAt(t1)
		h := hit{t0: t0, t1: t1}
		return fmt.Sprint(fs.voided(t0, t1, 2), fs.voided(t0, t1, nameReach), v.negatedAt(fs, h), fs.coveredBy(t0, nameKinds),
			fs.coveredBy(t0, 1<<hVoid), fs.countryNear(t0, t1), fs.groupNear(t0, t1), fs.pairNear(t0, t1),
			fs.countriesNear(buf[:0], t0, t1), fs.agencyStartsAt(t0), c1, ok1, c2, ok2)
	}
	tried, cut := 0, 0
	for _, it := range items {
		sc := v.read(it.article())
		for fi := range sc.fields {
			fs := &sc.fields[fi]
			kinds := uint32(0)
			for _, h := range fs.hits {
				kinds |= 1 << h.p.kind
			}
			if fs.kinds != kinds {
				t.Fatalf("%q: kinds %b, hits %b", fs.f.src, fs.kinds, kinds)
			}
			n := int32(len(fs.toks))
			for t0 := range n {
				for t1 := t0 + 1; t1 <= min(n, t0+3); t1++ {
					got := answers(fs, t0, t1)
					fs.kinds = ^uint32(0)
					want := answers(fs, t0, t1)
					fs.kinds = kinds
					if got != want {
						t.Errorf("%q tokens %d-%d: %s, full search %s", fs.f.src, t0, t1, got, want)
					}
					tried++
					if kinds&(1<<hCountry|1<<hVoid|1<<hNegative|1<<hDenial) != 1<<hCountry|1<<hVoid|1<<hNegative|1<<hDenial {
						cut++
					}
				}
			}
		}
		v.scratch.Put(sc)
	}
	if cut == 0 || cut == tried {
		t.Errorf("%d of %d searches in fields lacking a kind: the shortcut is not tried both ways", cut, tried)
	}
}

// TestSettleNotes checks what keep notes of the hits for settle (the
// longest, blocks, bound aliases, countries and agencies) against the
// hits found, over the corpora and text made to hold blocks and bound
// aliases.
func TestSettleNotes(t *testing.T) {
	v := defaultSet(t).vocab
	var texts []string
	for _, path := range []string{"testdata/corpus/dev.jsonl", "testdata/corpus/dev_multi.jsonl", "testdata/extra.jsonl"} {
		for _, it := range loadCorpus(t, path) {
			texts = append(texts, it.Title, it.Summary)
		}
	}
	texts = append(texts, longTexts["cjk"], "中美防长会晤 北京国安 美国务卿 미 국무장관 한미", "")
	var fs fieldScan
	seen := [3]bool{}
	for _, s := range texts {
		v.find(&fs, s)
		var reach int32
		blocks, bound, nested := false, false, 0
		for _, h := range fs.hits {
			reach = max(reach, h.b1-h.b0)
			switch {
			case h.p.kind == hBlock:
				blocks = true
			case h.p.bound:
				bound = true
			case h.p.kind == hCountry || h.p.kind == hAgency:
				nested++
			}
		}
		if fs.reach != reach || fs.blocks != blocks || fs.bound != bound || fs.nested != nested {
			t.Fatalf("%q: noted %d %v %v %d, hits give %d %v %v %d", s, fs.reach, fs.blocks, fs.bound, fs.nested, reach, blocks, bound, nested)
		}
		seen[0], seen[1], seen[2] = seen[0] || blocks, seen[1] || bound, seen[2] || nested >= 2
	}
	if seen != [3]bool{true, true, true} {
		t.Errorf("blocks, bound aliases, two countries seen: %v", seen)
	}
}

// TestCasedText compares casedText, which reads ASCII bytes without
// decoding them, with reading every rune by its Unicode properties, on
// words of letters of several scripts and cases, marks, digits,
// punctuation and bytes that are not UTF-8.
func TestCasedText(t *testing.T) {
	want := func(src string, rule caseRule) bool {
		for _, r := range src {
			if !unicode.IsLetter(r) {
				continue
			}
			if unicode.IsLower(r) {
				return false
			}
			if rule == caseFirst {
				return true
			}
		}
		return true
	}
	parts := []string{"a", "Z", "m", "Q", "1", ".", " ", "-", "é", "É", "д", "Д", "ß", "ǅ", "ا", "中", "\u0301", "\xff", "\xd0", "ʼ", "ǈ"}
	for r := rune(0x3F0); r < 0x470; r++ {
		parts = append(parts, string(r)) // around the Cyrillic letters read without tables
	}
	rng := rand.New(rand.NewPCG(5, 6))
	for range 50000 {
		var b strings.Builder
		for range rng.IntN(6) {
			b.WriteString(parts[rng.IntN(len(parts))])
		}
		src := b.String()
		for _, rule := range []caseRule{caseAny, caseFirst, caseAll} {
			if got := casedText(src, rule); got != want(src, rule) {
				t.Fatalf("casedText(%q, %v) = %v", src, rule, got)
			}
		}
	}
}
