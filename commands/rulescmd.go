package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/backchannel/backchannel/markdown"
	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/plaintext"
	"github.com/backchannel/backchannel/rules"
)

// guildRules returns this guild's compiled rules.
func (h *Handler) guildRules(ctx context.Context, c *call) (*rules.Set, *reply) {
	if h.d.Book == nil {
		rp := unavailable("Rules")
		return nil, &rp
	}
	set, err := h.d.Book.ForGuild(ctx, c.guildID)
	if err != nil || set == nil {
		rp := h.failed(c, "loading this server's rules", fmt.Errorf("rules of %s: %w", c.guildID, err))
		return nil, &rp
	}
	return set, nil
}

func (h *Handler) rulesList(ctx context.Context, c *call) reply {
	set, rp := h.guildRules(ctx, c)
	if rp != nil {
		return *rp
	}
	// Mark the rules this guild changed, so admins can tell them from the
	// defaults every guild starts with.
	custom := map[string]bool{}
	if h.d.Rules != nil {
		ov, err := h.d.Rules.GuildOverrides(ctx, c.guildID)
		if err != nil {
			return h.failed(c, "loading this server's rules", fmt.Errorf("overrides of %s: %w", c.guildID, err))
		}
		for _, o := range ov {
			if o.Rule != nil {
				custom[o.Name] = true
			}
		}
	}
	specs := set.Rules()
	if len(specs) == 0 {
		return reply{content: "This server has no rules. A server admin can add one with `/rules add`."}
	}
	lines := make([]string, 0, len(specs))
	for _, r := range specs {
		l := "`" + strings.ReplaceAll(r.Name, "`", "'") + "`"
		if r.Description != "" {
			l += " — " + markdown.Escape(r.Description)
		}
		if custom[r.Name] {
			l += " *(this server's)*"
		}
		lines = append(lines, l)
	}
	return reply{embeds: listEmbeds(fmt.Sprintf("Rules (%d)", len(specs)), lines)}
}

// namedRule finds the rule named by the "name" option in this guild's
// rules and writes it as TOML (see ruleTOML); a non-nil reply says why
// there is none, or, naming what was being done, why it failed.
func (h *Handler) namedRule(ctx context.Context, c *call, doing string) (model.RuleSpec, string, *reply) {
	name, err := c.opts.requiredStr("name", maxRuleNameLen)
	if err != nil {
		rp := optionProblem(err)
		return model.RuleSpec{}, "", &rp
	}
	set, rp := h.guildRules(ctx, c)
	if rp != nil {
		return model.RuleSpec{}, "", rp
	}
	r, ok := set.Rule(name)
	if !ok {
		rp := refusedf("This server has no rule named `%s`; see `/rules list`.", markdown.Escape(name))
		return model.RuleSpec{}, "", &rp
	}
	text, err := ruleTOML(r)
	if err != nil {
		rp := h.failed(c, doing, err)
		return model.RuleSpec{}, "", &rp
	}
	return r, text, nil
}

func (h *Handler) rulesShow(ctx context.Context, c *call) reply {
	r, text, rp := h.namedRule(ctx, c, "showing the rule")
	if rp != nil {
		return *rp
	}
	return reply{embeds: []*discordgo.MessageEmbed{{
		Title:       plaintext.Truncate("Rule "+r.Name, maxEmbedTitle),
		Description: plaintext.Truncate(markdown.CodeBlock("toml", text), maxEmbedDescription),
		Color:       embedColor,
	}}}
}

