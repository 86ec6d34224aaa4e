package bot

import (
	"context"
	"log/slog"
	"time"

	"github.com/bwmarrin/discordgo"
)

// ServeGateway hands every INTERACTION_CREATE the session receives to h,
// answering through the session's REST routes (the callback route for the
// first response, the webhook route for edits). It returns a function that
// detaches the handler. Interactions need no gateway intent at all.
func ServeGateway(s *discordgo.Session, h InteractionHandler, logger *slog.Logger) (remove func()) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return s.AddHandler(func(s *discordgo.Session, ic *discordgo.InteractionCreate) {
		if ic == nil || ic.Interaction == nil {
			return
		}
		serveGatewayInteraction(s, h, ic.Interaction, interactionAckDeadline)
	})
}

// serveGatewayInteraction answers one interaction. discordgo already runs
// each event handler on its own goroutine, so a slow command does not hold
// up the next event.
func serveGatewayInteraction(s *discordgo.Session, h InteractionHandler, i *discordgo.Interaction, ackWait time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), interactionTokenLife)
	defer cancel()
	reply := &interactionReply{
		send: func(ctx context.Context, resp *discordgo.InteractionResponse) error {
			if err := s.InteractionRespond(i, resp, discordgo.WithContext(ctx)); err != nil {
				return &interactionError{op: "respond to interaction", err: err}
			}
			return nil
		},
		hooks: interactionWebhooksVia(s, i),
	}
	if interactionCanDefer(i) {
		// Acknowledge on the handler's behalf if it is slow; see
		// interactionReply.
		t := time.AfterFunc(ackWait, func() { _ = reply.ackIfOpen(ctx) })
		defer t.Stop()
	}
	h.Handle(ctx, i, reply)
}
