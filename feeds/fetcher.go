package feeds

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/backchannel/backchannel/model"
)

// Config holds the fetcher's limits, the user's poll.* settings, and its
// logger. Zero fields take the defaults below, which match the poll.* keys
// in docs/CONTRACT.md; a nil Logger discards.
type Config struct {
	Timeout              time.Duration // whole request, body included
	MaxBytes             int64         // body cap, after decompression
	Concurrency          int           // fetches at once, all hosts
	PerHost              int           // fetches at once per host name
	UserAgent            string
	AllowPrivateNetworks bool // let untrusted feeds reach private addresses
	MaxRedirects         int
	Logger               *slog.Logger
}

// Defaults for zero Config fields.
const (
	DefaultTimeout      = 20 * time.Second
	DefaultMaxBytes     = 10 << 20
	DefaultConcurrency  = 8
	DefaultPerHost      = 2
	DefaultMaxRedirects = 5
)

// UserAgent is the User-Agent sent for version: a real product token with a
// link, so feed operators can see who polls them and how to reach us.
func UserAgent(version string) string {
	if version == "" {
		version = "dev"
	}
	return "backchannel/" + version + " (+https://github.com/backchannel/backchannel)"
}

func (c Config) withDefaults() Config {
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultMaxBytes
	}
	if c.Concurrency <= 0 {
		c.Concurrency = DefaultConcurrency
	}
	if c.PerHost <= 0 {
		c.PerHost = DefaultPerHost
	}
	if c.MaxRedirects <= 0 {
		c.MaxRedirects = DefaultMaxRedirects
	}
	if c.UserAgent == "" {
		c.UserAgent = UserAgent("")
	}
	return c
}

// ErrTooManyRedirects is returned (wrapped) when a feed redirects more than
// Config.MaxRedirects times, which includes redirect loops.
var ErrTooManyRedirects = errors.New("too many redirects")

// acceptHeader prefers feed types but accepts anything: many servers send
// feeds as text/html or application/octet-stream.
const acceptHeader = "application/rss+xml, application/atom+xml, application/feed+json, application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"

// Fetcher performs conditional GETs of feeds within the configured limits.
// It is safe for concurrent use.
type Fetcher struct {
	cfg    Config
	logger *slog.Logger
	// Two clients because the guard lives in the dialer: connections made for
	// trusted feeds must never be reused for untrusted ones and vice versa.
	trusted   *http.Client
	untrusted *http.Client
	global    chan struct{} // Concurrency slots
	hosts     hostLimiter   // PerHost slots per host name
}

// NewFetcher returns a Fetcher with its own transports: nothing is shared with
// http.DefaultClient, whose lack of timeouts and limits suits no poller.
// cfg may be zero.
func NewFetcher(cfg Config) *Fetcher {
	cfg = cfg.withDefaults()
	f := &Fetcher{
		cfg:    cfg,
		logger: cfg.Logger,
		global: make(chan struct{}, cfg.Concurrency),
		hosts:  hostLimiter{limit: cfg.PerHost, slots: map[string]*hostSlots{}},
	}
	f.trusted = f.newClient(true)
	f.untrusted = f.newClient(cfg.AllowPrivateNetworks)
	return f
}

func (f *Fetcher) newClient(trusted bool) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	proxy := http.ProxyFromEnvironment
	if !trusted {
		dialer.Control = guardControl
		// Through a proxy the guard would check the proxy's address, not the
		// feed's, so untrusted feeds always connect directly.
		proxy = nil
	}
	tr := &http.Transport{
		Proxy:                 proxy,
		DialContext:           dialer.DialContext,
		ForceAttemptHTTP2:     true, // a custom DialContext turns it off otherwise
		MaxIdleConns:          100,
		MaxIdleConnsPerHost:   f.cfg.PerHost, // never more than PerHost in use anyway
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
		// Feeds are tens of kilobytes: bigger buffers mean fewer syscalls.
		ReadBufferSize:  32 << 10,
		WriteBufferSize: 4 << 10,
		// Compression stays on: the transport asks for gzip and decompresses,
		// and readLimited caps the decompressed bytes.
	}
	if trusted {
		// Feeds of the configuration file may be local files (the offline
		// demo, a feed another program writes). FileServer answers
		// If-Modified-Since, so they are polled like any other feed.
		// Untrusted feeds never get this transport, and checkURL refuses
		// file: in redirects.
		tr.RegisterProtocol("file", http.NewFileTransport(http.Dir("/")))
	}
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > f.cfg.MaxRedirects {
				return fmt.Errorf("%w: stopped after %d", ErrTooManyRedirects, f.cfg.MaxRedirects)
			}
			if _, err := checkURL(req.URL.String(), false); err != nil {
				return fmt.Errorf("redirect to %s: %w", model.RedactURL(req.URL.String()), err)
			}
			return nil
		},
	}
}

