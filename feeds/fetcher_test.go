package feeds

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestFetchOK(t *testing.T) {
	body := makeRSS("ok", 3)
	var gotUA, gotAccept string
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		gotUA, gotAccept = r.UserAgent(), r.Header.Get("Accept")
		w.Header().Set("ETag", `"abc"`)
		w.Header().Set("Last-Modified", "Sat, 01 Mar 2025 12:00:00 GMT")
		writeFeed(w, body)
	})
	f := NewFetcher(Config{UserAgent: UserAgent("1.2.3"), Logger: testLogger(t)})
	resp, err := f.Fetch(t.Context(), Request{URL: srv.URL, Trusted: true})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 || resp.NotModified || !bytes.Equal(resp.Body, body) {
		t.Fatalf("got status %d, notModified %v, %d bytes", resp.Status, resp.NotModified, len(resp.Body))
	}
	if resp.ETag != `"abc"` || resp.LastModified != "Sat, 01 Mar 2025 12:00:00 GMT" {
		t.Fatalf("validators: %q %q", resp.ETag, resp.LastModified)
	}
	if gotUA != "backchannel/1.2.3 (+https://github.com/backchannel/backchannel)" {
		t.Errorf("User-Agent %q", gotUA)
	}
	if !strings.Contains(gotAccept, "application/rss+xml") {
		t.Errorf("Accept %q", gotAccept)
	}
}

func TestFetchNotModified(t *testing.T) {
	var conditional atomic.Int32
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("If-None-Match") == `"v1"` && r.Header.Get("If-Modified-Since") == "Sat, 01 Mar 2025 12:00:00 GMT" {
			conditional.Add(1)
			w.WriteHeader(http.StatusNotModified)
			return
		}
		writeFeed(w, makeRSS("x", 1))
	})
	f := NewFetcher(Config{Logger: testLogger(t)})
	resp, err := f.Fetch(t.Context(), Request{URL: srv.URL, ETag: `"v1"`, LastModified: "Sat, 01 Mar 2025 12:00:00 GMT", Trusted: true})
	if err != nil {
		t.Fatal(err)
	}
	if !resp.NotModified || resp.Body != nil || resp.Status != 304 || conditional.Load() != 1 {
		t.Fatalf("got %+v (conditional hits %d)", resp, conditional.Load())
	}
	if resp.ETag != `"v1"` {
		t.Fatalf("ETag lost: %q", resp.ETag)
	}
}

func TestFetchGzip(t *testing.T) {
	body := makeRSS("gz", 50)
	var gotEncoding string
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		gotEncoding = r.Header.Get("Accept-Encoding")
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "application/rss+xml")
		zw := gzip.NewWriter(w)
		_, _ = zw.Write(body)
		_ = zw.Close()
	})
	f := NewFetcher(Config{Logger: testLogger(t)})
	resp, err := f.Fetch(t.Context(), Request{URL: srv.URL, Trusted: true})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(gotEncoding, "gzip") {
		t.Errorf("Accept-Encoding %q", gotEncoding)
	}
	if !bytes.Equal(resp.Body, body) {
		t.Fatalf("body not decompressed: %d bytes", len(resp.Body))
	}
}

func TestFetchBodyOverCap(t *testing.T) {
	const max = 64 << 10
	t.Run("with Content-Length", func(t *testing.T) {
		srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
			writeFeed(w, bytes.Repeat([]byte("x"), max+1))
		})
		f := NewFetcher(Config{MaxBytes: max, Logger: testLogger(t)})
		_, err := f.Fetch(t.Context(), Request{URL: srv.URL, Trusted: true})
		if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), srv.URL) {
			t.Fatalf("want ErrTooLarge naming the URL, got %v", err)
		}
	})
	t.Run("50 MB streamed", func(t *testing.T) {
		const total = 50 << 20
		written := make(chan int64, 1)
		srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
			chunk := bytes.Repeat([]byte("<item>spam</item>"), 2000)
			var n int64
			for n < total {
				k, err := w.Write(chunk)
				n += int64(k)
				if err != nil {
					break
				}
			}
			written <- n
		})
		f := NewFetcher(Config{MaxBytes: max, Logger: testLogger(t)})
		_, err := f.Fetch(t.Context(), Request{URL: srv.URL, Trusted: true})
		if !errors.Is(err, ErrTooLarge) {
			t.Fatalf("want ErrTooLarge, got %v", err)
		}
		select {
		case n := <-written:
			if n >= total {
				t.Fatalf("server wrote all %d bytes: the client kept reading", n)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("server still writing 10s after the client gave up")
		}
	})
}

