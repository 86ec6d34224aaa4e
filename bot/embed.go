package bot

import (
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/backchannel/backchannel/markdown"
	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/plaintext"
)

// Discord's embed limits, counted in characters (runes).
const (
	embedLimitTitle       = 256
	embedLimitDescription = 4096
	embedLimitFieldName   = 256
	embedLimitFieldValue  = 1024
	embedLimitFooter      = 2048
	embedLimitTotal       = 6000
	embedLimitURL         = 2048
	// embedSummaryRunes keeps the summary short: the alert is a pointer to
	// the article, not a copy of it.
	embedSummaryRunes = 500
	// embedSourceNameRunes caps one outlet's name in the Sources field, so
	// that one long feed name cannot crowd out the others.
	embedSourceNameRunes = 80
)

// embedSourcesField names the field that lists a story's reports.
const embedSourcesField = "Sources"

// Embed colours by the kind of contact.
const (
	embedColorIntel      = 0x8B1E3F
	embedColorDiplomatic = 0x1F6FEB
	embedColorOther      = 0x6E7781
)

// Embed builds the message embed for an alert: the article title linked to
// its source, a short summary, who met whom and how, the feed, the
// publication time, and the footer "alert <ID> · rule <NAME>" that /explain
// refers to. It is a pure function of the alert.
//
// An alert is the first report of its story: when the story has two or
// more Sources, a Sources field lists each outlet linked to its report and
// says how many there are. The same alert is rendered again, with more
// Sources, when its message is edited.
//
// Feed text is untrusted: mentions in it are neutralised here as well as by
// the allowed_mentions of the message, and every part is truncated to
// Discord's limits so a long article can never make the post fail.
func Embed(a model.Alert) *discordgo.MessageEmbed {
	art := a.Article
	title := embedClean(art.Title)
	if title == "" {
		title = "(untitled)"
	}
	e := &discordgo.MessageEmbed{
		Type:        discordgo.EmbedTypeRich,
		Title:       plaintext.Truncate(title, embedLimitTitle),
		URL:         embedLink(art.Link),
		Description: plaintext.Truncate(embedSummary(art), min(embedSummaryRunes, embedLimitDescription)),
		Color:       embedColor(a),
		Footer: &discordgo.MessageEmbedFooter{
			Text: plaintext.Truncate(EmbedFooter(a), embedLimitFooter),
		},
	}
	if !art.Published.IsZero() {
		e.Timestamp = art.Published.UTC().Format(time.RFC3339)
	}
	if len(a.Matches) > 0 {
		m := a.Matches[0]
		if who := EmbedWho(m); who != "" {
			e.Fields = append(e.Fields, embedField("Who", who, false))
		}
		if c := EmbedContact(m); c != "" {
			e.Fields = append(e.Fields, embedField("Contact", c, true))
		}
		if len(m.Keywords) > 0 && len(m.Actors) == 0 {
			e.Fields = append(e.Fields, embedField("Keywords", strings.Join(m.Keywords, ", "), true))
		}
	}
	if feed := embedClean(art.Feed); feed != "" {
		e.Fields = append(e.Fields, embedField("Source", feed, true))
	}
	if len(a.Sources) < 2 {
		embedFitTotal(e, 0)
		return e
	}
	// The sources are the point of an edit, so the other text gives way to
	// them; were that not enough, fewer sources are listed.
	sources := embedSources(a.Sources, embedLimitFieldValue)
	embedFitTotal(e, embedRunes(embedSourcesField)+embedRunes(sources))
	if room := embedLimitTotal - embedTotal(e) - embedRunes(embedSourcesField); embedRunes(sources) > room {
		sources = embedSources(a.Sources, room)
	}
	e.Fields = append(e.Fields, &discordgo.MessageEmbedField{Name: embedSourcesField, Value: sources})
	return e
}

// embedSources is the Sources field's value: "N sources", then one line
// per outlet, its feed name linked to its report, as many as fit in limit
// characters, then "… and N more".
func embedSources(srcs []model.Source, limit int) string {
	lines := make([]string, 0, len(srcs))
	for _, s := range srcs {
		lines = append(lines, embedSourceLine(s))
	}
	count := strconv.Itoa(len(srcs)) + " sources"
	return count + "\n" + markdown.FitLines(lines, limit-len(count)-1)
}

