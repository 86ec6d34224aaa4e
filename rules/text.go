package rules

import (
	"encoding/binary"
	"math/bits"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/backchannel/backchannel/plaintext"
)

// Text handling. Feed text arrives as HTML fragments with entities, in
// several scripts and spellings; aliases are written by people. Both go
// through the same fold so that "Kalın", "KALIN" and "Kalin", or "BND-Präsident"
// and "bnd prasident", compare equal byte for byte.

// cleanText strips HTML tags and decodes entities (plaintext.FromHTMLLines):
// block-level tags become line breaks, which the sentence splitter treats
// as boundaries; script and style bodies are dropped; other white space is
// kept, so evidence quotes the text as written.
func cleanText(s string) string { return plaintext.FromHTMLLines(s) }

// folded is a field after folding: the text the automaton scans, and for
// every byte of it the offset of the source rune in the cleaned text (at),
// so a hit can be shown as written.
type folded struct {
	src  string // cleaned text (tags stripped, entities decoded)
	text []byte // folded text
	// segs map folded bytes to source runes (see seg); from, when not
	// nil, lists the offset of every byte instead (fold's, which tests
	// compare with).
	segs []seg
	from []int32
	// stops: the offsets in text of the bytes that may end a sentence
	// (stopByte), in order, as foldTokens wrote them.
	stops []int32
	// valid: src is UTF-8 (fold met no byte that is not), so the text
	// quoted from it needs no check (see validIn).
	valid bool
}

// seg is a run of folded bytes that lie parallel to the source: from
// byte d of the folded text to the next seg, folded byte j comes from the
// source rune holding byte j+delta. Folding most text writes a byte for
// each source byte (small letters and spaces copied, capitals lowered, a
// two-byte letter for a two-byte letter, Chinese characters whole), so a
// field is a few segs, where keeping an offset for every byte cost four
// bytes written for each; the offsets are worked out (segAt) only for the
// few bytes a hit, a sentence end or an explanation reads.
type seg struct {
	d, delta int32
}

// noDelta is the folder's delta before its first seg: no offset minus
// a folded length equals it.
const noDelta = -1 << 31

// at returns the offset in src of the rune that produced text[j].
func (f *folded) at(j int) int {
	if f.from != nil {
		return int(f.from[j])
	}
	return segAt(f.segs, f.src, j)
}

// segAt is the offset in src of the rune that produced folded byte j,
// by segs (see seg).
func segAt(segs []seg, src string, j int) int {
	// The last seg starting at or before j.
	lo, hi := 0, len(segs)
	for hi-lo > 1 {
		m := int(uint(lo+hi) >> 1)
		if int(segs[m].d) <= j {
			lo = m
		} else {
			hi = m
		}
	}
	sg := segs[lo]
	p := j + int(sg.delta)
	if utf8.RuneStart(src[p]) {
		// Most bytes: a byte that continues no rune starts one.
		return p
	}
	// The rune holding source byte p: a rune is at most four bytes, and
	// none starts before the seg's first (a rune start: an offset fold
	// read a rune at). Bytes that are not UTF-8 are runes of one byte,
	// as utf8.DecodeRuneInString reads them.
	first := int(sg.d + sg.delta)
	q := p
	for q > first && q > p-(utf8.UTFMax-1) && !utf8.RuneStart(src[q]) {
		q--
	}
	if q == p {
		return p
	}
	if _, size := utf8.DecodeRuneInString(src[q:]); q+size > p {
		return q
	}
	return p
}

// appendOffsets appends to from the offset of each of the first n folded
// bytes, by segs.
func appendOffsets(from []int32, segs []seg, src string, n int) []int32 {
	for j := 0; j < n; j++ {
		from = append(from, int32(segAt(segs, src, j)))
	}
	return from
}

// span returns the source text behind folded bytes [b0, b1).
func (f *folded) span(b0, b1 int) string {
	if b0 < 0 || b1 > len(f.text) || b0 >= b1 {
		return ""
	}
	s := f.at(b0)
	last := f.at(b1 - 1)
	_, size := utf8.DecodeRuneInString(f.src[last:])
	return f.src[s : last+size]
}

// quote returns the source text behind folded bytes [b0, b1) as it is
// shown in an explanation: when the hit ends its word, the letters fold
// dropped after it (a Russian ending folded away, a tatweel, a vowel
// mark) are shown too, so "Нарышкиным" is quoted whole.
func (f *folded) quote(b0, b1 int) string {
	if b0 < 0 || b1 > len(f.text) || b0 >= b1 {
		return ""
	}
	s := f.at(b0)
	last := f.at(b1 - 1)
	_, size := utf8.DecodeRuneInString(f.src[last:])
	end := last + size
	limit := len(f.src)
	if b1 < len(f.text) {
		limit = f.at(b1)
	}
	for end < limit {
		r, size := utf8.DecodeRuneInString(f.src[end:])
		if r == utf8.RuneError || !(unicode.IsLetter(r) || unicode.IsMark(r) || unicode.Is(unicode.Cf, r)) {
			break
		}
		end += size
	}
	return f.src[s:end]
}

