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
	flags []uint16
	hits  []hit
	heads []hit
	// end is the position (in half words, see token.pos) after the last
	// token.
	end     int32
	dropped []bool // scratch for settle
	// span: the most tokens a hit of the field spans (heads included).
	span int32
	// years: some token may be a year (four bytes from a 1 or a 2), which
	// pastYearNear looks for.
	years bool
	// kinds has a bit (1<<hitKind) for each kind of hit the field holds:
	// a search for kinds it lacks (a void word, a negation: most fields
	// have none) returns at once (has).
	kinds uint32
	// What settle needs to know of the hits, noted as keep finds them:
	// the longest in bytes, whether there are blocks and bound aliases,
	// and how many countries and agencies.
	reach         int32
	blocks, bound bool
	nested        int
}

// has reports whether the field holds a hit of one of kinds (a bit set
// of hitKind).
func (fs *fieldScan) has(kinds uint32) bool { return fs.kinds&kinds != 0 }

// scan cleans, folds and tokenizes raw into fs, finds its hits (find),
// drops those the words around them void (settle) and flags the tokens.
func (v *Vocabulary) scan(fs *fieldScan, raw string) {
	v.find(fs, raw)
	fs.settle()
	fs.span, fs.kinds = 0, 0
	for i := range fs.hits {
		h := &fs.hits[i]
		fs.mark(h)
		fs.span = max(fs.span, h.t1-h.t0)
		fs.kinds |= 1 << h.p.kind
	}
}

// find cleans, folds and tokenizes raw into fs and runs the automaton from
// every word start, keeping the hits that satisfy their alias (see keep).
// In Arabic-script and Hebrew words the automaton also starts after each
// clitic prefix ("والمخابرات", "השב"כ"); in Chinese, Japanese and Korean,
// whose characters are tokens, it starts at every character.
func (v *Vocabulary) find(fs *fieldScan, raw string) {
	fs.f.src = cleanText(raw)
	fs.toks = fs.f.foldTokens(fs.toks[:0])
	fs.sents = sentences(&fs.f, fs.toks, fs.sents)
	text := fs.f.text
	fs.end = 0
	if n := len(fs.toks); n > 0 {
		last := fs.toks[n-1]
		fs.end = last.pos + 2
		if last.script.unspaced() {
			fs.end = last.pos + 1
		}
	}
	fs.flags = resize(fs.flags, len(fs.toks))
	clear(fs.flags) // the walks flag link words; mark sets the others
	fs.years = false
	fs.hits, fs.heads, fs.span = fs.hits[:0], fs.heads[:0], 0
	fs.reach, fs.blocks, fs.bound, fs.nested = 0, false, false, 0
	// A walk starts inside token ti (at its start, or after a clitic).
	var ti, start int
	linkOnly := v.linkOnly
	found := func(s uint32, end int) {
		if linkOnly[s>>6]&(1<<(s&63)) != 0 {
			// A link word alone (most are no alias): flag the token if
			// it is the word, as keep would.
			if tk := &fs.toks[ti]; start == int(tk.b0) && end == int(tk.b1) {
				fs.flags[ti] |= fLink
			}
			return
		}
		v.keep(fs, ti, start, end, v.pays[v.payAt[s]:v.payAt[s+1]])
	}
	ac := v.ac
	var starts [8]int
	for i := range fs.toks {
		t := &fs.toks[i]
		b0, b1 := int(t.b0), int(t.b1)
		if b1-b0 == 4 && (text[b0] == '1' || text[b0] == '2') {
			fs.years = true
		}
		// The walks from it.
		if ac == nil {
			continue
		}
		sc := t.script
		if sc.unspaced() {
			// One character a token: most begin no alias. (Three bytes,
			// valid UTF-8, decoded here: Chinese, kana, Hangul.)
			var r rune
			if w := text[b0:b1]; len(w) == 3 {
				r = rune(w[0]&0x0F)<<12 | rune(w[1]&0x3F)<<6 | rune(w[2]&0x3F)
			} else {
				r, _ = utf8.DecodeRune(w)
			}
			if !ac.mayStart(r) {
				continue
			}
		}
		ti, start = i, b0
		ac.walk(text, start, found)
		if sc != scArabic && sc != scHebrew {
			continue
		}
		var more []int
		if sc == scArabic {
			more = arabicStarts(text[b0:b1], starts[:0])
		} else {
			more = hebrewStarts(text[b0:b1], starts[:0])
		}
		for _, at := range more {
			start = b0 + at
			ac.walk(text, start, found)
		}
	}
}

// hitsNear returns the hits that may lie within reach words of tokens
// [t0, t1): hits are in order of their first token, so the ones starting
// from t0 - 2·reach - span (a word is at most two tokens; no hit of the
// field spans more than span tokens) to t1 + 2·reach. Looking only there
// keeps the cost of reading an office independent of how long the text
// is.
func (fs *fieldScan) hitsNear(t0, t1, reach int32) []hit {
	return hitsBetween(fs.hits, t0-2*reach-fs.span, t1+2*reach)
}

