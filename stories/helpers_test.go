package stories

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"testing"
	"time"

	toml "github.com/pelletier/go-toml/v2"

	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/rules"
)

// defaultSpec loads the default rules the bot and `match` use: the rules
// package's data file when the tree has one (rules/defaults.toml, a Spec at
// the top level), else the [rules] table of the example configuration.
func defaultSpec(tb testing.TB) rules.Spec {
	tb.Helper()
	if data, err := os.ReadFile("../rules/defaults.toml"); err == nil {
		var spec rules.Spec
		if err := toml.Unmarshal(data, &spec); err != nil {
			tb.Fatalf("decode rules/defaults.toml: %v", err)
		}
		return spec
	}
	data, err := os.ReadFile("../config.example.toml")
	if err != nil {
		tb.Fatal(err)
	}
	var doc struct {
		Rules rules.Spec `toml:"rules"`
	}
	if err := toml.Unmarshal(data, &doc); err != nil {
		tb.Fatalf("decode config.example.toml: %v", err)
	}
	return doc.Rules
}

// env is the matcher and a lexicon over the default rules.
type env struct {
	set *rules.Set
	lex *Lexicon
}

func newEnv(tb testing.TB) env {
	tb.Helper()
	spec := defaultSpec(tb)
	set, err := rules.Compile(spec)
	if err != nil {
		tb.Fatalf("compile default rules: %v", err)
	}
	lex, err := NewLexicon(set.Spec())
	if err != nil {
		tb.Fatal(err)
	}
	return env{set: set, lex: lex}
}

// item is one line of a stream file: an article, and for labelled streams
// its gold story.
type item struct {
	ID        string  `json:"id"`
	Title     string  `json:"title"`
	Summary   string  `json:"summary"`
	Link      string  `json:"link"`
	Published string  `json:"published"`
	Feed      string  `json:"feed"`
	Story     *string `json:"story"`
	Note      string  `json:"note"`
}

func (it item) article() model.Article {
	a := model.Article{GUID: it.ID, Title: it.Title, Summary: it.Summary, Link: it.Link, Feed: it.Feed}
	if t, err := time.Parse(time.RFC3339, it.Published); err == nil {
		a.Published = t
	}
	return a
}

func loadStream(tb testing.TB, path string) []item {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var items []item
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var it item
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

// result is one item of a grouped stream.
type result struct {
	item     item
	matched  bool
	decision Decision
}

// group matches every item and puts the matched ones in stories, in
// stream order, with a fresh in-memory index.
func (e env) group(tb testing.TB, items []item) []result {
	tb.Helper()
	g := NewGrouper(e.lex, NewMemIndex())
	out := make([]result, len(items))
	for i, it := range items {
		out[i].item = it
		a := it.article()
		ms := e.set.Match(a)
		if len(ms) == 0 {
			continue
		}
		d, err := g.Assign(context.Background(), Report{Ref: it.ID, Article: a, Matches: ms})
		if err != nil {
			tb.Fatal(err)
		}
		out[i].matched, out[i].decision = true, d
	}
	return out
}

func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
