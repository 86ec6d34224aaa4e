package fakediscord_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/backchannel/backchannel/internal/fakediscord"
)

type answer struct {
	status int
	header http.Header
	body   map[string]any
}

// call sends one REST request with the bot token and decodes the answer.
func call(t *testing.T, fd *fakediscord.Server, method, path, body string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, fd.URL()+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bot "+fd.Token())
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, header: resp.Header}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &a.body); err != nil {
			t.Fatalf("%s %s: answer %q: %v", method, path, raw, err)
		}
	}
	return a
}

const embedBody = `{"embeds":[{"title":"t%d"}],"allowed_mentions":{"parse":[]},"nonce":"n%d","enforce_nonce":true}`

func createMsg(t *testing.T, fd *fakediscord.Server, channel string, i int) answer {
	t.Helper()
	return call(t, fd, "POST", "/channels/"+channel+"/messages", fmt.Sprintf(embedBody, i, i))
}

func TestGlobalLimit(t *testing.T) {
	t.Parallel()
	fd := fakediscord.New(t)
	fd.SetLimits(fakediscord.Limits{Global: 3, GlobalWindow: time.Minute})
	for i := range 3 {
		if a := call(t, fd, "GET", "/users/@me", ""); a.status != 200 {
			t.Fatalf("request %d: %d", i, a.status)
		}
	}
	// Interaction endpoints do not count, and are not refused.
	if a := call(t, fd, "POST", "/webhooks/"+fakediscord.ApplicationID+"/tok", `{"content":"x"}`); a.status != http.StatusNoContent {
		t.Errorf("interaction follow-up: %d", a.status)
	}
	a := createMsg(t, fd, "c1", 1)
	if a.status != http.StatusTooManyRequests {
		t.Fatalf("fourth request in the window: %d", a.status)
	}
	h := a.header
	if h.Get("X-RateLimit-Global") != "true" || h.Get("X-RateLimit-Scope") != "global" || h.Get("Retry-After") != "60" || h.Get("X-RateLimit-Bucket") != "" {
		t.Errorf("headers %v", h)
	}
	ra, _ := a.body["retry_after"].(float64)
	if a.body["global"] != true || ra <= 55 || ra > 60 || a.body["message"] == "" {
		t.Errorf("body %v", a.body)
	}
	if n := len(fd.Messages("c1")); n != 0 {
		t.Errorf("a refused request created %d messages", n)
	}
	st := fd.LimitStats()
	if st.TooManyRequests[fakediscord.GlobalBucket] != 1 || len(st.TooManyRequests) != 1 || st.Requests != 4 || st.PeakPerSecond != 4 {
		t.Errorf("stats %+v", st)
	}
}

func TestMessageBucketIsSharedByCreateAndEdit(t *testing.T) {
	t.Parallel()
	fd := fakediscord.New(t)
	fd.SetLimits(fakediscord.Limits{Messages: 3, MessageWindow: time.Minute})
	first := createMsg(t, fd, "c1", 1)
	id, _ := first.body["id"].(string)
	edit := call(t, fd, "PATCH", "/channels/c1/messages/"+id, `{"embeds":[{"title":"edited"}],"allowed_mentions":{"parse":[]}}`)
	third := createMsg(t, fd, "c1", 2)
	for i, a := range []answer{first, edit, third} {
		h := a.header
		if a.status != 200 || h.Get("X-RateLimit-Bucket") != fakediscord.MessageBucket || h.Get("X-RateLimit-Limit") != "3" || h.Get("X-RateLimit-Remaining") != strconv.Itoa(2-i) {
			t.Errorf("answer %d: %d %v", i, a.status, h)
		}
		if ra, err := strconv.ParseFloat(h.Get("X-RateLimit-Reset-After"), 64); err != nil || ra <= 55 || ra > 60 {
			t.Errorf("answer %d: reset after %q", i, h.Get("X-RateLimit-Reset-After"))
		}
		if reset, err := strconv.ParseFloat(h.Get("X-RateLimit-Reset"), 64); err != nil || time.Until(time.UnixMilli(int64(reset*1000))) <= 55*time.Second {
			t.Errorf("answer %d: reset %q", i, h.Get("X-RateLimit-Reset"))
		}
	}
	// The bucket is exhausted, for edits as for creates; another channel
	// has its own.
	limited := call(t, fd, "PATCH", "/channels/c1/messages/"+id, `{"embeds":[{"title":"again"}]}`)
	if limited.status != 429 || limited.header.Get("X-RateLimit-Scope") != "user" || limited.header.Get("X-RateLimit-Remaining") != "0" || limited.body["global"] != false {
		t.Errorf("over the limit: %d %v %v", limited.status, limited.header, limited.body)
	}
	if a := createMsg(t, fd, "c2", 3); a.status != 200 || a.header.Get("X-RateLimit-Remaining") != "2" {
		t.Errorf("other channel: %d %v", a.status, a.header)
	}
	if got := fd.LimitStats().TooManyRequests; got[fakediscord.MessageBucket+":c1"] != 1 || len(got) != 1 {
		t.Errorf("429s %v", got)
	}
	if m, _ := fd.ChannelMessage("c1", id); m.Edits != 1 || m.Embeds[0].Title != "edited" {
		t.Errorf("the refused edit changed the message: %+v", m)
	}
}