// Fetch performs one conditional GET. It waits for a free slot for the
// URL's host name and a global slot (in that order, so fetches queued behind
// one slow host never hold slots other hosts could use), then applies
// Config.Timeout to the whole exchange, body included. Errors name the URL
// redacted (model.RedactURL), also inside net/http's own errors: they are
// logged, stored in the feed's state and shown in /status.
func (f *Fetcher) Fetch(ctx context.Context, req Request) (Response, error) {
	shown := model.RedactURL(req.URL)
	u, err := checkURL(req.URL, req.Trusted)
	if err != nil {
		return Response{}, fmt.Errorf("feeds: fetch %s: %w", shown, err)
	}
	host := strings.ToLower(u.Hostname())
	release, err := f.hosts.acquire(ctx, host)
	if err != nil {
		return Response{}, fmt.Errorf("feeds: fetch %s: waiting for a slot: %w", shown, err)
	}
	defer release()
	select {
	case f.global <- struct{}{}:
		defer func() { <-f.global }()
	case <-ctx.Done():
		return Response{}, fmt.Errorf("feeds: fetch %s: waiting for a slot: %w", shown, context.Cause(ctx))
	}

	ctx, cancel := context.WithTimeoutCause(ctx, f.cfg.Timeout,
		fmt.Errorf("timed out after %s: %w", f.cfg.Timeout, context.DeadlineExceeded))
	defer cancel()
	hreq, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return Response{}, fmt.Errorf("feeds: fetch %s: %w", shown, redactURLError(err))
	}
	hreq.Header.Set("User-Agent", f.cfg.UserAgent)
	hreq.Header.Set("Accept", acceptHeader)
	if req.ETag != "" {
		hreq.Header.Set("If-None-Match", req.ETag)
	}
	if req.LastModified != "" {
		hreq.Header.Set("If-Modified-Since", req.LastModified)
	}
	client := f.untrusted
	if req.Trusted {
		client = f.trusted
	}
	resp, err := client.Do(hreq)
	if err != nil {
		return Response{}, fmt.Errorf("feeds: fetch %s: %w", shown, redactURLError(f.explain(ctx, err)))
	}
	out, err := handleResponse(resp, req, f.cfg.MaxBytes)
	if err != nil {
		return out, fmt.Errorf("feeds: fetch %s: %w", shown, redactURLError(f.explain(ctx, err)))
	}
	return out, nil
}

// redactURLError redacts the URL net/http puts in its errors: a
// *url.Error quotes the whole request URL, user name and query included
// (only a password is stripped). The error is ours to change; errors.Is
// and errors.As still see everything else.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		ue.URL = model.RedactURL(ue.URL)
	}
	return err
}

// explain replaces the transport's "context deadline exceeded" by the cause
// we set, which says how long we waited; errors.Is still finds
// context.DeadlineExceeded.
func (f *Fetcher) explain(ctx context.Context, err error) error {
	if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
		if cause := context.Cause(ctx); cause != nil && cause != ctx.Err() {
			return cause
		}
	}
	return err
}

// Probe fetches url once as an untrusted feed and checks that it parses as a
// feed; /feeds add uses it before saving anything.
func (f *Fetcher) Probe(ctx context.Context, rawURL string) (title string, items int, err error) {
	resp, err := f.Fetch(ctx, Request{URL: rawURL})
	if err != nil {
		return "", 0, err
	}
	if resp.NotModified { // cannot happen without validators; be explicit anyway
		return "", 0, fmt.Errorf("feeds: probe %s: unexpected 304 Not Modified", model.RedactURL(rawURL))
	}
	doc, err := parseDocument(resp.Body, rawURL, time.Now(), time.Time{})
	if err != nil {
		return "", 0, err
	}
	return doc.title, len(doc.articles), nil
}

// hostLimiter bounds concurrent fetches per host name. Slots are created on
// first use and dropped when idle, so the map does not grow with every host
// ever polled.
type hostLimiter struct {
	limit int
	mu    sync.Mutex
	slots map[string]*hostSlots
}

type hostSlots struct {
	ch    chan struct{}
	users int // goroutines holding or waiting for a slot
}

func (h *hostLimiter) acquire(ctx context.Context, host string) (release func(), err error) {
	h.mu.Lock()
	s := h.slots[host]
	if s == nil {
		s = &hostSlots{ch: make(chan struct{}, h.limit)}
		h.slots[host] = s
	}
	s.users++
	h.mu.Unlock()

	done := func() {
		h.mu.Lock()
		s.users--
		if s.users == 0 {
			delete(h.slots, host)
		}
		h.mu.Unlock()
	}
	select {
	case s.ch <- struct{}{}:
		return func() { <-s.ch; done() }, nil
	case <-ctx.Done():
		done()
		return nil, context.Cause(ctx)
	}
}
