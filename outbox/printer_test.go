package outbox_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/outbox"
)

// Set BACKCHANNEL_UPDATE_GOLDEN=1 to rewrite golden files (an environment
// variable, not a flag, so packages tested together cannot clash).
func updateGolden() bool { return os.Getenv("BACKCHANNEL_UPDATE_GOLDEN") == "1" }

func seedAlerts() []model.Delivery {
	ankara := model.Alert{
		ID:      42,
		GuildID: "g1",
		Article: model.Article{
			Feed:      "Reuters World",
			Title:     "CIA's Burns met Russia's Naryshkin in Ankara,\n officials say",
			Summary:   "<p>The heads of the CIA and Russia's SVR met in Ankara.</p>",
			Link:      "https://www.reuters.com/world/cia-burns-naryshkin-ankara-2022-11-14/",
			Published: time.Date(2022, 11, 14, 15, 4, 5, 0, time.FixedZone("CET", 3600)),
		},
		Matches: []model.Match{{
			Rule: "intel-heads",
			Actors: []model.ActorHit{
				{ID: "us-cia", Office: "CIA Director", Country: "US", Kind: "intel", Alias: "Burns"},
				{ID: "ru-svr", Office: "SVR Director", Country: "RU", Kind: "intel", Alias: "Naryshkin"},
				{ID: "ru-svr", Office: "SVR Director", Country: "RU", Kind: "intel", Alias: "Sergei Naryshkin"},
			},
			ContactKind: "meeting",
			ContactTerm: "met",
			Field:       "title",
			Evidence:    "CIA's Burns met Russia's Naryshkin in Ankara",
		}},
	}
	keyword := model.Alert{
		ID:      43,
		Article: model.Article{Title: "Back channel reopened", Feed: "Example"},
		Matches: []model.Match{{Rule: "backchannel-words", Keywords: []string{`back ?channel`}}},
	}
	return []model.Delivery{
		{ID: 1, Alert: ankara, ChannelID: "stdout", Nonce: "bc00000000-1"},
		{ID: 2, Alert: keyword, ChannelID: "stdout", Nonce: "bc00000000-2"},
	}
}

// ankaraSources are the story's reports: the first, then two more.
var ankaraSources = []model.Source{
	{AlertID: 42, Feed: "Reuters World", Title: "CIA's Burns met Russia's Naryshkin in Ankara, officials say",
		Link: "https://www.reuters.com/world/cia-burns-naryshkin-ankara-2022-11-14/"},
	{AlertID: 44, Feed: "Moscow Desk", Title: "US and Russian spy chiefs held talks in Ankara,\n Kremlin confirms",
		Link: "https://moscow.example/ankara"},
	{AlertID: 47, Feed: "Le Quotidien", Title: "Le directeur de la CIA a rencontré le chef du renseignement extérieur russe à Ankara",
		Link: "https://quotidien.example/ankara"},
}

// TestPrinterStories: a later report prints as a short block naming the
// alert it joins and the story's source count; reports coalesced into one
// edit print one block each; a story posted late (min_sources) lists its
// sources.
func TestPrinterStories(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	p := &outbox.Printer{W: &buf}
	d := seedAlerts()[0]
	d.Alert.Sources = ankaraSources[:1]
	id, err := p.Post(t.Context(), d)
	if err != nil {
		t.Fatal(err)
	}
	buf.Reset()
	d.MessageID = id
	d.Alert.Sources = ankaraSources
	if err := p.Edit(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	late := seedAlerts()[0]
	late.ID = 3
	late.Alert.Sources = ankaraSources[:2]
	if _, err := p.Post(t.Context(), late); err != nil {
		t.Fatal(err)
	}
	// The dry run restarted: the printer did not print the story, and
	// shows the latest report.
	fresh := &outbox.Printer{W: &buf}
	d.MessageID = "dry-run-9"
	if err := fresh.Edit(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "printer_stories.golden")
	if updateGolden() {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("printer output differs from %s:\n--- got\n%s\n--- want\n%s", golden, buf.String(), want)
	}
}

func TestPrinterGolden(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	p := &outbox.Printer{W: &buf}
	for _, d := range seedAlerts() {
		id, err := p.Post(t.Context(), d)
		if err != nil {
			t.Fatal(err)
		}
		if want := "dry-run-" + string(rune('0'+d.ID)); id != want {
			t.Errorf("message id %q, want %q", id, want)
		}
	}
	golden := filepath.Join("testdata", "printer.golden")
	if updateGolden() {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), want) {
		t.Errorf("printer output differs from %s:\n--- got\n%s\n--- want\n%s", golden, buf.String(), want)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("closed pipe") }

func TestPrinterWriteErrorIsRetried(t *testing.T) {
	t.Parallel()
	p := &outbox.Printer{W: failWriter{}}
	_, err := p.Post(t.Context(), seedAlerts()[0])
	if err == nil || !outbox.Classify(err).Retry {
		t.Fatalf("err = %v; a write error must be retryable", err)
	}
}
