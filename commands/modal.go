package commands

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bwmarrin/discordgo"
	"github.com/pelletier/go-toml/v2"

	"github.com/backchannel/backchannel/markdown"
	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/plaintext"
)

// /rules edit opens a modal holding the rule as TOML, the same syntax as
// the configuration file; submitting it validates and saves the rule. The
// rule's name travels in the modal's custom id, so the submission edits the
// rule that was opened even if the text renames it (which is refused).

const (
	ruleEditPrefix = "rules-edit:"
	ruleEditInput  = "rule"
	maxModalText   = 4000 // Discord's limit for a text input
)

func ruleTOML(r model.RuleSpec) (string, error) {
	b, err := toml.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("commands: encode rule %q: %w", r.Name, err)
	}
	return strings.TrimSpace(string(b)), nil
}

func (h *Handler) rulesEdit(ctx context.Context, c *call) reply {
	if h.d.Rules == nil {
		return unavailable("Changing rules")
	}
	r, text, rp := h.namedRule(ctx, c, "opening the rule")
	if rp != nil {
		return *rp
	}
	name := r.Name
	if len([]rune(text)) > maxModalText {
		return refusedf("Rule `%s` is too long to edit here (%d characters; a form holds %d). Remove it and add it again instead.",
			markdown.Escape(name), len([]rune(text)), maxModalText)
	}
	err := c.x.raw(ctx, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseModal,
		Data: &discordgo.InteractionResponseData{
			CustomID: ruleEditPrefix + r.Name,
			Title:    plaintext.Truncate("Edit rule "+r.Name, 45),
			Components: []discordgo.MessageComponent{discordgo.ActionsRow{Components: []discordgo.MessageComponent{
				discordgo.TextInput{
					CustomID:  ruleEditInput,
					Label:     "Rule (TOML)",
					Style:     discordgo.TextInputParagraph,
					Value:     text,
					Required:  true,
					MaxLength: maxModalText,
				},
			}}},
		},
	})
	if err != nil {
		h.d.Logger.Warn("commands: opening rule editor failed", "guild", c.guildID, "rule", name, "err", err)
	}
	return reply{}
}

// textInputValue finds the value of the text input id among components,
// looking inside action rows.
func textInputValue(components []discordgo.MessageComponent, id string) (string, bool) {
	for _, comp := range components {
		switch v := comp.(type) {
		case *discordgo.TextInput:
			if v != nil && v.CustomID == id {
				return v.Value, true
			}
		case discordgo.TextInput:
			if v.CustomID == id {
				return v.Value, true
			}
		case *discordgo.ActionsRow:
			if v != nil {
				if s, ok := textInputValue(v.Components, id); ok {
					return s, true
				}
			}
		case discordgo.ActionsRow:
			if s, ok := textInputValue(v.Components, id); ok {
				return s, true
			}
		}
	}
	return "", false
}

func (h *Handler) handleModal(ctx context.Context, i *discordgo.Interaction, x *exchange) error {
	data, ok := interactionData[discordgo.ModalSubmitInteractionData](i)
	x.command = "unknown"
	if !ok || !strings.HasPrefix(data.CustomID, ruleEditPrefix) {
		return x.send(ctx, refusedf("This form is not one of the bot's."))
	}
	x.command = "rules edit"
	// A modal submission is a new interaction: permissions are checked
	// again, as they may have changed while the form was open.
	c := &call{i: i, guildID: i.GuildID, name: "rules edit", x: x}
	if i.Member != nil {
		c.perms = i.Member.Permissions
	}
	if c.guildID == "" {
		return x.send(ctx, refusedf("Rules can only be edited in a server."))
	}
	if ok, why := h.allowed(c, accessGuildAdmin); !ok {
		return x.send(ctx, refusedf("%s Nothing was changed.", sentence(why)))
	}
	if h.d.Rules == nil || h.d.Book == nil {
		return x.send(ctx, unavailable("Changing rules"))
	}
	name := strings.TrimPrefix(data.CustomID, ruleEditPrefix)
	text, ok := textInputValue(data.Components, ruleEditInput)
	if !ok {
		return x.send(ctx, refusedf("The form came back without the rule text. Nothing was changed."))
	}
	if n := len([]rune(text)); n > maxModalText {
		return x.send(ctx, refusedf("The rule text is %d characters long; at most %d. Nothing was changed.", n, maxModalText))
	}
	r, err := parseRuleTOML(text)
	if err != nil {
		return x.send(ctx, refusedf("Rule `%s` refused: %s Nothing was changed.", markdown.Escape(plaintext.Truncate(name, maxRuleNameLen)), sentence(err.Error())))
	}
	if r.Name == "" {
		r.Name = name
	}
	if r.Name != name {
		return x.send(ctx, refusedf("A rule cannot be renamed here (`%s` → `%s`): add it under the new name and remove the old one. Nothing was changed.",
			markdown.Escape(plaintext.Truncate(name, maxRuleNameLen)), markdown.Escape(plaintext.Truncate(r.Name, maxRuleNameLen))))
	}
	if rp := h.saveRule(ctx, c, r, true); rp != nil {
		return x.send(ctx, *rp)
	}
	return x.send(ctx, reply{content: fmt.Sprintf("Saved rule `%s` for this server. It applies from the next poll.", markdown.Escape(r.Name))})
}

// parseRuleTOML decodes a rule strictly: an unknown key is refused rather
// than silently ignored, as a typo would otherwise change what fires.
func parseRuleTOML(text string) (model.RuleSpec, error) {
	var r model.RuleSpec
	dec := toml.NewDecoder(bytes.NewBufferString(text)).DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		var se *toml.StrictMissingError
		if errors.As(err, &se) {
			keys := make([]string, 0, len(se.Errors))
			for _, e := range se.Errors {
				keys = append(keys, strings.Join(e.Key(), "."))
			}
			return r, optErrorf("unknown key(s): %s.", strings.Join(keys, ", "))
		}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return r, optErrorf("line %d, column %d: %s.", row, col, de.Error())
		}
		return r, optErrorf("%s.", plaintext.Truncate(plaintext.OneLine(err.Error()), 500))
	}
	return r, nil
}
