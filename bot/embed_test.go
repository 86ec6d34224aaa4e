package bot_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"

	"github.com/backchannel/backchannel/bot"
	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/rules"
)

// Set BACKCHANNEL_UPDATE_GOLDEN=1 to rewrite golden files (an environment
// variable rather than a flag, so test files in this package cannot clash).
func embedUpdateGolden() bool { return os.Getenv("BACKCHANNEL_UPDATE_GOLDEN") == "1" }

func embedSeedAlert() model.Alert {
	return model.Alert{
		ID:      42,
		GuildID: "g1",
		Article: model.Article{
			Feed:  "Reuters World",
			Title: "CIA's Burns met Russia's Naryshkin in Ankara, officials say",
			Summary: `<p>The heads of the <b>CIA</b> and Russia&#39;s SVR intelligence service met in Ankara on Monday,
				a White House spokesperson said.</p><script>track()</script>`,
			Link:      "https://www.reuters.com/world/cia-burns-naryshkin-ankara-2022-11-14/",
			Published: time.Date(2022, 11, 14, 15, 4, 5, 0, time.FixedZone("CET", 3600)),
		},
		Matches: []model.Match{{
			Rule: "intel-heads",
			Actors: []model.ActorHit{
				{ID: "us-cia", Office: "CIA Director", Country: "US", Kind: "intel", Alias: "Burns"},
				{ID: "ru-svr", Office: "SVR Director", Country: "RU", Kind: "intel", Alias: "Naryshkin"},
			},
			ContactKind: "meeting",
			ContactTerm: "met",
		}},
	}
}

func embedCases() map[string]model.Alert {
	seed := embedSeedAlert()

	ratcliffe := embedSeedAlert()
	ratcliffe.ID = 7
	ratcliffe.Article.Title = "Naryshkin says he and Ratcliffe agreed to keep an open line of communication"
	ratcliffe.Article.Summary = ""
	ratcliffe.Article.Content = "Sergei Naryshkin said he had spoken by phone with CIA Director John Ratcliffe."
	ratcliffe.Article.Feed = "TASS"
	ratcliffe.Matches[0].Actors = []model.ActorHit{
		{ID: "ru-svr", Office: "SVR Director", Kind: "intel", Alias: "Naryshkin"},
		{ID: "us-cia", Office: "CIA Director", Kind: "intel", Alias: "Ratcliffe"},
		{ID: "us-cia", Office: "CIA Director", Kind: "intel", Alias: "John Ratcliffe"},
	}
	ratcliffe.Matches[0].ContactKind = "channel"
	ratcliffe.Matches[0].ContactTerm = "open line of communication"

	mentions := embedSeedAlert()
	mentions.ID = 8
	mentions.Article.Title = "@everyone: ministers meet <@123456789012345678>"
	mentions.Article.Summary = "Ping @here and <@!42>, role <@&99>, channel <#77>, @EVERYONE shouted."
	mentions.Article.Feed = "Feed <@1>"
	mentions.Matches[0].Actors = []model.ActorHit{{ID: "x", Office: "Foreign Minister", Kind: "diplomatic", Alias: "@here"}}

	long := embedSeedAlert()
	long.ID = 9
	long.Article.Title = strings.Repeat("Ünïcödé title ", 40)
	long.Article.Summary = "<div>" + strings.Repeat("Ω long summary text. ", 400) + "</div>"
	long.Article.Feed = strings.Repeat("F", 2000)
	long.Article.Link = "javascript:alert(1)"
	long.Article.Published = time.Time{}
	for i := 0; i < 200; i++ {
		long.Matches[0].Actors = append(long.Matches[0].Actors, model.ActorHit{
			ID: "a" + strings.Repeat("x", i), Office: "Deputy Minister", Alias: "Alias"})
	}
	long.Matches[0].ContactTerm = strings.Repeat("met ", 600)

	keyword := model.Alert{
		ID:      10,
		Article: model.Article{Title: "  Back   channel reopened ", Link: "http://example.org/a?b=c"},
		Matches: []model.Match{{Rule: "backchannel-words", Keywords: []string{`back ?channel`, `hotline`}}},
	}
	return map[string]model.Alert{
		"roles":                rolesAlert(),
		"seed-ankara":          seed,
		"seed-ratcliffe":       ratcliffe,
		"mentions":             mentions,
		"truncation":           long,
		"keyword-no-actors":    keyword,
		"empty-untitled-alert": {ID: 11},
	}
}

// rolesAlert is what the built-in rules make of offices named by their
// title alone: the Who line names each one's country ("Russia's
// intelligence chief"), where it used to repeat the title ("intelligence
// chief (intelligence) ↔ counterpart").
func rolesAlert() model.Alert {
	a := model.Alert{
		ID: 12,
		Article: model.Article{
			Feed:      "Wire",
			Title:     "Russia's intelligence chief met his Egyptian counterpart in Cairo",
			Link:      "https://wire.example/cairo",
			Published: time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
		},
	}
	spec, err := rules.Defaults()
	if err != nil {
		panic(err)
	}
	set, err := rules.Compile(spec)
	if err != nil {
		panic(err)
	}
	a.Matches = set.Match(a.Article)
	return a
}

