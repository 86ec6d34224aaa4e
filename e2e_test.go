package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/backchannel/backchannel/config"
	"github.com/backchannel/backchannel/db"
	"github.com/backchannel/backchannel/internal/fakediscord"
	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/rules"
)

// feedServer serves one RSS and one Atom feed whose items a test can change.
type feedServer struct {
	*httptest.Server
	mu   sync.Mutex
	rss  []feedItem
	atom []feedItem
}

type feedItem struct {
	GUID, Title, Link, Summary string
	Published                  time.Time
}

func newFeedServer(t *testing.T) *feedServer {
	fs := &feedServer{}
	mux := http.NewServeMux()
	mux.HandleFunc("/rss", func(w http.ResponseWriter, r *http.Request) {
		fs.mu.Lock()
		items := fs.rss
		fs.mu.Unlock()
		w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>Wire</title><link>https://wire.example/</link><description>x</description>`)
		for _, it := range items {
			fmt.Fprintf(w, `<item><guid>%s</guid><title>%s</title><link>%s</link><description>%s</description><pubDate>%s</pubDate></item>`,
				xmlEscape(it.GUID), xmlEscape(it.Title), xmlEscape(it.Link), xmlEscape(it.Summary), it.Published.Format(time.RFC1123Z))
		}
		fmt.Fprint(w, `</channel></rss>`)
	})
	mux.HandleFunc("/atom", func(w http.ResponseWriter, r *http.Request) {
		fs.mu.Lock()
		items := fs.atom
		fs.mu.Unlock()
		w.Header().Set("Content-Type", "application/atom+xml")
		fmt.Fprint(w, `<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>Desk</title><id>urn:desk</id><updated>2026-01-01T00:00:00Z</updated>`)
		for _, it := range items {
			fmt.Fprintf(w, `<entry><id>%s</id><title>%s</title><link href="%s"/><summary>%s</summary><updated>%s</updated></entry>`,
				xmlEscape(it.GUID), xmlEscape(it.Title), xmlEscape(it.Link), xmlEscape(it.Summary), it.Published.Format(time.RFC3339))
		}
		fmt.Fprint(w, `</feed>`)
	})
	fs.Server = httptest.NewServer(mux)
	t.Cleanup(fs.Close)
	return fs
}

func (fs *feedServer) set(rss, atom []feedItem) {
	fs.mu.Lock()
	fs.rss, fs.atom = rss, atom
	fs.mu.Unlock()
}