// fold appends the folded form of src to dst and returns it. It is the one
// normalisation used for both aliases and article text:
//   - compatibility decomposition (the K of NFKC: ligatures, full-width
//     forms, non-breaking spaces) and removal of combining marks, so
//     diacritics fold away (é→e, İ→i, ğ→g, ё→е), and so do Arabic vowel
//     marks and Hebrew points;
//   - lower case, with the letters that have no decomposition mapped by
//     hand (ı→i, ß→ss, ø→o, đ→d, ł→l, æ→ae, œ→oe);
//   - letters written several ways read as one: Persian ی and ک as Arabic
//     ي and ك, ى as ي, the alef forms as ا; the tatweel, zero-width and
//     direction marks are dropped; traditional Chinese characters (and
//     Japanese shinjitai) read as simplified ones (t2s); Arabic and
//     Persian digits as ASCII digits (see foldRune);
//   - every apostrophe-like mark becomes "'", Hebrew gershayim '"', and
//     hyphens and dashes become spaces, so "Al-Thani", "Al Thani" and
//     "Al–Thani" are one spelling; other punctuation and symbols of other
//     scripts become spaces, and their sentence ends ("。", "؟") line
//     breaks or "?";
//   - words are then read whole (foldWord): a word mixing Latin and
//     Cyrillic look-alikes is read in one script, a Russian or Ukrainian
//     word is reduced to its stem, and Persian suffixes written after a
//     zero-width non-joiner are dropped;
//   - runs of white space collapse to one space; a line break survives as
//     a sentence boundary.
//
// After folding, every byte of a rune outside ASCII belongs to a letter or
// digit (isWordByte). from, when not nil, receives the source offset of
// each output byte.
func fold(dst []byte, from []int32, src string) ([]byte, []int32) {
	return foldOpt(dst, from, src, true)
}

// foldOpt is fold; with stemLast false the last word is kept as written
// (an alias ending in "*" is a stem already).
func foldOpt(dst []byte, from []int32, src string, stemLast bool) ([]byte, []int32) {
	return foldWith(dst, from, src, stemLast, foldTable())
}

// foldTokens is fold that also splits the folded text into tokens as it
// writes each word, appending them to toks: the tokens tokenize finds in
// the folded text, without their sentence and position (see sentences).
// Reading each word as it ends spares a second pass over every byte: a
// word of one script, most words, is one token.
// It folds fd.src into fd (text, segs, stops, valid), reusing their
// memory, and returns toks with the tokens appended.
func (fd *folded) foldTokens(toks []token) []token {
	var f folder
	f.dst, f.segs, f.delta, f.word, f.tokens, f.toks, f.stops = fd.text[:0], fd.segs[:0], noDelta, -1, true, toks, fd.stops[:0]
	f.run(fd.src, true, foldTable())
	fd.text, _, toks = f.finish()
	fd.segs, fd.stops, fd.valid = f.segs, f.stops, !f.invalid
	return toks
}

// foldWith is foldOpt reading the runes below foldTableMax from tab, the
// per-rune steps worked out once, and small ASCII letters inline; with tab
// nil every rune takes the slow path (folder.source and folder.ascii, or
// foldStep, which the table is built from), which tests compare with.
//
// The offsets (from, when not nil) are kept as segs and listed at the
// end; without a table they are also written byte by byte, as they are
// made, which is what is returned: tests compare the two.
func foldWith(dst []byte, from []int32, src string, stemLast bool, tab *foldTab) ([]byte, []int32) {
	f := folder{dst: dst, delta: noDelta, word: -1, noSegs: from == nil}
	if tab == nil {
		f.from = from
	}
	f.run(src, stemLast, tab)
	dst, slow, _ := f.finish()
	switch {
	case from == nil:
	case tab == nil:
		from = slow
	default:
		from = appendOffsets(from, f.segs, src, len(dst))
	}
	return dst, from
}

