package commands

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"runtime/debug"

	"github.com/bwmarrin/discordgo"
)

// call is one application command interaction, parsed once.
type call struct {
	i        *discordgo.Interaction
	guildID  string
	userID   string
	perms    int64
	name     string // "subscribe", "rules add", ...
	opts     options
	resolved *discordgo.ApplicationCommandInteractionDataResolved
	x        *exchange
}

// command is one entry of the command table.
type command struct {
	access access
	// guild: the command reads or changes one guild's data, so it needs the
	// interaction's guild and refuses DMs.
	guild bool
	run   func(ctx context.Context, c *call) reply
}

// commandTable maps "name" or "name subcommand" to its handler. It is built
// per call rather than held in a package variable so there is no package
// state, and it is small enough that this costs nothing.
func (h *Handler) commandTable() map[string]command {
	return map[string]command{
		"subscribe":     {accessChannelAdmin, true, h.subscribe},
		"unsubscribe":   {accessChannelAdmin, true, h.unsubscribe},
		"subscriptions": {accessAnyone, true, h.subscriptions},
		"latest":        {accessAnyone, true, h.latest},
		"search":        {accessAnyone, true, h.search},
		"explain":       {accessAnyone, true, h.explain},
		"status":        {accessAnyone, false, h.status},
		"rules list":    {accessAnyone, true, h.rulesList},
		"rules show":    {accessAnyone, true, h.rulesShow},
		"rules add":     {accessGuildAdmin, true, h.rulesAdd},
		"rules remove":  {accessGuildAdmin, true, h.rulesRemove},
		"rules test":    {accessAnyone, true, h.rulesTest},
		"rules edit":    {accessGuildAdmin, true, h.rulesEdit},
		"feeds list":    {accessAnyone, false, h.feedsList},
		"feeds add":     {accessOwner, false, h.feedsAdd},
		"feeds remove":  {accessOwner, false, h.feedsRemove},
	}
}

// Handle answers one interaction through r. It never panics on a malformed
// interaction; failures are logged and, where possible, answered with an
// ephemeral message.
func (h *Handler) Handle(ctx context.Context, i *discordgo.Interaction, r Responder) {
	if i == nil || r == nil {
		return
	}
	x := &exchange{r: r}
	defer func() {
		// Defence in depth: a bug in one command must not stop the gateway
		// or the HTTP server from answering the next interaction.
		if v := recover(); v != nil {
			h.d.Logger.Error("commands: handler panicked", "panic", fmt.Sprint(v), "stack", string(debug.Stack()))
			if x.state == exchangeOpen || x.state == exchangeDeferred {
				_ = x.send(ctx, ephemeralf("Something went wrong; nothing was changed."))
			}
			x.result = resultError
		}
		h.count(x)
	}()

	var err error
	switch i.Type {
	case discordgo.InteractionPing:
		err = x.raw(ctx, &discordgo.InteractionResponse{Type: discordgo.InteractionResponsePong})
	case discordgo.InteractionApplicationCommand:
		err = h.handleCommand(ctx, i, x)
	case discordgo.InteractionApplicationCommandAutocomplete:
		err = h.handleAutocomplete(ctx, i, x)
	case discordgo.InteractionModalSubmit:
		err = h.handleModal(ctx, i, x)
	default:
		x.command = "unknown"
		err = x.send(ctx, refusedf("This kind of interaction is not supported."))
	}
	if err != nil {
		x.result = resultError
		h.d.Logger.Warn("commands: answering interaction failed", "interaction", i.ID, "type", int(i.Type), "err", err)
	}
}

// interactionData returns the interaction's data as a T (a command's or
// a modal submission's) whichever way it was built: decoded JSON holds a
// value, hand-built interactions may hold a pointer.
func interactionData[T any](i *discordgo.Interaction) (T, bool) {
	switch d := any(i.Data).(type) {
	case T:
		return d, true
	case *T:
		if d != nil {
			return *d, true
		}
	}
	var zero T
	return zero, false
}

// newCall parses what every command needs from i.
func newCall(i *discordgo.Interaction, x *exchange) (*call, error) {
	data, ok := interactionData[discordgo.ApplicationCommandInteractionData](i)
	if !ok {
		return nil, optErrorf("This interaction carries no command.")
	}
	c := &call{i: i, guildID: i.GuildID, name: data.Name, opts: data.Options, resolved: data.Resolved, x: x}
	if i.Member != nil {
		c.perms = i.Member.Permissions
		if i.Member.User != nil {
			c.userID = i.Member.User.ID
		}
	}
	if c.userID == "" && i.User != nil {
		c.userID = i.User.ID
	}
	if data.Name == "rules" || data.Name == "feeds" {
		var sub *discordgo.ApplicationCommandInteractionDataOption
		for _, o := range data.Options {
			if o != nil && o.Type == discordgo.ApplicationCommandOptionSubCommand {
				sub = o
				break
			}
		}
		if sub == nil {
			return c, optErrorf("Choose what `/%s` should do (a subcommand).", data.Name)
		}
		c.name = data.Name + " " + sub.Name
		c.opts = sub.Options
	}
	return c, nil
}

// count counts a command or modal interaction by command and result; pings
// and autocomplete, which run no command, are not counted.
func (h *Handler) count(x *exchange) {
	if x.command == "" || h.d.Metrics == nil || h.d.Metrics.Interactions == nil {
		return
	}
	h.d.Metrics.Interactions.WithLabelValues(x.command, cmp.Or(x.result, resultOK)).Inc()
}

func (h *Handler) handleCommand(ctx context.Context, i *discordgo.Interaction, x *exchange) error {
	x.command = "unknown"
	c, err := newCall(i, x)
	if err != nil {
		return x.send(ctx, refusedf("%s", err.Error()))
	}
	cmd, ok := h.commandTable()[c.name]
	if !ok {
		// The label set stays bounded whatever names a payload carries.
		return x.send(ctx, refusedf("Unknown command."))
	}
	x.command = c.name
	if cmd.guild && c.guildID == "" {
		return x.send(ctx, refusedf("`/%s` only works in a server, where it acts on that server's alerts and rules.", c.name))
	}
	if ok, why := h.allowed(c, cmd.access); !ok {
		return x.send(ctx, refusedf("%s Nothing was changed.", sentence(why)))
	}
	rp := cmd.run(ctx, c)
	if x.state == exchangeResponded {
		return nil // the command answered itself (a modal)
	}
	return x.send(ctx, rp)
}

// failed logs an unexpected error and returns the reply the user sees; the
// error text stays in the log, where paths and SQL belong.
func (h *Handler) failed(c *call, what string, err error) reply {
	h.d.Logger.Error("commands: "+what, "command", c.name, "guild", c.guildID, "err", err)
	rp := ephemeralf("Sorry, %s failed; nothing was changed. Please try again later.", what)
	rp.result = resultError
	return rp
}

// optionProblem turns a getter error into the reply shown to the user.
func optionProblem(err error) reply {
	var oe *optionError
	if errors.As(err, &oe) {
		return refusedf("%s Nothing was changed.", sentence(oe.msg))
	}
	return refusedf("The command's options could not be read. Nothing was changed.")
}

func unavailable(what string) reply {
	return refusedf("%s is not available on this bot.", what)
}
