package stories

import (
	"html"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/backchannel/backchannel/rules"
)

// The scanner reads words, not bytes: text and aliases are split the same
// way into tokens and each token is folded with rules.Fold, so an alias
// written for the matcher ("Moscow's", "U.S.", "homolog*", "Kalın") finds
// the same words here. Scripts written without spaces (Han, kana, Thai…)
// give one token per character, so "鲁比奥" is three tokens on both sides.

// tok is one word of a text.
type tok struct {
	f     string // folded
	cap   bool   // the source word starts with an upper-case letter
	caps  bool   // the source word has letters and all of them are upper case
	num   int    // the value of an all-digit word of at most 4 digits, else -1
	cjk   bool   // Han, kana or Hangul: a time word stands before its verb
	field uint8  // 0 title, 1 summary, 2 content, 3 evidence
	sent  int32  // sentence number, counted over all fields
	pos   int32  // position in its field
}

// maxContent bounds how much of an article's content is read: stories are
// told in the first paragraphs, and the cost of a report stays bounded.
const maxContent = 4000

// tokenize appends the tokens of s (HTML allowed) to toks.
func tokenize(toks []tok, s string, field uint8, sent int32) ([]tok, int32) {
	s = stripTags(s)
	start := len(toks)
	var word []rune
	flush := func() {
		if len(word) == 0 {
			return
		}
		src := string(word)
		t := tok{f: rules.Fold(src), num: -1, field: field, sent: sent, pos: int32(len(toks) - start)}
		letters, upper := 0, 0
		for i, r := range word {
			if unicode.IsLetter(r) {
				letters++
				if unicode.IsUpper(r) {
					upper++
					if i == 0 {
						t.cap = true
					}
				}
			}
		}
		t.caps = letters > 0 && letters == upper
		t.cjk = unicode.In(word[0], unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul)
		if letters == 0 && len(word) <= 4 {
			n := 0
			for _, r := range word {
				if d := digitValue(r); d >= 0 {
					n = n*10 + d
				} else {
					n = -1
					break
				}
			}
			t.num = n
		}
		if t.f != "" {
			toks = append(toks, t)
		}
		word = word[:0]
	}
	rs := []rune(s)
	for i, r := range rs {
		switch {
		case solid(r):
			flush()
			word = append(word, r)
			flush()
		case unicode.IsLetter(r) || unicode.IsMark(r) || unicode.IsDigit(r):
			// A change between digits and letters splits a word, so "9월"
			// and "G7" read the same in text and aliases.
			if n := len(word); n > 0 && unicode.IsDigit(word[n-1]) != unicode.IsDigit(r) && !unicode.IsMark(r) {
				flush()
			}
			word = append(word, r)
		default:
			flush()
			if endsSentence(rs, i) {
				sent++
			}
		}
	}
	flush()
	return toks, sent + 1
}

// solid reports whether r is written without spaces between words.
func solid(r rune) bool {
	if r < 0x0E00 { // below Thai: Latin, Greek, Cyrillic, Hebrew, Arabic…
		return false
	}
	return unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Thai, unicode.Lao, unicode.Khmer, unicode.Myanmar)
}

func digitValue(r rune) int {
	if unicode.IsDigit(r) {
		if r >= '0' && r <= '9' {
			return int(r - '0')
		}
		// Other scripts' digits (Arabic-Indic, Persian…): their value is
		// their offset from the zero of their block.
		for z := r; z > r-10; z-- {
			if !unicode.IsDigit(z - 1) {
				return int(r - z)
			}
		}
	}
	return -1
}

func endsSentence(rs []rune, i int) bool {
	switch rs[i] {
	case '!', '?', ';', '\n', '。', '！', '？', '؟', '؛':
		return true
	case '.':
		return i+1 == len(rs) || unicode.IsSpace(rs[i+1])
	}
	return false
}

// stripTags drops HTML tags and decodes entities (twice, for feeds that
// escape them twice).
func stripTags(s string) string {
	if strings.IndexByte(s, '<') >= 0 {
		var b strings.Builder
		in := false
		for _, r := range s {
			switch {
			case r == '<':
				in = true
			case r == '>' && in:
				in = false
				b.WriteByte(' ')
			case !in:
				b.WriteRune(r)
			}
		}
		s = b.String()
	}
	if strings.IndexByte(s, '&') >= 0 {
		s = html.UnescapeString(html.UnescapeString(s))
	}
	return s
}

// pattern is an alias ready for matching.
type pattern struct {
	toks   []string // folded
	prefix bool     // the last token may continue ("homolog*")
	cap    bool     // the first word must start with a capital in the text
	caps   bool     // every word must be all capitals in the text
	val    int32    // what the alias stands for, by the set's convention
}

