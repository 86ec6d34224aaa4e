package commands

import (
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/backchannel/backchannel/plaintext"
)

const embedColor = 0x4F6D7A

// listEmbeds lays lines out as embed descriptions within Discord's limits
// (4096 per description, 10 embeds, 6000 characters in all). Lines that do
// not fit are counted in a last line instead of being cut mid-way.
func listEmbeds(title string, lines []string) []*discordgo.MessageEmbed {
	title = plaintext.Truncate(title, maxEmbedTitle)
	budget := maxEmbedTotal - utf8.RuneCountInString(title) - 64 // room for the "more" line
	var (
		embeds []*discordgo.MessageEmbed
		cur    strings.Builder
		curLen int
	)
	flush := func() {
		if cur.Len() == 0 {
			return
		}
		e := &discordgo.MessageEmbed{Description: cur.String(), Color: embedColor}
		if len(embeds) == 0 {
			e.Title = title
		}
		embeds = append(embeds, e)
		cur.Reset()
		curLen = 0
	}
	shown := 0
	for _, l := range lines {
		l = plaintext.Truncate(l, 1000)
		n := utf8.RuneCountInString(l) + 1
		if n > budget {
			break
		}
		if curLen+n > maxEmbedDescription {
			if len(embeds) == maxEmbeds-1 {
				break
			}
			flush()
		}
		cur.WriteString(l)
		cur.WriteByte('\n')
		curLen += n
		budget -= n
		shown++
	}
	if rest := len(lines) - shown; rest > 0 {
		more := fmt.Sprintf("… and %d more", rest)
		if curLen+len(more) > maxEmbedDescription {
			flush()
		}
		cur.WriteString(more)
	}
	flush()
	if len(embeds) == 0 {
		embeds = append(embeds, &discordgo.MessageEmbed{Title: title, Color: embedColor})
	}
	return embeds
}

// fieldsEmbed puts fields into one embed, stopping before Discord's limits.
func fieldsEmbed(title, description string, fields []*discordgo.MessageEmbedField) *discordgo.MessageEmbed {
	return fieldsEmbedWithin(title, description, fields, maxEmbedTotal-100)
}

// fieldsEmbedWithin is fieldsEmbed within budget characters, leaving the
// rest of the message's 6000 to other embeds.
func fieldsEmbedWithin(title, description string, fields []*discordgo.MessageEmbedField, budget int) *discordgo.MessageEmbed {
	e := &discordgo.MessageEmbed{
		Title:       plaintext.Truncate(title, maxEmbedTitle),
		Description: plaintext.Truncate(description, maxEmbedDescription),
		Color:       embedColor,
	}
	total := utf8.RuneCountInString(e.Title) + utf8.RuneCountInString(e.Description)
	for _, f := range fields {
		f.Name = plaintext.Truncate(nonEmpty(f.Name, "—"), maxFieldName)
		f.Value = plaintext.Truncate(nonEmpty(f.Value, "—"), maxFieldValue)
		n := utf8.RuneCountInString(f.Name) + utf8.RuneCountInString(f.Value)
		if len(e.Fields) == maxEmbedFields || total+n > budget {
			break
		}
		total += n
		e.Fields = append(e.Fields, f)
	}
	return e
}

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

func nonEmpty(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

// when renders t as a Discord timestamp, which each reader sees in their own
// time zone, or def when t is zero.
func when(t time.Time, def string) string {
	if t.IsZero() {
		return def
	}
	return fmt.Sprintf("<t:%d:R>", t.Unix())
}

// inline escapes the markdown that would let feed or user text change how a
// reply reads (a title closing a code span, or faking a link).
func inline(s string) string {
	r := strings.NewReplacer(
		"\\", "\\\\", "`", "\\`", "*", "\\*", "_", "\\_", "~", "\\~",
		"|", "\\|", "[", "\\[", "]", "\\]", ">", "\\>", "#", "\\#",
	)
	return r.Replace(plaintext.OneLine(s))
}

// codeBlock fences s so that nothing inside can close the fence early.
func codeBlock(lang, s string) string {
	return "```" + lang + "\n" + strings.ReplaceAll(s, "```", "``\u200b`") + "\n```"
}

// maxLinkURL caps a markdown link's target: a longer link is left out and
// its text shown alone, so one feed's link cannot fill a whole field.
const maxLinkURL = 512

// MarkdownLink renders text as a markdown link to link, for Discord embeds
// and replies: text is made one line with its markdown escaped (a feed name
// cannot fake a link or close the one it is in), and the link is used only
// when it is an absolute http(s) URL of at most maxLinkURL bytes, with the
// characters that could end or reshape the link percent-encoded. Otherwise
// the escaped text stands alone. Mentions are left to allowed_mentions
// (and to the embed's own neutralising); the target never holds one.
func MarkdownLink(text, link string) string {
	text = inline(text)
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
	if link == "" || len(link) > maxLinkURL {
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
