package bot_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
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
		"sources-2":            embedWithSources(seed, 2),
		"sources-4":            embedWithSources(seed, 4),
		"sources-40":           embedWithSources(seed, 40),
		"sources-hostile":      embedHostileSources(),
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
		ID: 13,
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

// embedOutlets are the reports of the Ankara meeting from the issue.
var embedOutlets = []model.Source{
	{AlertID: 42, Feed: "Reuters World", Title: "CIA's Burns met Russia's Naryshkin in Ankara, officials say",
		Link: "https://www.reuters.com/world/cia-burns-naryshkin-ankara-2022-11-14/"},
	{AlertID: 57, Feed: "AP News", Title: "US and Russian spy chiefs held talks in Ankara, Kremlin confirms",
		Link: "https://apnews.com/article/russia-ukraine-cia-ankara-talks-8d1b0c2f"},
	{AlertID: 63, Feed: "BBC World", Title: "White House confirms CIA director met Russian intelligence head in Turkey",
		Link: "https://www.bbc.co.uk/news/world-europe-63620202"},
	{AlertID: 71, Feed: "TASS", Title: "Нарышкин и Бернс провели встречу в Анкаре",
		Link: "https://tass.ru/politika/16321241"},
}

// embedWithSources gives a the first n reports of its story: the outlets
// above, then numbered wire feeds with long links.
func embedWithSources(a model.Alert, n int) model.Alert {
	a.Story = "s-ankara"
	a.Sources = nil
	for i := range n {
		if i < len(embedOutlets) {
			a.Sources = append(a.Sources, embedOutlets[i])
			continue
		}
		a.Sources = append(a.Sources, model.Source{
			AlertID: int64(100 + i), Feed: "Regional Wire " + strconv.Itoa(i),
			Title: "Spy chiefs meet in Ankara",
			Link:  "https://regional-wire-" + strconv.Itoa(i) + ".example.com/news/2022/11/14/cia-director-burns-meets-svr-naryshkin-in-ankara",
		})
	}
	for i := range a.Sources {
		a.Sources[i].Published = a.Article.Published.Add(time.Duration(i) * time.Hour)
	}
	return a
}

