package commands

import (
	"context"
	"fmt"
	"sort"

	"github.com/bwmarrin/discordgo"

	"github.com/backchannel/backchannel/markdown"
	"github.com/backchannel/backchannel/model"
)

// targetChannel returns the channel a /subscribe or /unsubscribe acts on.
//
// Without the option it is the channel the command was used in, which
// Discord guarantees belongs to the interaction's guild. With it, the
// channel must appear in the interaction's resolved data: Discord resolves
// only channels of the guild the command was used in, and its client offers
// no others. Resolved channels carry no guild id today, so the guild id is
// compared only when present; the real guard is that every store call is
// keyed by the interaction's guild id, so even a forged id from another
// guild can only create a subscription that this guild owns and whose
// posts Discord refuses (which disables it, visible in /status).
//
// For /subscribe the resolved channel must also be a text or announcement
// channel. (Discord also sends the member's permissions in a resolved
// channel, but discordgo's Channel type drops them, so the check uses the
// member's permissions where the command was typed.)
func targetChannel(c *call, subscribing bool) (string, *reply) {
	id, err := c.opts.channel("channel")
	if err != nil {
		rp := optionProblem(err)
		return "", &rp
	}
	if id == "" {
		if !isSnowflake(c.i.ChannelID) {
			rp := refusedf("Name the channel with the `channel` option. Nothing was changed.")
			return "", &rp
		}
		return c.i.ChannelID, nil
	}
	if !subscribing {
		return id, nil
	}
	var ch *discordgo.Channel
	if c.resolved != nil {
		ch = c.resolved.Channels[id]
	}
	if ch == nil || (ch.GuildID != "" && ch.GuildID != c.guildID) {
		rp := refusedf("That channel is not one of this server's channels. Nothing was changed.")
		return "", &rp
	}
	if ch.Type != discordgo.ChannelTypeGuildText && ch.Type != discordgo.ChannelTypeGuildNews {
		rp := refusedf("Alerts can only be posted in text or announcement channels. Nothing was changed.")
		return "", &rp
	}
	return id, nil
}

// ruleFilter reads the optional rule option and, when the rule book is
// there, checks that this guild has such a rule.
func (h *Handler) ruleFilter(ctx context.Context, c *call, mustExist bool) (string, *reply) {
	name, err := c.opts.str("rule", maxRuleNameLen)
	if err != nil {
		rp := optionProblem(err)
		return "", &rp
	}
	if name == "" || !mustExist || h.d.Book == nil {
		return name, nil
	}
	set, err := h.d.Book.ForGuild(ctx, c.guildID)
	if err != nil {
		rp := h.failed(c, "loading this server's rules", err)
		return "", &rp
	}
	if _, ok := set.Rule(name); !ok {
		rp := refusedf("This server has no rule named `%s`; see `/rules list`. Nothing was changed.", markdown.Escape(name))
		return "", &rp
	}
	return name, nil
}

func ruleWords(rule string) string {
	if rule == "" {
		return "every rule"
	}
	return "rule `" + markdown.Escape(rule) + "`"
}

// postingWords says when a subscription with min_sources n posts a story.
func postingWords(n int) string {
	if n <= 1 {
		return "each story is posted at its first report, and later reports from other feeds are added to that message"
	}
	return fmt.Sprintf("each story is posted once %d different feeds have reported it (`min_sources` %d), with all its sources so far", n, n)
}

func (h *Handler) subscribe(ctx context.Context, c *call) reply {
	if h.d.Subscriptions == nil {
		return unavailable("Subscribing")
	}
	minSources, err := c.opts.integer("min_sources", 1, 1, maxMinSources)
	if err != nil {
		return optionProblem(err)
	}
	ch, rp := targetChannel(c, true)
	if rp != nil {
		return *rp
	}
	rule, rp := h.ruleFilter(ctx, c, true)
	if rp != nil {
		return *rp
	}
	// An existing subscription takes the new min_sources: subscribing
	// again is how it is changed.
	created, err := h.d.Subscriptions.Subscribe(ctx, model.Subscription{
		GuildID: c.guildID, ChannelID: ch, Rule: rule, MinSources: minSources, Created: h.d.Now(),
	})
	if err != nil {
		return h.failed(c, "subscribing", fmt.Errorf("subscribe %s/%s: %w", c.guildID, ch, err))
	}
	if !created {
		return reply{content: fmt.Sprintf("<#%s> was already subscribed to alerts of %s (re-enabled if it had been disabled); from now on %s.",
			ch, ruleWords(rule), postingWords(minSources))}
	}
	return reply{content: fmt.Sprintf("Subscribed <#%s> to this server's alerts of %s: %s.", ch, ruleWords(rule), postingWords(minSources))}
}

func (h *Handler) unsubscribe(ctx context.Context, c *call) reply {
	if h.d.Subscriptions == nil {
		return unavailable("Unsubscribing")
	}
	ch, rp := targetChannel(c, false)
	if rp != nil {
		return *rp
	}
	// The rule may have been removed since; unsubscribing from it must
	// still work, so its existence is not checked.
	rule, rp := h.ruleFilter(ctx, c, false)
	if rp != nil {
		return *rp
	}
	removed, err := h.d.Subscriptions.Unsubscribe(ctx, c.guildID, ch, rule)
	if err != nil {
		return h.failed(c, "unsubscribing", fmt.Errorf("unsubscribe %s/%s: %w", c.guildID, ch, err))
	}
	if !removed {
		return refusedf("There was no subscription of <#%s> to alerts of %s. Nothing was changed.", ch, ruleWords(rule))
	}
	return reply{content: fmt.Sprintf("Unsubscribed <#%s> from alerts of %s.", ch, ruleWords(rule))}
}

func (h *Handler) subscriptions(ctx context.Context, c *call) reply {
	if h.d.Subscriptions == nil {
		return unavailable("Subscriptions")
	}
	subs, err := h.d.Subscriptions.Subscriptions(ctx, c.guildID)
	if err != nil {
		return h.failed(c, "listing subscriptions", fmt.Errorf("subscriptions of %s: %w", c.guildID, err))
	}
	if len(subs) == 0 {
		return reply{content: "This server has no subscriptions. A channel admin can add one with `/subscribe`."}
	}
	sort.SliceStable(subs, func(a, b int) bool {
		if subs[a].ChannelID != subs[b].ChannelID {
			return subs[a].ChannelID < subs[b].ChannelID
		}
		return subs[a].Rule < subs[b].Rule
	})
	lines := make([]string, 0, len(subs))
	for _, s := range subs {
		l := fmt.Sprintf("<#%s> — %s", s.ChannelID, ruleWords(s.Rule))
		if s.MinSources > 1 {
			l += fmt.Sprintf(" — `min_sources` %d", s.MinSources)
		}
		if s.Disabled != "" {
			l += " — **disabled**: " + markdown.Escape(s.Disabled)
		}
		lines = append(lines, l)
	}
	return reply{embeds: listEmbeds(fmt.Sprintf("Subscriptions (%d)", len(subs)), lines)}
}
