// Package commands defines backchannel's slash commands and answers them.
//
// The package is transport-agnostic: an interaction comes in as a
// *discordgo.Interaction together with a Responder, and the answer goes out
// through that Responder. The bot package supplies two Responders, one over
// the gateway session and one over the HTTP interactions endpoint, so both
// delivery modes run exactly the same code.
//
// Every interaction is checked here, whatever Discord's
// default_member_permissions say, because server admins can change those:
//
//   - anyone: any member;
//   - channel admin: Manage Channels, Manage Guild or Administrator;
//   - guild admin: Manage Guild or Administrator;
//   - owner: a user id listed in Options.OwnerIDs.
//
// Guild-scoped commands always act on the interaction's own guild id, never
// on one taken from an option, so one guild can never read or change
// another's subscriptions, rules or alerts. A refusal is an ephemeral reply
// that says why, and nothing is changed.
//
// Option values are read with the safe getters in options.go: discordgo's
// own getters panic when a payload carries an option of an unexpected type,
// and a signed but malformed payload must not take the bot down.
package commands
