package bot

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/bwmarrin/discordgo"

	"github.com/backchannel/backchannel/commands"
)

// InteractionHandler answers interactions; *commands.Handler is one. Both
// transports deliver to it, so the commands behave the same however
// Discord sends them.
type InteractionHandler interface {
	Handle(ctx context.Context, i *discordgo.Interaction, r commands.Responder)
}

const (
	// interactionTokenLife is how long Discord accepts edits of an
	// interaction's original response; work for an interaction never
	// outlives it.
	interactionTokenLife = 15 * time.Minute
	// interactionAckDeadline is how long a handler may take before the
	// transport acknowledges the interaction on its behalf: Discord drops
	// interactions not answered within 3 seconds, and the answer still has
	// to travel.
	interactionAckDeadline = 2 * time.Second
)

var errInteractionAnswered = errors.New("bot: interaction already answered")

// interactionReply is the commands.Responder both transports use. send
// delivers the initial response (HTTP body or callback route), edit the
// later edits (always the webhook route). When the handler is slow,
// ackIfOpen acknowledges with a deferred response and a message the handler
// sends afterwards becomes an edit of that deferred response, so a slow
// command still reaches the user instead of "This interaction failed".
type interactionReply struct {
	send func(ctx context.Context, resp *discordgo.InteractionResponse) error
	edit func(ctx context.Context, e *discordgo.WebhookEdit) error

	// mu is held while the initial response is sent, so an edit can never
	// overtake the deferred response it edits.
	mu    sync.Mutex
	state int
}

const (
	replyOpen = iota
	replyAnswered
	replyAutoDeferred
)

func (r *interactionReply) Respond(ctx context.Context, resp *discordgo.InteractionResponse) error {
	if resp == nil {
		return errors.New("bot: nil interaction response")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch r.state {
	case replyOpen:
		r.state = replyAnswered
		return r.send(ctx, resp)
	case replyAutoDeferred:
		r.state = replyAnswered
		switch resp.Type {
		case discordgo.InteractionResponseDeferredChannelMessageWithSource:
			return nil // already done
		case discordgo.InteractionResponseChannelMessageWithSource:
			return r.edit(ctx, interactionEditFrom(resp.Data))
		default:
			return fmt.Errorf("bot: interaction response type %d came after the automatic acknowledgement", resp.Type)
		}
	default:
		return errInteractionAnswered
	}
}

func (r *interactionReply) EditResponse(ctx context.Context, e *discordgo.WebhookEdit) error {
	if e == nil {
		return errors.New("bot: nil interaction edit")
	}
	// Serialised with Respond: the edit must follow the response it edits.
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.edit(ctx, e)
}

// ackIfOpen sends a deferred response when nothing has been sent yet.
func (r *interactionReply) ackIfOpen(ctx context.Context) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.state != replyOpen {
		return nil
	}
	r.state = replyAutoDeferred
	return r.send(ctx, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
		Data: &discordgo.InteractionResponseData{AllowedMentions: commands.NoMentions()},
	})
}

// interactionCanDefer reports whether Discord accepts a deferred message
// response for this kind of interaction (autocomplete has no such thing).
func interactionCanDefer(i *discordgo.Interaction) bool {
	return i.Type == discordgo.InteractionApplicationCommand || i.Type == discordgo.InteractionModalSubmit
}

// interactionEditFrom turns a message response into the edit that puts the
// same message in place of a deferred response.
func interactionEditFrom(d *discordgo.InteractionResponseData) *discordgo.WebhookEdit {
	if d == nil {
		d = &discordgo.InteractionResponseData{}
	}
	content := d.Content
	embeds := d.Embeds
	if embeds == nil {
		embeds = []*discordgo.MessageEmbed{}
	}
	e := &discordgo.WebhookEdit{Content: &content, Embeds: &embeds, AllowedMentions: d.AllowedMentions}
	if d.Components != nil {
		comps := d.Components
		e.Components = &comps
	}
	if e.AllowedMentions == nil {
		e.AllowedMentions = commands.NoMentions()
	}
	return e
}

// interactionEditVia returns an edit function over a REST session: the
// webhook route needs the interaction token, not the bot token.
func interactionEditVia(s *discordgo.Session, i *discordgo.Interaction) func(context.Context, *discordgo.WebhookEdit) error {
	return func(ctx context.Context, e *discordgo.WebhookEdit) error {
		if s == nil {
			return errors.New("bot: no Discord session to edit the interaction response with")
		}
		if _, err := s.InteractionResponseEdit(i, e, discordgo.WithContext(ctx)); err != nil {
			return &interactionError{op: "edit interaction response", err: err}
		}
		return nil
	}
}

// interactionError keeps the cause for errors.As but hides the interaction
// token that a transport error's URL would otherwise carry into logs.
type interactionError struct {
	op  string
	err error
}

func (e *interactionError) Error() string {
	return "bot: " + e.op + ": " + redactDiscordURL(e.err.Error())
}
func (e *interactionError) Unwrap() error { return e.err }