// patSet finds aliases in tokens, leftmost and longest first, without
// overlaps: "Russian foreign minister" is one hit, not three.
type patSet struct {
	pats  []pattern
	first map[string][]int32 // first token → patterns starting with it
	// byLead holds patterns whose first token is itself a prefix
	// ("Amtskolleg*"), keyed by its first leadRunes runes.
	byLead map[string][]int32
}

const leadRunes = 2

func newPatSet() *patSet {
	return &patSet{first: map[string][]int32{}, byLead: map[string][]int32{}}
}

// add compiles alias and files it under val. An alias that folds to
// nothing is ignored.
func (ps *patSet) add(alias string, val int32) {
	alias = strings.TrimSpace(alias)
	p := pattern{val: val}
	if strings.HasSuffix(alias, "*") {
		p.prefix = true
		alias = strings.TrimSpace(strings.TrimSuffix(alias, "*"))
	}
	toks, _ := tokenize(nil, alias, 0, 0)
	if len(toks) == 0 {
		return
	}
	for _, t := range toks {
		p.toks = append(p.toks, t.f)
	}
	p.cap = toks[0].cap
	letters := 0
	p.caps = true
	for _, r := range alias {
		if unicode.IsLetter(r) {
			letters++
			if !unicode.IsUpper(r) {
				p.caps = false
			}
		}
	}
	p.caps = p.caps && letters >= 2
	id := int32(len(ps.pats))
	ps.pats = append(ps.pats, p)
	if p.prefix && len(p.toks) == 1 {
		ps.byLead[lead(p.toks[0])] = append(ps.byLead[lead(p.toks[0])], id)
		return
	}
	ps.first[p.toks[0]] = append(ps.first[p.toks[0]], id)
}

// Arabic and Hebrew write "and", "with", "to", "the" as letters glued to
// the next word: "ولافروف" is "and Lavrov", "ורוביו" "and Rubio". A name
// or country word in those scripts is also filed with them.
var (
	arabicClitics = []string{"و", "ب", "ل", "ف"}
	hebrewClitics = []string{"ו", "ב", "ל", "ה", "מ", "ש", "כ"}
)

// addClitics adds alias and, in Arabic or Hebrew script, its forms with a
// clitic glued before it.
func (ps *patSet) addClitics(alias string, val int32) {
	ps.add(alias, val)
	r, _ := utf8.DecodeRuneInString(strings.TrimSpace(alias))
	var clitics []string
	switch {
	case unicode.Is(unicode.Arabic, r):
		clitics = arabicClitics
	case unicode.Is(unicode.Hebrew, r):
		clitics = hebrewClitics
	}
	for _, c := range clitics {
		ps.add(c+strings.TrimSpace(alias), val)
	}
}

func lead(s string) string {
	n := 0
	for i := range s {
		if n == leadRunes {
			return s[:i]
		}
		n++
	}
	return s
}

// hit is one alias found: tokens [i, j) and the pattern's value. When
// several aliases of the same length match there, vals holds all their
// values (one holder name may be two people, each with a term).
type hit struct {
	i, j int
	val  int32
	vals []int32
}

// find returns the hits in toks, leftmost-longest, never across fields.
func (ps *patSet) find(toks []tok) []hit {
	var out []hit
	for i := 0; i < len(toks); {
		best, bestLen := int32(-1), 0
		var vals []int32
		try := func(ids []int32) {
			for _, id := range ids {
				n := ps.pats[id].at(toks, i)
				switch {
				case n > bestLen:
					best, bestLen = id, n
					vals = append(vals[:0], ps.pats[id].val)
				case n == bestLen && n > 0 && !slices.Contains(vals, ps.pats[id].val):
					vals = append(vals, ps.pats[id].val)
				}
			}
		}
		try(ps.first[toks[i].f])
		if len(ps.byLead) > 0 {
			l := lead(toks[i].f)
			try(ps.byLead[l])
			if r, size := utf8.DecodeRuneInString(l); size < len(l) {
				// A one-rune prefix ("г*") is filed under itself.
				try(ps.byLead[string(r)])
			}
		}
		if best < 0 {
			i++
			continue
		}
		out = append(out, hit{i: i, j: i + bestLen, val: ps.pats[best].val, vals: vals})
		i += bestLen
	}
	return out
}

// at returns how many tokens p matches at toks[i:], or 0.
func (p *pattern) at(toks []tok, i int) int {
	if i+len(p.toks) > len(toks) {
		return 0
	}
	field := toks[i].field
	for k, want := range p.toks {
		t := &toks[i+k]
		if t.field != field {
			return 0
		}
		last := k == len(p.toks)-1
		if last && p.prefix {
			if !strings.HasPrefix(t.f, want) {
				return 0
			}
		} else if t.f != want {
			return 0
		}
		if p.caps && !t.caps {
			return 0
		}
	}
	if p.cap && !toks[i].cap {
		return 0
	}
	return len(p.toks)
}
