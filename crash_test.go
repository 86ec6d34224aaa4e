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

// slowProxy forwards to the fake Discord and holds each message post for a
// while, so kills land in the middle of deliveries.
func slowProxy(t *testing.T, target string, delay time.Duration) string {
	u, err := url.Parse(target)
	if err != nil {
		t.Fatal(err)
	}
	rp := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: u.Scheme, Host: u.Host})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost && strings.Contains(r.URL.Path, "/messages") {
			time.Sleep(delay)
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + u.Path
}

// TestCrashDuringDelivery kills the bot with SIGKILL at random moments
// while it delivers, restarts it on the same database, and checks that in
// the end every alert was posted exactly once.
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
[[feeds]]
name = "Wire"
url = %q
[rules]
[[rules.rule]]
name = "crash-stories"
keywords = ["crash story"]
`, dbPath, fd.Token(), slowProxy(t, fd.URL(), 40*time.Millisecond), fs.URL+"/rss")
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
	for i := 0; i < 30; i++ {
		cmd := start()
		time.Sleep(time.Duration(150+rng.IntN(1200)) * time.Millisecond)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		kills++
		if len(fd.Messages(channel)) == n && i >= 10 {
			break
		}
	}

	// A last, orderly run delivers whatever is left and exits 0 on SIGTERM.
	cmd := start()
	fd.WaitMessages(t, channel, n, 60*time.Second)
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
	if got := len(fd.Messages(channel)); got != n {
		t.Errorf("%d messages, want %d", got, n)
	}
	t.Logf("%d kills; %d messages", kills, len(fd.Messages(channel)))
}
