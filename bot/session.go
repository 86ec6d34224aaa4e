package bot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/bwmarrin/discordgo"
	"github.com/gorilla/websocket"
	"golang.org/x/time/rate"

	"github.com/backchannel/backchannel/bot/ratelimit"
)

// SessionConfig says how to reach Discord.
type SessionConfig struct {
	// Token is the bot token, with or without the "Bot " prefix.
	Token string
	// APIURL is the REST base URL, e.g. https://discord.com/api/v10 (a
	// rate-limit proxy or a test server can stand here). The gateway URL is
	// asked of this API.
	APIURL string
	// Intents for the gateway. Zero asks for none, which is all that
	// interactions need; privileged intents are refused.
	Intents discordgo.Intent
	// Logger receives connection events. The token never reaches it.
	Logger *slog.Logger
	// HTTPTimeout bounds every REST request and the websocket handshake;
	// zero means 15 seconds.
	HTTPTimeout time.Duration
	// Limiter paces every REST request of the session that Discord counts
	// toward the bot's global limit of 50 a second (posts, edits, command
	// registration; interaction endpoints are not counted, so they are
	// not paced). Nil: DefaultRequestLimit with DefaultRequestBurst.
	//
	// Besides it, every request of the session goes through the
	// session's rate limiter (package ratelimit): per-route buckets
	// learned from Discord's answers, and 429s waited out.
	Limiter *rate.Limiter
}

// DefaultRequestLimit and DefaultRequestBurst are the default global
// pacing: 45 a second, at most 2 at once, so that no window of one second
// sees more than about 47 of Discord's 50, with a margin for requests that
// arrive bunched up.
const (
	DefaultRequestLimit = rate.Limit(45)
	DefaultRequestBurst = 2
)

// DefaultAPIURL is Discord's REST base URL.
const DefaultAPIURL = "https://discord.com/api/v10"

// sessionPrivilegedIntents are the intents Discord must approve per bot;
// backchannel needs none of them.
const sessionPrivilegedIntents = discordgo.IntentsGuildMembers | discordgo.IntentsGuildPresences | discordgo.IntentsMessageContent

// sessionLogOff is below discordgo.LogError, so discordgo logs nothing: its
// logger is package-global (we must not set it) and at debug level it
// prints the IDENTIFY payload with the token.
const sessionLogOff = discordgo.LogError - 1

