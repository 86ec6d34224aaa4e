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
