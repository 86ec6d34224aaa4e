package rules

import (
	"slices"
	"unicode"
	"unicode/utf8"
)

// Scripts. Matching treats a word by the script it is written in: Latin
// and Greek words are matched whole; Russian and Ukrainian words are
// folded to their stem (fold); Arabic, Persian and Hebrew words may carry
// clitic prefixes and suffixes around a name (scan); Chinese, Japanese and
// Korean are written without spaces between words, so each of their
// characters is a word of its own and names are found inside runs of text.
type script uint8

const (
	scNone     script = iota // not a letter or digit
	scLatin                  // ASCII letters and digits, other Latin letters, and scripts without a rule of their own
	scCyrillic               // Russian, Ukrainian, …
	scArabic                 // Arabic, Persian
	scHebrew
	scHan    // Chinese characters (also in Japanese)
	scKana   // Japanese hiragana and katakana
	scHangul // Korean syllables
)

// scriptOf classifies a rune of folded text.
func scriptOf(r rune) script {
	switch {
	case r < utf8.RuneSelf:
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			return scLatin
		}
		return scNone
	case r >= 0x0400 && r <= 0x052F:
		return scCyrillic
	case r >= 0x0590 && r <= 0x05FF || r >= 0xFB1D && r <= 0xFB4F:
		return scHebrew
	case r >= 0x0600 && r <= 0x06FF || r >= 0x0750 && r <= 0x077F || r >= 0x08A0 && r <= 0x08FF || r >= 0xFB50 && r <= 0xFDFF || r >= 0xFE70 && r <= 0xFEFF:
		return scArabic
	case r == 0x30FB || r == 0x30A0: // katakana middle dot and double hyphen
		return scNone
	case r >= 0x3040 && r <= 0x30FF || r >= 0x31F0 && r <= 0x31FF || r >= 0xFF66 && r <= 0xFF9F:
		return scKana
	case r >= 0xAC00 && r <= 0xD7A3 || r >= 0x1100 && r <= 0x11FF || r >= 0x3130 && r <= 0x318F:
		return scHangul
	case r >= 0x4E00 && r <= 0x9FFF || r >= 0x3400 && r <= 0x4DBF || r >= 0x20000 && r <= 0x3134F || r >= 0xF900 && r <= 0xFAFF || r == 0x3005 || r == 0x3007:
		return scHan
	case unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Mc, r):
		return scLatin
	}
	return scNone
}

// unspaced reports whether a script writes words without spaces: each of
// its characters is a token, and a name may start and end at any of them.
func (s script) unspaced() bool { return s-scHan <= scHangul-scHan } // the last three, in one compare

// scriptAt returns the script of the rune at text[i] and its size.
func scriptAt(text []byte, i int) (script, int) {
	c := text[i]
	switch {
	case c < utf8.RuneSelf:
		return scriptOf(rune(c)), 1
	// Lead bytes of whole blocks (folded text holds only letters and
	// digits, so these need no decoding): U+0400–U+04FF Cyrillic,
	// U+0600–U+06FF Arabic, U+4000–U+9FFF Han, and below.
	case c >= 0xD0 && c <= 0xD3 && i+1 < len(text):
		return scCyrillic, 2
	case c >= 0xD8 && c <= 0xDB && i+1 < len(text):
		return scArabic, 2
	case c >= 0xE4 && c <= 0xE9 && i+2 < len(text):
		return scHan, 3
	// U+05C0–U+05FF Hebrew, U+B000–U+CFFF Hangul syllables.
	case c == 0xD7 && i+1 < len(text):
		return scHebrew, 2
	case (c == 0xEB || c == 0xEC) && i+2 < len(text):
		return scHangul, 3
	}
	r, size := utf8.DecodeRune(text[i:])
	return scriptOf(r), size
}