func TestFetchGzipBomb(t *testing.T) {
	var bomb bytes.Buffer
	zw := gzip.NewWriter(&bomb)
	zeros := make([]byte, 1<<20)
	for range 16 { // 16 MB of zeros, about 16 KB compressed
		_, _ = zw.Write(zeros)
	}
	_ = zw.Close()
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Content-Type", "application/rss+xml")
		_, _ = w.Write(bomb.Bytes())
	})
	f := NewFetcher(Config{MaxBytes: 1 << 20, Logger: testLogger(t)})
	_, err := f.Fetch(t.Context(), Request{URL: srv.URL, Trusted: true})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("compressed %d bytes: want ErrTooLarge on the decompressed size, got %v", bomb.Len(), err)
	}
}

func TestFetchTimeout(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler func(w http.ResponseWriter, r *http.Request)
	}{
		{"no headers", func(w http.ResponseWriter, r *http.Request) {}},
		{"body stalls", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/rss+xml")
			_, _ = w.Write([]byte(`<?xml version="1.0"?><rss><channel>`))
			w.(http.Flusher).Flush()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			release := make(chan struct{})
			srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
				tc.handler(w, r)
				select { // hang until the client gives up or the test ends
				case <-r.Context().Done():
				case <-release:
				}
			})
			defer close(release) // runs before srv.Close, which waits for handlers
			f := NewFetcher(Config{Timeout: 200 * time.Millisecond, Logger: testLogger(t)})
			start := time.Now()
			_, err := f.Fetch(t.Context(), Request{URL: srv.URL, Trusted: true})
			if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out after 200ms") {
				t.Fatalf("want a timeout, got %v", err)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("took %v", d)
			}
		})
	}
}

func TestFetchServerError(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "boom", http.StatusInternalServerError)
	})
	f := NewFetcher(Config{Logger: testLogger(t)})
	resp, err := f.Fetch(t.Context(), Request{URL: srv.URL, Trusted: true})
	var he *HTTPError
	if !errors.As(err, &he) || he.Code != 500 || resp.Status != 500 {
		t.Fatalf("got %v", err)
	}
	if !strings.Contains(err.Error(), "HTTP 500 Internal Server Error") || !strings.Contains(err.Error(), srv.URL) {
		t.Fatalf("unclear error: %v", err)
	}
}

