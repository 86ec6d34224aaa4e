package main

import (
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/backchannel/backchannel/internal/fakediscord"
)

// buildBinary builds backchannel into a temporary directory.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "backchannel")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// slowProxy forwards to the fake Discord and holds each message post for
// delay and each edit for editDelay, so kills land in the middle of
// deliveries. A request held when the bot dies still reaches the fake (its
// body unread, the proxy does not notice the client left), as a request
// already on its way to Discord would.
func slowProxy(t *testing.T, target string, delay, editDelay time.Duration) string {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/messages"):
			time.Sleep(delay)
		case r.Method == http.MethodPatch && strings.Contains(r.URL.Path, "/messages"):
			time.Sleep(editDelay)
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + u.Path
}

// crashStories are three stories, each reported by several feeds: the
// reports arrive one per run of the bot, in this order.
var crashStories = []struct {
	feed  string
	item  feedItem
	story int
}{
	{"wire", ankara1, 0}, {"moscow", laterCall, 1}, {"kyiv", otherPair, 2},
	{"moscow", ankara2, 0},
	{"capital", report("call-2", "2022-11-24T13:00:00-05:00", "CIA's Burns talked with Russia's Naryshkin by telephone, official says",
		"The call on Thursday focused on detained Americans."), 1},
	{"quotidien", report("other-2", "2022-11-15T12:00:00+01:00", "Kuleba a rencontré Lavrov à Istanbul",
		"Les ministres des affaires étrangères ukrainien et russe se sont vus mardi."), 2},
	{"capital", ankara3, 0},
	{"quotidien", ankara4, 0},
	{"wire", report("other-3", "2022-11-15T15:00:00+02:00", "Ukraine's Kuleba and Russia's Lavrov met in Istanbul on Tuesday",
		"The ministers discussed grain exports."), 2},
}

// TestCrashDuringDelivery kills the bot with SIGKILL at random moments
// while it delivers, restarts it on the same database, and checks that in
// the end every alert was posted exactly once, and every story is one
// message edited to show all its feeds, never edited twice for one report.
func TestCrashDuringDelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and kills the binary many times")
	}
	bin := buildBinary(t)
	fd := fakediscord.New(t)
	fs := newFeedServer(t)
	const n = 25
	now := time.Now().UTC()
	var items []feedItem
	for i := range n {
		items = append(items, feedItem{GUID: fmt.Sprintf("c%d", i), Title: fmt.Sprintf("Crash story number %d", i),
			Link: fmt.Sprintf("https://wire.example/crash/%d", i), Published: now.Add(-time.Duration(i+1) * time.Minute)})
	}
	fs.set(items, nil)
	sf := newStoryFeeds(t)
	storyFeedNames := []string{"wire", "moscow", "kyiv", "capital", "quotidien"}

	dir := t.TempDir()
	dbPath := filepath.Join(dir, "crash.db")
	const guild, channel = "400000000000000004", "500000000000000005"
	subscribe(t, dbPath, guild, channel)
	cfgPath := filepath.Join(dir, "config.toml")
	doc := fmt.Sprintf(`[database]
path = %q
[discord]
token = %q
api_url = %q
gateway = false
[poll]
schedule = "@every 1s"
timeout = "5s"
max_age = "87600h"
[[feeds]]
name = "Wire"
url = %q
[rules]
[[rules.rule]]
name = "crash-stories"
keywords = ["crash story"]
`, dbPath, fd.Token(), slowProxy(t, fd.URL(), 40*time.Millisecond, 400*time.Millisecond), fs.URL+"/rss")
	for _, f := range sf.feeds(storyFeedNames...) {
		doc += fmt.Sprintf("[[feeds]]\nname = %q\nurl = %q\n", f.Name, f.URL)
	}
	if err := os.WriteFile(cfgPath, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "run", "-config", cfgPath)
		cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
		cmd.Stdout, cmd.Stderr = nil, nil
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd
	}

	rng := rand.New(rand.NewPCG(1, 2))
	kills := 0
	want := n + 3 // the crash items and the three stories
	for i := 0; i < 30; i++ {
		if i < len(crashStories) {
			sf.add(crashStories[i].feed, crashStories[i].item)
		}
		cmd := start()
		time.Sleep(time.Duration(150+rng.IntN(1200)) * time.Millisecond)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		kills++
		if len(fd.Messages(channel)) == want && i >= max(10, len(crashStories)) && storiesShown(t, dbPath, channel) {
			break
		}
	}

	// A last, orderly run delivers whatever is left and exits 0 on SIGTERM.
	cmd := start()
	fd.WaitMessages(t, channel, want, 60*time.Second)
	waitUntil(t, 60*time.Second, "every story's message showing all its feeds", func() bool { return storiesShown(t, dbPath, channel) })
	time.Sleep(2 * time.Second) // a couple more polls: nothing may be reposted
	_ = cmd.Process.Signal(syscall.SIGTERM)
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("exit after SIGTERM: %v", err)
		}
	case <-time.After(10 * time.Second):
		_ = cmd.Process.Kill()
		t.Error("did not exit within 10s of SIGTERM")
	}

	counts := map[string]int{}
	for _, m := range fd.Messages(channel) {
		for _, e := range m.Embeds {
			counts[e.URL]++
		}
	}
	for _, it := range items {
		if counts[it.Link] != 1 {
			t.Errorf("%s posted %d times, want exactly once", it.Link, counts[it.Link])
		}
	}
	if got := len(fd.Messages(channel)); got != want {
		t.Errorf("%d messages, want %d", got, want)
	}

	// Each story is one message, edited at most once per report after its
	// first: a restart re-edits nothing it had shown.
	reports := map[int]int{}
	storyOf := map[string]int{}
	for _, r := range crashStories {
		reports[r.story]++
		storyOf[r.item.Link] = r.story
	}
	messages := map[int]int{}
	for _, m := range fd.Messages(channel) {
		story, ok := storyOf[m.Embeds[0].URL]
		if !ok {
			continue
		}
		messages[story]++
		// None when the reports came together before the post.
		if m.Edits > reports[story]-1 {
			t.Errorf("story %d (%s): %d edits, want at most %d", story, m.Embeds[0].URL, m.Edits, reports[story]-1)
		}
		// Each edit shows more sources than the version before it: none
		// was sent again after a restart.
		prev := ""
		for i, v := range fd.MessageHistory(channel, m.ID) {
			if got := sourcesField(v); i > 0 && got == prev {
				t.Errorf("story %d: version %d repeats version %d (Sources %q)", story, i, i-1, got)
			}
			prev = sourcesField(v)
		}
		if got, want := sourcesField(m), fmt.Sprintf("%d sources", reports[story]); !strings.HasPrefix(got, want+"\n") {
			t.Errorf("story %d: Sources field %q, want %q first", story, got, want)
		}
		t.Logf("story %d: one message, %d edits for %d reports", story, m.Edits, reports[story])
	}
	for story := range reports {
		if messages[story] != 1 {
			t.Errorf("story %d: %d messages, want exactly 1", story, messages[story])
		}
	}
	t.Logf("%d kills; %d messages; %d edits checked before being sent again", kills, len(fd.Messages(channel)),
		fd.CountRequests(fakediscord.Route(http.MethodGet, "/channels/")))
}

// storiesShown reports whether the channel's messages of the three crash
// stories show all their feeds (4, 2 and 3), as the store records.
func storiesShown(t *testing.T, dbPath, channel string) bool {
	shown := map[int]bool{}
	for _, r := range deliveries(t, dbPath)[channel] {
		shown[r.rendered] = r.status == "delivered"
	}
	return shown[4] && shown[2] && shown[3]
}
