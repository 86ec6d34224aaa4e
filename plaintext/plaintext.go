// Package plaintext turns feed HTML into text and keeps text within bounds:
// FromHTML and FromHTMLLines for markup, OneLine for white space, Truncate
// for length. Every place that shows or matches feed text uses these, so a
// tag or an entity reads the same in an alert, in a reply and to the
// matcher.
//
// The HTML functions are a scanner, not a parser: feed text only has to
// become readable and matchable, and they run on every item of every
// changed feed, where building a tree would cost as much as parsing the
// feed. They follow the HTML tokenizer where it matters for text:
//   - a '<' not followed by a letter, '/', '!' or '?' is text ("a < b");
//   - a tag ends at the first '>' outside a quoted attribute value;
//   - a tag or comment left open at the end drops the rest, rather than
//     show markup;
//   - the bodies of <script> and <style> are dropped;
//   - entities are decoded after the tags are gone, so "&lt;b&gt;" is the
//     text "<b>", and decoded twice, because feeds often escape them twice
//     ("&amp;#8217;" is "’").
//
// Elements are of three kinds. Inline ones (<b>, <a>, <span>, <wbr>…) do
// not separate words: "Ka<b>lın</b>" is one word. Block ones (<p>, <li>,
// <h2>, <br>, <td>…) end a line. Every other tag, comment or declaration,
// and any element this package does not know, separates words, since
// gluing two words together is worse than splitting one.
package plaintext

import (
	"html"
	"strings"
	"unicode"
	"unicode/utf8"
)

// FromHTML returns the text of an HTML fragment on one line: tags removed,
// script and style bodies dropped, entities decoded, every run of white
// space (including non-breaking and zero-width spaces) one space, trimmed.
// The result always satisfies OneLine(r) == r.
func FromHTML(s string) string {
	if strings.IndexByte(s, '<') < 0 {
		return OneLine(unescape(s))
	}
	w := writer{oneLine: true}
	w.b.Grow(len(s))
	scan(&w, s)
	out := w.b.String()
	if hasEntity(out) {
		// &nbsp; and friends can bring white space back.
		out = OneLine(unescape(out))
	}
	return out
}

// FromHTMLLines returns the text of an HTML fragment with its shape: a
// block-level tag becomes a line break, any other tag that separates words
// one space, and the text between tags is kept as written (white space
// included) after decoding entities. The matcher reads sentences from it:
// a paragraph or list item ends one. OneLine(FromHTMLLines(s)) equals
// FromHTML(s).
func FromHTMLLines(s string) string {
	if strings.IndexByte(s, '<') < 0 {
		return unescape(s)
	}
	var w writer
	w.b.Grow(len(s))
	scan(&w, s)
	return unescape(w.b.String())
}

// kind is what an element does to the text around it.
type kind uint8

const (
	separating kind = iota // words either side stay apart
	inline                 // no boundary at all
	block                  // ends a line
)

// kindOf classifies an element by its lower-case name.
func kindOf(name string) kind {
	switch name {
	case "a", "abbr", "acronym", "b", "bdi", "bdo", "big", "cite", "code", "data", "del", "dfn",
		"em", "font", "i", "ins", "kbd", "mark", "nobr", "q", "rp", "rt", "ruby", "s", "samp",
		"small", "span", "strike", "strong", "sub", "sup", "time", "tt", "u", "var", "wbr":
		return inline
	case "address", "article", "aside", "blockquote", "br", "caption", "center", "dd", "details",
		"dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form",
		"h1", "h2", "h3", "h4", "h5", "h6", "header", "hgroup", "hr", "legend", "li", "main",
		"menu", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody", "td", "tfoot",
		"th", "thead", "tr", "ul":
		return block
	}
	return separating
}

// writer receives the text and the boundaries found by scan.
type writer struct {
	b       strings.Builder
	oneLine bool // collapse white space (FromHTML) or keep it (FromHTMLLines)
	pending bool // oneLine: a space is owed before the next text
}

// text appends text found between tags.
func (w *writer) text(s string) {
	if !w.oneLine {
		w.b.WriteString(s)
		return
	}
	appendCollapsed(&w.b, s, &w.pending)
}

// boundary records a tag (or comment) of kind k.
func (w *writer) boundary(k kind) {
	switch {
	case k == inline:
	case w.oneLine:
		w.pending = w.b.Len() > 0
	case k == block:
		w.b.WriteByte('\n')
	default:
		w.b.WriteByte(' ')
	}
}

// scan strips the markup of s, passing text and boundaries to w.
func scan(w *writer, s string) {
	for i := 0; i < len(s); {
		j := strings.IndexByte(s[i:], '<')
		if j < 0 {
			w.text(s[i:])
			return
		}
		w.text(s[i : i+j])
		i += j
		if i+1 >= len(s) || !tagStart(s[i+1]) {
			w.text("<")
			i++
			continue
		}
		if strings.HasPrefix(s[i:], "<!--") {
			// "<!-->" and "<!--->" are (empty) comments too.
			end := strings.Index(s[i+2:], "-->")
			if end < 0 {
				return
			}
			i += 2 + end + 3
			w.boundary(separating)
			continue
		}
		end := tagEnd(s, i+1)
		if end < 0 {
			return
		}
		tag := s[i+1 : end]
		i = end + 1
		name := tagName(tag)
		if (name == "script" || name == "style") && tag[0] != '/' {
			// Drop the body; its closing tag is read next, as a boundary.
			k := indexEndTag(s[i:], name)
			if k < 0 {
				return
			}
			i += k
			continue
		}
		w.boundary(kindOf(name))
	}
}

