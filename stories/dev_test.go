package stories

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/backchannel/backchannel/model"
)

// bcubed mirrors testdata/score_stories.py: over the reports that are gold contacts
// and matched, the B-cubed precision and recall of the predicted stories
// against the gold ones. pred and gold map a report to its story.
func bcubed(items []string, pred, gold map[string]string) (p, r, f float64) {
	byPred, byGold := map[string][]string{}, map[string][]string{}
	for _, i := range items {
		byPred[pred[i]] = append(byPred[pred[i]], i)
		byGold[gold[i]] = append(byGold[gold[i]], i)
	}
	for _, i := range items {
		same := 0
		for _, j := range byPred[pred[i]] {
			if gold[j] == gold[i] {
				same++
			}
		}
		p += float64(same) / float64(len(byPred[pred[i]]))
		r += float64(same) / float64(len(byGold[gold[i]]))
	}
	n := float64(max(len(items), 1))
	p, r = p/n, r/n
	if p+r > 0 {
		f = 2 * p * r / (p + r)
	}
	return p, r, f
}

// scoreStream scores a grouped stream; singleton is the figure with every
// report a story of its own.
func scoreStream(results []result) (items []string, p, r, f, singleton float64) {
	pred, gold, self := map[string]string{}, map[string]string{}, map[string]string{}
	for _, res := range results {
		if res.item.Story == nil || *res.item.Story == "" || !res.matched {
			continue
		}
		id := res.item.ID
		items = append(items, id)
		gold[id] = *res.item.Story
		pred[id] = "p:" + res.decision.Story.ID
		self[id] = id
	}
	p, r, f = bcubed(items, pred, gold)
	_, _, singleton = bcubed(items, self, gold)
	return items, p, r, f, singleton
}

func TestBcubedMirrorsTheScorer(t *testing.T) {
	items := []string{"a", "b", "c", "d"}
	gold := map[string]string{"a": "x", "b": "x", "c": "y", "d": "y"}
	for _, tc := range []struct {
		name    string
		pred    map[string]string
		p, r, f float64
	}{
		{"perfect", map[string]string{"a": "1", "b": "1", "c": "2", "d": "2"}, 1, 1, 1},
		{"singletons", map[string]string{"a": "1", "b": "2", "c": "3", "d": "4"}, 1, 0.5, 2.0 / 3},
		{"one lump", map[string]string{"a": "1", "b": "1", "c": "1", "d": "1"}, 0.5, 1, 2.0 / 3},
	} {
		p, r, f := bcubed(items, tc.pred, gold)
		if !near(p, tc.p) || !near(r, tc.r) || !near(f, tc.f) {
			t.Errorf("%s: P=%.3f R=%.3f F=%.3f, want %.3f %.3f %.3f", tc.name, p, r, f, tc.p, tc.r, tc.f)
		}
	}
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

// TestDevStream groups the labelled dev stream with the default rules and
// holds the B-cubed F1 to its floor. Only reports the matcher finds are
// scored, as in testdata/score_stories.py.
func TestDevStream(t *testing.T) {
	e := newEnv(t)
	results := e.group(t, loadStream(t, "testdata/dev_stories.jsonl"))
	items, p, r, f, single := scoreStream(results)
	t.Logf("dev stream: %d scored reports; B3 P=%.3f R=%.3f F1=%.3f (singletons F1=%.3f)", len(items), p, r, f, single)
	for _, res := range results {
		if res.matched && testing.Verbose() {
			gold := "-"
			if res.item.Story != nil {
				gold = *res.item.Story
			}
			t.Logf("%s gold=%s story=%s %s", res.item.ID, gold, res.decision.Story.ID, res.decision.Reason)
		}
	}
	const floor = 0.99
	if f < floor {
		t.Errorf("B3 F1 %.3f below its floor %.2f", f, floor)
	}
}

// TestBlindStreams groups the streams written blind (by authors who never
// saw this package) with the default rules and holds each to a floor just
// below its figure. Their misses were studied after their first run, so
// they are regression floors, not forecasts; the README next to each
// stream gives its first-run figure.
func TestBlindStreams(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		path  string
		floor float64
	}{
		{"testdata/blind_stories1.jsonl", 0.99},
		{"testdata/blind_stories2.jsonl", 0.97},
	} {
		t.Run(strings.TrimSuffix(strings.TrimPrefix(tc.path, "testdata/"), ".jsonl"), func(t *testing.T) {
			results := e.group(t, loadStream(t, tc.path))
			items, p, r, f, single := scoreStream(results)
			t.Logf("%s: %d scored reports; B3 P=%.3f R=%.3f F1=%.3f (singletons F1=%.3f)", tc.path, len(items), p, r, f, single)
			logSplits(t, results)
			if f < tc.floor {
				t.Errorf("B3 F1 %.3f below its floor %.2f", f, tc.floor)
			}
		})
	}
}