// NewSession returns a discordgo session whose REST calls go to
// cfg.APIURL. It does not open the gateway. cfg is the user's
// configuration: Token is required, every other field may be zero.
//
// discordgo builds its URLs from package-level Endpoint* variables;
// reassigning them would be global mutable state shared by every session in
// the process (and by parallel tests). Instead the session's HTTP client
// rewrites every URL under discordgo.EndpointAPI onto cfg.APIURL, and the
// gateway URL follows from the API's GET /gateway answer.
func NewSession(cfg SessionConfig) (*discordgo.Session, error) {
	token := strings.TrimSpace(cfg.Token)
	token = strings.TrimPrefix(token, "Bot ")
	if token == "" {
		return nil, errors.New("bot: discord.token is empty")
	}
	apiURL := cfg.APIURL
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	base, err := url.Parse(strings.TrimRight(apiURL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("bot: discord.api_url %q is not an http(s) URL", apiURL)
	}
	if cfg.Intents&sessionPrivilegedIntents != 0 {
		return nil, fmt.Errorf("bot: privileged gateway intents requested (%d); backchannel needs none", cfg.Intents&sessionPrivilegedIntents)
	}
	timeout := cfg.HTTPTimeout
	if timeout <= 0 {
		timeout = 15 * time.Second
	}
	logger := cfg.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	s, err := discordgo.New("Bot " + token)
	if err != nil {
		return nil, fmt.Errorf("bot: new session: %w", err)
	}
	global := cfg.Limiter
	if global == nil {
		global = rate.NewLimiter(DefaultRequestLimit, DefaultRequestBurst)
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	// Parallel delivery keeps several requests in flight; over HTTP/1.1
	// each needs a connection, and the default of 2 idle ones would make
	// most of them dial anew.
	transport.MaxIdleConnsPerHost = sessionIdleConns
	// No Client.Timeout: it would also run while a request waits for the
	// rate limiter (behind a fan-out, or a 429's retry_after), and cut
	// the waits short. The timeout starts when the request is sent.
	s.Client = &http.Client{
		Transport: &sessionAPIRewriter{
			from:    discordgo.EndpointAPI,
			to:      base.String() + "/",
			next:    sessionTimeout{next: transport, d: timeout},
			limiter: ratelimit.New(ratelimit.Options{Global: global}),
		},
	}
	s.Dialer = &websocket.Dialer{
		Proxy:            http.ProxyFromEnvironment,
		HandshakeTimeout: timeout,
	}
	s.LogLevel = sessionLogOff
	s.Debug = false
	s.Identify.Intents = cfg.Intents
	// 502s are retried once by discordgo; everything else is the caller's
	// decision (the Poster turns off discordgo's unbounded 429 loop per
	// request).
	s.MaxRestRetries = 1

	s.AddHandler(func(_ *discordgo.Session, _ *discordgo.Connect) {
		logger.Info("discord gateway connected")
	})
	s.AddHandler(func(_ *discordgo.Session, _ *discordgo.Disconnect) {
		logger.Warn("discord gateway disconnected; discordgo reconnects")
	})
	s.AddHandler(func(_ *discordgo.Session, rl *discordgo.RateLimit) {
		if rl == nil || rl.TooManyRequests == nil {
			return
		}
		logger.Warn("discord rate limit, waiting", "url", redactDiscordURL(rl.URL), "retry_after", rl.RetryAfter)
	})
	return s, nil
}

// sessionIdleConns is how many idle connections to the API are kept.
const sessionIdleConns = 32

// sessionAPIRewriter sends requests for discordgo's built-in API URL to the
// configured one, when the session's rate limiter allows them. Requests
// elsewhere (CDN, attachments) pass unchanged and unpaced.
type sessionAPIRewriter struct {
	from, to string
	next     http.RoundTripper
	limiter  *ratelimit.Limiter
}

func (rw *sessionAPIRewriter) RoundTrip(r *http.Request) (*http.Response, error) {
	rest, ok := strings.CutPrefix(r.URL.String(), rw.from)
	if !ok {
		return rw.next.RoundTrip(r)
	}
	u, err := url.Parse(rw.to + rest)
	if err != nil {
		if r.Body != nil {
			_ = r.Body.Close()
		}
		return nil, fmt.Errorf("bot: rewrite %s: %w", redactDiscordURL(r.URL.String()), err)
	}
	// The route is read from discordgo's URL, whatever prefix the
	// configured API URL has.
	route := ratelimit.RouteOf(r.Method, "/"+rest)
	// RoundTrippers must not modify the caller's request.
	r2 := r.Clone(r.Context())
	r2.URL = u
	r2.Host = ""
	resp, err := rw.limiter.RoundTrip(r2, route, rw.next)
	if err != nil {
		// The route key has no ids nor tokens in it.
		return nil, fmt.Errorf("bot: %s: %w", route.Key, err)
	}
	return resp, nil
}

// sessionTimeout bounds one request from when it is sent to the end of
// its body, as http.Client.Timeout does.
type sessionTimeout struct {
	next http.RoundTripper
	d    time.Duration
}

func (st sessionTimeout) RoundTrip(r *http.Request) (*http.Response, error) {
	ctx, cancel := context.WithTimeoutCause(r.Context(), st.d, fmt.Errorf("bot: no complete answer within %v", st.d))
	resp, err := st.next.RoundTrip(r.WithContext(ctx))
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// cancelOnClose releases a request's timer when its body is closed.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (c *cancelOnClose) Close() error {
	err := c.ReadCloser.Close()
	c.cancel()
	return err
}

// discordURLSecrets matches the interaction and webhook tokens that
// Discord puts in URL paths.
var discordURLSecrets = regexp.MustCompile(`(/(?:interactions/[^/]+|webhooks/[^/]+)/)[^/?]+`)

// redactDiscordURL hides interaction and webhook tokens in a URL (or in a
// text containing URLs) before it is logged or put in an error.
func redactDiscordURL(s string) string {
	return discordURLSecrets.ReplaceAllString(s, "${1}REDACTED")
}

// String hides the token, so a config printed by mistake leaks nothing.
func (c SessionConfig) String() string {
	return fmt.Sprintf("SessionConfig{Token:%s APIURL:%s Intents:%d HTTPTimeout:%v}", sessionRedacted(c.Token), c.APIURL, c.Intents, c.HTTPTimeout)
}

// GoString hides the token from %#v as well.
func (c SessionConfig) GoString() string { return "bot." + c.String() }

// LogValue hides the token from slog.
func (c SessionConfig) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("token", sessionRedacted(c.Token)),
		slog.String("api_url", c.APIURL),
		slog.Int("intents", int(c.Intents)),
		slog.Duration("http_timeout", c.HTTPTimeout),
	)
}

func sessionRedacted(token string) string {
	if token == "" {
		return "(none)"
	}
	return "REDACTED"
}

// GatewayConnected reports whether s has a live gateway connection: discordgo
// sets DataReady on every acknowledged heartbeat and clears it on close,
// under the session's lock, which is read here too.
func GatewayConnected(s *discordgo.Session) bool {
	s.RLock()
	defer s.RUnlock()
	return s.DataReady
}
