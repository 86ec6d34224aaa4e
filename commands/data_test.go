package commands

import (
	"testing"

	"github.com/bwmarrin/discordgo"
)

func TestInteractionData(t *testing.T) {
	type modal = discordgo.ModalSubmitInteractionData
	for _, tc := range []struct {
		name string
		data discordgo.InteractionData
		ok   bool
	}{
		{"value", modal{CustomID: "m"}, true},
		{"pointer", &modal{CustomID: "m"}, true},
		{"nil pointer", (*modal)(nil), false},
		{"nil", nil, false},
		{"other type", discordgo.ApplicationCommandInteractionData{Name: "m"}, false},
	} {
		got, ok := interactionData[modal](&discordgo.Interaction{Data: tc.data})
		if ok != tc.ok || (ok && got.CustomID != "m") {
			t.Errorf("%s: got %+v, %v; want ok %v", tc.name, got, ok, tc.ok)
		}
	}
}