// run folds src (see foldWith).
func (f *folder) run(src string, stemLast bool, tab *foldTab) {
	f.fast = tab != nil
	f.src = src
	for i := 0; i < len(src); {
		c := src[i]
		if c < utf8.RuneSelf {
			if c >= 'a' && c <= 'z' && tab != nil {
				// The common case, a run of small letters, as source
				// and ascii would do it letter by letter.
				k := i + 1
				for {
					if k+8 > len(src) {
						for k < len(src) && src[k] >= 'a' && src[k] <= 'z' {
							k++
						}
						break
					}
					if m := notLower8(src, k); m != 0 {
						k += bits.TrailingZeros64(m) >> 3
						break
					}
					k += 8
				}
				f.letters += k - i
				f.lower += k - i
				if f.word < 0 {
					f.word = len(f.dst)
				}
				f.scripts |= 1 << scLatin
				if int32(i)-int32(len(f.dst)) != f.delta {
					f.newSeg(int32(i), 1, 1)
				}
				if n := len(f.dst); k-i <= 8 && i+8 <= len(src) && cap(f.dst)-n >= 8 {
					// A short word: eight bytes copied at once (those
					// past it are left beyond len(dst), overwritten
					// next).
					binary.LittleEndian.PutUint64(f.dst[n:n+8], load8(src, i))
					f.dst = f.dst[:n+k-i]
				} else {
					f.dst = append(f.dst, src[i:k]...)
				}
				i = k
				continue
			}
			if c >= 'A' && c <= 'Z' && tab != nil {
				// A capital, as source (a letter, upper case) and
				// ascii (lower-cased, in the word) would do it.
				f.letters++
				f.upper++
				if f.word < 0 {
					f.word = len(f.dst)
				}
				f.scripts |= 1 << scLatin
				if int32(i)-int32(len(f.dst)) != f.delta {
					f.newSeg(int32(i), 1, 1)
				}
				f.dst = append(f.dst, c+'a'-'A')
				i++
				continue
			}
			if c == ' ' && tab != nil {
				// The next most common byte, as source (nothing to
				// count) and ascii would do it: it ends a word, and
				// follows no other space or line break.
				f.endWord(true)
				if n := len(f.dst); n > 0 && f.dst[n-1] != ' ' && f.dst[n-1] != '\n' {
					if int32(i)-int32(n) != f.delta {
						f.newSeg(int32(i), 1, 1)
					}
					f.dst = append(f.dst, ' ')
				}
				i++
				continue
			}
			f.source(rune(c))
			f.ascii(c, int32(i), 1)
			i++
			continue
		}
		if tab != nil && c >= 0xC2 && c <= 0xDF && i+1 < len(src) && src[i+1]&0xC0 == 0x80 &&
			tab.two[(uint32(c&0x1F)<<6|uint32(src[i+1]&0x3F))&0x7FF]&twoLetter != 0 {
			// Most text outside ASCII is a run of two-byte letters
			// (Cyrillic, Arabic, Hebrew, Greek).
			i = f.letters2(src, i, tab)
			continue
		}
		var r rune
		var size int
		switch {
		case tab == nil:
			r, size = utf8.DecodeRuneInString(src[i:])
			if size == 1 {
				f.invalid = true
			}
		case c >= 0xC2 && c <= 0xDF && i+1 < len(src) && src[i+1]&0xC0 == 0x80:
			// Two bytes (U+0080–U+07FF: Cyrillic, Arabic, Hebrew, …),
			// always valid: decoded here.
			r, size = rune(c&0x1F)<<6|rune(src[i+1]&0x3F), 2
		case c >= 0xE1 && c <= 0xEC && i+2 < len(src) && src[i+1]&0xC0 == 0x80 && src[i+2]&0xC0 == 0x80:
			// Three bytes from U+1000 to U+CFFF (Chinese, Hangul), always
			// valid.
			r, size = rune(c&0x0F)<<12|rune(src[i+1]&0x3F)<<6|rune(src[i+2]&0x3F), 3
		default:
			r, size = utf8.DecodeRuneInString(src[i:])
			if size == 1 {
				f.invalid = true // a byte that is not UTF-8
			}
		}
		at := int32(i)
		i += size
		if tab != nil {
			var e *foldEntry
			switch {
			case r < foldTableMax:
				e = &tab.steps[r]
			case r >= wideMin && r <= wideMax:
				e = &tab.steps[foldTableMax+r-wideMin]
			}
			if e != nil {
				if e.script != scNone {
					f.count(e.flags)
					if at-int32(len(f.dst)) != f.delta {
						f.newSeg(at, 1, 1)
					}
					f.letter(e.letter[:e.n], e.script)
				} else {
					f.apply(e.flags, tab.out[e.off:e.off+uint32(e.n)], at, size)
				}
				continue
			}
			switch {
			case r >= 0x4E00 && r <= 0x9FFF:
				// Chinese characters: a letter, read simplified
				// (foldRune).
				f.letters++
				if m := tab.t2s(r); m != r {
					f.rune(m, at, size)
				} else {
					if at-int32(len(f.dst)) != f.delta {
						f.newSeg(at, 1, 1)
					}
					f.letterString(src[at:i], scHan) // as written
				}
				continue
			case r >= 0xAC00 && r <= 0xD7A3:
				// Hangul syllables: a letter, kept whole (foldRune).
				f.letters++
				if at-int32(len(f.dst)) != f.delta {
					f.newSeg(at, 1, 1)
				}
				f.letterString(src[at:i], scHangul) // as written
				continue
			}
		}
		f.slow(r, at, size)
	}
	f.endWord(stemLast)
}

// slow folds rune r (size bytes at source offset at) by foldStep.
func (f *folder) slow(r rune, at int32, size int) {
	var st step
	foldStep(r, size, &st)
	f.apply(st.flags, st.out(), at, size)
}

// notLower8 has the high bit set in each byte of src[k:k+8] (the first
// at the bottom) that is no small ASCII letter, and maybe in bytes after
// the first such: a byte from 0x80 up carries into the next when 0x1F is
// added. The first bit set is always the first byte that is no letter.
func notLower8(src string, k int) uint64 {
	const (
		high = 0x8080808080808080
		ge   = 0x1F1F1F1F1F1F1F1F // b+0x1F has the high bit from 'a' (0x61) up
		gt   = 0x0505050505050505 // b+0x05 has it from '{' (0x7B) up
	)
	s := src[k : k+8] // load8, written out to stay within the inlining budget
	w := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	return (w | ^(w + ge) | (w + gt)) & high
}

// load8 reads src[k:k+8] as a little-endian number.
func load8(src string, k int) uint64 {
	s := src[k : k+8]
	return uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
}

// finish returns what the fold wrote, without a trailing space, so that
// folded aliases and texts end on a word.
func (f *folder) finish() ([]byte, []int32, []token) {
	if n := len(f.dst); n > 0 && f.dst[n-1] == ' ' {
		f.cut(n - 1)
	}
	return f.dst, f.from, f.toks
}

// newSeg notes that the n bytes about to be written at the end of dst
// come from the source rune at offset at, size bytes long (see seg); the
// folder's hot paths call it only when they do not continue the last
// seg, which mark checks for the others. (Not inlined: it is rare, and
// mark and the paths that check for themselves stay small.)
//
//go:noinline
func (f *folder) newSeg(at int32, n, size int) {
	d := int32(len(f.dst))
	if f.noSegs {
		f.delta = at - d
		return
	}
	if n > size {
		// More bytes than the source rune has (a long decomposition):
		// a seg for each, all of that rune.
		for k := int32(0); k < int32(n); k++ {
			f.segs = append(f.segs, seg{d: d + k, delta: at - d - k})
		}
		f.delta = at - d - int32(n) + 1
		return
	}
	f.segs = append(f.segs, seg{d: d, delta: at - d})
	f.delta = at - d
}