// embedSourceLine is one outlet: its feed name (or, lacking one, the
// report's host) linked to its report, markdown escaped and mentions
// neutralised.
func embedSourceLine(s model.Source) string {
	name := plaintext.OneLine(s.Feed)
	if name == "" {
		if u, err := url.Parse(strings.TrimSpace(s.Link)); err == nil {
			name = plaintext.OneLine(u.Hostname())
		}
	}
	if name == "" {
		name = "unnamed feed"
	}
	return embedNeutralize(markdown.Link(plaintext.Truncate(name, embedSourceNameRunes), s.Link))
}

// EmbedFooter is the footer text, "alert <ID> · rule <NAME>".
func EmbedFooter(a model.Alert) string {
	return "alert " + strconv.FormatInt(a.ID, 10) + " · rule " + embedNeutralize(a.Rule())
}

// EmbedWho renders the actors of a match (model.Match.Who), mentions
// neutralised.
func EmbedWho(m model.Match) string { return embedNeutralize(m.Who()) }

// EmbedContact renders the contact of a match (model.Match.How), mentions
// neutralised.
func EmbedContact(m model.Match) string { return embedNeutralize(m.How()) }

func embedField(name, value string, inline bool) *discordgo.MessageEmbedField {
	return &discordgo.MessageEmbedField{
		Name:   plaintext.Truncate(name, embedLimitFieldName),
		Value:  plaintext.Truncate(value, embedLimitFieldValue),
		Inline: inline,
	}
}

func embedColor(a model.Alert) int {
	if len(a.Matches) == 0 {
		return embedColorOther
	}
	for _, h := range a.Matches[0].Actors {
		if h.Kind == "intel" {
			return embedColorIntel
		}
	}
	if len(a.Matches[0].Actors) > 0 {
		return embedColorDiplomatic
	}
	return embedColorOther
}

// embedLink returns link if Discord will accept it as an embed URL;
// anything else would make the whole post fail with 400.
func embedLink(link string) string {
	link = strings.TrimSpace(link)
	if link == "" || len(link) > embedLimitURL {
		return ""
	}
	u, err := url.Parse(link)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ""
	}
	return u.String()
}

// embedSummary is the article's summary, or its content when it has none,
// as text: stored articles are plain text already (feeds.Parse), but one
// stored by an older version, or built by hand, may still hold HTML.
func embedSummary(art model.Article) string {
	if s := embedNeutralize(plaintext.FromHTML(art.Summary)); s != "" {
		return s
	}
	return embedNeutralize(plaintext.FromHTML(art.Content))
}

// embedClean collapses white space and neutralises mentions.
func embedClean(s string) string {
	return embedNeutralize(plaintext.OneLine(s))
}

// embedZWSP is a zero-width space: inserted into a mention it keeps the text
// readable but stops Discord from parsing it.
const embedZWSP = "\u200b"

var (
	embedMassMention = regexp.MustCompile(`(?i)@(everyone|here)`)
	embedIDMention   = regexp.MustCompile(`<(@[!&]?|#)`)
)

// embedNeutralize breaks @everyone, @here and <@id>, <@!id>, <@&role>, <#channel>
// mentions so they cannot ping even if allowed_mentions were lost.
func embedNeutralize(s string) string {
	s = embedMassMention.ReplaceAllString(s, "@"+embedZWSP+"$1")
	return embedIDMention.ReplaceAllString(s, "<"+embedZWSP+"$1")
}

func embedRunes(s string) int { return utf8.RuneCountInString(s) }

func embedTotal(e *discordgo.MessageEmbed) int {
	n := embedRunes(e.Title) + embedRunes(e.Description)
	for _, f := range e.Fields {
		n += embedRunes(f.Name) + embedRunes(f.Value)
	}
	if e.Footer != nil {
		n += embedRunes(e.Footer.Text)
	}
	if e.Author != nil {
		n += embedRunes(e.Author.Name)
	}
	return n
}

// embedFitTotal keeps the whole embed, with reserve characters still to be
// added, within Discord's 6000-character limit, shortening the least
// important text first: the summary, then the fields from the last one.
func embedFitTotal(e *discordgo.MessageEmbed, reserve int) {
	limit := embedLimitTotal - reserve
	over := embedTotal(e) - limit
	if over <= 0 {
		return
	}
	if d := embedRunes(e.Description); d > 0 {
		e.Description = plaintext.Truncate(e.Description, max(d-over, 1))
		if e.Description == "…" {
			e.Description = ""
		}
		over = embedTotal(e) - limit
	}
	for i := len(e.Fields) - 1; i >= 0 && over > 0; i-- {
		v := embedRunes(e.Fields[i].Value)
		e.Fields[i].Value = plaintext.Truncate(e.Fields[i].Value, max(v-over, 1))
		over = embedTotal(e) - limit
	}
}
