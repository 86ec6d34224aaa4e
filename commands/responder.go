package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/bwmarrin/discordgo"

	"github.com/backchannel/backchannel/plaintext"
)

// Responder carries answers back over the transport an interaction came in
// on. Respond sends the one initial response (a message, a deferral, a
// modal, autocomplete choices); EditResponse replaces the original message,
// which is how a deferred response is completed.
type Responder interface {
	Respond(ctx context.Context, resp *discordgo.InteractionResponse) error
	EditResponse(ctx context.Context, edit *discordgo.WebhookEdit) error
}

// NoMentions returns allowed_mentions with an empty parse list: nothing in a
// reply, however it got there (feed titles, rule text, user input), pings
// anyone. A new value each time, so no caller can change another's.
func NoMentions() *discordgo.MessageAllowedMentions {
	return &discordgo.MessageAllowedMentions{Parse: []discordgo.AllowedMentionType{}}
}

// Discord's message limits, which every reply is cut to fit.
const (
	maxContent          = 2000
	maxEmbeds           = 10
	maxEmbedTotal       = 6000
	maxEmbedTitle       = 256
	maxEmbedDescription = 4096
	maxEmbedFields      = 25
	maxFieldName        = 256
	maxFieldValue       = 1024
	maxFooter           = 2048
)

// reply is a message answer before it is put on a transport.
type reply struct {
	content   string
	embeds    []*discordgo.MessageEmbed
	ephemeral bool
	result    string // for metrics: "" (ok), resultRefused or resultError
}

// Interaction results, the result label of metrics.Interactions.
const (
	// resultOK: the command did what was asked (or answered the question).
	resultOK = "ok"
	// resultRefused: the bot answered but did nothing: no permission, an
	// invalid option, a name that does not exist or already does.
	resultRefused = "refused"
	// resultError: the bot failed (store, transport, a panic).
	resultError = "error"
)

func ephemeralf(format string, args ...any) reply {
	return reply{content: fmt.Sprintf(format, args...), ephemeral: true}
}

// refusedf is ephemeralf for an answer that refuses the command.
func refusedf(format string, args ...any) reply {
	rp := ephemeralf(format, args...)
	rp.result = resultRefused
	return rp
}

// sentence ends s with a full stop unless it already ends a sentence, so
// that a reason from elsewhere reads right before "Nothing was changed."
func sentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" || strings.ContainsAny(s[len(s)-1:], ".!?") {
		return s
	}
	return s + "."
}

func (rp reply) responseData() *discordgo.InteractionResponseData {
	d := &discordgo.InteractionResponseData{
		Content:         plaintext.Truncate(rp.content, maxContent),
		Embeds:          rp.embeds,
		AllowedMentions: NoMentions(),
	}
	if rp.ephemeral {
		d.Flags = discordgo.MessageFlagsEphemeral
	}
	return d
}

func (rp reply) webhookEdit() *discordgo.WebhookEdit {
	content := plaintext.Truncate(rp.content, maxContent)
	embeds := rp.embeds
	if embeds == nil {
		// An empty list, not an absent one, so an edit clears nothing by
		// accident and says exactly what the message now holds.
		embeds = []*discordgo.MessageEmbed{}
	}
	return &discordgo.WebhookEdit{Content: &content, Embeds: &embeds, AllowedMentions: NoMentions()}
}

// exchange wraps a Responder with what has been sent so far, so a command
// can defer and then answer with the same call it would use otherwise. It
// also keeps what the interaction was and how it ended, for metrics.
type exchange struct {
	r       Responder
	state   int
	command string // metrics label: "rules add", "unknown", ""
	result  string // result of the answer sent; resultOK when none says otherwise
}

const (
	exchangeOpen = iota
	exchangeResponded
	exchangeDeferred
)

var errAlreadyAnswered = errors.New("commands: interaction already answered")

// send delivers rp: as the initial response, or as the edit that completes
// a deferred one.
func (x *exchange) send(ctx context.Context, rp reply) error {
	x.result = rp.result
	switch x.state {
	case exchangeOpen:
		x.state = exchangeResponded
		return x.r.Respond(ctx, &discordgo.InteractionResponse{
			Type: discordgo.InteractionResponseChannelMessageWithSource,
			Data: rp.responseData(),
		})
	case exchangeDeferred:
		x.state = exchangeResponded
		return x.r.EditResponse(ctx, rp.webhookEdit())
	default:
		return errAlreadyAnswered
	}
}

// raw sends a response that is not a message (modal, autocomplete, pong).
func (x *exchange) raw(ctx context.Context, resp *discordgo.InteractionResponse) error {
	if x.state != exchangeOpen {
		return errAlreadyAnswered
	}
	x.state = exchangeResponded
	return x.r.Respond(ctx, resp)
}

// deferReply acknowledges the interaction within Discord's three seconds
// when the answer may take longer; the answer follows through send. The
// visibility of the final answer is fixed here.
func (x *exchange) deferReply(ctx context.Context, ephemeral bool) error {
	if x.state != exchangeOpen {
		return errAlreadyAnswered
	}
	x.state = exchangeDeferred
	d := &discordgo.InteractionResponseData{AllowedMentions: NoMentions()}
	if ephemeral {
		d.Flags = discordgo.MessageFlagsEphemeral
	}
	return x.r.Respond(ctx, &discordgo.InteractionResponse{
		Type: discordgo.InteractionResponseDeferredChannelMessageWithSource,
		Data: d,
	})
}
