package commands

import (
	"github.com/bwmarrin/discordgo"

	"github.com/backchannel/backchannel/rules"
)

// Input limits. The same numbers go into the definitions (so Discord's
// client enforces them while typing) and into the handlers (so a payload
// that did not come through the client is held to them too).
const (
	maxRuleNameLen  = rules.MaxRuleNameLen
	maxPatternList  = 1000 // one comma-separated option (docs/CONTRACT.md: at most 1000 characters)
	maxActorsLen    = 1000
	maxActors       = 50
	maxDescription  = 200
	maxQueryLen     = 200
	maxTestTextLen  = 4000
	maxActorIDLen   = 64
	maxAlertIDLen   = 25
	maxFeedURLLen   = 2048
	maxFeedNameLen  = 64
	maxCount        = 10
	defaultCount    = 5
	maxMinSources   = 10 // /subscribe min_sources: 1 (post the first report) to 10
	maxAutocomplete = 25
)

// Definitions returns the slash commands to register. Each call returns new
// values, so callers may modify them.
//
// default_member_permissions only hides commands in the client (and server
// admins can change it); the handler checks permissions itself. Discord
// requires a member to hold every bit listed, so channel-admin commands list
// Manage Channels, the narrowest of the three accepted permissions; a member
// with only Manage Server can be allowed in the server's Integrations
// settings. /rules and /feeds mix subcommands for everyone with admin and
// owner subcommands, so they are visible to everyone.
func Definitions() []*discordgo.ApplicationCommand {
	manageChannels := int64(discordgo.PermissionManageChannels)
	noDM := false
	guildOnly := &[]discordgo.InteractionContextType{discordgo.InteractionContextGuild}

	cmd := func(name, desc string, perms *int64, opts ...*discordgo.ApplicationCommandOption) *discordgo.ApplicationCommand {
		return &discordgo.ApplicationCommand{
			Type:                     discordgo.ChatApplicationCommand,
			Name:                     name,
			Description:              desc,
			DefaultMemberPermissions: perms,
			DMPermission:             &noDM,
			Contexts:                 guildOnly,
			Options:                  opts,
		}
	}
	return []*discordgo.ApplicationCommand{
		cmd("subscribe", "Post this server's matching alerts to a channel", &manageChannels,
			channelOpt("channel", "Channel to post alerts in (default: this one)"),
			ruleOpt("rule", "Only alerts of this rule (default: every rule)", false),
			intOpt("min_sources", "Post a story once this many different feeds reported it (1-10, default 1)", 1, maxMinSources),
		),
		cmd("unsubscribe", "Stop posting alerts to a channel", &manageChannels,
			channelOpt("channel", "Channel to stop posting in (default: this one)"),
			ruleOpt("rule", "The rule the subscription was for (default: every rule)", false),
		),
		cmd("subscriptions", "List this server's alert subscriptions", nil),
		cmd("latest", "Show this server's most recent alerts", nil,
			countOpt(),
			strOpt("actor", "Only alerts naming this actor id", false, maxActorIDLen, true),
		),
		cmd("search", "Search this server's alerts, newest first", nil,
			strOpt("query", "Words to look for", true, maxQueryLen, false),
			countOpt(),
		),
		cmd("explain", "Explain why an alert fired", nil,
			strOpt("alert", "Alert id, as shown in the alert's footer", true, maxAlertIDLen, true),
		),
		cmd("status", "Show each feed's last and next poll, and disabled subscriptions", nil),
		cmd("rules", "Show, test and change this server's rules", nil,
			subcommand("list", "List this server's rules"),
			subcommand("show", "Show one rule in full",
				ruleOpt("name", "Rule name", true)),
			subcommand("add", "Add a keyword rule (server admins)",
				strOpt("name", "Name of the new rule (letters, digits, - _ .)", true, maxRuleNameLen, false),
				strOpt("keywords", "Comma-separated RE2 patterns, case-insensitive; one must match", true, maxPatternList, false),
				strOpt("exclude", "Comma-separated RE2 patterns; an item matching one never fires", false, maxPatternList, false),
				strOpt("actors", "Comma-separated actor ids; one must be named too", false, maxActorsLen, true),
				strOpt("description", "What the rule is for", false, maxDescription, false),
			),
			subcommand("remove", "Remove a rule from this server (server admins)",
				ruleOpt("name", "Rule name", true)),
			subcommand("test", "What this server's rules say about a text",
				strOpt("text", "Headline or passage to test", true, maxTestTextLen, false)),
			subcommand("edit", "Edit a rule as text (server admins)",
				ruleOpt("name", "Rule name", true)),
		),
		cmd("feeds", "List feeds; owners can add and remove them", nil,
			subcommand("list", "List the polled feeds"),
			subcommand("add", "Add a feed after fetching it once (owners)",
				strOpt("url", "RSS, Atom or JSON Feed URL", true, maxFeedURLLen, false),
				strOpt("name", "Name for the feed (default: from its title)", false, maxFeedNameLen, false),
			),
			subcommand("remove", "Remove a feed (owners)",
				strOpt("name", "Feed name", true, maxFeedNameLen, true)),
		),
	}
}

func subcommand(name, desc string, opts ...*discordgo.ApplicationCommandOption) *discordgo.ApplicationCommandOption {
	return &discordgo.ApplicationCommandOption{
		Type:        discordgo.ApplicationCommandOptionSubCommand,
		Name:        name,
		Description: desc,
		Options:     opts,
	}
}

func strOpt(name, desc string, required bool, maxLen int, autocomplete bool) *discordgo.ApplicationCommandOption {
	one := 1
	return &discordgo.ApplicationCommandOption{
		Type:         discordgo.ApplicationCommandOptionString,
		Name:         name,
		Description:  desc,
		Required:     required,
		MinLength:    &one,
		MaxLength:    maxLen,
		Autocomplete: autocomplete,
	}
}

func ruleOpt(name, desc string, required bool) *discordgo.ApplicationCommandOption {
	return strOpt(name, desc, required, maxRuleNameLen, true)
}

func channelOpt(name, desc string) *discordgo.ApplicationCommandOption {
	return &discordgo.ApplicationCommandOption{
		Type:         discordgo.ApplicationCommandOptionChannel,
		Name:         name,
		Description:  desc,
		ChannelTypes: []discordgo.ChannelType{discordgo.ChannelTypeGuildText, discordgo.ChannelTypeGuildNews},
	}
}

func countOpt() *discordgo.ApplicationCommandOption {
	return intOpt("count", "How many (1-10, default 5)", 1, maxCount)
}

func intOpt(name, desc string, lo, hi int) *discordgo.ApplicationCommandOption {
	low := float64(lo)
	return &discordgo.ApplicationCommandOption{
		Type:        discordgo.ApplicationCommandOptionInteger,
		Name:        name,
		Description: desc,
		MinValue:    &low,
		MaxValue:    float64(hi),
	}
}
