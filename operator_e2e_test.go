package main

// End-to-end tests of issue 9 on the whole app (startCmdApp): feed URL
// secrets, and what /metrics says about interactions and the build.

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel/config"
	"github.com/backchannel/backchannel/model"
)

// TestFeedURLSecretsEndToEnd: a feed of the file whose URL carries a user,
// a password and an API key fails to poll. Neither the error stored in its
// state, nor /status or /feeds list as a member sees them, nor any log
// line shows those secrets; an owner's /feeds list shows the URL whole,
// ephemerally.
func TestFeedURLSecretsEndToEnd(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // connection refused from now on: net/http's error quotes the URL
	secretURL := "http://alice:hunter2@" + addr + "/feed.xml?api_key=SEKRET&lang=en"
	shownURL := "http://" + addr + "/feed.xml?api_key=REDACTED&lang=en"
	secrets := []string{"hunter2", "alice", "SEKRET"}

	var logs syncBuffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := startCmdAppWith(t, func(c *config.Config) {
		c.Feeds = append(c.Feeds, config.Feed{Name: "Keyed", URL: secretURL})
	}, appOptions{Logger: logger})

	noSecrets := func(where, s string) {
		t.Helper()
		for _, secret := range secrets {
			if strings.Contains(s, secret) {
				t.Errorf("%s shows %q:\n%s", where, secret, s)
			}
		}
	}
	// The app keeps feed state in memory and writes it in batches, so the
	// failure is watched through /status (the app's own view); what was
	// stored is read once the app has stopped and flushed it.
	deadline := time.Now().Add(cmdWait)
	for !strings.Contains(e.run(t, viaGateway, command(guildA, channelFor(viaGateway, 90), plainMember, "status")).text(), "Keyed — error: ") {
		if time.Now().After(deadline) {
			t.Fatalf("the keyed feed did not fail within %v", cmdWait)
		}
		time.Sleep(100 * time.Millisecond)
	}

	for _, tr := range transports {
		t.Run(string(tr), func(t *testing.T) {
			ch := channelFor(tr, 91)
			a := e.run(t, tr, command(guildA, ch, plainMember, "status"))
			expect(t, a, false, "Keyed — error: ", shownURL)
			noSecrets("/status", a.text())
			a = e.run(t, tr, command(guildA, ch, plainMember, "feeds", subOption("list")))
			expect(t, a, false, "Keyed — <"+shownURL+">")
			noSecrets("/feeds list", a.text())
			a = e.run(t, tr, command(guildA, ch, owner, "feeds", subOption("list")))
			expect(t, a, true, "Keyed — <"+secretURL+">")
		})
	}
	e.stop()
	noSecrets("the log", logs.String())
	if !strings.Contains(logs.String(), "REDACTED") {
		t.Errorf("the log never mentions the failing feed's URL:\n%s", logs.String())
	}
	feeds, err := e.store(t).Feeds(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var keyed model.Feed
	for _, f := range feeds {
		if f.Name == "Keyed" {
			keyed = f
		}
	}
	if keyed.State.Status != model.StatusError {
		t.Fatalf("stored state of the keyed feed: %+v", keyed.State)
	}
	noSecrets("the stored feed error", keyed.State.Error)
	if !strings.Contains(keyed.State.Error, shownURL) {
		t.Errorf("stored error %q does not name the feed by its redacted URL", keyed.State.Error)
	}
}

// TestMetricsInteractionsAndBuild scrapes /metrics after commands on both
// transports and refused requests to /interactions.
func TestMetricsInteractionsAndBuild(t *testing.T) {
	e := startCmdApp(t, nil)
	for _, tr := range transports {
		ch := channelFor(tr, 92)
		expect(t, e.run(t, tr, command(guildA, ch, plainMember, "status")), false, "Feed status")
		refused(t, e.run(t, tr, command(guildA, ch, plainMember, "feeds", subOption("add", strOption("url", "https://x.example/rss")))), "Only the bot's owners")
	}
	// Refused before any command runs.
	i := command(guildA, channelFor(viaHTTP, 92), plainMember, "subscriptions")
	body, err := json.Marshal(i)
	if err != nil {
		t.Fatal(err)
	}
	_, stranger, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, req := range []struct {
		name string
		body []byte
		ts   time.Time
		priv ed25519.PrivateKey
		code int
	}{
		{"bad signature", body, time.Now(), stranger, http.StatusUnauthorized},
		{"stale", body, time.Now().Add(-time.Hour), e.priv, http.StatusUnauthorized},
		{"malformed", []byte(`{"type":2,"data":[`), time.Now(), e.priv, http.StatusBadRequest},
	} {
		if code, out := e.postSigned(t, req.body, req.ts, req.priv, nil); code != req.code {
			t.Errorf("%s: %d %s, want %d", req.name, code, out, req.code)
		}
	}
	e.run(t, viaHTTP, i)
	if code, out := e.postSigned(t, body, time.Now(), e.priv, nil); code != http.StatusUnauthorized {
		t.Errorf("replay: %d %s", code, out)
	}

	want := map[string]float64{
		`backchannel_interactions_total{command="status",result="ok"}`:                            2,
		`backchannel_interactions_total{command="feeds add",result="refused"}`:                    2,
		`backchannel_interactions_total{command="subscriptions",result="ok"}`:                     1,
		`backchannel_interactions_rejected_total{reason="bad_signature"}`:                         1,
		`backchannel_interactions_rejected_total{reason="stale_timestamp"}`:                       1,
		`backchannel_interactions_rejected_total{reason="malformed"}`:                             1,
		`backchannel_interactions_rejected_total{reason="replay"}`:                                1,
		`backchannel_interactions_rejected_total{reason="too_large"}`:                             0,
		`backchannel_build_info{goversion="` + runtime.Version() + `",version="` + version + `"}`: 1,
	}
	value := func(m, series string) float64 {
		re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`)
		got := re.FindStringSubmatch(m)
		if got == nil {
			return -1
		}
		v, _ := strconv.ParseFloat(got[1], 64)
		return v
	}
	// A command is counted once its handler returns, which is just after
	// its last answer reaches Discord, so the test may see the answer a
	// moment before the count: scrape until the counts agree, for a while.
	var m string
	for attempt := 0; attempt < 50; attempt++ {
		m = httpGet(t, "http://"+e.addr+"/metrics")
		settled := true
		for series, n := range want {
			if value(m, series) != n {
				settled = false
			}
		}
		if settled {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	for series, n := range want {
		if got := value(m, series); got != n {
			t.Errorf("%s = %v, want %v (-1: absent)", series, got, n)
		}
	}
	// The Go runtime's and the process's own metrics.
	for _, name := range []string{"go_goroutines ", "go_memstats_heap_alloc_bytes ", "go_gc_duration_seconds", "process_cpu_seconds_total ", "process_resident_memory_bytes ", "process_open_fds "} {
		if !strings.Contains(m, "\n"+name) {
			t.Errorf("/metrics lacks %s", strings.TrimSpace(name))
		}
	}
}
