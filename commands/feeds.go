package commands

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/backchannel/backchannel/markdown"
	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/plaintext"
)

// probeTimeout bounds the one fetch /feeds add makes; the answer was
// deferred, so it may take longer than Discord's three seconds, but not
// longer than the fifteen minutes an interaction token lives.
const probeTimeout = 60 * time.Second

// feedsList lists the feeds. Feeds are shared by every guild and their URLs
// may carry keys, so members see them redacted (model.RedactURL); an owner
// sees them whole, in an answer only they can see.
func (h *Handler) feedsList(ctx context.Context, c *call) reply {
	if h.d.Feeds == nil {
		return unavailable("The feed list")
	}
	feeds, err := h.d.Feeds.Feeds(ctx)
	if err != nil {
		return h.failed(c, "listing feeds", fmt.Errorf("feeds: %w", err))
	}
	if len(feeds) == 0 {
		return reply{content: "No feeds are configured."}
	}
	whole := h.owners[c.userID]
	lines := make([]string, 0, len(feeds))
	for _, f := range feeds {
		u := f.RedactedURL()
		if whole {
			u = f.URL
		}
		l := fmt.Sprintf("%s — <%s>", plaintext.OneLine(f.Name), u)
		if f.Schedule != "" {
			l += " · `" + strings.ReplaceAll(f.Schedule, "`", "'") + "`"
		}
		if f.Source == model.SourceAdmin {
			l += " · added from Discord"
		}
		lines = append(lines, l)
	}
	if whole {
		return reply{embeds: listEmbeds(fmt.Sprintf("Feeds (%d), full URLs: only you can see this", len(feeds)), lines), ephemeral: true}
	}
	return reply{embeds: listEmbeds(fmt.Sprintf("Feeds (%d)", len(feeds)), lines)}
}

// checkFeedURL accepts absolute http(s) URLs only. Whether the host may be
// on a private network is the prober's decision (poll.allow_private_networks).
func checkFeedURL(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Hostname() == "" {
		return "", optErrorf("`%s` is not an http or https URL.", markdown.Escape(plaintext.Truncate(raw, 200)))
	}
	if u.User != nil {
		return "", optErrorf("Feed URLs with a user name or password are not accepted.")
	}
	u.Fragment = ""
	return u.String(), nil
}

// checkFeedName keeps names printable and one line, as they head /status
// lines and are typed back into /feeds remove.
func checkFeedName(name string) error {
	if strings.ContainsFunc(name, func(r rune) bool { return unicode.IsControl(r) || r == '`' }) {
		return optErrorf("A feed name may not contain control characters or backticks.")
	}
	return nil
}

// feedNameFrom makes a feed name from a feed's title, or its host when the
// title is empty.
func feedNameFrom(title, rawURL string) string {
	name := plaintext.Truncate(plaintext.OneLine(strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '`' {
			return ' '
		}
		return r
	}, title)), maxFeedNameLen)
	if name == "" {
		if u, err := url.Parse(rawURL); err == nil {
			name = u.Hostname()
		}
	}
	return name
}

func (h *Handler) feedsAdd(ctx context.Context, c *call) reply {
	if h.d.Feeds == nil || h.d.Prober == nil {
		return unavailable("Adding feeds")
	}
	rawURL, err := c.opts.requiredStr("url", maxFeedURLLen)
	if err != nil {
		return optionProblem(err)
	}
	name, err := c.opts.str("name", maxFeedNameLen)
	if err != nil {
		return optionProblem(err)
	}
	if err := checkFeedName(name); err != nil {
		return optionProblem(err)
	}
	u, err := checkFeedURL(rawURL)
	if err != nil {
		return optionProblem(err)
	}
	// Refuse a known name or URL before fetching anything: a refused
	// /feeds add fetches nothing.
	if rp := h.feedTaken(ctx, c, name, u); rp != nil {
		return *rp
	}

	// The fetch can outlast Discord's three seconds: acknowledge first.
	if err := c.x.deferReply(ctx, true); err != nil {
		return h.failed(c, "acknowledging the command", fmt.Errorf("defer: %w", err))
	}
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	title, items, err := h.d.Prober.Probe(pctx, u)
	cancel()
	if err != nil {
		h.d.Logger.Info("commands: feed probe failed", "url", model.RedactURL(u), "err", err)
		return refusedf("Could not add <%s>: %s. Nothing was saved.", u, plaintext.Truncate(plaintext.OneLine(err.Error()), 500))
	}
	if name == "" {
		name = feedNameFrom(title, u)
	}
	f, err := h.d.Feeds.AddFeed(ctx, model.Feed{Name: name, URL: u, Source: model.SourceAdmin})
	if errors.Is(err, model.ErrDuplicate) {
		return refusedf("A feed with the name `%s` or that URL already exists. Nothing was saved.", markdown.Escape(name))
	}
	if err != nil {
		return h.failed(c, "saving the feed", fmt.Errorf("add feed %q: %w", name, err))
	}
	next := ""
	if h.d.Scheduler != nil {
		if err := h.d.Scheduler.Add(f); err != nil {
			// A saved feed nobody polls would show as healthy in /status
			// forever; take it back out so the owner can retry.
			if _, rerr := h.d.Feeds.RemoveFeed(ctx, f.Name); rerr != nil {
				h.d.Logger.Error("commands: removing unscheduled feed", "feed", f.Name, "err", rerr)
			}
			return h.failed(c, "scheduling the feed", fmt.Errorf("schedule feed %q: %w", f.Name, err))
		}
		next = " First poll " + when(h.d.Scheduler.Next(f.ID), "soon") + "."
	}
	return ephemeralf("Added feed `%s` (<%s>): %d items found.%s", markdown.Escape(f.Name), f.URL, items, next)
}

// feedTaken answers when name or u is already a feed's.
func (h *Handler) feedTaken(ctx context.Context, c *call, name, u string) *reply {
	feeds, err := h.d.Feeds.Feeds(ctx)
	if err != nil {
		rp := h.failed(c, "reading feeds", fmt.Errorf("feeds: %w", err))
		return &rp
	}
	for _, f := range feeds {
		if f.URL == u || (name != "" && strings.EqualFold(f.Name, name)) {
			rp := refusedf("The feed `%s` (<%s>) already exists. Nothing was changed.", markdown.Escape(f.Name), f.URL)
			return &rp
		}
	}
	return nil
}

func (h *Handler) feedsRemove(ctx context.Context, c *call) reply {
	if h.d.Feeds == nil {
		return unavailable("Removing feeds")
	}
	name, err := c.opts.requiredStr("name", maxFeedNameLen)
	if err != nil {
		return optionProblem(err)
	}
	f, err := h.d.Feeds.RemoveFeed(ctx, name)
	if errors.Is(err, model.ErrNotFound) {
		return refusedf("There is no feed named `%s`; see `/feeds list`. Nothing was changed.", markdown.Escape(name))
	}
	if err != nil {
		return h.failed(c, "removing the feed", fmt.Errorf("remove feed %q: %w", name, err))
	}
	if h.d.Scheduler != nil {
		h.d.Scheduler.Remove(f.ID)
	}
	msg := fmt.Sprintf("Removed feed `%s` (<%s>).", markdown.Escape(f.Name), f.URL)
	if f.Source == model.SourceConfig {
		msg += " It is listed in the configuration file, so it comes back at the next start unless it is removed there too."
	}
	return ephemeralf("%s", msg)
}