func (h *Handler) rulesAdd(ctx context.Context, c *call) reply {
	if h.d.Rules == nil {
		return unavailable("Changing rules")
	}
	var r model.RuleSpec
	var err error
	if r.Name, err = c.opts.requiredStr("name", maxRuleNameLen); err != nil {
		return optionProblem(err)
	}
	kw, err := c.opts.requiredStr("keywords", maxPatternList)
	if err != nil {
		return optionProblem(err)
	}
	ex, err := c.opts.str("exclude", maxPatternList)
	if err != nil {
		return optionProblem(err)
	}
	actors, err := c.opts.str("actors", maxActorsLen)
	if err != nil {
		return optionProblem(err)
	}
	if r.Description, err = c.opts.str("description", maxDescription); err != nil {
		return optionProblem(err)
	}
	r.Keywords, r.Exclude, r.Actors = splitPatterns(kw), splitPatterns(ex), splitList(actors)
	if len(r.Keywords) == 0 {
		return refusedf("Give at least one keyword pattern. Nothing was changed.")
	}
	if rp := h.saveRule(ctx, c, r, false); rp != nil {
		return *rp
	}
	return reply{content: fmt.Sprintf("Added rule `%s` to this server (%d keyword patterns, %d exclusions, %d actors). It applies from the next poll.",
		markdown.Escape(r.Name), len(r.Keywords), len(r.Exclude), len(r.Actors))}
}

// saveRule validates r against this guild's current rules and, when valid,
// stores it and has the guild's set recompiled. replacing says whether r
// must replace an existing rule (/rules edit) or must be new (/rules add).
// It returns the reply to send instead when r is refused or saving fails.
func (h *Handler) saveRule(ctx context.Context, c *call, r model.RuleSpec, replacing bool) *reply {
	h.ruleMu.Lock()
	defer h.ruleMu.Unlock()
	err := h.checkRule(ctx, c.guildID, r, replacing)
	var oe *optionError
	if errors.As(err, &oe) {
		rp := refusedf("Rule `%s` refused: %s Nothing was changed.", markdown.Escape(plaintext.Truncate(r.Name, maxRuleNameLen)), sentence(oe.msg))
		return &rp
	}
	if err != nil {
		rp := h.failed(c, "checking the rule", err)
		return &rp
	}
	if err := h.d.Rules.PutGuildRule(ctx, c.guildID, r); err != nil {
		rp := h.failed(c, "saving the rule", fmt.Errorf("put rule %q of %s: %w", r.Name, c.guildID, err))
		return &rp
	}
	h.d.Book.Invalidate(c.guildID)
	return nil
}

// checkRule returns an *optionError saying what is wrong with r, or another
// error when the check itself failed.
func (h *Handler) checkRule(ctx context.Context, guildID string, r model.RuleSpec, replacing bool) error {
	if h.d.Book == nil {
		return optErrorf("rules are not available on this bot.")
	}
	if rules.CheckRuleName(r.Name) != nil {
		return optErrorf("a rule name is 1 to %d letters, digits, `-`, `_` or `.`, starting with a letter or digit.", rules.MaxRuleNameLen)
	}
	if n := len([]rune(r.Description)); n > maxDescription {
		return optErrorf("the description is %d characters long; at most %d.", n, maxDescription)
	}
	if err := checkPatterns("keyword", r.Keywords); err != nil {
		return err
	}
	if err := checkPatterns("exclude", r.Exclude); err != nil {
		return err
	}
	if len(r.Actors) > maxActors {
		return optErrorf("%d actors given; at most %d.", len(r.Actors), maxActors)
	}
	for _, a := range r.Actors {
		if len(a) > maxActorIDLen {
			return optErrorf("actor id `%s` is too long.", markdown.Escape(plaintext.Truncate(a, 40)))
		}
	}
	set, err := h.d.Book.ForGuild(ctx, guildID)
	if err != nil || set == nil {
		return fmt.Errorf("commands: rules of guild %s: %w", guildID, err)
	}
	_, exists := set.Rule(r.Name)
	switch {
	case exists && !replacing:
		return optErrorf("this server already has a rule with that name; use `/rules edit` to change it.")
	case !exists && replacing:
		return optErrorf("this server has no rule with that name (was it removed meanwhile?).")
	}
	// The guild's whole set must still compile with the rule in it: that is
	// where unknown actor ids, limits and conflicts with the rest are found.
	rr := r
	if _, err := set.WithOverrides([]model.Override{{Name: r.Name, Rule: &rr}}); err != nil {
		return optErrorf("%s", plaintext.Truncate(plaintext.OneLine(err.Error()), 1500))
	}
	return nil
}

