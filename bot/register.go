package bot

import (
	"context"
	"errors"

	"github.com/bwmarrin/discordgo"
)

// RegisterCommands makes cmds the application's commands in guildID (or
// globally when guildID is empty). It uses Discord's bulk overwrite, which
// replaces the whole set in one request: running it at every start is
// idempotent, updates changed commands, and removes commands no longer
// defined.
func RegisterCommands(ctx context.Context, s *discordgo.Session, appID, guildID string, cmds []*discordgo.ApplicationCommand) error {
	if s == nil {
		return errors.New("bot: register commands: no session")
	}
	if appID == "" {
		return errors.New("bot: register commands: discord.application_id is empty")
	}
	if cmds == nil {
		// A nil list would be sent as null; an empty list clears the set.
		cmds = []*discordgo.ApplicationCommand{}
	}
	if _, err := s.ApplicationCommandBulkOverwrite(appID, guildID, cmds, discordgo.WithContext(ctx)); err != nil {
		where := "globally"
		if guildID != "" {
			where = "in guild " + guildID
		}
		return &interactionError{op: "register commands " + where, err: err}
	}
	return nil
}
