package feeds

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

// testLogger sends package logs to t.Log so failures show them.
func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(tbWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type tbWriter struct{ t testing.TB }

func (w tbWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func quietLogger() *slog.Logger { return slog.New(slog.DiscardHandler) }

// makeRSS builds a realistic RSS 2.0 document with n items, each with a GUID,
// a date, a link and an HTML description of a few hundred bytes.
func makeRSS(title string, n int) []byte {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>
<title>` + title + `</title><link>https://news.example.org/</link>
<description>World news</description><language>en</language>
`)
	base := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	for i := range n {
		fmt.Fprintf(&b, `<item>
<title>%s story %d: ministers meet in Ankara for talks</title>
<link>https://news.example.org/world/%s/story-%d?ref=rss</link>
<guid isPermaLink="false">%s-%d</guid>
<pubDate>%s</pubDate>
<dc:creator>Staff reporter</dc:creator>
<category>World</category>
<description><![CDATA[<p>The foreign ministers of both countries held <b>talks</b> on Tuesday, officials said. <a href="https://news.example.org/x">Read more</a></p><p>Story %d continues with details of the meeting, the delegations and what was agreed &amp; what was not.</p>]]></description>
</item>
`, title, i, title, i, title, i, base.Add(-time.Duration(i)*time.Hour).Format(time.RFC1123Z), i)
	}
	b.WriteString("</channel></rss>\n")
	return []byte(b.String())
}

// serve starts a loopback test server closed at the end of the test.
func serve(t testing.TB, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

func writeFeed(w http.ResponseWriter, body []byte) {
	w.Header().Set("Content-Type", "application/rss+xml; charset=utf-8")
	_, _ = w.Write(body)
}

// failReader fails the test if anything reads it.
type failReader struct{ t testing.TB }

func (r failReader) Read([]byte) (int, error) {
	r.t.Error("body was read")
	return 0, io.EOF
}
func (r failReader) Close() error { return nil }

func mustURL(t testing.TB, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