// mark is newSeg when the bytes do not continue the last seg.
func (f *folder) mark(at int32, n, size int) {
	if at-int32(len(f.dst)) != f.delta || n > size {
		f.newSeg(at, n, size)
	}
}

// What folding one rune outside ASCII does to the folder (step.flags):
// the case of the source letter it counts (see folder.source), or a
// zero-width non-joiner noted inside a Persian word.
const (
	stepLetter uint8 = 1 << iota
	stepUpper
	stepLower
	stepZWNJ
)

// stepRune marks, in step output, that the byte after it is passed to
// folder.rune rather than folder.ascii (0xFF never occurs in UTF-8).
const stepRune = 0xFF

// step records what folding one rune does: flags, and the output calls
// in order: an ASCII byte is a call of folder.ascii, a UTF-8 sequence one
// of folder.rune.
type step struct {
	flags uint8
	buf   [64]byte
	n     int
	// spill takes output that does not fit buf (a long compatibility
	// decomposition), so it is allocated only for such runes.
	spill []byte
}

func (s *step) reset() { s.flags, s.n, s.spill = 0, 0, nil }

func (s *step) out() []byte {
	if s.spill != nil {
		return s.spill
	}
	return s.buf[:s.n]
}

func (s *step) put(b ...byte) {
	if s.spill == nil && s.n+len(b) <= len(s.buf) {
		s.n += copy(s.buf[s.n:], b)
		return
	}
	if s.spill == nil {
		s.spill = append([]byte(nil), s.buf[:s.n]...)
	}
	s.spill = append(s.spill, b...)
}

// ascii records a call of folder.ascii.
func (s *step) ascii(c byte) { s.put(c) }

// rune records a call of folder.rune.
func (s *step) rune(r rune) {
	if r < utf8.RuneSelf {
		s.put(stepRune, byte(r))
		return
	}
	var b [utf8.UTFMax]byte
	s.put(b[:utf8.EncodeRune(b[:], r)]...)
}

// source records the case of a source letter, as folder.source counts it.
func (s *step) source(r rune) {
	var f folder
	f.source(r)
	if f.letters > 0 {
		s.flags |= stepLetter
	}
	if f.upper > 0 {
		s.flags |= stepUpper
	}
	if f.lower > 0 {
		s.flags |= stepLower
	}
}

// apply does to f what a recorded step says, for a rune of size bytes at
// source offset at.
func (f *folder) apply(flags uint8, out []byte, at int32, size int) {
	f.count(flags)
	for k := 0; k < len(out); {
		c := out[k]
		switch {
		case c == stepRune:
			f.rune(rune(out[k+1]), at, size)
			k += 2
		case c < utf8.RuneSelf:
			f.ascii(c, at, size)
			k++
		default:
			r, n := utf8.DecodeRune(out[k:])
			f.rune(r, at, size)
			k += n
		}
	}
}

// letter is folder.rune for a letter or digit of script sc, encoded in b,
// on the fast path (with the fold table: no offsets byte by byte). The
// caller has marked its source (the letter has no more bytes than the
// source rune: see foldEntry.script).
func (f *folder) letter(b []byte, sc script) {
	if f.word < 0 {
		f.word = len(f.dst)
	}
	f.scripts |= 1 << sc
	if len(b) == 2 {
		// Most letters outside ASCII: spelled out, cheaper than a copy.
		f.dst = append(f.dst, b[0], b[1])
		return
	}
	f.dst = append(f.dst, b...)
}

// letterString is letter for a letter held in a string.
func (f *folder) letterString(s string, sc script) {
	if f.word < 0 {
		f.word = len(f.dst)
	}
	f.scripts |= 1 << sc
	f.dst = append(f.dst, s...)
}

// letters2 folds the run of two-byte runes from src[i] whose table entry
// is a two-byte letter (folder.count and folder.letter for each, without
// returning to foldWith's dispatch between them) and returns where the
// run ends. The rune at src[i] is one (foldTab.two).
func (f *folder) letters2(src string, i int, tab *foldTab) int {
	if f.word < 0 {
		f.word = len(f.dst)
	}
	// Each letter is two bytes for two: the run continues one seg.
	if int32(i)-int32(len(f.dst)) != f.delta {
		f.newSeg(int32(i), 2, 2)
	}
	// The loop keeps what it writes and counts in locals: the counts in
	// lanes of twoLane bits (see twoCounts), so at most twoRun letters a
	// call, and the scripts as the OR of the entries.
	dst, all, counts := f.dst, uint64(0), uint64(0)
	run, two := src[:min(len(src), i+2*twoRun)], &tab.two
	for i+1 < len(run) {
		// A lead byte from 0xC0 to 0xDF and a continuation byte; C0 and
		// C1 (overlong) have the entries of ASCII, which are 0.
		x := uint16(run[i]) | uint16(run[i+1])<<8
		if x&0xC0E0 != 0x80C0 {
			break
		}
		e := two[(uint32(x&0x1F)<<6|uint32(x>>8&0x3F))&0x7FF]
		if e&twoLetter == 0 {
			break
		}
		counts += e >> twoCounts
		all |= e
		dst = append(dst, byte(e), byte(e>>8))
		i += 2
	}
	f.dst, f.scripts = dst, f.scripts|uint16(all>>twoScripts)
	f.letters += int(counts & (1<<twoLane - 1))
	f.upper += int(counts >> twoLane & (1<<twoLane - 1))
	f.lower += int(counts >> (2 * twoLane) & (1<<twoLane - 1))
	return i
}

