package commands

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/backchannel/backchannel/markdown"
	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/plaintext"
)

func (h *Handler) latest(ctx context.Context, c *call) reply {
	if h.d.Alerts == nil {
		return unavailable("Alert history")
	}
	n, err := c.opts.integer("count", defaultCount, 1, maxCount)
	if err != nil {
		return optionProblem(err)
	}
	actor, err := c.opts.str("actor", maxActorIDLen)
	if err != nil {
		return optionProblem(err)
	}
	alerts, err := h.d.Alerts.LatestAlerts(ctx, c.guildID, actor, n)
	if err != nil {
		return h.failed(c, "reading alerts", fmt.Errorf("latest alerts of %s: %w", c.guildID, err))
	}
	if len(alerts) == 0 {
		if actor != "" {
			return reply{content: fmt.Sprintf("No alerts naming `%s` yet in this server.", markdown.Escape(actor))}
		}
		return reply{content: "No alerts yet in this server."}
	}
	// The store gives one entry per story: its first alert, with the
	// story's reports in Sources.
	title := "Latest stories"
	if actor != "" {
		title += " naming " + actor
	}
	return reply{embeds: []*discordgo.MessageEmbed{alertsEmbed(title, alerts, n, true)}}
}

func (h *Handler) search(ctx context.Context, c *call) reply {
	if h.d.Alerts == nil {
		return unavailable("Alert search")
	}
	q, err := c.opts.requiredStr("query", maxQueryLen)
	if err != nil {
		return optionProblem(err)
	}
	n, err := c.opts.integer("count", defaultCount, 1, maxCount)
	if err != nil {
		return optionProblem(err)
	}
	alerts, err := h.d.Alerts.SearchAlerts(ctx, c.guildID, q, n)
	if err != nil {
		return h.failed(c, "searching alerts", fmt.Errorf("search alerts of %s: %w", c.guildID, err))
	}
	if len(alerts) == 0 {
		return reply{content: fmt.Sprintf("No alerts in this server match `%s`.", markdown.Escape(q))}
	}
	return reply{embeds: []*discordgo.MessageEmbed{alertsEmbed("Alerts matching "+q, alerts, n, false)}}
}

// alertsEmbed lists alerts as fields: the title, then the link, the source
// and the footer words (alert id and rule) that /explain takes. For
// stories it also says how many sources reported each.
func alertsEmbed(title string, alerts []model.Alert, n int, stories bool) *discordgo.MessageEmbed {
	if len(alerts) > n {
		alerts = alerts[:n]
	}
	fields := make([]*discordgo.MessageEmbedField, 0, len(alerts))
	for _, a := range alerts {
		var v strings.Builder
		if a.Article.Link != "" {
			v.WriteString(plaintext.Truncate(a.Article.Link, 512))
			v.WriteByte('\n')
		}
		if a.Article.Feed != "" {
			v.WriteString(markdown.Escape(a.Article.Feed) + " · ")
		}
		published := a.Article.Published
		if published.IsZero() {
			published = a.Created
		}
		v.WriteString(when(published, "undated"))
		if stories {
			// An alert stored before stories, or one whose store did not
			// fill Sources, is a story of one report.
			v.WriteString(" · " + sourcesWords(max(len(a.Sources), 1)))
		}
		fmt.Fprintf(&v, "\nalert %d · rule %s", a.ID, markdown.Escape(a.Rule()))
		fields = append(fields, &discordgo.MessageEmbedField{
			Name:  nonEmpty(a.Article.Title, "(untitled)"),
			Value: v.String(),
		})
	}
	return fieldsEmbed(title, "", fields)
}

// parseAlertID accepts the id as shown in a footer, with or without the
// word "alert" or a leading '#'.
func parseAlertID(s string) (int64, bool) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(strings.ToLower(s)), "alert"))
	s = strings.TrimPrefix(s, "#")
	id, err := strconv.ParseInt(s, 10, 64)
	return id, err == nil && id > 0
}

func (h *Handler) explain(ctx context.Context, c *call) reply {
	if h.d.Alerts == nil {
		return unavailable("Alert history")
	}
	raw, err := c.opts.requiredStr("alert", maxAlertIDLen)
	if err != nil {
		return optionProblem(err)
	}
	id, ok := parseAlertID(raw)
	if !ok {
		return refusedf("`%s` is not an alert id; it is the number after `alert` in an alert's footer.", markdown.Escape(raw))
	}
	a, err := h.d.Alerts.Alert(ctx, c.guildID, id)
	if errors.Is(err, model.ErrNotFound) {
		return refusedf("This server has no alert %d.", id)
	}
	if err != nil {
		return h.failed(c, "reading the alert", fmt.Errorf("alert %d of %s: %w", id, c.guildID, err))
	}
	return reply{embeds: explainEmbeds(a)}
}

// explainStoryRoom is kept for the story's reports when the match
// details are long: the reports are half of what /explain answers.
const explainStoryRoom = 1500

// explainEmbeds says, for each rule that fired, which actors (and the words
// that named them), which contact words, and the evidence; then which story
// the alert belongs to, why, and every report of that story.
func explainEmbeds(a model.Alert) []*discordgo.MessageEmbed {
	budget := maxEmbedTotal - 100
	story := a.Story != "" || len(a.Sources) > 0
	if story {
		budget -= explainStoryRoom
	}
	e := explainEmbed(a, budget)
	if !story {
		return []*discordgo.MessageEmbed{e}
	}
	used := embedLen(e)
	return []*discordgo.MessageEmbed{e, storyEmbed(a, maxEmbedTotal-100-used)}
}

