package commands

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/backchannel/backchannel/plaintext"
)

// handleAutocomplete offers rule names, feed names and recent alert ids.
// Suggestions come from the interaction's own guild only, and a failure
// offers nothing rather than an error: the user can still type the value.
func (h *Handler) handleAutocomplete(ctx context.Context, i *discordgo.Interaction, x *exchange) error {
	var choices []*discordgo.ApplicationCommandOptionChoice
	if c, err := newCall(i, x); err == nil {
		field, typed := c.opts.focused()
		choices = h.suggest(ctx, c, field, strings.ToLower(typed))
	}
	if choices == nil {
		choices = []*discordgo.ApplicationCommandOptionChoice{}
	}
	return x.raw(ctx, &discordgo.InteractionResponse{
		Type: discordgo.InteractionApplicationCommandAutocompleteResult,
		Data: &discordgo.InteractionResponseData{Choices: choices},
	})
}

func (h *Handler) suggest(ctx context.Context, c *call, field, typed string) []*discordgo.ApplicationCommandOptionChoice {
	var out []*discordgo.ApplicationCommandOptionChoice
	add := func(name, value string) bool {
		if len(out) == maxAutocomplete {
			return false
		}
		out = append(out, &discordgo.ApplicationCommandOptionChoice{Name: plaintext.Truncate(name, 100), Value: value})
		return true
	}
	switch {
	case (c.name == "subscribe" || c.name == "unsubscribe") && field == "rule",
		(c.name == "rules show" || c.name == "rules remove" || c.name == "rules edit") && field == "name":
		if c.guildID == "" || h.d.Book == nil {
			return nil
		}
		set, err := h.d.Book.ForGuild(ctx, c.guildID)
		if err != nil || set == nil {
			return nil
		}
		for _, r := range set.Rules() {
			if len(r.Name) <= 100 && strings.Contains(strings.ToLower(r.Name), typed) && !add(r.Name, r.Name) {
				break
			}
		}
	case (c.name == "latest" && field == "actor") || (c.name == "rules add" && field == "actors"):
		if c.guildID == "" || h.d.Book == nil {
			return nil
		}
		set, err := h.d.Book.ForGuild(ctx, c.guildID)
		if err != nil || set == nil {
			return nil
		}
		// For the comma-separated actors list, complete the last item and
		// keep what was typed before it.
		prefix, last := "", typed
		if i := strings.LastIndexByte(typed, ','); i >= 0 {
			prefix, last = typed[:i+1]+" ", strings.TrimSpace(typed[i+1:])
		}
		for _, id := range set.ActorIDs() {
			v := prefix + id
			if len(v) <= 100 && strings.Contains(strings.ToLower(id), last) && !add(v, v) {
				break
			}
		}
	case c.name == "feeds remove" && field == "name":
		if h.d.Feeds == nil {
			return nil
		}
		feeds, err := h.d.Feeds.Feeds(ctx)
		if err != nil {
			return nil
		}
		for _, f := range feeds {
			if len(f.Name) <= 100 && strings.Contains(strings.ToLower(f.Name), typed) && !add(f.Name, f.Name) {
				break
			}
		}
	case c.name == "explain" && field == "alert":
		if c.guildID == "" || h.d.Alerts == nil {
			return nil
		}
		alerts, err := h.d.Alerts.LatestAlerts(ctx, c.guildID, "", maxAutocomplete)
		if err != nil {
			return nil
		}
		for _, a := range alerts {
			id := strconv.FormatInt(a.ID, 10)
			label := fmt.Sprintf("%s · %s", id, plaintext.OneLine(a.Article.Title))
			if strings.Contains(strings.ToLower(label), typed) && !add(label, id) {
				break
			}
		}
	}
	return out
}