// TestDevStreamAllMatched groups the dev stream as if the matcher found
// every gold contact: for the reports today's rules miss (most of them in
// Russian, Chinese, Arabic or French), testdata/dev_stories_simulated_matches.jsonl
// holds the verdict a matcher reading those languages would give (offices,
// contact words and evidence as written). Reports the matcher does find
// keep its own verdict.
func TestDevStreamAllMatched(t *testing.T) {
	e := newEnv(t)
	sim := loadSimulated(t, "testdata/dev_stories_simulated_matches.jsonl")
	items := loadStream(t, "testdata/dev_stories.jsonl")
	g := NewGrouper(e.lex, NewMemIndex())
	results := make([]result, len(items))
	simulated := 0
	for i, it := range items {
		results[i].item = it
		a := it.article()
		ms := e.set.Match(a)
		if len(ms) == 0 && sim[it.ID] != nil {
			ms = sim[it.ID]
			simulated++
		}
		if len(ms) == 0 {
			continue
		}
		d, err := g.Assign(t.Context(), Report{Ref: it.ID, Article: a, Matches: ms})
		if err != nil {
			t.Fatal(err)
		}
		results[i].matched, results[i].decision = true, d
	}
	scored, p, r, f, single := scoreStream(results)
	t.Logf("dev stream, all gold contacts matched (%d simulated): %d scored reports; B3 P=%.3f R=%.3f F1=%.3f (singletons F1=%.3f)",
		simulated, len(scored), p, r, f, single)
	logSplits(t, results)
	const floor = 0.99
	if f < floor {
		t.Errorf("B3 F1 %.3f below its floor %.2f", f, floor)
	}
}

func loadSimulated(tb testing.TB, path string) map[string][]model.Match {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	out := map[string][]model.Match{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var v struct {
			ID      string        `json:"id"`
			Matches []model.Match `json:"matches"`
		}
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		out[v.ID] = v.Matches
	}
	return out
}

// logSplits logs the gold stories split over several predicted ones and
// the predicted stories holding several gold ones, with the reasons.
func logSplits(t *testing.T, results []result) {
	t.Helper()
	byGold := map[string][]result{}
	for _, res := range results {
		if res.matched && res.item.Story != nil {
			byGold[*res.item.Story] = append(byGold[*res.item.Story], res)
		}
	}
	for gold, rs := range byGold {
		for _, res := range rs[1:] {
			if res.decision.Story.ID != rs[0].decision.Story.ID {
				t.Logf("split %s: %s in %s, %s in %s: %s", gold, rs[0].item.ID, rs[0].decision.Story.ID, res.item.ID, res.decision.Story.ID, res.decision.Reason)
			}
		}
	}
	storyGold := map[string]string{}
	for _, res := range results {
		if !res.matched || res.item.Story == nil {
			continue
		}
		if g, ok := storyGold[res.decision.Story.ID]; ok && g != *res.item.Story {
			t.Logf("merged %s into %s's story %s: %s", res.item.ID, g, res.decision.Story.ID, res.decision.Reason)
		}
		if _, ok := storyGold[res.decision.Story.ID]; !ok {
			storyGold[res.decision.Story.ID] = *res.item.Story
		}
	}
}