// A foldTab.two entry: the letter's two bytes (bits 0–15), its script
// as a bit (from twoScripts, 1<<script), the step's flags as the
// increments of letters, upper and lower, a lane of twoLane bits each
// (from twoCounts), and twoLetter for the runes letters2 folds.
const (
	twoScripts = 16
	twoCounts  = 32
	twoLane    = 10
	twoLetter  = 1 << 63
	// twoRun bounds the letters of one letters2 call: a lane must not
	// overflow.
	twoRun = 1<<twoLane - 1
)

// twoEntry packs the entry of foldTab.two for a letter of two bytes o of
// script sc and a step's flags.
func twoEntry(o []byte, sc script, flags uint8) uint64 {
	e := uint64(o[0]) | uint64(o[1])<<8 | uint64(1)<<sc<<twoScripts | twoLetter
	if flags&stepLetter != 0 {
		e += 1 << twoCounts
	}
	if flags&stepUpper != 0 {
		e += 1 << (twoCounts + twoLane)
	}
	if flags&stepLower != 0 {
		e += 1 << (twoCounts + 2*twoLane)
	}
	return e
}

// count does the counting of a step's flags.
func (f *folder) count(flags uint8) {
	if flags != 0 {
		if flags&stepZWNJ != 0 {
			f.zwnj()
		}
		if flags&stepLetter != 0 {
			f.letters++
		}
		if flags&stepUpper != 0 {
			f.upper++
		}
		if flags&stepLower != 0 {
			f.lower++
		}
	}
}

// folded writes what foldRune made of a rune: nothing when it is dropped.
func (st *step) folded(m rune, drop bool) {
	switch {
	case drop:
	case m < utf8.RuneSelf:
		st.ascii(byte(m))
	default:
		st.rune(m)
	}
}