// hitsBetween returns the hits of list (in order of t0) with lo <= t0 <= hi.
func hitsBetween(list []hit, lo, hi int32) []hit {
	if len(list) <= linearHits {
		i := 0
		for i < len(list) && list[i].t0 < lo {
			i++
		}
		j := i
		for j < len(list) && list[j].t0 <= hi {
			j++
		}
		return list[i:j]
	}
	i, j := firstFrom(list, lo), firstFrom(list, hi+1)
	return list[i:j]
}

// linearHits is the length up to which hitsBetween reads a list in order
// rather than by halves: most fields hold a handful of hits.
const linearHits = 32

// firstFrom returns the index of the first hit of list with t0 >= t.
func firstFrom(list []hit, t int32) int {
	lo, hi := 0, len(list)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if list[m].t0 < t {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// keep records the hits of the patterns (their payloads: list) found at
// folded bytes [start, end), start lying in token ti, that end on a word boundary (or may continue,
// for "word*" aliases, or with an ending their script allows) and satisfy
// their capital-letter constraint.
func (v *Vocabulary) keep(fs *fieldScan, ti, start, end int, list []payload) {
	text := fs.f.text
	// The hit's last token is the last one starting before end: end is
	// inside it, at its end, or (an alias may end in punctuation: "U.S.")
	// past it.
	t := ti
	for t+1 < len(fs.toks) && int(fs.toks[t+1].b0) < end {
		t++
	}
	tokEnd := int(fs.toks[t].b1)
	for i := range list {
		p := &list[i]
		if p.kind == hLink {
			// A link word: only a token that is the word itself.
			if t == ti && start == int(fs.toks[ti].b0) && end == tokEnd {
				fs.flags[ti] |= fLink
			}
			continue
		}
		e := end
		if e < tokEnd {
			// Inside a word.
			switch {
			case p.prefix:
				e = tokEnd
			case p.suffix != sfxNone && suffixOK(p.suffix, text[e:tokEnd]):
				e = tokEnd
			default:
				continue
			}
		}
		if p.cased != caseAny && !casedOK(&fs.f, start, end, p.cased) {
			continue
		}
		if len(fs.hits) >= maxHits {
			return
		}
		fs.hits = append(fs.hits, hit{p: p, t0: int32(ti), t1: int32(t) + 1, b0: int32(start), b1: int32(e)})
		fs.reach = max(fs.reach, int32(e-start))
		switch {
		case p.kind == hBlock:
			fs.blocks = true
		case p.bound:
			fs.bound = true
		case p.kind == hCountry || p.kind == hAgency:
			fs.nested++
		}
	}
}

// settle drops the hits that the words around them void, before they are
// read: a hit inside a block ("北京国安", the football club, holds 国安),
// or that a block straddles (部门, "department", ends 国家安全部门); a
// country inside a longer country name (韩 in 北韩 is not South Korea), an
// agency inside a longer agency name (المخابرات in وكالة المخابرات
// المركزية, the CIA, is not a second service); and
// a bound alias (one character of Chinese, Japanese or Korean: 美, 中, 露)
// that no other name follows (中 in 中央 is not China, 美 in 美国务卿 is).
func (fs *fieldScan) settle() {
	hits := fs.hits
	blocks, bound, reach := fs.blocks, fs.bound, fs.reach
	if !blocks && !bound && fs.nested < 2 {
		return
	}
	drop := fs.dropped[:0]
	for range hits {
		drop = append(drop, false)
	}
	fs.dropped = drop
	// Hits are in order of their start; none is longer than reach, so
	// only the hits starting within reach before one can overlap it.
	dropped := false
	for i, h := range hits {
		if h.p.kind == hBlock {
			drop[i], dropped = true, true
			continue
		}
		if !blocks && h.p.kind != hCountry && h.p.kind != hAgency {
			// Only a block, or a longer name of its own kind, voids a
			// hit (voids).
			continue
		}
		for j := i - 1; j >= 0 && hits[j].b0 > h.b0-reach; j-- {
			if fs.voids(hits[j], h) {
				drop[i] = true
				break
			}
		}
		for j := i + 1; j < len(hits) && hits[j].b0 < h.b1 && !drop[i]; j++ {
			if fs.voids(hits[j], h) {
				drop[i] = true
			}
		}
		dropped = dropped || drop[i]
	}
	if bound {
		fs.settleBound(drop)
	} else if !dropped {
		return
	}
	out := hits[:0]
	for i, h := range hits {
		if !drop[i] {
			out = append(out, h)
		}
	}
	fs.hits = out
}

// settleBound marks in drop the bound aliases (see settle) that the words
// around them void.
func (fs *fieldScan) settleBound(drop []bool) {
	hits := fs.hits
	// Korean writes spaces: a one-syllable name starts a word (미 국무장관)
	// or follows another at a word start (한미), never the inside of one
	// (방한한, "who visited Korea").
	for i, h := range hits {
		if drop[i] || !h.p.bound || fs.toks[h.t0].script != scHangul || h.b0 == 0 || !isWordByte(fs.f.text[h.b0-1]) {
			continue
		}
		anchored := false
		for j := i - 1; j >= 0 && hits[j].b1 >= h.b0-4; j-- {
			if !drop[j] && hits[j].p.bound && hits[j].b1 == h.b0 {
				anchored = true
				break
			}
		}
		drop[i] = !anchored
	}
	// A bound alias needs a name right after it: decided from the last
	// hit back, so that 中美防长 keeps 中 (美 follows) and 美 (防长 follows).
	for i := len(hits) - 1; i >= 0; i-- {
		h := hits[i]
		if drop[i] || !h.p.bound {
			continue
		}
		ok := false
		for j := i + 1; j < len(hits) && hits[j].t0 <= h.t1; j++ {
			if !drop[j] && hits[j].t0 == h.t1 && nameKinds&(1<<hits[j].p.kind) != 0 && fs.adjacent(h, hits[j]) {
				ok = true
				break
			}
		}
		drop[i] = !ok
	}
}

// voids reports whether hit v takes away hit h: a block that overlaps h
// without lying inside it, or a country or agency name holding a shorter
// one of its kind.
func (fs *fieldScan) voids(v, h hit) bool {
	if v.b0 >= h.b1 || h.b0 >= v.b1 {
		return false
	}
	inside := v.b0 >= h.b0 && v.b1 <= h.b1
	switch v.p.kind {
	case hBlock:
		return !inside
	case hCountry, hAgency:
		return h.p.kind == v.p.kind && v.b1-v.b0 > h.b1-h.b0 && h.b0 >= v.b0 && h.b1 <= v.b1
	}
	return false
}

// adjacent reports whether hit n follows hit h with at most one space
// between them ("美国务卿", "미 국무장관").
func (fs *fieldScan) adjacent(h, n hit) bool {
	gap := n.b0 - h.b1
	return gap == 0 || gap == 1 && fs.f.text[h.b1] == ' '
}

// kindFlags is the flag a hit of each kind sets on its tokens (mark); a
// head marks its ends, and the other kinds nothing.
var kindFlags = [hLink + 1]uint16{hCountry: fCountry, hGroup: fGroup, hAgency: fAgency, hTitle: fTitle, hCounterpart: fCounterpart}

func (fs *fieldScan) mark(h *hit) {
	k := h.p.kind
	if k == hHead {
		fs.heads = append(fs.heads, *h)
		fs.flags[h.t0] |= fHeadStart
		fs.flags[h.t1-1] |= fHeadEnd
		return
	}
	if int(k) >= len(kindFlags) {
		return
	}
	if f := kindFlags[k]; f != 0 {
		for t := h.t0; t < h.t1; t++ {
			fs.flags[t] |= f
		}
	}
}

// casedOK checks an alias's capital-letter constraint against the source
// text behind folded bytes [b0, b1).
func casedOK(f *folded, b0, b1 int, rule caseRule) bool {
	return casedText(f.span(b0, b1), rule)
}

// casedText is casedOK for the source text of a hit.
func casedText(src string, rule caseRule) bool {
	for i := 0; i < len(src); {
		if c := src[i]; c < utf8.RuneSelf {
			// ASCII, most names: the letters are A–Z and a–z.
			i++
			switch {
			case c >= 'a' && c <= 'z':
				return false
			case c >= 'A' && c <= 'Z' && rule == caseFirst:
				return true
			}
			continue
		}
		r, size := utf8.DecodeRuneInString(src[i:])
		i += size
		if r >= 0x400 && r < 0x460 {
			// Russian and Ukrainian letters, without the Unicode tables:
			// Ѐ–Я capitals, а–џ small.
			switch {
			case r >= 0x430:
				return false
			case rule == caseFirst:
				return true
			}
			continue
		}
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
	return fs.f.quote(int(fs.toks[sn.t0].b0), int(fs.toks[sn.t1-1].b1))
}

// posAt is the position of token t in half words; t may be len(toks).
func (fs *fieldScan) posAt(t int32) int32 {
	if int(t) < len(fs.toks) {
		return fs.toks[t].pos
	}
	return fs.end
}

// dist is the distance in words from token a to token b (a <= b): the
// number of words from the start of a to the start of b, a character of
// Chinese, Japanese or Korean counting half a word.
func (fs *fieldScan) dist(a, b int32) int32 {
	return (fs.posAt(b) - fs.posAt(a) + 1) / 2
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