// explainEmbed is the match details, within budget characters.
func explainEmbed(a model.Alert, budget int) *discordgo.MessageEmbed {
	var fields []*discordgo.MessageEmbedField
	for _, m := range a.Matches {
		fields = append(fields, matchFields(m)...)
	}
	desc := ""
	if a.Article.Link != "" {
		desc = a.Article.Link
	}
	if len(a.Matches) == 0 {
		desc += "\nNo match details were stored for this alert."
	}
	footer := plaintext.Truncate(fmt.Sprintf("alert %d · rule %s", a.ID, a.Rule()), maxFooter)
	e := fieldsEmbedWithin(fmt.Sprintf("Alert %d: %s", a.ID, nonEmpty(a.Article.Title, "(untitled)")), strings.TrimSpace(desc), fields,
		budget-utf8.RuneCountInString(footer))
	e.Footer = &discordgo.MessageEmbedFooter{Text: footer}
	return e
}

// storyEmbed names the alert's story and why the alert is in it, then
// lists every report of the story, first report first: feed, title linked
// to the report, alert id and time, as many as fit in budget characters.
func storyEmbed(a model.Alert, budget int) *discordgo.MessageEmbed {
	srcs := a.Sources
	if len(srcs) == 0 {
		srcs = []model.Source{{AlertID: a.ID, Feed: a.Article.Feed, Title: a.Article.Title, Link: a.Article.Link, Published: a.Article.Published}}
	}
	title := "Story: " + reportsWords(len(srcs))
	// Story ids are the store's; the reason is the grouper's one line,
	// which may quote feed text (place names), so it is escaped.
	id := strings.ReplaceAll(plaintext.Truncate(plaintext.OneLine(a.Story), 64), "`", "'")
	reason := markdown.Escape(plaintext.Truncate(plaintext.OneLine(a.StoryReason), 500))
	var desc strings.Builder
	switch {
	case id != "" && reason != "":
		fmt.Fprintf(&desc, "Story `%s`: %s\n\n", id, reason)
	case id != "":
		fmt.Fprintf(&desc, "Story `%s`.\n\n", id)
	case reason != "":
		desc.WriteString(reason + "\n\n")
	}
	lines := make([]string, 0, len(srcs))
	for i, s := range srcs {
		l := fmt.Sprintf("%d. **%s** — %s · alert %d", i+1,
			markdown.Escape(plaintext.Truncate(plaintext.OneLine(nonEmpty(s.Feed, "unnamed feed")), 80)),
			markdown.Link(plaintext.Truncate(plaintext.OneLine(nonEmpty(s.Title, "(untitled)")), 200), s.Link), s.AlertID)
		if !s.Published.IsZero() {
			l += " · " + when(s.Published, "")
		}
		if s.AlertID == a.ID {
			l += " ← this alert"
		}
		lines = append(lines, l)
	}
	limit := min(maxEmbedDescription, budget-utf8.RuneCountInString(title)) - utf8.RuneCountInString(desc.String())
	desc.WriteString(markdown.FitLines(lines, limit))
	return &discordgo.MessageEmbed{Title: title, Description: desc.String(), Color: embedColor}
}

// embedLen is what an embed counts toward a message's 6000 characters.
func embedLen(e *discordgo.MessageEmbed) int {
	n := utf8.RuneCountInString(e.Title) + utf8.RuneCountInString(e.Description)
	for _, f := range e.Fields {
		n += utf8.RuneCountInString(f.Name) + utf8.RuneCountInString(f.Value)
	}
	if e.Footer != nil {
		n += utf8.RuneCountInString(e.Footer.Text)
	}
	return n
}

func sourcesWords(n int) string {
	if n == 1 {
		return "1 source"
	}
	return strconv.Itoa(n) + " sources"
}

func reportsWords(n int) string {
	if n == 1 {
		return "1 report"
	}
	return strconv.Itoa(n) + " reports"
}

// matchFields describes one match; shared by /explain and /rules test.
func matchFields(m model.Match) []*discordgo.MessageEmbedField {
	fs := []*discordgo.MessageEmbedField{{Name: "Rule", Value: "`" + strings.ReplaceAll(m.Rule, "`", "'") + "`", Inline: true}}
	if len(m.Actors) > 0 {
		var lines []string
		for _, act := range m.Actors {
			l := markdown.Escape(nonEmpty(act.Office, act.ID))
			if act.Country != "" {
				l += " (" + markdown.Escape(act.Country) + ")"
			}
			if act.Alias != "" {
				l += " — as “" + markdown.Escape(act.Alias) + "”"
			}
			lines = append(lines, l)
		}
		fs = append(fs, &discordgo.MessageEmbedField{Name: "Actors", Value: strings.Join(lines, "\n")})
	}
	if m.ContactKind != "" || m.ContactTerm != "" {
		v := markdown.Escape(m.ContactKind)
		if m.ContactTerm != "" {
			v = strings.TrimSpace(v + " — “" + markdown.Escape(m.ContactTerm) + "”")
		}
		fs = append(fs, &discordgo.MessageEmbedField{Name: "Contact", Value: v, Inline: true})
	}
	if len(m.Keywords) > 0 {
		fs = append(fs, &discordgo.MessageEmbedField{Name: "Keywords", Value: markdown.Escape(strings.Join(m.Keywords, ", "))})
	}
	if m.Evidence != "" {
		name := "Evidence"
		if m.Field != "" {
			name += " (in the " + m.Field + ")"
		}
		fs = append(fs, &discordgo.MessageEmbedField{Name: name, Value: "> " + markdown.Escape(m.Evidence)})
	}
	return fs
}
