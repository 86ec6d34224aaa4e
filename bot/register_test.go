package bot

import (
	"slices"
	"testing"
	"time"

	"github.com/backchannel/backchannel/commands"
	"github.com/backchannel/backchannel/internal/fakediscord"
)

func TestRegisterCommandsIdempotent(t *testing.T) {
	fake := fakediscord.New(t)
	s, err := NewSession(SessionConfig{Token: fake.Token(), APIURL: fake.URL()})
	if err != nil {
		t.Fatal(err)
	}
	const guild = "100000000000000009"
	for range 2 {
		if err := RegisterCommands(t.Context(), s, fakediscord.ApplicationID, guild, commands.Definitions()); err != nil {
			t.Fatal(err)
		}
	}
	over := fake.WaitCommands(t, 2, 5*time.Second)
	if over[0].GuildID != guild || over[1].GuildID != guild {
		t.Errorf("registered in %q and %q", over[0].GuildID, over[1].GuildID)
	}
	var names []string
	for _, c := range fake.RegisteredCommands(guild) {
		names = append(names, c.Name)
	}
	slices.Sort(names)
	want := []string{"explain", "feeds", "latest", "rules", "search", "status", "subscribe", "subscriptions", "unsubscribe"}
	if !slices.Equal(names, want) {
		t.Errorf("registered %v, want %v", names, want)
	}
	if got := fake.RegisteredCommands(""); len(got) != 0 {
		t.Errorf("guild registration also registered %d global commands", len(got))
	}

	if err := RegisterCommands(t.Context(), s, fakediscord.ApplicationID, "", commands.Definitions()); err != nil {
		t.Fatal(err)
	}
	if got := fake.RegisteredCommands(""); len(got) != len(want) {
		t.Errorf("global registration: %d commands", len(got))
	}
	if err := RegisterCommands(t.Context(), s, "", guild, commands.Definitions()); err == nil {
		t.Error("no application id: want an error")
	}
}