func xmlEscape(s string) string {
	var b bytes.Buffer
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '"':
			b.WriteString("&quot;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// builtinRules are the built-in rules (rules/defaults.toml).
func builtinRules(t *testing.T) rules.Spec {
	t.Helper()
	spec, err := rules.Defaults()
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(tWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tWriter struct{ t *testing.T }

func (w tWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// checked is cfg as `run` gets it: through config.Check, which validates
// it and compiles its rules.
func checked(t *testing.T, cfg config.Config) config.Loaded {
	t.Helper()
	loaded, probs := config.Check(cfg)
	if len(probs) > 0 {
		t.Fatalf("test configuration: %v", probs)
	}
	return loaded
}

// startApp runs the whole bot in process and returns its HTTP address and
// a stop function that asserts a clean exit within 10 seconds.
func startApp(t *testing.T, cfg config.Config, opts appOptions) (addr string, stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	addrs := make(chan string, 1)
	done := make(chan error, 1)
	opts.OnHTTP = func(a string) { addrs <- a }
	if opts.Logger == nil {
		opts.Logger = testLogger(t)
	}
	loaded := checked(t, cfg)
	go func() { done <- runApp(ctx, loaded, opts) }()
	select {
	case addr = <-addrs:
	case err := <-done:
		cancel()
		t.Fatalf("app stopped at start: %v", err)
	case <-time.After(15 * time.Second):
		cancel()
		t.Fatal("app did not start listening within 15s")
	}
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("app exit: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("app did not stop within 10s of cancellation")
		}
	}
	t.Cleanup(stop)
	return addr, stop
}

// pollCount reads the total of backchannel_feed_polls_total from /metrics.
func pollCount(t *testing.T, addr string) int {
	t.Helper()
	body := httpGet(t, "http://"+addr+"/metrics")
	total := 0
	re := regexp.MustCompile(`(?m)^backchannel_feed_polls_total\{result="(ok|not_modified)"\} (\d+)`)
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		n, _ := strconv.Atoi(m[2])
		total += n
	}
	return total
}

func httpGet(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// waitPolls waits until n more successful polls happened.
func waitPolls(t *testing.T, addr string, n int) {
	t.Helper()
	start := pollCount(t, addr)
	deadline := time.Now().Add(20 * time.Second)
	for pollCount(t, addr) < start+n {
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d polls in 20s", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func e2eConfig(t *testing.T, fd *fakediscord.Server, fs *feedServer) config.Config {
	cfg := config.Default()
	cfg.Database.Path = filepath.Join(t.TempDir(), "backchannel.db")
	cfg.Discord.Token = config.Secret(fd.Token())
	cfg.Discord.APIURL = fd.URL()
	cfg.Discord.ApplicationID = "100000000000000001"
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Poll.Schedule = "@every 1s"
	cfg.Poll.Timeout = config.Duration{D: 5 * time.Second}
	cfg.Feeds = []config.Feed{{Name: "Wire", URL: fs.URL + "/rss"}, {Name: "Desk", URL: fs.URL + "/atom"}}
	cfg.Rules = builtinRules(t)
	return cfg
}

func subscribe(t *testing.T, path, guild, channel string) {
	t.Helper()
	ctx := context.Background()
	store, err := db.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	if _, err := store.Subscribe(ctx, model.Subscription{GuildID: guild, ChannelID: channel}); err != nil {
		t.Fatal(err)
	}
}

var footerRE = regexp.MustCompile(`^alert [A-Za-z0-9-]{1,25} · rule \S+$`)

func TestEndToEnd(t *testing.T) {
	fd := fakediscord.New(t)
	fs := newFeedServer(t)
	now := time.Now().UTC().Truncate(time.Second)
	contact := feedItem{GUID: "wire-1", Title: "CIA Director Ratcliffe and SVR chief Naryshkin agree to keep an open line of communication",
		Link: "https://wire.example/2026/ratcliffe-naryshkin", Summary: "Naryshkin said the two spy chiefs can call each other at any time. @everyone", Published: now.Add(-time.Hour)}
	noise := feedItem{GUID: "wire-2", Title: "Spy thriller tops the box office", Link: "https://wire.example/2026/film", Summary: "Talks of a sequel.", Published: now.Add(-time.Hour)}
	diplo := feedItem{GUID: "urn:desk:1", Title: "Lavrov and Rubio hold phone call on Ukraine", Link: "https://desk.example/lavrov-rubio",
		Summary: "The Russian foreign minister and the US Secretary of State spoke by phone.", Published: now.Add(-2 * time.Hour)}
	fs.set([]feedItem{contact, noise}, []feedItem{diplo})

	cfg := e2eConfig(t, fd, fs)
	const guild, channel = "200000000000000002", "300000000000000003"
	subscribe(t, cfg.Database.Path, guild, channel)
	addr, stop := startApp(t, cfg, appOptions{})

	msgs := fd.WaitMessages(t, channel, 2, 20*time.Second)
	links := map[string]bool{}
	for _, m := range msgs {
		if len(m.Embeds) != 1 {
			t.Fatalf("message has %d embeds", len(m.Embeds))
		}
		e := m.Embeds[0]
		links[e.URL] = true
		if !m.MentionsSuppressed() {
			t.Errorf("allowed_mentions = %+v; want parse []", m.AllowedMentions)
		}
		if e.Footer == nil || !footerRE.MatchString(e.Footer.Text) {
			t.Errorf("footer = %+v", e.Footer)
		}
		if m.Nonce == "" || len(m.Nonce) > 25 || !m.EnforceNonce {
			t.Errorf("nonce %q enforce %v", m.Nonce, m.EnforceNonce)
		}
		if strings.Contains(string(m.Raw), "@everyone") && !strings.Contains(string(m.Raw), `"parse":[]`) {
			t.Errorf("feed text could ping: %s", m.Raw)
		}
	}
	if !links[contact.Link] || !links[diplo.Link] {
		t.Fatalf("posted links %v; want %s and %s", links, contact.Link, diplo.Link)
	}
	if body := httpGet(t, "http://"+addr+"/healthz"); !strings.Contains(body, "ok") {
		t.Errorf("healthz: %q", body)
	}

	// Re-polls of the same feeds post nothing new.
	waitPolls(t, addr, 4)
	if got := len(fd.Messages(channel)); got != 2 {
		t.Fatalf("after re-polls: %d messages, want 2", got)
	}

	// The same story again: a new GUID with a utm_ link, and a copy of its
	// title in another feed with different case and spacing.
	again := contact
	again.GUID = "wire-1-republished"
	again.Link = contact.Link + "?utm_source=rss&utm_medium=feed#top"
	copyTitle := feedItem{GUID: "urn:desk:2", Title: "  cia director ratcliffe and SVR chief naryshkin   agree to keep an open line of communication ",
		Link: "https://desk.example/copy", Summary: contact.Summary, Published: now}
	fs.set([]feedItem{again, noise}, []feedItem{diplo, copyTitle})
	waitPolls(t, addr, 4)
	if got := len(fd.Messages(channel)); got != 2 {
		t.Fatalf("after republishing: %d messages, want 2", got)
	}

	metrics := httpGet(t, "http://"+addr+"/metrics")
	for _, name := range []string{"backchannel_feed_polls_total", "backchannel_alerts_matched_total 2", "backchannel_alerts_posted_total 2",
		"backchannel_delivery_failures_total", "backchannel_delivery_queue_depth 0"} {
		if !strings.Contains(metrics, name) {
			t.Errorf("/metrics lacks %q", name)
		}
	}
	stop()
}

// syncBuffer is a bytes.Buffer safe for the app's writer and the test's reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestDryRunPrintsAlertsWithoutDiscord(t *testing.T) {
	fs := newFeedServer(t)
	now := time.Now().UTC()
	fs.set([]feedItem{{GUID: "1", Title: "Lavrov and Rubio hold phone call on Ukraine", Link: "https://wire.example/call",
		Summary: "The foreign ministers spoke by phone.", Published: now.Add(-time.Hour)}}, nil)
	cfg := config.Default()
	cfg.Database.Path = filepath.Join(t.TempDir(), "dry.db")
	cfg.Discord.APIURL = "http://127.0.0.1:1/api/v10" // never contacted
	cfg.HTTP.Listen = "127.0.0.1:0"
	cfg.Poll.Schedule = "@every 1s"
	cfg.Feeds = []config.Feed{{Name: "Wire", URL: fs.URL + "/rss"}}
	cfg.Rules = builtinRules(t)
	var out syncBuffer
	_, stop := startApp(t, cfg, appOptions{DryRun: true, Stdout: &out})
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(out.String(), "https://wire.example/call") {
		if time.Now().After(deadline) {
			t.Fatalf("dry run printed no alert in 20s; stdout:\n%s", out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	if got := out.String(); !strings.Contains(got, "Lavrov and Rubio hold phone call on Ukraine") {
		t.Errorf("stdout:\n%s", got)
	}
}

// TestGatewayDownAtStartStillDelivers: Discord's gateway failing at start
// must not stop polling or posting; the bot connects once it is back.
func TestGatewayDownAtStartStillDelivers(t *testing.T) {
	fd := fakediscord.New(t)
	fd.Fail(fakediscord.Route("GET", "/gateway"), 2, fakediscord.ServerError)
	fs := newFeedServer(t)
	fs.set([]feedItem{{GUID: "1", Title: "Lavrov and Rubio hold phone call on Ukraine", Link: "https://wire.example/call",
		Summary: "The foreign ministers spoke by phone.", Published: time.Now().Add(-time.Hour)}}, nil)
	cfg := e2eConfig(t, fd, fs)
	cfg.Feeds = cfg.Feeds[:1]
	const guild, channel = "200000000000000002", "300000000000000003"
	subscribe(t, cfg.Database.Path, guild, channel)
	addr, stop := startApp(t, cfg, appOptions{})
	fd.WaitMessages(t, channel, 1, 20*time.Second)
	fd.WaitGatewayConnected(t, 20*time.Second)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(httpGet(t, "http://"+addr+"/healthz"), "ok") {
		if time.Now().After(deadline) {
			t.Fatal("healthz never became ok after the gateway came back")
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
}

func TestRefusedTokenStopsWithAClearError(t *testing.T) {
	fd := fakediscord.New(t)
	fs := newFeedServer(t)
	cfg := e2eConfig(t, fd, fs)
	cfg.Discord.Token = "not-the-token"
	done := make(chan error, 1)
	loaded := checked(t, cfg)
	go func() { done <- runApp(context.Background(), loaded, appOptions{Logger: testLogger(t)}) }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "token") {
			t.Fatalf("err = %v; want one about the token", err)
		}
		if strings.Contains(err.Error(), "not-the-token") {
			t.Fatalf("the token leaked into the error: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("runApp did not stop")
	}
}

// TestArticleStoredBeforeACrashStillAlerts: the last run stored an article
// and died before recording its alert. The feed still serves the item, but
// as a known one; the alert must come from the stored article, once.
func TestArticleStoredBeforeACrashStillAlerts(t *testing.T) {
	fd := fakediscord.New(t)
	fs := newFeedServer(t)
	item := feedItem{GUID: "1", Title: "Lavrov and Rubio hold phone call on Ukraine", Link: "https://wire.example/call",
		Summary: "The foreign ministers spoke by phone.", Published: time.Now().Add(-time.Hour)}
	fs.set([]feedItem{item}, nil)
	cfg := e2eConfig(t, fd, fs)
	cfg.Feeds = cfg.Feeds[:1]
	const guild, channel = "200000000000000002", "300000000000000003"
	subscribe(t, cfg.Database.Path, guild, channel)

	ctx := context.Background()
	store, err := db.Open(ctx, cfg.Database.Path)
	if err != nil {
		t.Fatal(err)
	}
	feeds, err := store.SyncConfigFeeds(ctx, configFeeds(cfg.Feeds))
	if err != nil {
		store.Close()
		t.Fatal(err)
	}
	stored, err := store.StoreArticles(ctx, feeds[0].ID, []model.Article{{GUID: item.GUID, Title: item.Title, Link: item.Link, Summary: item.Summary, Published: item.Published}})
	if cerr := store.Close(); err != nil || cerr != nil || len(stored) != 1 {
		t.Fatalf("storing the article: %v, %v, %d stored", err, cerr, len(stored))
	}

	addr, stop := startApp(t, cfg, appOptions{})
	fd.WaitMessages(t, channel, 1, 20*time.Second)
	waitPolls(t, addr, 2)
	msgs := fd.Messages(channel)
	if len(msgs) != 1 || len(msgs[0].Embeds) != 1 || msgs[0].Embeds[0].URL != item.Link {
		t.Fatalf("messages %+v; want one embed linking %s", msgs, item.Link)
	}
	stop()
}
