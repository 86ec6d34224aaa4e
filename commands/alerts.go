package commands

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"

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
			return reply{content: fmt.Sprintf("No alerts naming `%s` yet in this server.", inline(actor))}
		}
		return reply{content: "No alerts yet in this server."}
	}
	title := "Latest alerts"
	if actor != "" {
		title += " naming " + actor
	}
	return reply{embeds: []*discordgo.MessageEmbed{alertsEmbed(title, alerts, n)}}
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
		return reply{content: fmt.Sprintf("No alerts in this server match `%s`.", inline(q))}
	}
	return reply{embeds: []*discordgo.MessageEmbed{alertsEmbed("Alerts matching "+q, alerts, n)}}
}

// alertsEmbed lists alerts as fields: the title, then the link, the source
// and the footer words (alert id and rule) that /explain takes.
func alertsEmbed(title string, alerts []model.Alert, n int) *discordgo.MessageEmbed {
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
			v.WriteString(inline(a.Article.Feed) + " · ")
		}
		published := a.Article.Published
		if published.IsZero() {
			published = a.Created
		}
		v.WriteString(when(published, "undated"))
		fmt.Fprintf(&v, "\nalert %d · rule %s", a.ID, inline(a.Rule()))
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
		return refusedf("`%s` is not an alert id; it is the number after `alert` in an alert's footer.", inline(raw))
	}
	a, err := h.d.Alerts.Alert(ctx, c.guildID, id)
	if errors.Is(err, model.ErrNotFound) {
		return refusedf("This server has no alert %d.", id)
	}
	if err != nil {
		return h.failed(c, "reading the alert", fmt.Errorf("alert %d of %s: %w", id, c.guildID, err))
	}
	return reply{embeds: []*discordgo.MessageEmbed{explainEmbed(a)}}
}

// explainEmbed says, for each rule that fired, which actors (and the words
// that named them), which contact words, and the evidence.
func explainEmbed(a model.Alert) *discordgo.MessageEmbed {
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
	e := fieldsEmbed(fmt.Sprintf("Alert %d: %s", a.ID, nonEmpty(a.Article.Title, "(untitled)")), strings.TrimSpace(desc), fields)
	e.Footer = &discordgo.MessageEmbedFooter{Text: plaintext.Truncate(fmt.Sprintf("alert %d · rule %s", a.ID, a.Rule()), maxFooter)}
	return e
}

// matchFields describes one match; shared by /explain and /rules test.
func matchFields(m model.Match) []*discordgo.MessageEmbedField {
	fs := []*discordgo.MessageEmbedField{{Name: "Rule", Value: "`" + strings.ReplaceAll(m.Rule, "`", "'") + "`", Inline: true}}
	if len(m.Actors) > 0 {
		var lines []string
		for _, act := range m.Actors {
			l := inline(nonEmpty(act.Office, act.ID))
			if act.Country != "" {
				l += " (" + inline(act.Country) + ")"
			}
			if act.Alias != "" {
				l += " — as “" + inline(act.Alias) + "”"
			}
			lines = append(lines, l)
		}
		fs = append(fs, &discordgo.MessageEmbedField{Name: "Actors", Value: strings.Join(lines, "\n")})
	}
	if m.ContactKind != "" || m.ContactTerm != "" {
		v := inline(m.ContactKind)
		if m.ContactTerm != "" {
			v = strings.TrimSpace(v + " — “" + inline(m.ContactTerm) + "”")
		}
		fs = append(fs, &discordgo.MessageEmbedField{Name: "Contact", Value: v, Inline: true})
	}
	if len(m.Keywords) > 0 {
		fs = append(fs, &discordgo.MessageEmbedField{Name: "Keywords", Value: inline(strings.Join(m.Keywords, ", "))})
	}
	if m.Evidence != "" {
		name := "Evidence"
		if m.Field != "" {
			name += " (in the " + m.Field + ")"
		}
		fs = append(fs, &discordgo.MessageEmbedField{Name: name, Value: "> " + inline(m.Evidence)})
	}
	return fs
}
