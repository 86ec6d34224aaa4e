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
// delivers the initial response (HTTP body or callback route); hooks are
// the webhook routes that act on the interaction afterwards.
//
// When the handler is slow, ackIfOpen acknowledges on its behalf with a
// deferred response, which is public: the handler has not said yet what
// its answer will be. A message the handler sends afterwards then becomes:
//   - public: an edit of that deferred response;
//   - ephemeral: the public deferred response is deleted and the message
//     sent as an ephemeral follow-up, which stands in for the original
//     from then on (EditResponse edits it). Editing the public original
//     would show a private answer (a refusal, an error, a /rules test) to
//     the whole channel, and so would a follow-up while the deferral is
//     still pending: Discord takes that one as completing the deferral,
//     with the deferral's visibility. So the follow-up is never sent
//     unless the delete succeeded.
//
// A handler may also defer by itself after the automatic deferral (it did
// not know it was slow). A public deferral is then already in place and
// nothing is sent. An ephemeral one cannot be put in place any more (the
// visibility of a deferral is fixed when it is sent), so it is recorded
// instead: the public "thinking" placeholder stays until the answer, and
// the answer (EditResponse) is delivered privately as above. Deleting the
// placeholder at once would leave the user with no sign of life for the
// rest of a slow command.
type interactionReply struct {
	send  func(ctx context.Context, resp *discordgo.InteractionResponse) error
	hooks interactionWebhooks

	// mu is held while anything is sent, so an edit can never overtake
	// the response it edits, nor a follow-up the delete it depends on.
	mu    sync.Mutex
	state int
	// private: the original is the public automatic deferral but the
	// handler's answer is to be ephemeral (it deferred ephemerally).
	private bool
	// originalGone: the public automatic deferral was deleted.
	originalGone bool
	// standIn is the id of the ephemeral follow-up that replaced the
	// deleted original; edits of the original go to it.
	standIn string
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
			// Already deferred, publicly; see interactionReply.
			r.private = ephemeral(resp.Data)
			return nil
		case discordgo.InteractionResponseChannelMessageWithSource:
			if ephemeral(resp.Data) {
				return r.answerPrivately(ctx, followupFromResponse(resp.Data))
			}
			return r.hooks.edit(ctx, interactionEditFrom(resp.Data))
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
	switch {
	case r.standIn != "":
		return r.hooks.editFollowup(ctx, r.standIn, withNoMentions(e))
	case r.private:
		return r.answerPrivately(ctx, followupFromEdit(e))
	default:
		return r.hooks.edit(ctx, e)
	}
}

// answerPrivately replaces the public automatic deferral with an ephemeral
// follow-up. Callers hold r.mu.
func (r *interactionReply) answerPrivately(ctx context.Context, p *discordgo.WebhookParams) error {
	if !r.originalGone {
		if err := r.hooks.deleteOriginal(ctx); err != nil {
			// No follow-up: it would complete the public deferral and
			// show the private answer to everyone.
			return fmt.Errorf("bot: ephemeral answer after the automatic (public) acknowledgement not sent: %w", err)
		}
		r.originalGone = true
	}
	id, err := r.hooks.followup(ctx, p)
	if err != nil {
		return err
	}
	r.standIn = id
	return nil
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

func ephemeral(d *discordgo.InteractionResponseData) bool {
	return d != nil && d.Flags&discordgo.MessageFlagsEphemeral != 0
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

// followupFlags are the message flags a follow-up may carry.
const followupFlags = discordgo.MessageFlagsEphemeral | discordgo.MessageFlagsSuppressEmbeds

// followupFromResponse turns an ephemeral message response into the
// ephemeral follow-up that delivers it after the automatic deferral.
func followupFromResponse(d *discordgo.InteractionResponseData) *discordgo.WebhookParams {
	if d == nil {
		d = &discordgo.InteractionResponseData{}
	}
	p := &discordgo.WebhookParams{
		Content:         d.Content,
		Embeds:          d.Embeds,
		Components:      d.Components,
		AllowedMentions: d.AllowedMentions,
		Flags:           d.Flags&followupFlags | discordgo.MessageFlagsEphemeral,
	}
	return completeFollowup(p)
}

// followupFromEdit turns the edit that would complete a deferred response
// into the ephemeral follow-up that delivers the same message.
func followupFromEdit(e *discordgo.WebhookEdit) *discordgo.WebhookParams {
	p := &discordgo.WebhookParams{AllowedMentions: e.AllowedMentions, Flags: discordgo.MessageFlagsEphemeral}
	if e.Content != nil {
		p.Content = *e.Content
	}
	if e.Embeds != nil {
		p.Embeds = *e.Embeds
	}
	if e.Components != nil {
		p.Components = *e.Components
	}
	return completeFollowup(p)
}

func completeFollowup(p *discordgo.WebhookParams) *discordgo.WebhookParams {
	if p.Components == nil {
		// discordgo sends a nil list as "components": null.
		p.Components = []discordgo.MessageComponent{}
	}
	if p.AllowedMentions == nil {
		p.AllowedMentions = commands.NoMentions()
	}
	return p
}

// withNoMentions returns e with allowed_mentions set, never nil.
func withNoMentions(e *discordgo.WebhookEdit) *discordgo.WebhookEdit {
	if e.AllowedMentions != nil {
		return e
	}
	c := *e
	c.AllowedMentions = commands.NoMentions()
	return &c
}

// interactionWebhooks are the webhook routes that act on an interaction
// after its initial response. They take the interaction token, not the bot
// token; errors hide it (interactionError).
type interactionWebhooks struct {
	s *discordgo.Session
	i *discordgo.Interaction
}

func interactionWebhooksVia(s *discordgo.Session, i *discordgo.Interaction) interactionWebhooks {
	return interactionWebhooks{s: s, i: i}
}

var errNoSession = errors.New("bot: no Discord session for the interaction's webhook routes")

// edit replaces the original response.
func (h interactionWebhooks) edit(ctx context.Context, e *discordgo.WebhookEdit) error {
	if h.s == nil {
		return errNoSession
	}
	if _, err := h.s.InteractionResponseEdit(h.i, e, discordgo.WithContext(ctx)); err != nil {
		return &interactionError{op: "edit interaction response", err: err}
	}
	return nil
}

// deleteOriginal deletes the original response.
func (h interactionWebhooks) deleteOriginal(ctx context.Context) error {
	if h.s == nil {
		return errNoSession
	}
	if err := h.s.InteractionResponseDelete(h.i, discordgo.WithContext(ctx)); err != nil {
		return &interactionError{op: "delete interaction response", err: err}
	}
	return nil
}

// followup sends a follow-up message and returns its id.
func (h interactionWebhooks) followup(ctx context.Context, p *discordgo.WebhookParams) (string, error) {
	if h.s == nil {
		return "", errNoSession
	}
	m, err := h.s.FollowupMessageCreate(h.i, true, p, discordgo.WithContext(ctx))
	if err != nil {
		return "", &interactionError{op: "send interaction follow-up", err: err}
	}
	if m == nil || m.ID == "" {
		return "", errors.New("bot: send interaction follow-up: Discord answered without the message")
	}
	return m.ID, nil
}

// editFollowup edits a follow-up message.
func (h interactionWebhooks) editFollowup(ctx context.Context, id string, e *discordgo.WebhookEdit) error {
	if h.s == nil {
		return errNoSession
	}
	if _, err := h.s.FollowupMessageEdit(h.i, id, e, discordgo.WithContext(ctx)); err != nil {
		return &interactionError{op: "edit interaction follow-up", err: err}
	}
	return nil
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