// scriptLead is scriptAt for the lead bytes of Cyrillic, Arabic and
// Chinese, small enough to inline; rem is the number of bytes from c on.
// Size 0: ask scriptAt.
func scriptLead(c byte, rem int) (script, int) {
	switch {
	case c >= 0xD0 && c <= 0xD3 && rem > 1:
		return scCyrillic, 2
	case c >= 0xD8 && c <= 0xDB && rem > 1:
		return scArabic, 2
	}
	return scNone, 0
}

// foldRune maps the letters of Arabic, Persian, Cyrillic and Chinese that
// are spelled in more than one way to one of them; ok is false for runes
// it leaves to the general fold. An empty result drops the rune.
func foldRune(r rune) (out rune, drop, ok bool) {
	switch r {
	case 'ی', 'ى', 'ې', 'ۍ', 'ێ': // Persian yeh, alef maksura → Arabic yeh
		return 'ي', false, true
	case 'ک', 'ڪ': // Persian keheh → kaf
		return 'ك', false, true
	case 'ۀ', 'ە', 'ہ', 'ھ': // heh forms
		return 'ه', false, true
	case 'ٱ', 'ٲ', 'ٳ': // alef wasla and other alef forms (أ إ آ decompose)
		return 'ا', false, true
	case '\u0640': // tatweel, the stretching stroke
		return 0, true, true
	case 'й', 'Й': // a letter of its own, not и with a breve
		return 'й', false, true
	case 'ґ', 'Ґ':
		return 'г', false, true
	case '\u05F3': // Hebrew geresh
		return '\'', false, true
	case '\u05F4': // Hebrew gershayim: the mark of acronyms (שב״כ = שב"כ)
		return '"', false, true
	}
	switch {
	// The plain letters of Cyrillic, Arabic and Hebrew decompose to
	// nothing: lower-case them here rather than through NFKD.
	case r >= 'а' && r <= 'я', r >= 0x0621 && r <= 0x063A && (r < 0x0622 || r > 0x0626), r >= 0x0641 && r <= 0x064A, r >= 0x05D0 && r <= 0x05EA,
		r == 'پ', r == 'چ', r == 'ژ', r == 'گ':
		return r, false, true
	case r >= 'А' && r <= 'Я':
		return r + 'а' - 'А', false, true
	case r >= '٠' && r <= '٩': // Arabic-Indic digits
		return '0' + r - '٠', false, true
	case r >= '۰' && r <= '۹': // Persian digits
		return '0' + r - '۰', false, true
	case r >= 0x4E00 && r <= 0x9FFF || r >= 0x3400 && r <= 0x4DBF || r >= 0x20000 && r <= 0x3134F:
		return t2s(r), false, true
	case r >= 0xAC00 && r <= 0xD7A3, r >= 0x3040 && r <= 0x30FA, r >= 0x30FC && r <= 0x30FF:
		// Hangul syllables and kana stay whole: decomposing them would
		// split a syllable into jamo and strip the voicing marks of kana.
		return r, false, true
	}
	return 0, false, false
}

//go:generate go run gen_t2s.go

// t2s maps a traditional Chinese or Japanese shinjitai character to its
// simplified Chinese form (t2s_table.go, generated from OpenCC's tables).
func t2s(r rune) rune {
	lo, hi := 0, len(t2sTable)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		switch e := t2sTable[m][0]; {
		case e < r:
			lo = m + 1
		case e > r:
			hi = m
		default:
			return t2sTable[m][1]
		}
	}
	return r
}

// ---- Cyrillic --------------------------------------------------------------

