// Package markdown writes Discord markdown that feed and user text cannot
// break: text escaped so it cannot fake a link, close a code span or
// format a reply, links whose targets cannot be reshaped, and lists fitted
// to Discord's limits without cutting a line (or a link) in two. Replies
// (commands) and alert embeds (bot) share it.
package markdown

import (
	"fmt"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/backchannel/backchannel/plaintext"
)

// FitLines joins as many lines as fit in limit characters (the newlines
// included), then says how many were left out ("… and N more"); no line is
// cut, so no link is broken. The embed of an alert's Sources uses it too.
func FitLines(lines []string, limit int) string {
	if all := strings.Join(lines, "\n"); utf8.RuneCountInString(all) <= limit {
		return all
	}
	var b strings.Builder
	n := 0
	for i, l := range lines {
		need := n + utf8.RuneCountInString(l)
		if i > 0 {
			need++
		}
		if rest := len(lines) - i - 1; rest > 0 {
			need += 1 + utf8.RuneCountInString(moreLine(rest))
		}
		if need > limit {
			if i > 0 {
				b.WriteByte('\n')
			}
			b.WriteString(moreLine(len(lines) - i))
			break
		}
		if i > 0 {
			b.WriteByte('\n')
			n++
		}
		b.WriteString(l)
		n += utf8.RuneCountInString(l)
	}
	return b.String()
}

func moreLine(n int) string { return fmt.Sprintf("… and %d more", n) }

// Escape makes s one line and escapes the markdown that would let feed or user text change how a
// reply reads (a title closing a code span, or faking a link).
func Escape(s string) string {
	r := strings.NewReplacer(
		"\\", "\\\\", "`", "\\`", "*", "\\*", "_", "\\_", "~", "\\~",
		"|", "\\|", "[", "\\[", "]", "\\]", ">", "\\>", "#", "\\#",
	)
	return r.Replace(plaintext.OneLine(s))
}

// CodeBlock fences s so that nothing inside can close the fence early.
func CodeBlock(lang, s string) string {
	return "```" + lang + "\n" + strings.ReplaceAll(s, "```", "``\u200b`") + "\n```"
}

// MaxLinkURL caps a markdown link's target: a longer link is left out and
// its text shown alone, so one feed's link cannot fill a whole field.
const MaxLinkURL = 512

// Link renders text as a markdown link to link, for Discord embeds
// and replies: text is made one line with its markdown escaped (a feed name
// cannot fake a link or close the one it is in), and the link is used only
// when it is an absolute http(s) URL of at most MaxLinkURL bytes, with the
// characters that could end or reshape the link percent-encoded. Otherwise
// the escaped text stands alone. Mentions are left to allowed_mentions
// (and to the embed's own neutralising); the target never holds one.
func Link(text, link string) string {
	text = Escape(text)
	if target := markdownURL(link); target != "" && text != "" {
		return "[" + text + "](" + target + ")"
	}
	return text
}

// markdownURLEscaper percent-encodes what would end a link target early
// (white space, parentheses, angle brackets), what markdown or a mention
// would read in it, and the quote that starts a link title.
var markdownURLEscaper = strings.NewReplacer(
	" ", "%20", "(", "%28", ")", "%29", "<", "%3C", ">", "%3E", "[", "%5B", "]", "%5D",
	"`", "%60", "\\", "%5C", "|", "%7C", "@", "%40", "\"", "%22",
)

// markdownURL returns link fit to be a markdown link's target, or "".
func markdownURL(link string) string {
	link = strings.TrimSpace(link)
	if link == "" || len(link) > MaxLinkURL {
		return ""
	}
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		strings.ContainsAny(u.Host, "()<>[]`\\|@\"") || strings.ContainsFunc(u.Host, unicode.IsSpace) {
		return ""
	}
	// The host is checked above rather than escaped (an IPv6 literal, whose
	// brackets a markdown reader could take for link text, is refused);
	// the rest is escaped.
	rest := u.EscapedPath()
	if u.ForceQuery || u.RawQuery != "" {
		rest += "?" + u.RawQuery
	}
	if u.Fragment != "" {
		rest += "#" + u.EscapedFragment()
	}
	rest = markdownURLEscaper.Replace(rest)
	// A raw query may still hold non-ASCII text, some of it white space
	// to Discord (a no-break space, a line separator): encode it as a
	// browser would.
	var b strings.Builder
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; c >= utf8.RuneSelf {
			fmt.Fprintf(&b, "%%%02X", c)
		} else {
			b.WriteByte(c)
		}
	}
	return u.Scheme + "://" + u.Host + b.String()
}
