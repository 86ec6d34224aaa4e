package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/bwmarrin/discordgo"

	"github.com/backchannel/backchannel/commands"
	"github.com/backchannel/backchannel/db"
	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/rulebook"
	"github.com/backchannel/backchannel/rules"
)

// rulesAddGuilds is how many guilds BenchmarkRulesAdd spreads its edits
// over, each already holding one rule of its own (issue 12: 100 guilds
// with a customised rule each).
const rulesAddGuilds = 100

// BenchmarkRulesAdd measures `/rules add` end to end through the command
// handler, with the real SQLite store and the real rulebook over the
// compiled default rules: validate the rule against the guild's set, save
// it, invalidate the guild's set (ns/op of "answer"); and the same followed
// by the guild's next ForGuild, which builds its new set as the next poll
// does ("answer+rebuild"). Target (issue 12): the answer within 200 ms.
func BenchmarkRulesAdd(b *testing.B) {
	ctx := context.Background()
	store, err := db.Open(ctx, filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = store.Close() })
	spec, err := rules.Defaults()
	if err != nil {
		b.Fatal(err)
	}
	defaults, err := rules.Compile(spec)
	if err != nil {
		b.Fatal(err)
	}
	book := rulebook.NewBook(defaults, store, rulebook.Options{})
	h := commands.New(commands.Options{Rules: store, Book: book})
	guild := func(i int) string { return fmt.Sprintf("2100000000000%05d", i%rulesAddGuilds) }
	for i := range rulesAddGuilds {
		if err := store.PutGuildRule(ctx, guild(i), model.RuleSpec{Name: "own", Keywords: []string{`\bsanctions?\b`}}); err != nil {
			b.Fatal(err)
		}
		if _, err := book.ForGuild(ctx, guild(i)); err != nil {
			b.Fatal(err)
		}
	}
	seq := 0
	add := func(b *testing.B) string {
		seq++
		g := guild(seq)
		// A poll since the guild's last edit has built its set again.
		b.StopTimer()
		if _, err := book.ForGuild(ctx, g); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		r := &benchResponder{}
		h.Handle(ctx, rulesAddInteraction(g, fmt.Sprintf("watch-%d", seq)), r)
		if !strings.HasPrefix(r.content, "Added rule") {
			b.Fatalf("/rules add answered %q", r.content)
		}
		return g
	}
	b.Run("answer", func(b *testing.B) {
		for b.Loop() {
			add(b)
		}
	})
	b.Run("answer+rebuild", func(b *testing.B) {
		for b.Loop() {
			if _, err := book.ForGuild(ctx, add(b)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// rulesAddInteraction is `/rules add` typed in guild by an administrator.
func rulesAddInteraction(guild, name string) *discordgo.Interaction {
	str := func(n, v string) *discordgo.ApplicationCommandInteractionDataOption {
		return &discordgo.ApplicationCommandInteractionDataOption{Name: n, Type: discordgo.ApplicationCommandOptionString, Value: v}
	}
	return &discordgo.Interaction{
		ID: "1", AppID: "app", Token: "tok", Type: discordgo.InteractionApplicationCommand,
		GuildID: guild, ChannelID: "300000000000000001",
		Member: &discordgo.Member{User: &discordgo.User{ID: "400000000000000009"}, Permissions: discordgo.PermissionAdministrator},
		Data: discordgo.ApplicationCommandInteractionData{Name: "rules", Options: []*discordgo.ApplicationCommandInteractionDataOption{{
			Name: "add", Type: discordgo.ApplicationCommandOptionSubCommand,
			Options: []*discordgo.ApplicationCommandInteractionDataOption{
				str("name", name),
				str("keywords", `\bsanctions?\b, \bembargo\b`),
				str("exclude", `\bfootball\b`),
				str("actors", "us-cia, ru-svr"),
			},
		}}},
	}
}

// benchResponder keeps the content of the answer.
type benchResponder struct {
	mu      sync.Mutex
	content string
}

func (r *benchResponder) Respond(_ context.Context, resp *discordgo.InteractionResponse) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if resp.Data != nil {
		r.content = resp.Data.Content
	}
	return nil
}

func (r *benchResponder) EditResponse(_ context.Context, e *discordgo.WebhookEdit) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if e.Content != nil {
		r.content = *e.Content
	}
	return nil
}
