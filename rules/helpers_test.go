package rules

import (
	"bufio"
	"encoding/json"
	"os"
	"testing"
	"time"

	"github.com/backchannel/backchannel/model"
)

// defaultSpec returns the built-in rules (defaults.toml).
func defaultSpec(tb testing.TB) Spec {
	tb.Helper()
	s, err := Defaults()
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func defaultSet(tb testing.TB) *Set {
	tb.Helper()
	s, err := Compile(defaultSpec(tb))
	if err != nil {
		tb.Fatalf("compile default rules: %v", err)
	}
	return s
}

// corpusItem is one labelled line of testdata/corpus/dev.jsonl.
type corpusItem struct {
	ID        string `json:"id"`
	Title     string `json:"title"`
	Summary   string `json:"summary"`
	Link      string `json:"link"`
	Published string `json:"published"`
	Feed      string `json:"feed"`
	Label     string `json:"label"`
	Note      string `json:"note"`
	Lang      string `json:"lang"` // multilingual sets: ru, zh, ar, …
}

func (c corpusItem) article() model.Article {
	a := model.Article{GUID: c.ID, Title: c.Title, Summary: c.Summary, Link: c.Link, Feed: c.Feed}
	if t, err := time.Parse(time.RFC3339, c.Published); err == nil {
		a.Published = t
	}
	return a
}

func loadCorpus(tb testing.TB, path string) []corpusItem {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var items []corpusItem
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var it corpusItem
		if err := json.Unmarshal(sc.Bytes(), &it); err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		items = append(items, it)
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return items
}
