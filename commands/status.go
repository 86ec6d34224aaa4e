package commands

import (
	"context"
	"fmt"

	"github.com/backchannel/backchannel/markdown"
	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/plaintext"
)

func (h *Handler) status(ctx context.Context, c *call) reply {
	if h.d.Feeds == nil {
		return unavailable("Feed status")
	}
	feeds, err := h.d.Feeds.Feeds(ctx)
	if err != nil {
		return h.failed(c, "reading feed status", fmt.Errorf("feeds: %w", err))
	}
	lines := make([]string, 0, len(feeds)+4)
	for _, f := range feeds {
		lines = append(lines, h.feedStatusLine(f))
	}
	if len(feeds) == 0 {
		lines = append(lines, "No feeds are configured.")
	}
	// Disabled subscriptions are this guild's business only.
	if c.guildID != "" && h.d.Subscriptions != nil {
		subs, err := h.d.Subscriptions.Subscriptions(ctx, c.guildID)
		if err != nil {
			return h.failed(c, "reading subscriptions", fmt.Errorf("subscriptions of %s: %w", c.guildID, err))
		}
		first := true
		for _, s := range subs {
			if s.Disabled == "" {
				continue
			}
			if first {
				lines = append(lines, "", "**Disabled subscriptions** (fix the channel's permissions, then `/subscribe` it again):")
				first = false
			}
			lines = append(lines, fmt.Sprintf("<#%s> — %s — disabled: %s", s.ChannelID, ruleWords(s.Rule), markdown.Escape(s.Disabled)))
		}
	}
	return reply{embeds: listEmbeds("Feed status", lines)}
}

// feedStatusLine is one feed's line: its name first, then `ok` or
// `error: <reason>`, then last poll, next poll and items seen.
func (h *Handler) feedStatusLine(f model.Feed) string {
	st := f.State
	result := "ok"
	switch {
	case st.Status == model.StatusError:
		// Anyone may ask: an error that quotes the feed's URL (one stored
		// before errors were redacted where they are made) is redacted.
		result = "error: " + plaintext.Truncate(plaintext.OneLine(model.RedactURLs(nonEmpty(st.Error, "unknown error"))), 300)
	case st.LastPoll.IsZero():
		result = "ok (not polled yet)"
	}
	// The scheduler knows the next cron tick; after failures the poller
	// backs off until State.NextPoll, so the later of the two is when the
	// feed is really fetched next.
	var next = st.NextPoll
	if h.d.Scheduler != nil {
		if t := h.d.Scheduler.Next(f.ID); t.After(next) {
			next = t
		}
	}
	// The name and reason are written as they are, not markdown-escaped, so
	// the line starts with the feed's exact name.
	return fmt.Sprintf("%s — %s · last poll %s · next poll %s · %d items seen",
		plaintext.OneLine(f.Name), result, when(st.LastPoll, "never"), when(next, "not scheduled"), st.ItemsSeen)
}
