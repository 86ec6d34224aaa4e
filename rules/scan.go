package rules

import (
	"unicode"
	"unicode/utf8"
)

// Bounds that keep the cost of one item predictable whatever a feed sends.
// Feed content can be a whole article; the title and summary carry the
// news. Real sentences hold a handful of offices and contact terms; the
// unit bounds only stop adversarial text from making pair search cubic.
const (
	maxTitle   = 2 << 10  // bytes of the title read
	maxSummary = 16 << 10 // bytes of the summary read
	maxContent = 8 << 10  // bytes of the content read
	maxHits    = 2048     // hits kept per field
	maxUnit    = 64       // offices, and contact terms, weighed per unit
)

// hit is one alias found in a field, on word boundaries.
type hit struct {
	p      *payload
	t0, t1 int32 // token range
	b0, b1 int32 // byte range in the folded text
}

// Token flags: which kinds of hit cover a token.
const (
	fLink uint16 = 1 << iota
	fCountry
	fGroup
	fAgency
	fTitle
	fCounterpart
	fHeadStart
	fHeadEnd

	// fSkippable tokens may stand between a head word and its agency:
	// "head of the CIA", "CIA, Mossad and Egyptian spy chiefs".
	fSkippable = fLink | fCountry | fGroup | fAgency | fTitle | fCounterpart
)

// fieldScan is one field after scanning.
type fieldScan struct {
	f     folded
	toks  []token
	sents []sentence
	tokOf []int32 // byte → token index, -1 between words
	flags []uint16
	hits  []hit
	heads []hit
}

// scan cleans, folds and tokenizes raw into fs and runs the automaton from
// every word start, keeping the hits that satisfy their alias (see keep).
func (s *Set) scan(fs *fieldScan, raw string) {
	fs.f.src = cleanText(raw)
	if fs.f.from == nil {
		fs.f.from = make([]int32, 0, 256) // fold tracks offsets only into a non-nil slice
	}
	fs.f.text, fs.f.from = fold(fs.f.text[:0], fs.f.from[:0], fs.f.src)
	fs.toks, fs.sents = tokenize(&fs.f, fs.toks, fs.sents)
	text := fs.f.text
	fs.tokOf = resize(fs.tokOf, len(text))
	for i := range fs.tokOf {
		fs.tokOf[i] = -1
	}
	for i, t := range fs.toks {
		for b := t.b0; b < t.b1; b++ {
			fs.tokOf[b] = int32(i)
		}
	}
	fs.flags = resize(fs.flags, len(fs.toks))
	clear(fs.flags)
	for i, t := range fs.toks {
		if s.links[string(text[t.b0:t.b1])] {
			fs.flags[i] = fLink
		}
	}
	fs.hits, fs.heads = fs.hits[:0], fs.heads[:0]
	if s.ac == nil {
		return
	}
	for _, t := range fs.toks {
		start := int(t.b0)
		s.ac.walk(text, start, func(pattern int32, end int) {
			s.keep(fs, start, end, pattern)
		})
	}
}

// keep records the hits of a pattern found at folded bytes [start, end)
// that end on a word boundary (or may continue, for "word*" aliases) and
// satisfy their capital-letter constraint.
func (s *Set) keep(fs *fieldScan, start, end int, pattern int32) {
	text := fs.f.text
	list := s.payloads[pattern]
	for i := range list {
		p := &list[i]
		e := end
		if p.prefix {
			for e < len(text) && isWordByte(text[e]) {
				e++
			}
		} else if e < len(text) && isWordByte(text[e]) {
			continue
		}
		if p.cased != caseAny && !casedOK(&fs.f, start, end, p.cased) {
			continue
		}
		// An alias may end in punctuation ("U.S."); its last word byte
		// gives its last token.
		last := e - 1
		for last > start && fs.tokOf[last] < 0 {
			last--
		}
		if len(fs.hits) >= maxHits {
			return
		}
		h := hit{p: p, t0: fs.tokOf[start], t1: fs.tokOf[last] + 1, b0: int32(start), b1: int32(e)}
		fs.hits = append(fs.hits, h)
		fs.mark(h)
	}
}

func (fs *fieldScan) mark(h hit) {
	var f uint16
	switch h.p.kind {
	case hCountry:
		f = fCountry
	case hGroup:
		f = fGroup
	case hAgency:
		f = fAgency
	case hTitle:
		f = fTitle
	case hCounterpart:
		f = fCounterpart
	case hHead:
		fs.heads = append(fs.heads, h)
		fs.flags[h.t0] |= fHeadStart
		fs.flags[h.t1-1] |= fHeadEnd
		return
	default:
		return
	}
	for t := h.t0; t < h.t1; t++ {
		fs.flags[t] |= f
	}
}

// casedOK checks an alias's capital-letter constraint against the source
// text behind folded bytes [b0, b1).
func casedOK(f *folded, b0, b1 int, rule caseRule) bool {
	src := f.span(b0, b1)
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

// sentenceText returns the source text of sentence si of the field.
func (fs *fieldScan) sentenceText(si int32) string {
	if si < 0 || int(si) >= len(fs.sents) {
		return ""
	}
	sn := fs.sents[si]
	if sn.t0 >= sn.t1 {
		return ""
	}
	return fs.f.span(int(fs.toks[sn.t0].b0), int(fs.toks[sn.t1-1].b1))
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// truncate cuts s to at most n bytes on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
