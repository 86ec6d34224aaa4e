package commands

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/bwmarrin/discordgo"
)

// FuzzHandleInteraction feeds decoded interaction payloads to the handler:
// whatever the payload, it must not panic, must answer at most once, and
// every message it sends must carry empty allowed_mentions and fit
// Discord's limits (checked by the fake responder). Seeds are in
// testdata/fuzz/FuzzHandleInteraction.
func FuzzHandleInteraction(f *testing.F) {
	f.Add([]byte(`{"type":2,"guild_id":"100000000000000001","member":{"user":{"id":"999999999999999999"},"permissions":"8"},"data":{"name":"rules","options":[{"name":"add","type":1,"options":[{"name":"name","type":3,"value":"x"},{"name":"keywords","type":3,"value":"("}]}]}}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		var i discordgo.Interaction
		if err := json.Unmarshal(payload, &i); err != nil {
			return // the transports answer 400 before the handler sees it
		}
		e := newEnv(t)
		r := &responder{t: t}
		e.h.Handle(t.Context(), &i, r)
		if len(e.panics.panicked) > 0 {
			t.Fatalf("handler panicked on %s:\n%s", payload, e.panics.panicked[0])
		}
	})
}

// TestMalformedInteractions covers shapes JSON decoding cannot produce but a
// caller could hand over, and option values of every wrong type.
func TestMalformedInteractions(t *testing.T) {
	// (A nil value reads as an absent option, which is valid, so it is not
	// among the wrong ones.)
	wrong := []any{"7", 3.5, true, map[string]any{"a": 1}, []any{1}, float64(1e300), -1.0}
	var cases []*discordgo.Interaction
	for _, v := range wrong {
		for _, typ := range []discordgo.ApplicationCommandOptionType{0, discordgo.ApplicationCommandOptionString,
			discordgo.ApplicationCommandOptionInteger, discordgo.ApplicationCommandOptionChannel, 99} {
			o := func(name string) opt {
				return &discordgo.ApplicationCommandInteractionDataOption{Name: name, Type: typ, Value: v}
			}
			for _, name := range []string{"subscribe", "unsubscribe", "latest", "search", "explain"} {
				cases = append(cases, slash(adminA, name, o("channel"), o("rule"), o("min_sources"), o("count"), o("actor"), o("query"), o("alert")))
			}
			for _, s := range []string{"list", "show", "add", "remove", "test", "edit"} {
				cases = append(cases, slash(adminA, "rules", sub(s, o("name"), o("keywords"), o("exclude"), o("actors"), o("text"), o("description"))))
				// Options where the subcommand should be, and a nil one.
				cases = append(cases, slash(adminA, "rules", o(s), nil))
			}
			for _, s := range []string{"list", "add", "remove"} {
				cases = append(cases, slash(ownerA, "feeds", sub(s, o("url"), o("name"))))
			}
			ac := slash(adminA, "explain", o("alert"))
			ac.Type = discordgo.InteractionApplicationCommandAutocomplete
			ac.Data.(discordgo.ApplicationCommandInteractionData).Options[0].Focused = true
			cases = append(cases, ac)
		}
	}
	noData := slash(adminA, "subscribe")
	noData.Data = nil
	wrongData := slash(adminA, "subscribe")
	wrongData.Data = discordgo.ModalSubmitInteractionData{CustomID: "x"}
	nilPtr := slash(adminA, "subscribe")
	nilPtr.Data = (*discordgo.ApplicationCommandInteractionData)(nil)
	noMember := slash(adminA, "rules", sub("add", str("name", "x"), str("keywords", "x")))
	noMember.Member = nil
	noUser := slash(ownerA, "feeds", sub("remove", str("name", "wire")))
	noUser.Member.User = nil
	modalNoData := &discordgo.Interaction{Type: discordgo.InteractionModalSubmit, GuildID: guildA}
	modalBadComponents := &discordgo.Interaction{Type: discordgo.InteractionModalSubmit, GuildID: guildA,
		Member: &discordgo.Member{Permissions: discordgo.PermissionAdministrator},
		Data: discordgo.ModalSubmitInteractionData{CustomID: "rules-edit:summits", Components: []discordgo.MessageComponent{
			nil, (*discordgo.ActionsRow)(nil), discordgo.ActionsRow{}, &discordgo.Button{}, (*discordgo.TextInput)(nil),
		}}}
	component := &discordgo.Interaction{Type: discordgo.InteractionMessageComponent, GuildID: guildA}
	unknownType := &discordgo.Interaction{Type: 77}
	cases = append(cases, noData, wrongData, nilPtr, noMember, noUser, modalNoData, modalBadComponents, component, unknownType)

	e := newEnv(t)
	for n, i := range cases {
		r := e.run(t, i)
		if len(r.responses) != 1 {
			t.Errorf("case %d: %d responses", n, len(r.responses))
		}
	}
	if e.store.changes() != 0 {
		t.Errorf("malformed interactions changed the store %d times", e.store.changes())
	}
	// A few answers worth pinning.
	if got := e.run(t, noMember).text(); !strings.Contains(got, "You need") {
		t.Errorf("no member: %s", got)
	}
	if got := e.run(t, noUser).text(); !strings.Contains(got, "Only the bot's owners") {
		t.Errorf("no user: %s", got)
	}
	if got := e.run(t, slash(adminA, "latest", num("count", 2.5))).text(); !strings.Contains(got, "whole number") {
		t.Errorf("fractional count: %s", got)
	}
	if got := e.run(t, slash(adminA, "search", num("query", 3))).text(); !strings.Contains(got, "should be text") {
		t.Errorf("numeric query: %s", got)
	}
}
