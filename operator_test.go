package main

// Tests of what an operator meets first (issue 9): `check` refuses what
// `run` refuses, configuration warnings, usage, the offline demo.

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel/config"
)

// runInProcess runs the program with args in the background and returns
// its stdout and stderr as they grow, and a stop function that cancels it
// and returns its exit code (failing the test unless it exits within 10 s).
func runInProcess(t *testing.T, env config.Env, args ...string) (stdout, stderr *syncBuffer, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout, stderr = &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- run(ctx, args, strings.NewReader(""), stdout, stderr, env) }()
	stopped, code := false, 0
	stop = func() int {
		if stopped {
			return code
		}
		stopped = true
		cancel()
		select {
		case code = <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("%v did not stop within 10s", args)
		}
		return code
	}
	t.Cleanup(func() { stop() })
	return stdout, stderr, stop
}

// waitFor waits until out contains every want, failing after limit with
// out and logs (which may be out) shown.
func waitFor(t *testing.T, out, logs *syncBuffer, limit time.Duration, want ...string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		s := out.String()
		missing := ""
		for _, w := range want {
			if !strings.Contains(s, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q within %v; output:\n%s\nlogs:\n%s", missing, limit, s, logs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestCheckRefusesWhatRunRefuses: each configuration here used to pass
// `check` and then stop `run`, make every poll fail or leave a feed
// unpolled; now both refuse it with the same words, check naming the key
// and line.
func TestCheckRefusesWhatRunRefuses(t *testing.T) {
	feed := func(name, url string) string {
		return "[[feeds]]\nname = \"" + name + "\"\nurl = \"" + url + "\"\n"
	}
	tests := []struct {
		name, doc string
		want      string // in check's stdout and run's stderr
	}{
		{"same feed URL twice", feed("a", "https://a.example/rss") + feed("b", "https://A.EXAMPLE/rss#top"),
			"feeds[1].url (line 6): the same feed as feeds[0].url"},
		{"max_bytes overflows", "[poll]\nmax_bytes = 9223372036854775807\n", "poll.max_bytes (line 2): must be between 1024 and"},
		{"log level", "[log]\nlevel = \"loud\"\n", "log.level (line 2): must be debug, info, warn or error"},
		{"sub-second schedule", "[poll]\nschedule = \"@every 500ms\"\n", "poll.schedule (line 2): invalid cron spec \"@every 500ms\": interval 500ms is under one second"},
		{"sub-second feed schedule", feed("a", "https://a.example/rss") + "schedule = \"@every 100ms\"\n", "feeds[0].schedule (line 4): invalid cron spec \"@every 100ms\""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "c.toml")
			if err := os.WriteFile(path, []byte(tt.doc), 0o600); err != nil {
				t.Fatal(err)
			}
			code, out, _ := runCLI(t, "", "check", "-config", path)
			if code != 1 || !strings.Contains(out, tt.want) {
				t.Errorf("check: exit %d, stdout:\n%s\nwant %q", code, out, tt.want)
			}
			// Were run to start, it would open this database and keep
			// running until stopped: exit 0, not 1.
			env := config.Env{"BACKCHANNEL_DATABASE_PATH": filepath.Join(dir, "bot.db")}
			_, errOut, stop := runInProcess(t, env, "run", "-dry-run", "-config", path)
			if code := stop(); code != 1 || !strings.Contains(errOut.String(), tt.want) {
				t.Errorf("run: exit %d, stderr:\n%s\nwant %q", code, errOut, tt.want)
			}
		})
	}
}

// TestEnvProblemsNameTheVariable: a bad value from the environment is
// reported under its variable by check and run alike.
func TestEnvProblemsNameTheVariable(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.toml")
	if err := os.WriteFile(path, []byte("[poll]\ntimeout = \"20s\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := config.Env{"BACKCHANNEL_POLL_TIMEOUT": "soon", "BACKCHANNEL_DATABASE_PATH": filepath.Join(dir, "x.db")}
	var out, errb syncBuffer
	code := run(context.Background(), []string{"check", "-config", path}, strings.NewReader(""), &out, &errb, env)
	want := path + `: BACKCHANNEL_POLL_TIMEOUT: invalid duration "soon"`
	if code != 1 || !strings.Contains(out.String(), want) || strings.Contains(out.String(), "line") {
		t.Errorf("check: exit %d, stdout %q; want %q and no line", code, out.String(), want)
	}
	_, errOut, stop := runInProcess(t, env, "run", "-dry-run", "-config", path)
	if code := stop(); code != 1 || !strings.Contains(errOut.String(), `BACKCHANNEL_POLL_TIMEOUT: invalid duration "soon"`) {
		t.Errorf("run: exit %d, stderr %q", code, errOut)
	}
}

// TestRunLogsConfigurationWarnings: what check prints as warnings, run
// logs at start, and starts all the same.
func TestRunLogsConfigurationWarnings(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.toml")
	if err := os.WriteFile(path, []byte("[log]\nlevel = \"INFO\"\nformat = \"JSON\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	env := config.Env{"BACKCHANNEL_DATABASE_PATH": filepath.Join(dir, "bot.db"), "BACKCHANNEL_POLL_SCHEDUEL": "@every 1m"}
	var out syncBuffer
	if code := run(context.Background(), []string{"check", "-config", path}, strings.NewReader(""), &out, &out, env); code != 0 {
		t.Fatalf("check: exit %d\n%s", code, out.String())
	}
	for _, w := range []string{"warning: feeds: no feeds", "warning: BACKCHANNEL_POLL_SCHEDUEL: not a configuration variable; ignored (did you mean BACKCHANNEL_POLL_SCHEDULE?)"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("check does not warn %q:\n%s", w, out.String())
		}
	}
	_, errOut, stop := runInProcess(t, env, "run", "-dry-run", "-config", path)
	waitFor(t, errOut, errOut, 15*time.Second, `"msg":"backchannel running"`)
	if code := stop(); code != 0 {
		t.Errorf("run: exit %d", code)
	}
	logs := errOut.String()
	for _, w := range []string{`"level":"WARN","msg":"configuration warning","warning":"feeds: no feeds`, `"warning":"BACKCHANNEL_POLL_SCHEDUEL: not a configuration variable`} {
		if !strings.Contains(logs, w) {
			t.Errorf("run does not log %q:\n%s", w, logs)
		}
	}
}

// TestUsageListsEveryFlag: every flag a command defines appears in the
// usage text, on that command's entry.
func TestUsageListsEveryFlag(t *testing.T) {
	entries := usageEntries(t)
	for _, cmd := range []string{"run", "check", "match", "health", "version"} {
		if _, ok := entries[cmd]; !ok {
			t.Errorf("usage has no entry for %s", cmd)
		}
	}
	flagLine := regexp.MustCompile(`(?m)^  -([A-Za-z0-9-]+)`)
	for cmd, entry := range entries {
		code, out, errOut := runCLI(t, "", cmd, "-h")
		if code != 0 {
			t.Errorf("%s -h: exit %d: %s", cmd, code, errOut)
			continue
		}
		flags := flagLine.FindAllStringSubmatch(out+errOut, -1)
		if cmd != "version" && len(flags) == 0 {
			t.Errorf("%s -h lists no flags:\n%s%s", cmd, out, errOut)
		}
		for _, f := range flags {
			if !regexp.MustCompile(`\[-` + regexp.QuoteMeta(f[1]) + `[\] ]`).MatchString(entry) {
				t.Errorf("usage of %s lacks -%s:\n%s", cmd, f[1], entry)
			}
		}
	}
}

// usageEntries splits the usage text's command list into one entry per
// command (its line and the description lines under it).
func usageEntries(t *testing.T) map[string]string {
	t.Helper()
	_, list, ok := strings.Cut(usage, "commands:\n")
	if !ok {
		t.Fatalf("usage has no command list:\n%s", usage)
	}
	entries := map[string]string{}
	name := ""
	for _, line := range strings.Split(list, "\n") {
		if line == "" {
			break
		}
		if f := strings.Fields(line); len(f) > 0 && strings.HasPrefix(line, "  ") && !strings.HasPrefix(line, "   ") {
			name = f[0]
		}
		entries[name] += line + "\n"
	}
	return entries
}

// TestDemoRecipe runs the README's offline recipe as written, in a fresh
// working directory: the demo prints its three alerts, and not the noise,
// within a minute (in practice within a second or two).
func TestDemoRecipe(t *testing.T) {
	const recipe = "go run . run -dry-run -config docs/demo/demo.toml"
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), recipe) {
		t.Fatalf("README.md no longer shows %q", recipe)
	}
	demo, err := filepath.Abs(filepath.Join("docs", "demo", "demo.toml"))
	if err != nil {
		t.Fatal(err)
	}
	code, out, _ := runCLI(t, "", "check", "-config", demo)
	if code != 0 || strings.Count(out, "warning:") != 1 || !strings.Contains(out, "warning: discord.token") {
		t.Errorf("check of the demo: exit %d; want it valid, warning only of the token a dry run does not need:\n%s", code, out)
	}

	dir := t.TempDir()
	t.Chdir(dir)                       // where the recipe's relative database lands
	args := strings.Fields(recipe)[3:] // after "go run ."
	args[len(args)-1] = demo           // the working directory moved
	stdout, stderr, stop := runInProcess(t, nil, args...)
	waitFor(t, stdout, stderr, time.Minute,
		"== CIA Director Ratcliffe and SVR chief Naryshkin agree to keep an open line of communication",
		"== Lavrov and Rubio hold phone call on Ukraine",
		"== Russia's intelligence chief met his Egyptian counterpart in Cairo",
		"Who:       Russia's intelligence chief ↔ Egypt's counterpart",
	)
	if code := stop(); code != 0 {
		t.Errorf("exit %d; stderr:\n%s", code, stderr)
	}
	if strings.Contains(stdout.String(), "box office") {
		t.Errorf("the demo's noise item alerted:\n%s", stdout)
	}
	if _, err := os.Stat(filepath.Join(dir, "demo.dry-run.db")); err != nil {
		t.Errorf("the dry run's database is not where the demo says: %v", err)
	}
}
