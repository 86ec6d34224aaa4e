package stories

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/streams")

// streamItem is a line of a hand-made stream: an article and the story it
// belongs to ("want", a label shared by the lines of one contact event).
type streamItem struct {
	item
	Want string `json:"want"`
}

// TestStreams groups each hand-made stream in testdata/streams and checks
// the partition against the lines' "want" labels: same label, same story;
// different labels, different stories. The decisions and their reasons are
// kept in a golden file next to the stream (go test -update rewrites it).
func TestStreams(t *testing.T) {
	e := newEnv(t)
	paths, err := filepath.Glob("testdata/streams/*.jsonl")
	if err != nil || len(paths) == 0 {
		t.Fatalf("no streams: %v", err)
	}
	for _, path := range paths {
		name := strings.TrimSuffix(filepath.Base(path), ".jsonl")
		t.Run(name, func(t *testing.T) {
			items := loadLabelled(t, path)
			plain := make([]item, len(items))
			for i, it := range items {
				plain[i] = it.item
			}
			results := e.group(t, plain)
			var golden strings.Builder
			storyOf := map[string]string{} // want label → story id
			labelOf := map[string]string{} // story id → want label
			for i, res := range results {
				want := items[i].Want
				if !res.matched {
					t.Errorf("%s: not matched by the default rules; the stream must only hold contact reports", res.item.ID)
					continue
				}
				got := res.decision.Story.ID
				fmt.Fprintf(&golden, "%s\t%s\t%s\n", res.item.ID, got, res.decision.Reason)
				if s, ok := storyOf[want]; ok && s != got {
					t.Errorf("%s (%s): story %s, want %s with the other %q reports\n  %s", res.item.ID, want, got, s, want, res.decision.Reason)
				}
				if l, ok := labelOf[got]; ok && l != want {
					t.Errorf("%s (%s): joined story %s of the %q reports\n  %s", res.item.ID, want, got, l, res.decision.Reason)
				}
				if _, ok := storyOf[want]; !ok {
					storyOf[want] = got
				}
				if _, ok := labelOf[got]; !ok {
					labelOf[got] = want
				}
			}
			gpath := strings.TrimSuffix(path, ".jsonl") + ".golden"
			if *update {
				if err := os.WriteFile(gpath, []byte(golden.String()), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(gpath)
			if err != nil {
				t.Fatalf("%v (run go test -update to write it)", err)
			}
			if got := golden.String(); got != string(want) {
				t.Errorf("decisions differ from %s (go test -update rewrites it):\n%s", gpath, lineDiff(string(want), got))
			}
		})
	}
}

func loadLabelled(tb testing.TB, path string) []streamItem {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	var out []streamItem
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var it streamItem
		if err := jsonUnmarshal([]byte(line), &it); err != nil {
			tb.Fatalf("%s: %v", path, err)
		}
		if it.Want == "" {
			tb.Fatalf("%s: line %s has no want label", path, it.ID)
		}
		out = append(out, it)
	}
	return out
}

// lineDiff lists the lines that differ, want first.
func lineDiff(want, got string) string {
	w, g := strings.Split(want, "\n"), strings.Split(got, "\n")
	var b strings.Builder
	for i := range max(len(w), len(g)) {
		var a, c string
		if i < len(w) {
			a = w[i]
		}
		if i < len(g) {
			c = g[i]
		}
		if a != c {
			fmt.Fprintf(&b, "- %s\n+ %s\n", a, c)
		}
	}
	if b.Len() == 0 && !slices.Equal(w, g) {
		return "(line endings differ)"
	}
	return b.String()
}