func TestEmbedGolden(t *testing.T) {
	t.Parallel()
	for name, a := range embedCases() {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := bot.Embed(a)
			embedCheckLimits(t, e)
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false) // keep <@…> readable in the golden files
			enc.SetIndent("", "  ")
			if err := enc.Encode(e); err != nil {
				t.Fatal(err)
			}
			got := buf.Bytes()
			golden := filepath.Join("testdata", "embed", name+".golden.json")
			if embedUpdateGolden() {
				if err := os.MkdirAll(filepath.Dir(golden), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run with BACKCHANNEL_UPDATE_GOLDEN=1 to create)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("embed differs from %s:\n--- got\n%s--- want\n%s", golden, got, want)
			}
		})
	}
}

// embedCheckLimits checks Discord's limits (in runes) and that no mention
// survives, independently of the golden files.
func embedCheckLimits(t *testing.T, e *discordgo.MessageEmbed) {
	t.Helper()
	n := utf8.RuneCountInString
	check := func(what, s string, limit int) {
		t.Helper()
		if n(s) > limit {
			t.Errorf("%s has %d runes, limit %d", what, n(s), limit)
		}
		for _, bad := range []string{"@everyone", "@here", "<@"} {
			if strings.Contains(strings.ToLower(s), strings.ToLower(bad)) {
				t.Errorf("%s contains a live %q: %q", what, bad, s)
			}
		}
	}
	total := n(e.Title) + n(e.Description)
	check("title", e.Title, 256)
	check("description", e.Description, 4096)
	for _, f := range e.Fields {
		check("field name "+f.Name, f.Name, 256)
		check("field value "+f.Name, f.Value, 1024)
		if f.Value == "" {
			t.Errorf("field %s is empty (Discord refuses it)", f.Name)
		}
		total += n(f.Name) + n(f.Value)
	}
	if e.Footer == nil {
		t.Fatal("no footer")
	}
	check("footer", e.Footer.Text, 2048)
	total += n(e.Footer.Text)
	if total > 6000 {
		t.Errorf("embed has %d runes, limit 6000", total)
	}
	if e.Timestamp != "" {
		if _, err := time.Parse(time.RFC3339, e.Timestamp); err != nil {
			t.Errorf("timestamp %q: %v", e.Timestamp, err)
		}
	}
}

func TestEmbedFooterAndLink(t *testing.T) {
	t.Parallel()
	e := bot.Embed(embedSeedAlert())
	if e.Footer.Text != "alert 42 · rule intel-heads" {
		t.Errorf("footer %q", e.Footer.Text)
	}
	if e.URL != "https://www.reuters.com/world/cia-burns-naryshkin-ankara-2022-11-14/" {
		t.Errorf("url %q", e.URL)
	}
	if e.Timestamp != "2022-11-14T14:04:05Z" {
		t.Errorf("timestamp %q", e.Timestamp)
	}
	var who string
	for _, f := range e.Fields {
		if f.Name == "Who" {
			who = f.Value
		}
	}
	if who != "CIA Director (Burns) ↔ SVR Director (Naryshkin)" {
		t.Errorf("who %q", who)
	}
	if strings.ContainsAny(e.Description, "<>") || strings.Contains(e.Description, "track()") || !strings.Contains(e.Description, "Russia's SVR") {
		t.Errorf("summary not stripped: %q", e.Description)
	}
}

func TestEmbedTruncatesWithEllipsis(t *testing.T) {
	t.Parallel()
	e := bot.Embed(embedCases()["truncation"])
	if utf8.RuneCountInString(e.Title) != 256 || !strings.HasSuffix(e.Title, "…") {
		t.Errorf("title %d runes %q", utf8.RuneCountInString(e.Title), e.Title)
	}
	if e.URL != "" {
		t.Errorf("a javascript: link became the embed URL %q", e.URL)
	}
	for _, f := range e.Fields {
		if utf8.RuneCountInString(f.Value) == 1024 && !strings.HasSuffix(f.Value, "…") {
			t.Errorf("field %s cut without ellipsis", f.Name)
		}
	}
}

// FuzzEmbed: whatever the feed says, the embed stays within Discord's
// limits and pings nobody.
func FuzzEmbed(f *testing.F) {
	f.Add("@everyone", "<@1> <b>x</b>", "feed", "office", "alias", "rule")
	f.Add(strings.Repeat("é", 300), strings.Repeat("<p>a</p>", 2000), "", "", "", "")
	f.Add("<@<@everyone>>", "@@here", "@", "<", "@", "<@")
	f.Fuzz(func(t *testing.T, title, summary, feed, office, alias, rule string) {
		a := model.Alert{ID: 1, Article: model.Article{Title: title, Summary: summary, Feed: feed},
			Matches: []model.Match{{Rule: rule, Actors: []model.ActorHit{{ID: "a", Office: office, Alias: alias}}, ContactTerm: alias}}}
		embedCheckLimits(t, bot.Embed(a))
	})
}