func tagStart(c byte) bool {
	return c == '/' || c == '!' || c == '?' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

// tagEnd returns the index of the '>' that closes the tag whose body starts
// at s[i], skipping attribute values in quotes, or -1 when there is none.
// As in HTML, a quote opens a value only right after '=' (and white space):
// in <a title=it's> it is text.
func tagEnd(s string, i int) int {
	for ; i < len(s); i++ {
		switch s[i] {
		case '>':
			return i
		case '=':
			k := i + 1
			for k < len(s) && isHTMLSpace(s[k]) {
				k++
			}
			if k < len(s) && (s[k] == '"' || s[k] == '\'') {
				q := strings.IndexByte(s[k+1:], s[k])
				if q < 0 {
					return -1
				}
				i = k + 1 + q
			}
		}
	}
	return -1
}

func isHTMLSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f'
}

// tagName returns the lower-case element name of a tag body such as "/p",
// "br/", "h2 class=x" or `a href="…"`: its letters and digits.
func tagName(body string) string {
	body = strings.TrimPrefix(body, "/")
	n := 0
	for n < len(body) && (isASCIILetter(body[n]) || (n > 0 && '0' <= body[n] && body[n] <= '9')) {
		n++
	}
	return strings.ToLower(body[:n])
}

func isASCIILetter(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// indexEndTag returns the index in s of the end tag of the element name
// (lower-case ASCII), "</name" in any case followed by white space, '/',
// '>' or the end of s, or -1. It indexes s itself: lower-casing s first
// would change its length when it holds invalid UTF-8, and the index would
// point elsewhere.
func indexEndTag(s, name string) int {
	for i := 0; i+2+len(name) <= len(s); i++ {
		j := strings.Index(s[i:], "</")
		if j < 0 {
			return -1
		}
		i += j
		rest := s[i+2:]
		if len(rest) < len(name) {
			return -1
		}
		k := 0
		for k < len(name) && lowerASCII(rest[k]) == name[k] {
			k++
		}
		if k == len(name) && (k == len(rest) || isHTMLSpace(rest[k]) || rest[k] == '/' || rest[k] == '>') {
			return i
		}
	}
	return -1
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// unescape decodes entities, twice when a feed escaped them twice
// ("&amp;#8217;").
func unescape(s string) string {
	if !hasEntity(s) {
		return s
	}
	s = html.UnescapeString(s)
	if hasEntity(s) {
		s = html.UnescapeString(s)
	}
	return s
}

// hasEntity reports whether s may hold a character reference: an '&'
// followed by '#' or a letter. Anything else html.UnescapeString leaves as
// it is, so it need not be called (and allocate).
func hasEntity(s string) bool {
	for {
		i := strings.IndexByte(s, '&')
		if i < 0 || i+1 >= len(s) {
			return false
		}
		if c := s[i+1]; c == '#' || isASCIILetter(c) {
			return true
		}
		s = s[i+1:]
	}
}

// OneLine returns s with every run of white space turned into one space
// and none at either end. White space is what unicode.IsSpace says
// (non-breaking spaces, line and paragraph separators included) plus the
// zero-width space and the byte-order mark, which are invisible and only
// get in the way. Text that needs no change is returned as is, without
// allocating.
func OneLine(s string) string {
	if collapsed(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	pending := false
	appendCollapsed(&b, s, &pending)
	return b.String()
}

// appendCollapsed appends s to b with runs of white space turned into
// single spaces; pending carries an owed space across calls, and no space
// is ever written first.
func appendCollapsed(b *strings.Builder, s string, pending *bool) {
	for i := 0; i < len(s); {
		start := i
		for i < len(s) {
			if c := s[i]; c < utf8.RuneSelf {
				if c == ' ' || '\t' <= c && c <= '\r' {
					break
				}
				i++
				continue
			}
			r, n := utf8.DecodeRuneInString(s[i:])
			if isSpace(r) {
				break
			}
			i += n
		}
		if i > start {
			if *pending && b.Len() > 0 {
				b.WriteByte(' ')
			}
			*pending = false
			b.WriteString(s[start:i])
		}
		for i < len(s) {
			if c := s[i]; c < utf8.RuneSelf {
				if c != ' ' && (c < '\t' || c > '\r') {
					break
				}
				i++
				*pending = true
				continue
			}
			r, n := utf8.DecodeRuneInString(s[i:])
			if !isSpace(r) {
				break
			}
			i += n
			*pending = true
		}
	}
}

// collapsed reports whether s has no leading, trailing, repeated or
// non-' ' white space.
func collapsed(s string) bool {
	prevSpace := true // a leading space is not collapsed
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			i++
			switch {
			case c == ' ':
				if prevSpace {
					return false
				}
				prevSpace = true
			case '\t' <= c && c <= '\r':
				return false
			default:
				prevSpace = false
			}
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if isSpace(r) {
			return false
		}
		i += n
		prevSpace = false
	}
	return !prevSpace || s == ""
}

// isSpace is unicode.IsSpace plus the zero-width space and the byte-order
// mark.
func isSpace(r rune) bool {
	return unicode.IsSpace(r) || r == '\u200b' || r == '\ufeff'
}

// Truncate returns s cut to at most n characters, counted in runes (an
// invalid byte counts as one), for limits such as Discord's that count
// characters. When s is longer, the result ends in an ellipsis "…" that
// counts toward n, and the white space before it is dropped: Truncate("a
// b c", 4) is "a b…". s itself is returned when it fits, and "" when n is
// not positive. Cutting never splits a rune, and the bytes kept are those
// of s.
func Truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	if len(s) <= n {
		return s // a rune is at least one byte
	}
	cut, count := 0, 0
	for i := range s {
		if count == n-1 {
			cut = i
		}
		if count == n {
			return strings.TrimRightFunc(s[:cut], isSpace) + "…"
		}
		count++
	}
	return s
}