func TestFetchPerHostLimit(t *testing.T) {
	var cur, peak, total atomic.Int32
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		n := cur.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(30 * time.Millisecond)
		total.Add(1)
		cur.Add(-1)
		writeFeed(w, makeRSS("h", 1))
	})
	f := NewFetcher(Config{Concurrency: 8, Logger: testLogger(t)})
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for range 10 {
		wg.Go(func() {
			if _, err := f.Fetch(ctx, Request{URL: srv.URL, Trusted: true}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if total.Load() != 10 || peak.Load() != DefaultPerHost {
		t.Fatalf("served %d, peak concurrency %d; want 10 and %d", total.Load(), peak.Load(), DefaultPerHost)
	}
	if n := len(f.hosts.slots); n != 0 {
		t.Fatalf("%d idle host entries kept", n)
	}
}

func TestFetchGlobalLimitWaitsForContext(t *testing.T) {
	release := make(chan struct{})
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	})
	defer close(release)
	f := NewFetcher(Config{Concurrency: 1, Timeout: 10 * time.Second, Logger: testLogger(t)})
	go func() { _, _ = f.Fetch(t.Context(), Request{URL: srv.URL, Trusted: true}) }()
	for i := 0; i < 500 && len(f.global) == 0; i++ {
		time.Sleep(2 * time.Millisecond)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	// Another host name for the same server, so only the global slot blocks.
	_, err := f.Fetch(ctx, Request{URL: strings.Replace(srv.URL, "127.0.0.1", "localhost", 1), Trusted: true})
	if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "waiting for a slot") {
		t.Fatalf("got %v", err)
	}
}

func TestFetchRedirects(t *testing.T) {
	var hits atomic.Int32
	mux := http.NewServeMux()
	mux.HandleFunc("/loop/a", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, "/loop/b", http.StatusFound)
	})
	mux.HandleFunc("/loop/b", func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		http.Redirect(w, r, "/loop/a", http.StatusMovedPermanently)
	})
	// /chain/N redirects to /chain/N-1; /chain/0 is the feed.
	mux.HandleFunc("/chain/{n}", func(w http.ResponseWriter, r *http.Request) {
		n := r.PathValue("n")
		if n == "0" {
			writeFeed(w, makeRSS("chain", 1))
			return
		}
		http.Redirect(w, r, "/chain/"+string(n[0]-1), http.StatusFound)
	})
	srv := serve(t, mux.ServeHTTP)
	f := NewFetcher(Config{Logger: testLogger(t)})

	_, err := f.Fetch(t.Context(), Request{URL: srv.URL + "/loop/a", Trusted: true})
	if !errors.Is(err, ErrTooManyRedirects) {
		t.Fatalf("loop: got %v", err)
	}
	if n := hits.Load(); n != 1+DefaultMaxRedirects {
		t.Fatalf("loop: %d requests, want %d", n, 1+DefaultMaxRedirects)
	}
	if _, err := f.Fetch(t.Context(), Request{URL: srv.URL + "/chain/5", Trusted: true}); err != nil {
		t.Fatalf("5 redirects must be followed: %v", err)
	}
	if _, err := f.Fetch(t.Context(), Request{URL: srv.URL + "/chain/6", Trusted: true}); !errors.Is(err, ErrTooManyRedirects) {
		t.Fatalf("6 redirects: got %v", err)
	}
}

func TestFetchCharsets(t *testing.T) {
	latin1 := []byte("<rss version=\"2.0\"><channel><title>Caf\xe9 news</title><item><title>R\xe9sum\xe9 of talks</title><guid>1</guid></item></channel></rss>")
	declared := append([]byte(`<?xml version="1.0" encoding="ISO-8859-1"?>`), latin1...)
	for _, tc := range []struct {
		name, ctype string
		body        []byte
	}{
		{"header charset", "application/rss+xml; charset=ISO-8859-1", latin1},
		{"declaration, header says utf-8", "text/xml; charset=utf-8", declared},
		{"declaration, no header charset", "text/xml", declared},
		{"no charset anywhere", "application/rss+xml", latin1},
		{"wrong header charset", "application/rss+xml; charset=utf-8", latin1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.ctype)
				_, _ = w.Write(tc.body)
			})
			f := NewFetcher(Config{AllowPrivateNetworks: true, Logger: testLogger(t)})
			title, n, err := f.Probe(t.Context(), srv.URL)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := f.Fetch(t.Context(), Request{URL: srv.URL, Trusted: true})
			if err != nil {
				t.Fatal(err)
			}
			arts, err := Parse(resp.Body, srv.URL, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			if title != "Café news" || n != 1 || arts[0].Title != "Résumé of talks" {
				t.Fatalf("got title %q, %d items, item %q", title, n, arts[0].Title)
			}
		})
	}
}

