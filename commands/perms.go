package commands

import "github.com/bwmarrin/discordgo"

// access is who may run a command.
type access int

const (
	accessAnyone access = iota
	accessChannelAdmin
	accessGuildAdmin
	accessOwner
)

// Permission bits behind the permission words of the interface.
const (
	channelAdminPerms = discordgo.PermissionManageChannels | discordgo.PermissionManageGuild | discordgo.PermissionAdministrator
	guildAdminPerms   = discordgo.PermissionManageGuild | discordgo.PermissionAdministrator
)

// allowed reports whether c may run a command needing a, and if not, why.
// Permissions come from the interaction itself (the member's permissions
// in the channel where the command was used, as Discord computed them), so
// they are checked on every interaction whatever default_member_permissions
// a server admin configured.
func (h *Handler) allowed(c *call, a access) (bool, string) {
	switch a {
	case accessAnyone:
		return true, ""
	case accessChannelAdmin:
		if c.perms&channelAdminPerms != 0 {
			return true, ""
		}
		return false, "You need the Manage Channels, Manage Server or Administrator permission to use `/" + c.name + "`."
	case accessGuildAdmin:
		if c.perms&guildAdminPerms != 0 {
			return true, ""
		}
		return false, "You need the Manage Server or Administrator permission to use `/" + c.name + "`."
	case accessOwner:
		if c.userID != "" && h.owners[c.userID] {
			return true, ""
		}
		return false, "Only the bot's owners can use `/" + c.name + "`."
	}
	return false, "This command is not available."
}