// checkPatterns refuses over-long lists and the patterns the matcher
// refuses (rules.CompilePattern) before compiling the set, so the reason
// names the pattern at fault.
func checkPatterns(kind string, ps []string) error {
	if len(ps) > rules.MaxPatterns {
		return optErrorf("%d %s patterns given; at most %d.", len(ps), kind, rules.MaxPatterns)
	}
	for i, p := range ps {
		if _, err := rules.CompilePattern(p); err != nil {
			problem := err.Error()
			var pe *rules.PatternError
			if errors.As(err, &pe) {
				problem = pe.Problem
			}
			return optErrorf("%s pattern %d `%s` %s.", kind, i+1,
				strings.ReplaceAll(plaintext.Truncate(p, 100), "`", "'"), problem)
		}
	}
	return nil
}

func (h *Handler) rulesRemove(ctx context.Context, c *call) reply {
	if h.d.Rules == nil {
		return unavailable("Changing rules")
	}
	name, err := c.opts.requiredStr("name", maxRuleNameLen)
	if err != nil {
		return optionProblem(err)
	}
	h.ruleMu.Lock()
	defer h.ruleMu.Unlock()
	set, rp := h.guildRules(ctx, c)
	if rp != nil {
		return *rp
	}
	if _, ok := set.Rule(name); !ok {
		return refusedf("This server has no rule named `%s`; see `/rules list`. Nothing was changed.", markdown.Escape(name))
	}
	if err := h.d.Rules.RemoveGuildRule(ctx, c.guildID, name); err != nil {
		return h.failed(c, "removing the rule", fmt.Errorf("remove rule %q of %s: %w", name, c.guildID, err))
	}
	h.d.Book.Invalidate(c.guildID)
	msg := fmt.Sprintf("Removed rule `%s` from this server.", markdown.Escape(name))
	if n := h.subscribedTo(ctx, c.guildID, name); n > 0 {
		msg += fmt.Sprintf(" %d subscription(s) for that rule will receive nothing until it is added again.", n)
	}
	return reply{content: msg}
}

// subscribedTo counts the guild's subscriptions filtered on rule; best
// effort, as it only adds a warning.
func (h *Handler) subscribedTo(ctx context.Context, guildID, rule string) int {
	if h.d.Subscriptions == nil {
		return 0
	}
	subs, err := h.d.Subscriptions.Subscriptions(ctx, guildID)
	if err != nil {
		return 0
	}
	n := 0
	for _, s := range subs {
		if s.Rule == rule {
			n++
		}
	}
	return n
}

func (h *Handler) rulesTest(ctx context.Context, c *call) reply {
	text, err := c.opts.requiredStr("text", maxTestTextLen)
	if err != nil {
		return optionProblem(err)
	}
	set, rp := h.guildRules(ctx, c)
	if rp != nil {
		return *rp
	}
	// The text is tested as a headline, the field users paste most and the
	// one every rule reads.
	matches := set.Match(model.Article{Title: text})
	if len(matches) == 0 {
		return ephemeralf("None of this server's rules fires on that text.")
	}
	var fields []*discordgo.MessageEmbedField
	for _, m := range matches {
		fields = append(fields, matchFields(m)...)
	}
	names := make([]string, 0, len(matches))
	for _, m := range matches {
		names = append(names, m.Rule)
	}
	e := fieldsEmbed(fmt.Sprintf("%d rule(s) fire: %s", len(matches), strings.Join(names, ", ")), "", fields)
	return reply{embeds: []*discordgo.MessageEmbed{e}, ephemeral: true}
}