// embedHostileSources: feed names and links written to break the list,
// fake a link or ping someone.
func embedHostileSources() model.Alert {
	a := embedWithSources(embedSeedAlert(), 1)
	a.ID = 12
	a.Sources = append(a.Sources,
		model.Source{AlertID: 80, Feed: "[Official](https://phish.example/login)", Link: "https://a.example/x"},
		model.Source{AlertID: 81, Feed: "@everyone <@123456789012345678> <@&99> @here", Link: "https://b.example/@here/y"},
		model.Source{AlertID: 82, Feed: "**bold** _it_ ~~gone~~ `code` ||spoiler|| > quote # head \\", Link: "https://c.example/a) [b](https://phish.example/"},
		model.Source{AlertID: 83, Feed: "Scripted\nFeed\tName", Link: "javascript:alert(1)"},
		model.Source{AlertID: 84, Feed: "", Link: "https://no-name.example/story?q=a b&r=(c)"},
		model.Source{AlertID: 85, Feed: "User info", Link: "https://trusted.example@phish.example/"},
		model.Source{AlertID: 86, Feed: strings.Repeat("Very long feed name ", 20), Link: "https://long.example/" + strings.Repeat("x", 600)},
	)
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
// limits and pings nobody, and every line of the Sources field is whole.
func FuzzEmbed(f *testing.F) {
	f.Add("@everyone", "<@1> <b>x</b>", "feed", "office", "alias", "rule", "https://x.example/a")
	f.Add(strings.Repeat("é", 300), strings.Repeat("<p>a</p>", 2000), "", "", "", "", "")
	f.Add("<@<@everyone>>", "@@here", "@", "<", "@", "<@", "https://x.example/<@1>)](javascript:x)")
	f.Add("t", "s", "[a](https://evil.example)", "o", "a", "r", "http://[::1]:80/a b?c=d e#f g")
	f.Fuzz(func(t *testing.T, title, summary, feed, office, alias, rule, link string) {
		a := model.Alert{ID: 1, Article: model.Article{Title: title, Summary: summary, Feed: feed, Link: link},
			Matches: []model.Match{{Rule: rule, Actors: []model.ActorHit{{ID: "a", Office: office, Alias: alias}}, ContactTerm: alias}}}
		for i := range 30 {
			a.Sources = append(a.Sources, model.Source{AlertID: int64(i + 1), Feed: feed + strings.Repeat(alias, i%3), Title: title, Link: link})
		}
		e := bot.Embed(a)
		embedCheckLimits(t, e)
		value, ok := embedSourcesField(t, e)
		if !ok {
			t.Fatal("no Sources field for 30 sources")
		}
		for _, l := range strings.Split(value, "\n")[1:] {
			if !embedSourceLineRE.MatchString(l) {
				t.Errorf("malformed source line %q", l)
			}
		}
	})
}

// embedSourceLineRE is a well-formed line of the Sources field: an escaped
// name, linked or not, or the count of those left out. Inside the link
// text every [ ] is escaped; the target has no white space, parenthesis
// or angle bracket that could end it early.
var embedSourceLineRE = regexp.MustCompile(`^(?:\[(?:\\.|[^\\\[\]])+\]\(https?://[^\s()<>\[\]]+\)|(?:\\.|[^\\\[\]])+|… and \d+ more)$`)

func embedSourcesField(t *testing.T, e *discordgo.MessageEmbed) (string, bool) {
	t.Helper()
	var value string
	found := 0
	for _, f := range e.Fields {
		if f.Name == "Sources" {
			value = f.Value
			found++
		}
	}
	if found > 1 {
		t.Errorf("%d Sources fields", found)
	}
	return value, found == 1
}

func TestEmbedSources(t *testing.T) {
	t.Parallel()
	long := embedCases()["truncation"]
	tests := []struct {
		name      string
		a         model.Alert
		count     string   // first line; "" when there must be no Sources field
		lines     []string // lines that must follow it, in this order
		more      string   // the last line, when sources are left out
		maxLinked int      // at most this many outlets listed (0: all)
	}{
		{"one source: no field", embedWithSources(embedSeedAlert(), 1), "", nil, "", 0},
		{"none: no field", embedSeedAlert(), "", nil, "", 0},
		{"two", embedWithSources(embedSeedAlert(), 2), "2 sources", []string{
			"[Reuters World](https://www.reuters.com/world/cia-burns-naryshkin-ankara-2022-11-14/)",
			"[AP News](https://apnews.com/article/russia-ukraine-cia-ankara-talks-8d1b0c2f)"}, "", 0},
		{"four", embedWithSources(embedSeedAlert(), 4), "4 sources", []string{
			"[Reuters World](https://www.reuters.com/world/cia-burns-naryshkin-ankara-2022-11-14/)",
			"[AP News](https://apnews.com/article/russia-ukraine-cia-ankara-talks-8d1b0c2f)",
			"[BBC World](https://www.bbc.co.uk/news/world-europe-63620202)",
			"[TASS](https://tass.ru/politika/16321241)"}, "", 0},
		{"forty", embedWithSources(embedSeedAlert(), 40), "40 sources", nil, "more", 0},
		{"forty in an embed already at its limits", embedWithSources(long, 40), "40 sources", nil, "more", 0},
		{"hostile", embedHostileSources(), "8 sources", []string{
			"[Reuters World](https://www.reuters.com/world/cia-burns-naryshkin-ankara-2022-11-14/)",
			`[\[Official\](https://phish.example/login)](https://a.example/x)`,
			"[@\u200beveryone <\u200b@123456789012345678\\> <\u200b@&99\\> @\u200bhere](https://b.example/%40here/y)",
			"[\\*\\*bold\\*\\* \\_it\\_ \\~\\~gone\\~\\~ \\`code\\` \\|\\|spoiler\\|\\| \\> quote \\# head \\\\](https://c.example/a%29%20%5Bb%5D%28https://phish.example/)",
			"Scripted Feed Name",
			"[no-name.example](https://no-name.example/story?q=a%20b&r=%28c%29)",
			"User info",
		}, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := bot.Embed(tt.a)
			embedCheckLimits(t, e)
			if e.Footer.Text != bot.EmbedFooter(tt.a) || !strings.HasPrefix(e.Footer.Text, "alert "+strconv.FormatInt(tt.a.ID, 10)+" · rule ") {
				t.Errorf("footer %q", e.Footer.Text)
			}
			value, ok := embedSourcesField(t, e)
			if tt.count == "" {
				if ok {
					t.Fatalf("Sources field for %d sources: %q", len(tt.a.Sources), value)
				}
				return
			}
			if !ok {
				t.Fatal("no Sources field")
			}
			lines := strings.Split(value, "\n")
			if lines[0] != tt.count {
				t.Errorf("first line %q, want %q", lines[0], tt.count)
			}
			for i, want := range tt.lines {
				if i+1 >= len(lines) || lines[i+1] != want {
					t.Errorf("line %d:\n got %q\nwant %q", i+1, lines[min(i+1, len(lines)-1)], want)
				}
			}
			for _, l := range lines[1:] {
				if !embedSourceLineRE.MatchString(l) {
					t.Errorf("malformed source line %q", l)
				}
			}
			listed := len(lines) - 1
			if tt.more != "" {
				last := lines[len(lines)-1]
				listed--
				if want := "… and " + strconv.Itoa(len(tt.a.Sources)-listed) + " more"; last != want {
					t.Errorf("last line %q, want %q", last, want)
				}
				if listed < 2 {
					t.Errorf("only %d sources listed", listed)
				}
			} else if listed != len(tt.a.Sources) {
				t.Errorf("%d sources listed, want all %d", listed, len(tt.a.Sources))
			}
		})
	}
}
