package commands

import (
	"fmt"
	"strings"
	"time"
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