// cyrEndings are the case and number endings of Russian and Ukrainian
// nouns and adjectives, written folded (ё→е, ї→і), longest first within
// each length. A word is folded to
// its stem by removing the longest of them that leaves at least
// minCyrStem letters, so "Нарышкин", "Нарышкина" and "Нарышкиным", or
// "министр", "министра", "министров", all read alike, and so do the
// words inside a phrase ("министром иностранных дел"). Stems are what is
// compared; they are never shown (an alias is quoted as the text has it).
var cyrEndings = [][]string{
	{"ого", "его", "ому", "ему", "ыми", "ими", "ами", "ями", "ией", "иях", "иям", "еем", "ием", "ові", "еві", "ією", "ієі"},
	{"ея", "ой", "ей", "ый", "ий", "ая", "яя", "ое", "ее", "ые", "ие", "ую", "юю", "ых", "их", "ым", "им", "ом", "ем",
		"ою", "ею", "ью", "ия", "ии", "ию", "ам", "ям", "ах", "ях", "ов", "ев", "ів", "ій", "оі", "ія", "іі", "ію", "ім", "іх"},
	{"а", "я", "о", "е", "ы", "и", "у", "ю", "ь", "й", "і", "є"},
}

const minCyrStem = 3

// cyrStem returns the length of the stem of a folded Cyrillic word (all
// two-byte runes). A stem that still ends in the -ов/-ев of a surname is
// cut again, so that "Лавров" (-ов read as an ending) and "Лаврова" (-а)
// meet at "лавр".
func cyrStem(w []byte) int {
	n := cutEnding(w)
	if n < len(w) && n >= 2*(minCyrStem+2) {
		if s := string(w[n-4 : n]); s == "ов" || s == "ев" {
			n -= 4
		}
	}
	return n
}

func cutEnding(w []byte) int {
	n := len(w)
	if n-6 >= 2*minCyrStem && hasKey(cyrEndings3, endingKey(w[n-6:])) {
		return n - 6
	}
	// Endings of one and two letters, looked up by letter.
	last := cyrLetter(w, n-2)
	if n-4 >= 2*minCyrStem && last >= 0 {
		if first := cyrLetter(w, n-4); first >= 0 && cyrEndings2[first]&(1<<last) != 0 {
			return n - 4
		}
	}
	if n-2 >= 2*minCyrStem && last >= 0 && cyrEndings1&(1<<last) != 0 {
		return n - 2
	}
	return n
}

// cyrLetter returns the place from а (U+0430) of the letter up to џ
// (U+045F) written at w[i:i+2], or -1 for any other bytes: the folded
// Cyrillic letters, in which every ending is written.
func cyrLetter(w []byte, i int) int {
	if i < 0 || i+1 >= len(w) || w[i] < 0xD0 || w[i] > 0xD1 || w[i+1]&0xC0 != 0x80 {
		return -1
	}
	l := int(w[i]&0x1F)<<6 | int(w[i+1]&0x3F) - 0x430
	if l < 0 || l >= 48 {
		return -1
	}
	return l
}

// cyrEndings1 has a bit for each one-letter ending (cyrLetter);
// cyrEndings2[a] a bit for each letter b of the two-letter endings ab.
var cyrEndings1, cyrEndings2 = func() (uint64, [48]uint64) {
	var one uint64
	var two [48]uint64
	for _, e := range cyrEndings[2] {
		l := cyrLetter([]byte(e), 0)
		if l < 0 || len(e) != 2 {
			panic("rules: Cyrillic ending " + e + " outside а–џ")
		}
		one |= 1 << l
	}
	for _, e := range cyrEndings[1] {
		a, b := cyrLetter([]byte(e), 0), cyrLetter([]byte(e), 2)
		if a < 0 || b < 0 || len(e) != 4 {
			panic("rules: Cyrillic ending " + e + " outside а–џ")
		}
		two[a] |= 1 << b
	}
	return one, two
}()