func TestBucketWindowResets(t *testing.T) {
	t.Parallel()
	fd := fakediscord.New(t)
	fd.SetLimits(fakediscord.Limits{Messages: 1, MessageWindow: 150 * time.Millisecond})
	if a := createMsg(t, fd, "c1", 1); a.status != 200 {
		t.Fatal(a.status)
	}
	a := createMsg(t, fd, "c1", 2)
	if a.status != 429 {
		t.Fatalf("second: %d", a.status)
	}
	ra, _ := a.body["retry_after"].(float64)
	time.Sleep(time.Duration(ra*float64(time.Second)) + 10*time.Millisecond)
	if a := createMsg(t, fd, "c1", 2); a.status != 200 || a.header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("after retry_after: %d %v", a.status, a.header)
	}
}

func TestLimitsOffByDefault(t *testing.T) {
	t.Parallel()
	fd := fakediscord.New(t)
	for i := range 60 {
		if a := createMsg(t, fd, "c1", i); a.status != 200 || a.header.Get("X-RateLimit-Remaining") == "0" {
			t.Fatalf("message %d: %d %v", i, a.status, a.header)
		}
	}
	if st := fd.LimitStats(); len(st.TooManyRequests) != 0 || st.Requests != 60 {
		t.Errorf("stats %+v", st)
	}
}

func TestLatencyAndInFlight(t *testing.T) {
	t.Parallel()
	fd := fakediscord.New(t)
	fd.SetLatency(fakediscord.CreateMessage(""), 150*time.Millisecond)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			if a := createMsg(t, fd, fmt.Sprint("c", i), i); a.status != 200 {
				t.Errorf("message %d: %d", i, a.status)
			}
		})
	}
	wg.Wait()
	call(t, fd, "GET", "/users/@me", "")
	for _, r := range fd.Requests() {
		if r.Method == "POST" && r.Time.Sub(r.Received) < 150*time.Millisecond {
			t.Errorf("%s answered %v after it arrived, want the 150ms latency", r.Path, r.Time.Sub(r.Received))
		}
	}
	st := fd.LimitStats()
	if st.MaxInFlight != 4 {
		t.Errorf("at most %d requests handled at once, want the 4 sent together", st.MaxInFlight)
	}
	if st.Requests != 5 || st.MeanPerSecond() <= 0 {
		t.Errorf("stats %+v, mean %v", st, st.MeanPerSecond())
	}
}

