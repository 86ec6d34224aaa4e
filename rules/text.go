package rules

import (
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
// every byte of it the offset of the source rune in the cleaned text, so a
// hit can be shown as written.
type folded struct {
	src  string  // cleaned text (tags stripped, entities decoded)
	text []byte  // folded text
	from []int32 // from[i]: offset in src of the rune that produced text[i]
}

// span returns the source text behind folded bytes [b0, b1).
func (f *folded) span(b0, b1 int) string {
	if b0 < 0 || b1 > len(f.text) || b0 >= b1 {
		return ""
	}
	s := int(f.from[b0])
	last := int(f.from[b1-1])
	_, size := utf8.DecodeRuneInString(f.src[last:])
	return f.src[s : last+size]
}

// fold appends the folded form of src to dst and returns it. It is the one
// normalisation used for both aliases and article text:
//   - compatibility decomposition (the K of NFKC: ligatures, full-width
//     forms, non-breaking spaces) and removal of combining marks, so
//     diacritics fold away (é→e, İ→i, ğ→g);
//   - lower case, with the letters that have no decomposition mapped by
//     hand (ı→i, ß→ss, ø→o, đ→d, ł→l, æ→ae, œ→oe);
//   - every apostrophe-like mark becomes "'", and hyphens and dashes become
//     spaces, so "Al-Thani", "Al Thani" and "Al–Thani" are one spelling;
//   - runs of white space collapse to one space; a line break survives as
//     a sentence boundary.
//
// from, when not nil, receives the source offset of each output byte.
func fold(dst []byte, from []int32, src string) ([]byte, []int32) {
	var dec [32]byte
	for i := 0; i < len(src); {
		r, size := utf8.DecodeRuneInString(src[i:])
		at := int32(i)
		i += size
		if r < utf8.RuneSelf {
			dst, from = foldASCII(dst, from, byte(r), at)
			continue
		}
		if s, ok := specialFold(r); ok {
			for j := 0; j < len(s); j++ {
				dst, from = foldASCII(dst, from, s[j], at)
			}
			continue
		}
		if unicode.Is(unicode.Mn, r) {
			continue
		}
		if unicode.IsSpace(r) {
			dst, from = foldASCII(dst, from, ' ', at)
			continue
		}
		n := utf8.EncodeRune(dec[:], r)
		parts := norm.NFKD.Append(dec[n:n], dec[:n]...)
		for len(parts) > 0 {
			pr, psize := utf8.DecodeRune(parts)
			parts = parts[psize:]
			switch {
			case pr < utf8.RuneSelf:
				dst, from = foldASCII(dst, from, byte(pr), at)
			case unicode.Is(unicode.Mn, pr):
			default:
				if s, ok := specialFold(pr); ok {
					for j := 0; j < len(s); j++ {
						dst, from = foldASCII(dst, from, s[j], at)
					}
					continue
				}
				start := len(dst)
				dst = utf8.AppendRune(dst, unicode.ToLower(pr))
				for k := start; k < len(dst) && from != nil; k++ {
					from = append(from, at)
				}
			}
		}
	}
	// Drop a trailing space so folded aliases and texts end on a word.
	if n := len(dst); n > 0 && dst[n-1] == ' ' {
		dst = dst[:n-1]
		if from != nil {
			from = from[:n-1]
		}
	}
	return dst, from
}

func foldASCII(dst []byte, from []int32, c byte, at int32) ([]byte, []int32) {
	switch {
	case c >= 'A' && c <= 'Z':
		c += 'a' - 'A'
	case c == '-' || c == '\t' || c == '\r' || c == '\v' || c == '\f' || c == '_':
		c = ' '
	case c == '`':
		c = '\''
	}
	n := len(dst)
	switch c {
	case ' ':
		if n == 0 || dst[n-1] == ' ' || dst[n-1] == '\n' {
			return dst, from
		}
	case '\n':
		if n == 0 || dst[n-1] == '\n' {
			return dst, from
		}
		if dst[n-1] == ' ' {
			dst[n-1] = '\n'
			return dst, from
		}
	}
	dst = append(dst, c)
	if from != nil {
		from = append(from, at)
	}
	return dst, from
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
	case '\u2028', '\u2029', '\u0085':
		return "\n", true
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
// multi-byte runes count as word bytes: after folding they are letters of
// other scripts far more often than punctuation.
func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c >= utf8.RuneSelf
}
