package rules

import (
	"unicode"
	"unicode/utf8"
)

// token is one word of folded text: a maximal run of word bytes of one
// script. An apostrophe or hyphen ends a word, so "egypt's" is "egypt" +
// "s" and "dell'intelligence" is "dell" + "intelligence"; an alias may
// still span them ("moscow's", "o'brien"), because aliases are matched on
// bytes. A change of script ends a word too ("CIA局长" is "cia" + …), and
// in scripts written without spaces (Chinese, Japanese, Korean) every
// character is a token.
type token struct {
	b0, b1 int32 // byte range in the folded text
	sent   int32 // sentence number within the field
	// pos is the token's distance from the start of the field in half
	// words: a word counts two, a character of an unspaced script one,
	// so that windows and reaches measured in words (see fieldScan.dist)
	// fit Chinese and Japanese, whose words are one to three characters.
	pos    int32
	script script
}

// sentence is a run of tokens [t0, t1) ending at a boundary.
type sentence struct {
	t0, t1   int32
	question bool // ends with "?": a question reports nothing
	// joined: the sentence continues the one before it after a ";"
	// ("Russia's team was led by X; Ukraine's by Y"), so the two may be
	// read together.
	joined bool
}

// abbreviation reports whether w is an abbreviation that ends with a full
// stop without ending a sentence.
func abbreviation(w []byte) bool {
	switch string(w) {
	case "mr", "mrs", "ms", "dr", "st", "gen", "lt", "col", "maj", "sen", "rep", "gov", "adm", "sgt",
		"jr", "sr", "prof", "no", "vs", "brig", "capt", "mgr":
		return true
	}
	return false
}

// tokenize splits f into words and sentences, appending to toks[:0] and
// sents[:0]. A sentence ends at "!", "?", ";", a line break, or a full stop
// followed by a space and a capital (in the source text), unless the word
// before the stop is an abbreviation or a single letter ("U.S. officials").
// Matching splits words as fold writes them (foldTokens, sentences);
// tokenize, which reads the folded text whole, is what tests compare that
// with.
func tokenize(f *folded, toks []token, sents []sentence) ([]token, []sentence) {
	toks, sents = toks[:0], sents[:0]
	text := f.text
	t0 := int32(0)
	pos := int32(0)
	joined := false
	for i := 0; i < len(text); {
		c := text[i]
		if isWordByte(c) {
			sc, size := scLatin, 1 // an ASCII word byte is Latin (scriptAt)
			if c >= utf8.RuneSelf {
				sc, size = scriptAt(text, i)
			}
			j := i + size
			if !sc.unspaced() {
				for j < len(text) {
					c2 := text[j]
					if c2 < utf8.RuneSelf {
						// An ASCII word byte is Latin (scriptAt).
						if sc != scLatin || !isWordByte(c2) {
							break
						}
						j++
						continue
					}
					s2, size2 := scriptLead(c2, len(text)-j)
					if size2 == 0 {
						s2, size2 = scriptAt(text, j)
					}
					if s2 != sc {
						break
					}
					j += size2
				}
			}
			toks = append(toks, token{b0: int32(i), b1: int32(j), sent: int32(len(sents)), pos: pos, script: sc})
			if sc.unspaced() {
				pos++
			} else {
				pos += 2
			}
			i = j
			continue
		}
		if stopByte(c) && int32(len(toks)) > t0 && endsSentence(f, i, toks) {
			sents = append(sents, sentence{t0: t0, t1: int32(len(toks)), question: c == '?', joined: joined})
			t0 = int32(len(toks))
			joined = c == ';'
		}
		i++
	}
	if int32(len(toks)) > t0 {
		sents = append(sents, sentence{t0: t0, t1: int32(len(toks)), joined: joined})
	}
	return toks, sents
}

// appendTokens appends the tokens of text[i:end], a run of word bytes, as
// tokenize splits it (without sentence), the first at position pos, and
// returns the position after them.
func appendTokens(toks []token, text []byte, i, end int, pos int32) ([]token, int32) {
	for i < end {
		sc, size := scLatin, 1 // an ASCII word byte is Latin (scriptAt)
		if text[i] >= utf8.RuneSelf {
			sc, size = scriptAt(text, i)
		}
		j := i + size
		if !sc.unspaced() {
			for j < end {
				c2 := text[j]
				if c2 < utf8.RuneSelf {
					if sc != scLatin {
						break
					}
					j++
					continue
				}
				s2, size2 := scriptLead(c2, len(text)-j)
				if size2 == 0 {
					s2, size2 = scriptAt(text, j)
				}
				if s2 != sc {
					break
				}
				j += size2
			}
		}
		toks = append(toks, token{b0: int32(i), b1: int32(j), pos: pos, script: sc})
		if sc.unspaced() {
			pos++
		} else {
			pos += 2
		}
		i = j
	}
	return toks, pos
}

// sentences splits f, whose tokens (from foldTokens, which gives them
// their position) are toks, into sentences as tokenize does, appending to
// sents[:0], and gives each token its sentence. Only the stops fold noted
// (f.stops) are read.
func sentences(f *folded, toks []token, sents []sentence) []sentence {
	sents = sents[:0]
	t0 := int32(0)
	joined := false
	for _, stop := range f.stops {
		// The token before the stop: the last one starting before it (a
		// stop lies in no token).
		lo, hi := int32(0), int32(len(toks))
		for lo < hi {
			m := int32(uint32(lo+hi) >> 1)
			if toks[m].b0 < stop {
				lo = m + 1
			} else {
				hi = m
			}
		}
		// Tokens [0, lo) start before the stop.
		i := int(stop)
		if lo > t0 && endsSentence(f, i, toks[:lo]) {
			c := f.text[i]
			n := int32(len(sents))
			sents = append(sents, sentence{t0: t0, t1: lo, question: c == '?', joined: joined})
			if n > 0 {
				for k := t0; k < lo; k++ {
					toks[k].sent = n
				}
			}
			t0 = lo
			joined = c == ';'
		}
	}
	if int32(len(toks)) > t0 {
		n := int32(len(sents))
		sents = append(sents, sentence{t0: t0, t1: int32(len(toks)), joined: joined})
		for k := t0; n > 0 && k < int32(len(toks)); k++ {
			toks[k].sent = n
		}
	}
	return sents
}

// stopByte reports whether c, in folded text, may end a sentence.
func stopByte(c byte) bool {
	return c == '\n' || c == ';' || c == '!' || c == '?' || c == '.'
}

func endsSentence(f *folded, i int, toks []token) bool {
	text := f.text
	switch text[i] {
	case '\n', ';', '!', '?':
		return true
	case '.':
	default:
		return false
	}
	if i+1 < len(text) && text[i+1] != ' ' && text[i+1] != '\n' {
		return false
	}
	last := toks[len(toks)-1]
	if int(last.b1) != i {
		return true
	}
	word := text[last.b0:last.b1]
	if len(word) == 1 || abbreviation(word) {
		return false
	}
	// The next word must start with a capital or a digit in the source.
	j := i + 1
	for j < len(text) && !isWordByte(text[j]) {
		j++
	}
	if j >= len(text) {
		return true
	}
	// Scripts without capitals (Arabic, Hebrew, Chinese…) start a
	// sentence with any letter.
	r, _ := utf8.DecodeRuneInString(f.src[f.at(j):])
	return unicode.IsUpper(r) || unicode.IsDigit(r) || unicode.IsLetter(r) && !unicode.IsLower(r)
}