func TestEditMessage(t *testing.T) {
	t.Parallel()
	fd := fakediscord.New(t)
	id, _ := createMsg(t, fd, "c1", 1).body["id"].(string)
	cases := []struct {
		body   string
		status int
		code   float64
	}{
		{`{"embeds":[{"title":"` + strings.Repeat("x", 257) + `"}]}`, 400, 50035},
		{`{"embeds":[],"content":""}`, 400, 50006},
		{`not json`, 400, 50109},
		{`{"embeds":[{"title":"v2"}],"allowed_mentions":{"parse":[]}}`, 200, 0},
		{`{"embeds":[{"title":"v3","description":"@everyone"}],"allowed_mentions":{"parse":[]}}`, 200, 0},
	}
	for _, tc := range cases {
		a := call(t, fd, "PATCH", "/channels/c1/messages/"+id, tc.body)
		if a.status != tc.status || (tc.code != 0 && a.body["code"] != tc.code) {
			t.Errorf("PATCH %s: %d %v", tc.body, a.status, a.body)
		}
	}
	m := fd.WaitMessageEdits(t, "c1", id, 2, time.Second)
	if m.Edits != 2 || m.Embeds[0].Title != "v3" || !m.MentionsSuppressed() || !strings.Contains(string(m.Raw), "v3") || m.Nonce != "n1" {
		t.Errorf("message after edits %+v", m)
	}
	if msgs := fd.Messages("c1"); len(msgs) != 1 || msgs[0].Edits != 2 {
		t.Errorf("Messages shows %+v", msgs)
	}
	hist := fd.MessageHistory("c1", id)
	if len(hist) != 3 || hist[0].Embeds[0].Title != "t1" || hist[1].Embeds[0].Title != "v2" || hist[2].Embeds[0].Title != "v3" {
		t.Errorf("history %+v", hist)
	}
	if n := fd.CountRequests(fakediscord.EditMessage("c1", id)); n != 5 {
		t.Errorf("%d edits counted", n)
	}
	if a := call(t, fd, "PATCH", "/channels/c2/messages/"+id, `{"content":"x"}`); a.status != 404 || a.body["code"] != 10008.0 {
		t.Errorf("edit in the wrong channel: %d %v", a.status, a.body)
	}
	// Reading the message shows it as the last edit left it.
	a := call(t, fd, "GET", "/channels/c1/messages/"+id, "")
	if embeds, _ := a.body["embeds"].([]any); a.status != 200 || a.body["id"] != id || len(embeds) != 1 || embeds[0].(map[string]any)["title"] != "v3" {
		t.Errorf("GET the edited message: %d %v", a.status, a.body)
	}
	if a := call(t, fd, "GET", "/channels/c2/messages/"+id, ""); a.status != 404 {
		t.Errorf("GET in the wrong channel: %d %v", a.status, a.body)
	}
}

func TestDeletedMessage(t *testing.T) {
	t.Parallel()
	fd := fakediscord.New(t)
	id, _ := createMsg(t, fd, "c1", 1).body["id"].(string)
	if !fd.DeleteMessage("c1", id) || fd.DeleteMessage("c1", id) {
		t.Fatal("DeleteMessage did not report the deletion once")
	}
	if n := len(fd.Messages("c1")); n != 0 {
		t.Errorf("%d messages left", n)
	}
	a := call(t, fd, "PATCH", "/channels/c1/messages/"+id, `{"content":"x"}`)
	if a.status != 404 || a.body["code"] != 10008.0 || a.body["message"] != "Unknown Message" {
		t.Errorf("edit of a deleted message: %d %v", a.status, a.body)
	}
	if a := call(t, fd, "GET", "/channels/c1/messages/"+id, ""); a.status != 404 || a.body["code"] != 10008.0 {
		t.Errorf("reading a deleted message: %d %v", a.status, a.body)
	}
	// The enforced nonce still names the message it created: no repost.
	if again := createMsg(t, fd, "c1", 1); again.status != 200 || again.body["id"] != id || len(fd.Messages("c1")) != 0 {
		t.Errorf("re-post with the nonce: %d %v, %d messages", again.status, again.body, len(fd.Messages("c1")))
	}
	if _, ok := fd.ChannelMessage("c1", id); ok {
		t.Error("ChannelMessage finds a deleted message")
	}
	if len(fd.MessageHistory("c1", id)) != 1 {
		t.Error("the history of a deleted message is lost")
	}
}

func TestInjectedRateLimitKeepsTheEnforcedBucket(t *testing.T) {
	t.Parallel()
	fd := fakediscord.New(t)
	fd.SetLimits(fakediscord.Limits{Messages: 5})
	fd.FailRateLimited(fakediscord.CreateMessage("c1"), 1, 200*time.Millisecond, false)
	a := createMsg(t, fd, "c1", 1)
	if a.status != 429 || a.header.Get("X-RateLimit-Bucket") != fakediscord.MessageBucket || a.header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("%d %v", a.status, a.header)
	}
	// Injected faults are not the enforced limits' 429s.
	if got := fd.LimitStats().TooManyRequests; len(got) != 0 {
		t.Errorf("429s %v", got)
	}
}