// hasKey reports whether the sorted keys hold k.
func hasKey(keys []uint64, k uint64) bool {
	lo, hi := 0, len(keys)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if keys[m] < k {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo < len(keys) && keys[lo] == k
}

// endingKey packs an ending of at most 8 bytes into a number, so that
// looking it up needs no hashing.
func endingKey(b []byte) uint64 {
	var k uint64
	for _, c := range b {
		k = k<<8 | uint64(c)
	}
	return k
}

// cyrEndings3 are the three-letter endings as sorted keys (endingKey);
// the shorter ones are looked up by letter (cyrEndings1, cyrEndings2).
var cyrEndings3 = func() []uint64 {
	var keys []uint64
	for _, e := range cyrEndings[0] {
		if len(e) != 6 {
			panic("rules: Cyrillic ending " + e + " in the wrong list")
		}
		keys = append(keys, endingKey([]byte(e)))
	}
	slices.Sort(keys)
	return keys
}()

// Latin letters that look like Cyrillic ones, folded to lower case. A word
// mixing the two scripts ("Нарышкин" typed with a Latin "а") is read in
// the script of most of its letters when every letter of the other script
// has a look-alike.
var latinToCyr = map[rune]rune{
	'a': 'а', 'b': 'в', 'c': 'с', 'e': 'е', 'h': 'н', 'i': 'і', 'k': 'к', 'm': 'м',
	'o': 'о', 'p': 'р', 't': 'т', 'x': 'х', 'y': 'у',
}

var cyrToLatin = func() map[rune]rune {
	m := make(map[rune]rune, len(latinToCyr))
	for l, c := range latinToCyr {
		m[c] = l
	}
	return m
}()

// unmix rewrites a word that mixes Latin and Cyrillic letters into the
// script of most of them, when every letter of the other has a look-alike;
// it returns the word unchanged otherwise. buf is scratch space.
func unmix(w []byte, buf []byte) ([]byte, bool) {
	latin, cyr := 0, 0
	for i := 0; i < len(w); {
		s, size := scriptAt(w, i)
		r, _ := utf8.DecodeRune(w[i:])
		switch {
		case s == scCyrillic:
			cyr++
		case s == scLatin && unicode.IsLetter(r):
			latin++
		}
		i += size
	}
	if latin == 0 || cyr == 0 {
		return w, false
	}
	toCyr := cyr >= latin
	table := latinToCyr
	if !toCyr {
		table = cyrToLatin
	}
	out := buf[:0]
	for i := 0; i < len(w); {
		r, size := utf8.DecodeRune(w[i:])
		i += size
		s := scriptOf(r)
		if toCyr && s == scLatin && unicode.IsLetter(r) || !toCyr && s == scCyrillic {
			m, ok := table[r]
			if !ok {
				return w, false
			}
			r = m
		}
		out = utf8.AppendRune(out, r)
	}
	return out, true
}

// ---- Arabic and Persian --------------------------------------------------

// Arabic clitic prefixes: a conjunction (و "and", ف "so"), then a
// preposition (ب "in", ل "for", ك "as"), then the article ال (or لل, ل with
// the article). scan starts a match after each of them as well as at the
// start of the word, so "والمخابرات" and "للمخابرات" hold "مخابرات".
const (
	arWaw   = "و"
	arFa    = "ف"
	arBa    = "ب"
	arLam   = "ل"
	arKaf   = "ك"
	arAl    = "ال"
	arLilla = "لل"
)

// arabicStarts appends to out the offsets inside an Arabic-script word
// (after clitic prefixes) where a name may start, leaving at least two
// letters.
func arabicStarts(w []byte, out []int) []int {
	const minRest = 2 * 2 // two letters of two bytes
	add := func(at int) {
		if at > 0 && len(w)-at >= minRest && !slices.Contains(out, at) {
			out = append(out, at)
		}
	}
	var conjBuf, prepBuf [2]int // at most two each: no allocation
	conj := append(conjBuf[:0], 0)
	if hasAt(w, 0, arWaw) || hasAt(w, 0, arFa) {
		conj = append(conj, 2)
		add(2)
	}
	for _, c := range conj {
		preps := append(prepBuf[:0], c)
		if hasAt(w, c, arBa) || hasAt(w, c, arLam) || hasAt(w, c, arKaf) {
			preps = append(preps, c+2)
			add(c + 2)
		}
		if hasAt(w, c, arLilla) {
			add(c + 4)
		}
		for _, p := range preps {
			if hasAt(w, p, arAl) {
				add(p + 4)
			}
		}
	}
	return out
}

func hasAt(w []byte, at int, s string) bool {
	return at+len(s) <= len(w) && string(w[at:at+len(s)]) == s
}

// arabicSuffixes may follow an Arabic-script name inside its word: the
// relative (nisba) and feminine endings ("مصري", "المصرية" after "مصر"),
// duals and plurals, possessive pronouns ("نظيره", his counterpart) and
// the Persian plural and indefinite endings. Names of three letters or
// fewer take only the nisba endings: "سیا" (the CIA in Persian) must not
// read "سیاه" (black).
var (
	arabicSuffixes = []string{
		"ي", "ية", "يه", "ة", "ه", "ها", "هم", "هما", "ان", "ين", "ون", "ات", "يين", "يون", "يان", "يي",
		"اي", "هاي", "هايي", "ش", "شان", "مان", "يا", "ا",
	}
	arabicShortSuffixes = []string{"ي", "ية", "يه", "ة", "يين", "يون", "يي"}
)

// hebrewPrefixes are the one-letter words written onto the next word:
// ו "and", ה "the", ב "in", ל "to", מ "from", ש "that", כ "as"; up to three
// of them stack ("ובשב"כ").
const hebrewPrefixes = "והבלמשכ"

func hebrewStarts(w []byte, out []int) []int {
	const minRest = 2 * 2
	for at, n := 0, 0; n < 3 && at+2 <= len(w); n++ {
		r, size := utf8.DecodeRune(w[at:])
		if !containsRune(hebrewPrefixes, r) {
			break
		}
		at += size
		if len(w)-at < minRest {
			break
		}
		out = append(out, at)
	}
	return out
}

func containsRune(s string, r rune) bool {
	for _, c := range s {
		if c == r {
			return true
		}
	}
	return false
}

// hebrewSuffixes may follow a Hebrew name inside its word: the relative
// adjective and its plural and feminine forms ("המצרית" after "מצרי"),
// noun plurals, and "his" ("עמיתו", his counterpart).
var hebrewSuffixes = []string{"י", "ית", "ת", "ים", "ות", "יים", "יות", "ו", "יו"}

// suffix classes of an alias (payload.suffix): which endings may follow
// it inside a word.
const (
	sfxNone uint8 = iota
	sfxArabicShort
	sfxArabic
	sfxHebrew
)

// suffixOK reports whether rest (the remainder of a word after an alias)
// is an ending the alias's class allows.
func suffixOK(class uint8, rest []byte) bool {
	var list []string
	switch class {
	case sfxArabic:
		list = arabicSuffixes
	case sfxArabicShort:
		list = arabicShortSuffixes
	case sfxHebrew:
		list = hebrewSuffixes
	default:
		return false
	}
	for _, s := range list {
		if string(rest) == s {
			return true
		}
	}
	return false
}

// Persian writes suffixes and the verbal prefix می after a zero-width
// non-joiner ("سازمان‌های", "می‌کنند"); fold drops these, so that
// "سازمان‌های اطلاعاتی" holds the words of "سازمان اطلاعاتی".
var (
	persianSuffixes = []string{"ها", "هاي", "هايي", "هايش", "هاش", "اي", "ي", "ام", "ات", "اش", "مان", "تان", "شان", "تر", "ترين", "يي"}
	persianPrefixes = []string{"مي", "نمي"}
	persianPlurals  = []string{"ها", "هاي", "هايي"}
)

func inList(list []string, w []byte) bool {
	for _, s := range list {
		if string(w) == s {
			return true
		}
	}
	return false
}