func TestProbe(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/rss", func(w http.ResponseWriter, r *http.Request) { writeFeed(w, makeRSS("Probe", 7)) })
	mux.HandleFunc("/html", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<!DOCTYPE html><html><head><title>News</title></head><body>Hi</body></html>"))
	})
	mux.HandleFunc("/malformed", func(w http.ResponseWriter, r *http.Request) {
		writeFeed(w, []byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>x</title><item><title>a</ti`))
	})
	mux.HandleFunc("/empty", func(w http.ResponseWriter, r *http.Request) {})
	srv := serve(t, mux.ServeHTTP)
	f := NewFetcher(Config{AllowPrivateNetworks: true, Logger: testLogger(t)})

	title, n, err := f.Probe(t.Context(), srv.URL+"/rss")
	if err != nil || title != "Probe" || n != 7 {
		t.Fatalf("rss: %q %d %v", title, n, err)
	}
	_, _, err = f.Probe(t.Context(), srv.URL+"/html")
	if !errors.Is(err, ErrNotFeed) || !strings.Contains(err.Error(), "HTML page") {
		t.Fatalf("html: %v", err)
	}
	_, _, err = f.Probe(t.Context(), srv.URL+"/malformed")
	if err == nil || !strings.Contains(err.Error(), "malformed") || !strings.Contains(err.Error(), srv.URL) {
		t.Fatalf("malformed: %v", err)
	}
	if _, _, err = f.Probe(t.Context(), srv.URL+"/empty"); !errors.Is(err, ErrNotFeed) {
		t.Fatalf("empty: %v", err)
	}
}

func TestFetchRefusesPrivateNetworks(t *testing.T) {
	var hits atomic.Int32
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		writeFeed(w, makeRSS("private", 1))
	})
	f := NewFetcher(Config{Logger: testLogger(t)})
	for _, u := range []string{
		srv.URL,
		strings.Replace(srv.URL, "127.0.0.1", "localhost", 1), // refused after DNS, not by name
		"http://[::1]:1/feed",
		"http://0.0.0.0:1/feed",
		"http://169.254.169.254/latest/meta-data/",
		"http://10.0.0.1:1/",
	} {
		_, err := f.Fetch(t.Context(), Request{URL: u})
		if !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("%s: want ErrForbiddenAddress, got %v", u, err)
		}
		if _, _, err := f.Probe(t.Context(), u); !errors.Is(err, ErrForbiddenAddress) {
			t.Errorf("probe %s: want ErrForbiddenAddress, got %v", u, err)
		}
	}
	if hits.Load() != 0 {
		t.Fatalf("server was reached %d times", hits.Load())
	}
	// A trusted feed (of the configuration file) may be a local file: see
	// TestFetchFile; an untrusted one never.
	for _, u := range []string{"ftp://example.org/feed", "gopher://x/", "http:///nohost", "file:relative.xml"} {
		if _, err := f.Fetch(t.Context(), Request{URL: u, Trusted: true}); err == nil {
			t.Errorf("%s: fetched", u)
		}
	}
	if _, err := f.Fetch(t.Context(), Request{URL: "file:///etc/passwd"}); !errors.Is(err, ErrUnsupportedScheme) {
		t.Errorf("file: got %v", err)
	}

	// Trusted feeds and AllowPrivateNetworks both get through.
	if _, err := f.Fetch(t.Context(), Request{URL: srv.URL, Trusted: true}); err != nil {
		t.Fatalf("trusted: %v", err)
	}
	open := NewFetcher(Config{AllowPrivateNetworks: true, Logger: testLogger(t)})
	if _, err := open.Fetch(t.Context(), Request{URL: srv.URL}); err != nil {
		t.Fatalf("allowed: %v", err)
	}
}

func TestFetchRefusesRedirectToOtherSchemes(t *testing.T) {
	// Redirects to private addresses meet the dialer's guard like any
	// connection; other schemes are refused before any connection.
	redir := serve(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "file:///etc/passwd", http.StatusFound)
	})
	f := NewFetcher(Config{AllowPrivateNetworks: true, Logger: testLogger(t)})
	if _, err := f.Fetch(t.Context(), Request{URL: redir.URL}); !errors.Is(err, ErrUnsupportedScheme) {
		t.Fatalf("redirect to file: got %v", err)
	}
}

// TestFetchRefusesRedirectToFileWhenTrusted: the trusted client can read
// local files, for feeds of the configuration file, but a web server that
// redirects there is refused all the same.
func TestFetchRefusesRedirectToFileWhenTrusted(t *testing.T) {
	secret := filepath.Join(t.TempDir(), "secret.xml")
	if err := os.WriteFile(secret, makeRSS("secret", 1), 0o600); err != nil {
		t.Fatal(err)
	}
	redir := serve(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "file://"+filepath.ToSlash(secret), http.StatusFound)
	})
	f := NewFetcher(Config{Logger: testLogger(t)})
	resp, err := f.Fetch(t.Context(), Request{URL: redir.URL, Trusted: true})
	if !errors.Is(err, ErrUnsupportedScheme) || resp.Body != nil {
		t.Fatalf("redirect to a local file: %d bytes, err %v", len(resp.Body), err)
	}
}

// TestFetchFile: a trusted feed may be a local file, fetched with the same
// conditional GET as a web feed; an untrusted one may not.
func TestFetchFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "feed.xml")
	body := makeRSS("local", 2)
	if err := os.WriteFile(path, body, 0o600); err != nil {
		t.Fatal(err)
	}
	u := (&url.URL{Scheme: "file", Path: filepath.ToSlash(path)}).String()
	f := NewFetcher(Config{Logger: testLogger(t)})
	resp, err := f.Fetch(t.Context(), Request{URL: u, Trusted: true})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Status != 200 || !bytes.Equal(resp.Body, body) || resp.LastModified == "" {
		t.Fatalf("status %d, %d bytes, Last-Modified %q", resp.Status, len(resp.Body), resp.LastModified)
	}
	again, err := f.Fetch(t.Context(), Request{URL: u, LastModified: resp.LastModified, Trusted: true})
	if err != nil || !again.NotModified {
		t.Fatalf("conditional fetch of an unchanged file: %+v, %v", again, err)
	}
	if _, err := f.Fetch(t.Context(), Request{URL: u}); !errors.Is(err, ErrUnsupportedScheme) {
		t.Errorf("untrusted file: URL: %v", err)
	}
	if _, err := f.Fetch(t.Context(), Request{URL: u + ".missing", Trusted: true}); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("missing file: %v", err)
	}
	if _, err := f.Fetch(t.Context(), Request{URL: "file://host" + filepath.ToSlash(path), Trusted: true}); err == nil {
		t.Error("a file: URL with a host was fetched")
	}
}

// TestFetchErrorsRedactTheURL: errors are logged and shown in /status, so
// neither the fetcher's words nor net/http's quote user info or secret
// query values; the error chain is intact.
func TestFetchErrorsRedactTheURL(t *testing.T) {
	srv := serve(t, func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/html":
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<!doctype html><html><body>not a feed</body></html>")
		default:
			http.Error(w, "nope", http.StatusForbidden)
		}
	})
	closed := serve(t, func(http.ResponseWriter, *http.Request) {})
	closed.Close() // connection refused from now on
	withSecrets := func(base, path string) string {
		u := mustURL(t, base)
		u.User = url.UserPassword("alice", "hunter2")
		u.Path = path
		u.RawQuery = "api_key=SEKRET&page=2"
		return u.String()
	}
	f := NewFetcher(Config{Timeout: 5 * time.Second, Logger: testLogger(t)})
	var errs []error
	for _, raw := range []string{withSecrets(srv.URL, "/forbidden"), withSecrets(closed.URL, "/feed"), "gopher://alice:hunter2@h/?token=SEKRET"} {
		_, err := f.Fetch(t.Context(), Request{URL: raw, Trusted: true})
		errs = append(errs, err)
	}
	_, _, err := f.Probe(t.Context(), withSecrets(srv.URL, "/html"))
	errs = append(errs, err)
	for i, err := range errs {
		if err == nil {
			t.Fatalf("fetch %d: no error", i)
		}
		msg := err.Error()
		if strings.Contains(msg, "hunter2") || strings.Contains(msg, "alice") || strings.Contains(msg, "SEKRET") {
			t.Errorf("fetch %d: error shows a secret: %s", i, msg)
		}
		if i < 2 && !strings.Contains(msg, "api_key=REDACTED&page=2") {
			t.Errorf("fetch %d: error does not name the URL: %s", i, msg)
		}
	}
	var ue *url.Error
	if !errors.As(errs[1], &ue) || !strings.Contains(ue.URL, "REDACTED") {
		t.Errorf("connection refused: want a *url.Error with the redacted URL in the chain, got %v", errs[1])
	}
}