// foldStep works out what folding rune r (size bytes in the source, not
// ASCII) does: the slow, general path, with x/text's decomposition.
func foldStep(r rune, size int, st *step) {
	if s, ok := specialFold(r); ok {
		st.source(r)
		for j := 0; j < len(s); j++ {
			st.ascii(s[j])
		}
		return
	}
	if r == '\u200c' { // zero-width non-joiner: inside a Persian word
		st.flags |= stepZWNJ
		return
	}
	if m, drop, ok := foldRune(r); ok {
		st.source(r)
		st.folded(m, drop)
		return
	}
	if unicode.IsMark(r) && !unicode.Is(unicode.Mc, r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError && size == 1 {
		// Combining marks, zero-width and direction marks, bytes
		// that are not UTF-8: nothing to read.
		if r == utf8.RuneError {
			st.ascii(' ')
		}
		return
	}
	if unicode.IsSpace(r) {
		st.ascii(' ')
		return
	}
	st.source(r)
	var dec [32]byte
	n := utf8.EncodeRune(dec[:], r)
	parts := norm.NFKD.Append(dec[n:n], dec[:n]...)
	for len(parts) > 0 {
		pr, psize := utf8.DecodeRune(parts)
		parts = parts[psize:]
		switch {
		case pr < utf8.RuneSelf:
			st.ascii(byte(pr))
		case unicode.IsMark(pr) && !unicode.Is(unicode.Mc, pr):
		default:
			if s, ok := specialFold(pr); ok {
				for j := 0; j < len(s); j++ {
					st.ascii(s[j])
				}
				continue
			}
			if m, drop, ok := foldRune(pr); ok {
				st.folded(m, drop)
				continue
			}
			st.rune(unicode.ToLower(pr))
		}
	}
}

// foldTableMax bounds the runes whose fold is looked up in a table: the
// alphabets (Latin, Greek, Cyrillic, Hebrew, Arabic, …), punctuation and
// kana. Chinese characters and Hangul above it are mapped by foldRune
// without decomposition; other runes take the slow path.
const foldTableMax = 0x3100

// The half-width and full-width forms (Chinese and Japanese punctuation,
// full-width Latin letters and digits) are in the table too, after the
// runes below foldTableMax.
const (
	wideMin = 0xFF00
	wideMax = 0xFFEF
)

// foldTab holds foldStep's result for every rune below foldTableMax and
// from wideMin to wideMax.
type foldTab struct {
	steps []foldEntry
	out   []byte // the steps' output, concatenated
	// hanMapped has a bit for each rune from U+4E00 to U+9FFF that t2s
	// maps: most characters of a simplified text need no search.
	hanMapped []uint64
	// two has the steps of the two-byte runes that fold to a letter of
	// two bytes and are no zero-width non-joiner, packed for letters2
	// (see twoLetter); 0 for the others.
	two [0x800]uint64
}

// t2s is t2s for a rune from U+4E00 to U+9FFF.
func (t *foldTab) t2s(r rune) rune {
	i := r - 0x4E00
	if t.hanMapped[i>>6]&(1<<(i&63)) == 0 {
		return r
	}
	return t2s(r)
}

type foldEntry struct {
	off   uint32
	n     uint8
	flags uint8
	// script, when not scNone: the output is one call of folder.rune
	// with a letter or digit of this script (folder.letter), whose
	// UTF-8 is letter[:n], no longer than the rune's own.
	script script
	letter [utf8.UTFMax]byte
}

// spaced returns step output o with each rune outside ASCII that is no
// letter or digit (CJK punctuation, symbols) written as the space that
// folder.rune makes of it, so that applying the table does not look up
// its script.
func spaced(o []byte) []byte {
	if utf8.FullRune(o) && len(o) <= utf8.UTFMax {
		if r, n := utf8.DecodeRune(o); n == len(o) && (r < utf8.RuneSelf || scriptOf(r) != scNone) {
			return o // one ASCII byte or one letter: most runes
		}
	}
	var out []byte
	for k := 0; k < len(o); {
		switch c := o[k]; {
		case c == stepRune:
			out = append(out, o[k:k+2]...)
			k += 2
		case c < utf8.RuneSelf:
			out = append(out, c)
			k++
		default:
			r, n := utf8.DecodeRune(o[k:])
			if scriptOf(r) == scNone {
				out = append(out, ' ')
			} else {
				out = append(out, o[k:k+n]...)
			}
			k += n
		}
	}
	return out
}

// foldTable returns the table, built on first use; it is never changed
// afterwards.
var foldTable = sync.OnceValue(func() *foldTab {
	t := &foldTab{steps: make([]foldEntry, foldTableMax+wideMax-wideMin+1)}
	var out []byte
	var st step
	for r := rune(utf8.RuneSelf); r <= wideMax; r++ {
		at := r // the entry's place in steps
		switch {
		case r >= foldTableMax && r < wideMin:
			continue
		case r >= wideMin:
			at = foldTableMax + r - wideMin
		}
		st.reset()
		foldStep(r, utf8.RuneLen(r), &st)
		o := spaced(st.out())
		if len(o) > 255 {
			panic("rules: fold of a rune too long for the table")
		}
		t.steps[at] = foldEntry{off: uint32(len(out)), n: uint8(len(o)), flags: st.flags}
		if m, size := utf8.DecodeRune(o); m >= utf8.RuneSelf && size == len(o) && size <= utf8.RuneLen(r) {
			// One rune, of no more bytes than r (see folder.letter).
			t.steps[at].script = scriptOf(m)
			copy(t.steps[at].letter[:], o)
			if e := &t.steps[at]; e.script != scNone && e.script < 16 && r < 0x800 && len(o) == 2 && st.flags&stepZWNJ == 0 {
				t.two[r] = twoEntry(o, e.script, st.flags)
			}
		}
		out = append(out, o...)
	}
	t.out = out
	t.hanMapped = make([]uint64, (0x9FFF-0x4E00)/64+1)
	for _, e := range t2sTable {
		if i := e[0] - 0x4E00; i >= 0 && e[0] <= 0x9FFF && e[1] != e[0] {
			t.hanMapped[i>>6] |= 1 << (i & 63)
		}
	}
	return t
})

// folder is the state of one fold: the output, and the word being
// written, which is read whole when it ends (foldWord).
type folder struct {
	src  string
	dst  []byte
	segs []seg // the source offsets of dst (see seg)
	// noSegs: the offsets are not wanted (fold without from: aliases,
	// Fold); segs stay empty, and from is nil.
	noSegs bool
	// delta of the last seg (noDelta before the first): a byte from
	// source offset at continues it when at-len(dst) == delta.
	delta int32
	// from, when not nil, receives the offset of each byte, written as
	// it is made (without a fold table only: what tests compare segs
	// with).
	from []int32
	word int // start of the current word in dst; -1 between words
	// Letters of the word in the source: a short word in capitals is an
	// acronym ("СВР", "МИД"), which is not stemmed.
	letters, upper, lower int
	zw                    [4]int // offsets in dst of zero-width non-joiners in the word
	nzw                   int
	// scripts of the word's letters, one bit per script: a word of
	// Latin letters alone (most words) needs no reading as a whole.
	scripts uint16
	digits  bool // the word holds an ASCII digit
	// fast: take the shortcuts that the slow path (foldWith without a
	// table), which tests compare with, does without.
	fast bool
	// tokens: split each word into toks when it ends, and note the
	// offsets of sentence stops (foldTokens).
	tokens bool
	toks   []token
	pos    int32 // of the next token (see token.pos)
	stops  []int32
	// invalid: the source holds a byte that is not UTF-8 (decoded as
	// utf8.RuneError of one byte; the shortcuts take valid runes only).
	invalid bool
}

// source notes the case of a source letter of the current word. Only
// the alphabets with capitals up to Cyrillic are looked at: the count
// serves to tell a Russian acronym, and Chinese or Arabic have no case.
func (f *folder) source(r rune) {
	switch {
	case r < utf8.RuneSelf:
		switch {
		case r >= 'A' && r <= 'Z':
			f.letters++
			f.upper++
		case r >= 'a' && r <= 'z':
			f.letters++
			f.lower++
		}
	case r >= 0x400 && r < 0x460:
		// Cyrillic: Ѐ–Я capitals, а–џ small.
		f.letters++
		if r < 0x430 {
			f.upper++
		} else {
			f.lower++
		}
	case r < 0x530:
		switch {
		case unicode.IsUpper(r):
			f.letters++
			f.upper++
		case unicode.IsLower(r):
			f.letters++
			f.lower++
		}
	default:
		f.letters++
	}
}

// rune appends a folded rune outside ASCII: a letter or digit joins the
// current word; anything else (punctuation, symbols) is a space.
func (f *folder) rune(r rune, at int32, size int) {
	if scriptOf(r) == scNone {
		f.ascii(' ', at, size)
		return
	}
	if f.word < 0 {
		f.word = len(f.dst)
	}
	f.scripts |= 1 << scriptOf(r)
	f.mark(at, utf8.RuneLen(r), size)
	start := len(f.dst)
	f.dst = utf8.AppendRune(f.dst, r)
	if f.from != nil {
		for k := start; k < len(f.dst); k++ {
			f.from = append(f.from, at)
		}
	}
}

func (f *folder) zwnj() {
	if f.word >= 0 && f.nzw < len(f.zw) {
		f.zw[f.nzw] = len(f.dst)
		f.nzw++
	}
}

// ascii appends an ASCII byte: letters (lower-cased) and digits join the
// current word; other bytes end it, with hyphens and control characters
// read as spaces, runs of spaces collapsed and line breaks kept.
func (f *folder) ascii(c byte, at int32, size int) {
	switch {
	case c >= 'A' && c <= 'Z':
		c += 'a' - 'A'
	case c == '-' || c == '\t' || c == '\r' || c == '\v' || c == '\f' || c == '_':
		c = ' '
	case c == '`':
		c = '\''
	case c < ' ' && c != '\n' || c == 0x7f:
		c = ' '
	}
	if c >= 'a' && c <= 'z' || c >= '0' && c <= '9' {
		if f.word < 0 {
			f.word = len(f.dst)
		}
		if c >= 'a' {
			f.scripts |= 1 << scLatin
		} else {
			f.digits = true
		}
		f.mark(at, 1, size)
		f.dst = append(f.dst, c)
		if f.from != nil {
			f.from = append(f.from, at)
		}
		return
	}
	f.endWord(true)
	n := len(f.dst)
	if c == '\'' && n > 0 && f.dst[n-1] == '\'' {
		// Two apostrophes stand for the gershayim of a Hebrew acronym
		// (שב''כ = שב"כ) or for a quotation mark.
		f.dst[n-1] = '"'
		return
	}
	switch c {
	case ' ':
		if n == 0 || f.dst[n-1] == ' ' || f.dst[n-1] == '\n' {
			return
		}
	case '\n':
		if n == 0 || f.dst[n-1] == '\n' {
			return
		}
		if f.dst[n-1] == ' ' {
			f.dst[n-1] = '\n'
			if f.tokens {
				f.stops = append(f.stops, int32(n-1))
			}
			return
		}
	}
	if f.tokens && stopByte(c) {
		f.stops = append(f.stops, int32(n))
	}
	f.mark(at, 1, size)
	f.dst = append(f.dst, c)
	if f.from != nil {
		f.from = append(f.from, at)
	}
}

// endWord reads the word just written as a whole (see fold), stemming it
// when stem is set, splits it into tokens when they are collected, and
// starts a new one.
func (f *folder) endWord(stem bool) {
	if f.word < 0 {
		// Between words (most calls: every space and mark ends a
		// word): only the letters counted for runes that wrote nothing
		// are left to forget; the word's other fields are still zero.
		f.letters, f.upper, f.lower = 0, 0, 0
		return
	}
	f.closeWord(stem)
}

// closeWord is endWord for a word that was written.
func (f *folder) closeWord(stem bool) {
	w, scripts, digits := f.word, f.scripts, f.digits
	if scripts&(1<<scCyrillic|1<<scArabic) == 0 {
		// Nothing to rewrite (readWord): start a new word.
		f.word, f.letters, f.upper, f.lower, f.nzw, f.scripts, f.digits = -1, 0, 0, 0, 0, 0, false
	} else {
		f.readWord(stem)
	}
	if digits {
		scripts |= 1 << scLatin // a digit is a Latin word byte (scriptOf)
	}
	if !f.tokens || w >= len(f.dst) {
		return
	}
	// The word's bytes are letters and digits of the scripts it was
	// written with (stemming cuts, a Persian prefix is taken out); one
	// script that writes spaces makes one token. A word that mixed
	// scripts, or is Chinese, Japanese or Korean, is read byte by byte.
	if sc := script(bits.TrailingZeros16(scripts)); scripts != 0 && scripts&(scripts-1) == 0 && !sc.unspaced() {
		f.toks = append(f.toks, token{b0: int32(w), b1: int32(len(f.dst)), pos: f.pos, script: sc})
		f.pos += 2
		return
	}
	f.toks, f.pos = appendTokens(f.toks, f.dst, w, len(f.dst), f.pos)
}

// readWord rewrites the word just written as a whole (see fold),
// stemming it when stem is set, and starts a new one.
func (f *folder) readWord(stem bool) {
	w := f.word
	acronym := f.lower == 0 && f.upper > 0 && f.letters <= 4
	nzw, scripts, digits := f.nzw, f.scripts, f.digits
	f.word, f.letters, f.upper, f.lower, f.nzw, f.scripts, f.digits = -1, 0, 0, 0, 0, 0, false
	if w < 0 || w >= len(f.dst) || scripts&(1<<scCyrillic|1<<scArabic) == 0 {
		return
	}
	word := f.dst[w:]
	var buf [64]byte
	if scripts&(1<<scLatin) != 0 && len(word) <= 48 {
		if m, ok := unmix(word, buf[:0]); ok {
			f.replace(w, m)
			word = f.dst[w:]
		}
	}
	first, _ := scriptAt(word, 0)
	switch first {
	case scArabic:
		// Persian: suffixes after a zero-width non-joiner, the verbal
		// prefix before one, and the plural written apart ("سازمان های").
		for nzw > 0 && inList(persianSuffixes, f.dst[f.zw[nzw-1]:]) {
			f.cut(f.zw[nzw-1])
			nzw--
		}
		if nzw > 0 && inList(persianPrefixes, f.dst[w:f.zw[0]]) {
			f.remove(w, f.zw[0])
		}
		if inList(persianPlurals, f.dst[w:]) && w > 0 && f.dst[w-1] == ' ' {
			f.cut(w - 1)
		}
	case scCyrillic:
		if !stem || acronym {
			return
		}
		// Only a word of two-byte Cyrillic letters is stemmed. One written
		// with Cyrillic letters alone and no digit is one (its bytes are
		// its letters); others are read rune by rune.
		if !f.fast || scripts != 1<<scCyrillic || digits {
			for i := 0; i < len(word); {
				s, size := scriptAt(word, i)
				if s != scCyrillic || size != 2 {
					return
				}
				i += size
			}
		}
		f.cut(w + cyrStem(word))
	}
}

// replace puts m in place of dst[w:], every byte from the word's first
// source rune onwards keeping offsets in order.
func (f *folder) replace(w int, m []byte) {
	if f.noSegs { // and no offsets byte by byte either
		f.dst = append(f.dst[:w], m...)
		return
	}
	// The offset of each old rune, by segs; each new byte is then
	// marked with the one at its rune index.
	var idx []int32
	for i := w; i < len(f.dst); {
		_, size := utf8.DecodeRune(f.dst[i:])
		idx = append(idx, int32(segAt(f.segs, f.src, i)))
		i += size
	}
	if f.from != nil {
		// The same, byte by byte.
		old := f.from[w:]
		var idx []int32
		for i := 0; i < len(f.dst)-w; {
			_, size := utf8.DecodeRune(f.dst[w+i:])
			idx = append(idx, old[i])
			i += size
		}
		f.from = f.from[:w]
		k := 0
		for i := 0; i < len(m); k++ {
			_, size := utf8.DecodeRune(m[i:])
			at := idx[min(k, len(idx)-1)]
			for j := 0; j < size; j++ {
				f.from = append(f.from, at)
			}
			i += size
		}
	}
	f.cutSegs(w)
	f.dst = f.dst[:w]
	for i, k := 0, 0; i < len(m); k++ {
		_, size := utf8.DecodeRune(m[i:])
		at := idx[min(k, len(idx)-1)]
		for j := 0; j < size; j++ {
			f.mark(at, 1, 1)
			f.dst = append(f.dst, m[i+j])
		}
		i += size
	}
}

// cut truncates the output at n.
func (f *folder) cut(n int) {
	f.cutSegs(n)
	f.dst = f.dst[:n]
	if f.from != nil {
		f.from = f.from[:n]
	}
}

// cutSegs drops the segs of output bytes from n on.
func (f *folder) cutSegs(n int) {
	k := len(f.segs)
	for k > 0 && int(f.segs[k-1].d) >= n {
		k--
	}
	f.segs = f.segs[:k]
	f.delta = noDelta
	if k > 0 {
		f.delta = f.segs[k-1].delta
	}
}

// remove deletes output bytes [a, b) of the current word.
func (f *folder) remove(a, b int) {
	if f.noSegs { // and no offsets byte by byte either
		f.dst = append(f.dst[:a], f.dst[b:]...)
		return
	}
	// The offsets of the bytes kept after b, marked again from a.
	rest := make([]int32, 0, len(f.dst)-b)
	for j := b; j < len(f.dst); j++ {
		rest = append(rest, int32(segAt(f.segs, f.src, j)))
	}
	tail := append([]byte(nil), f.dst[b:]...)
	f.cutSegs(a)
	f.dst = f.dst[:a]
	for j, c := range tail {
		f.mark(rest[j], 1, 1)
		f.dst = append(f.dst, c)
	}
	if f.from != nil {
		f.from = append(f.from[:a], f.from[b:]...)
	}
}

// specialFold maps the runes that compatibility decomposition leaves alone
// but that people spell without their mark.
func specialFold(r rune) (string, bool) {
	switch r {
	case 'ı', 'İ':
		return "i", true
	case 'ß', 'ẞ':
		return "ss", true
	case 'ø', 'Ø':
		return "o", true
	case 'đ', 'Đ':
		return "d", true
	case 'ł', 'Ł':
		return "l", true
	case 'æ', 'Æ':
		return "ae", true
	case 'œ', 'Œ':
		return "oe", true
	case 'þ', 'Þ':
		return "th", true
	case '\u2018', '\u2019', '\u201b', '\u02bc', '\u2032', '\u00b4', '\u02b9':
		return "'", true
	case '\u201c', '\u201d', '\u201e', '\u00ab', '\u00bb', '\u2033':
		return `"`, true
	case '\u2010', '\u2011', '\u2012', '\u2013', '\u2014', '\u2015', '\u2212':
		return " ", true
	case '\u2028', '\u2029', '\u0085', '\u3002', '\uff61', '\u06d4':
		// Line breaks, and the full stops of Chinese, Japanese and Urdu,
		// which end a sentence whatever follows.
		return "\n", true
	case '\u061f': // Arabic question mark
		return "?", true
	case '\u060c', '\u3001', '\uff64': // Arabic comma, ideographic commas
		return ",", true
	case '\u061b': // Arabic semicolon
		return ";", true
	}
	return "", false
}

// Fold returns the folded form of s (see fold) as a string: lower case,
// no diacritics, hyphens as spaces. Callers outside the matcher can use it
// to compare names the way the matcher does.
func Fold(s string) string {
	b, _ := fold(nil, nil, s)
	return string(b)
}

// isWordByte reports whether c belongs to a word in folded text. Bytes of
// multi-byte runes count as word bytes: fold leaves no other rune outside
// ASCII than letters and digits.
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c >= utf8.RuneSelf
}

// validUTF8 is strings.ToValidUTF8(s, "\uFFFD"), which explanations use
// (a source may hold bytes that are not UTF-8); most text is valid, and
// checking that is faster than rewriting it.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// validIn is validUTF8 for text taken from sources that are all UTF-8
// when valid is set (folded.valid): then s is returned unread.
func validIn(s string, valid bool) string {
	if valid {
		return s
	}
	return validUTF8(s)
}
