package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/backchannel/backchannel/rules"
)

// runCLI runs the program in process with the given stdin.
func runCLI(t *testing.T, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(context.Background(), args, strings.NewReader(stdin), &out, &errb, nil)
	return code, out.String(), errb.String()
}

func TestCheckExampleConfig(t *testing.T) {
	builtin, err := rules.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := runCLI(t, "", "check", "-config", "config.example.toml")
	if code != 0 {
		t.Fatalf("check exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	// The example has no token: run needs one unless it runs dry.
	want := fmt.Sprintf("config.example.toml: ok (18 feeds, %d actors, %d rules)\n", len(builtin.Actors), len(builtin.Rules)) +
		"config.example.toml: warning: discord.token is not set: set DISCORD_TOKEN (or BACKCHANNEL_DISCORD_TOKEN, or discord.token in the file), or use -dry-run\n"
	if out != want {
		t.Errorf("stdout = %q, want %q", out, want)
	}
}

// TestCheckCountsTheMergedRulesAndWarnsWhenEmpty: check says how many actors
// and rules result from merging the file's [rules] over the built-in ones,
// and warns, still passing, when either set or the feed list is empty.
func TestCheckCountsTheMergedRulesAndWarnsWhenEmpty(t *testing.T) {
	builtin, err := rules.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	na, nr := len(builtin.Actors), len(builtin.Rules)
	tests := []struct {
		name, doc string
		want      []string // lines after the path
	}{
		{"a scalar keeps the built-in rules", "[rules.contact]\nwindow = 40\n",
			[]string{fmt.Sprintf("ok (0 feeds, %d actors, %d rules)", na, nr), "warning: feeds: no feeds"}},
		{"a rule added, one removed", "[discord]\ntoken = \"t\"\n[[feeds]]\nname = \"a\"\nurl = \"https://a.example/rss\"\n" +
			"[[rules.rule]]\nname = \"sanctions\"\nkeywords = [\"sanction\"]\n[[rules.rule]]\nname = \"intel-heads\"\nremove = true\n",
			[]string{fmt.Sprintf("ok (1 feeds, %d actors, %d rules)", na, nr)}},
		{"no defaults at all", "[rules]\ndefaults = false\n",
			[]string{"ok (0 feeds, 0 actors, 0 rules)", "warning: feeds: no feeds", "warning: rules (line 1): no rules", "warning: rules.actor (line 1): no actors"}},
		{"keyword rules only", "[rules]\ndefaults = false\n[[rules.rule]]\nname = \"k\"\nkeywords = [\"x\"]\n",
			[]string{"ok (0 feeds, 0 actors, 1 rules)", "warning: feeds: no feeds", "warning: rules.actor (line 1): no actors"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "c.toml")
			if err := os.WriteFile(path, []byte(tt.doc), 0o600); err != nil {
				t.Fatal(err)
			}
			code, out, errOut := runCLI(t, "", "check", "-config", path)
			if code != 0 {
				t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
			}
			if !strings.Contains(tt.doc, "token") {
				tt.want = append(tt.want, "warning: discord.token is not set")
			}
			lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
			if len(lines) != len(tt.want) {
				t.Fatalf("stdout:\n%s\nwant %d lines", out, len(tt.want))
			}
			for i, w := range tt.want {
				if !strings.HasPrefix(lines[i], path+": "+w) {
					t.Errorf("line %d = %q, want %q", i, lines[i], path+": "+w)
				}
			}
		})
	}
}

// TestCheckRuleProblemNamesTheFilesLine: a mistake in a rule the file adds
// is reported at its key and line in the file.
func TestCheckRuleProblemNamesTheFilesLine(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.toml")
	doc := "[[rules.rule]]\nname = \"diplomatic-heads\"\nremove = true\n\n[[rules.rule]]\nname = \"k\"\nkeywords = [\"(\"]\n"
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCLI(t, "", "check", "-config", path)
	if code != 1 || !strings.Contains(out, path+": rules.rule[1].keywords[0] (line 7): pattern is not valid RE2") {
		t.Errorf("exit %d, stdout %q", code, out)
	}
}

func TestCheckReportsEveryProblem(t *testing.T) {
	path := filepath.Join(t.TempDir(), "bad.toml")
	doc := "[poll]\ntimeout = \"soon\"\nschedule = \"whenever\"\nfrobnicate = true\n"
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCLI(t, "", "check", "-config", path)
	if code == 0 {
		t.Fatal("check of an invalid file exited 0")
	}
	// Unknown keys stop decoding before the other checks, so this file
	// reports the unknown key first; fix it and the rest appear.
	if !strings.Contains(out, "poll.frobnicate (line 4): unknown key") {
		t.Errorf("stdout = %q", out)
	}
	if err := os.WriteFile(path, []byte("[poll]\ntimeout = \"soon\"\nschedule = \"whenever\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ = runCLI(t, "", "check", "-config", path)
	if code == 0 || !strings.Contains(out, "poll.timeout (line 2)") || !strings.Contains(out, "poll.schedule (line 3)") {
		t.Errorf("exit %d, stdout = %q", code, out)
	}
}

func TestMissingConfigNamesTheFile(t *testing.T) {
	for _, cmd := range []string{"run", "check", "match"} {
		path := filepath.Join(t.TempDir(), "absent.toml")
		code, _, errOut := runCLI(t, "", cmd, "-config", path)
		if code == 0 || !strings.Contains(errOut, path) {
			t.Errorf("%s: exit %d, stderr %q; want an error naming %s", cmd, code, errOut, path)
		}
	}
	// The default is config.toml in the working directory.
	t.Chdir(t.TempDir())
	code, _, errOut := runCLI(t, "", "run", "-dry-run")
	if code == 0 || !strings.Contains(errOut, "config.toml") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestRunWithoutTokenSaysWhatIsMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.toml")
	if err := os.WriteFile(path, []byte("[database]\npath = \""+filepath.Join(t.TempDir(), "x.db")+"\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCLI(t, "", "run", "-config", path)
	if code == 0 || !strings.Contains(errOut, "discord.token") || !strings.Contains(errOut, "DISCORD_TOKEN") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
}

func TestUnknownCommand(t *testing.T) {
	if code, _, errOut := runCLI(t, "", "frob"); code != 2 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("exit %d, stderr %q", code, errOut)
	}
	if code, _, _ := runCLI(t, ""); code != 2 {
		t.Errorf("no command: exit %d", code)
	}
}

func TestMatch(t *testing.T) {
	input := strings.Join([]string{
		`{"id": "a", "title": "CIA Director Burns met SVR chief Naryshkin in Ankara", "summary": "The two spy chiefs held talks.", "published": "2022-11-14T12:00:00Z"}`,
		`{"id": "b", "title": "Apple unveils a new phone"}`,
		`not json`,
		`{"id": "c"}`,
		``,
		`{"id": "d", "title": "Naryshkin says he and Ratcliffe agreed to keep an open line of communication", "published": "2025-03-24T12:00:00Z"}`,
	}, "\n")
	code, out, errOut := runCLI(t, input, "match", "-config", "config.example.toml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 {
		t.Fatalf("want 5 output lines (blank input skipped), got %d:\n%s", len(lines), out)
	}
	type alert struct {
		Rule     string   `json:"rule"`
		Actors   []string `json:"actors"`
		Contact  string   `json:"contact"`
		Evidence string   `json:"evidence"`
	}
	type verdict struct {
		ID      *string `json:"id"`
		Matched bool    `json:"matched"`
		Alerts  []alert `json:"alerts"`
		Error   string  `json:"error"`
	}
	var v []verdict
	for _, l := range lines {
		var x verdict
		if err := json.Unmarshal([]byte(l), &x); err != nil {
			t.Fatalf("output line %q: %v", l, err)
		}
		v = append(v, x)
	}
	isIntel := func(x verdict) bool {
		for _, a := range x.Alerts {
			if strings.Contains(a.Rule, "intel") && len(a.Actors) >= 2 && a.Contact != "" && a.Evidence != "" {
				return true
			}
		}
		return false
	}
	if *v[0].ID != "a" || !v[0].Matched || !isIntel(v[0]) {
		t.Errorf("Burns–Naryshkin meeting: %+v", v[0])
	}
	if *v[1].ID != "b" || v[1].Matched || v[1].Alerts == nil || len(v[1].Alerts) != 0 {
		t.Errorf("unrelated item: %s", lines[1])
	}
	if v[2].ID != nil || v[2].Error == "" || !strings.Contains(lines[2], `"id":null`) {
		t.Errorf("malformed line: %s", lines[2])
	}
	if v[3].ID != nil || !strings.Contains(v[3].Error, `"title"`) || !strings.Contains(v[3].Error, `"c"`) {
		t.Errorf("missing title: %s; want id null and an error naming the field and the line's id", lines[3])
	}
	if *v[4].ID != "d" || !isIntel(v[4]) {
		t.Errorf("Ratcliffe–Naryshkin open line: %+v", v[4])
	}
}

func TestMatchHugeLineDoesNotStopTheStream(t *testing.T) {
	huge := `{"id": "h", "title": "` + strings.Repeat("x", maxMatchLine) + `"}`
	input := huge + "\n" + `{"id": "n", "title": "Weather"}` + "\n"
	code, out, errOut := runCLI(t, input, "match", "-config", "config.example.toml")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"error"`) || !strings.Contains(lines[1], `"id":"n"`) {
		t.Fatalf("output:\n%.300s", out)
	}
}

// storyLine is an output line of `match -stories`.
type storyLine struct {
	ID          *string `json:"id"`
	Matched     bool    `json:"matched"`
	Story       *string `json:"story"`
	StoryReason string  `json:"story_reason"`
	Error       string  `json:"error"`
}

func runStories(t *testing.T, input string, args ...string) []storyLine {
	t.Helper()
	code, out, errOut := runCLI(t, input, append([]string{"match"}, args...)...)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var lines []storyLine
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		var v storyLine
		if err := json.Unmarshal([]byte(l), &v); err != nil {
			t.Fatalf("output line %q: %v", l, err)
		}
		lines = append(lines, v)
	}
	return lines
}

func TestMatchStories(t *testing.T) {
	input := strings.Join([]string{
		`{"id": "a1", "title": "CIA Director Burns meets Russian intelligence chief Naryshkin in Ankara", "published": "2022-11-14T12:10:00+03:00", "feed": "Wire One"}`,
		`{"id": "a2", "title": "US and Russian spy chiefs held talks in Ankara, Kremlin confirms", "published": "2022-11-14T14:30:00+03:00", "feed": "Moscow Desk"}`,
		`{"id": "x", "title": "Apple unveils a new phone", "published": "2022-11-14T14:40:00+03:00"}`,
		`not json`,
		`{"id": "a3", "title": "White House confirms CIA director met Russian intelligence head in Turkey", "published": "2022-11-14T09:45:00-05:00", "feed": "Capital Report"}`,
		`{"id": "a4", "title": "What Burns told Naryshkin in Monday's meeting", "feed": "Security Weekly"}`,
		`{"id": "c1", "title": "Burns and Naryshkin speak by phone about a prisoner swap", "published": "2022-12-01T12:00:00+03:00", "feed": "Moscow Desk"}`,
		`{"id": "b1", "title": "Blinken and Wang Yi meet in Bali", "published": "2022-11-14T16:00:00+08:00", "feed": "Asia Desk"}`,
		`{"id": "c1", "title": "Naryshkin confirms phone call with Burns", "published": "2022-12-01T14:00:00+03:00", "feed": "Capital Report"}`,
	}, "\n")
	lines := runStories(t, input, "-stories", "-config", "config.example.toml")
	if len(lines) != 9 {
		t.Fatalf("want 9 output lines, got %d", len(lines))
	}
	story := func(i int) string {
		t.Helper()
		l := lines[i]
		if !l.Matched || l.Story == nil || *l.Story == "" || l.StoryReason == "" {
			t.Fatalf("line %d: %+v; want a matched line with a story and its reason", i, l)
		}
		return *l.Story
	}
	ankara := story(0)
	if ankara != "a1" {
		t.Errorf("the first report names its story: got %q", ankara)
	}
	for _, i := range []int{1, 4, 5} {
		if s := story(i); s != ankara {
			t.Errorf("line %d (%s): story %s, want %s (same meeting): %s", i, *lines[i].ID, s, ankara, lines[i].StoryReason)
		}
	}
	if l := lines[2]; l.Matched || l.Story != nil {
		t.Errorf("unmatched line carries a story: %+v", l)
	}
	if l := lines[3]; l.ID != nil || l.Error == "" || l.Story != nil {
		t.Errorf("malformed line: %+v", l)
	}
	call, bali := story(6), story(7)
	if call == ankara || bali == ankara || call == bali {
		t.Errorf("a later call of the same pair (%s) and a contact of another pair (%s) must be stories of their own, apart from %s", call, bali, ankara)
	}
	// A repeated id is still a report of its own, and joins its story.
	if s := story(8); s != call {
		t.Errorf("second c1: story %s, want %s: %s", s, call, lines[8].StoryReason)
	}

	// Without -stories the output is as before: no story.
	for _, l := range runStories(t, input, "-config", "config.example.toml") {
		if l.Story != nil {
			t.Fatalf("match without -stories gave a story: %+v", l)
		}
	}
}

// TestMatchStoriesDevStream runs the labelled dev stream through the
// command and scores its grouping as stories/testdata/score_stories.py does (B-cubed over
// the gold contact reports that matched).
func TestMatchStoriesDevStream(t *testing.T) {
	data, err := os.ReadFile("stories/testdata/dev_stories.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	lines := runStories(t, string(data), "-stories", "-config", "config.example.toml")
	var gold []struct {
		ID    string  `json:"id"`
		Story *string `json:"story"`
	}
	for _, l := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var g struct {
			ID    string  `json:"id"`
			Story *string `json:"story"`
		}
		if err := json.Unmarshal([]byte(l), &g); err != nil {
			t.Fatal(err)
		}
		gold = append(gold, g)
	}
	if len(gold) != len(lines) {
		t.Fatalf("%d output lines for %d input lines", len(lines), len(gold))
	}
	var items []int
	for i, g := range gold {
		if g.Story != nil && lines[i].Matched {
			if lines[i].Story == nil {
				t.Fatalf("%s: matched without a story", g.ID)
			}
			items = append(items, i)
		}
	}
	var p, r float64
	for _, i := range items {
		inPred, inGold, both := 0, 0, 0
		for _, j := range items {
			sp, sg := *lines[j].Story == *lines[i].Story, *gold[j].Story == *gold[i].Story
			if sp {
				inPred++
			}
			if sg {
				inGold++
			}
			if sp && sg {
				both++
			}
		}
		p += float64(both) / float64(inPred)
		r += float64(both) / float64(inGold)
	}
	p, r = p/float64(len(items)), r/float64(len(items))
	f := 2 * p * r / (p + r)
	t.Logf("match -stories on the dev stream: %d scored reports, B3 P=%.3f R=%.3f F1=%.3f", len(items), p, r, f)
	if f < 0.99 {
		t.Errorf("B3 F1 %.3f below its floor 0.99", f)
	}
}
