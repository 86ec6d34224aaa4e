// Package config loads backchannel's TOML configuration: built-in defaults,
// then the file (decoded strictly: an unknown key is an error naming it and
// its line), then BACKCHANNEL_SECTION_KEY environment overrides. The file's
// [rules] table changes the built-in rules (rules/defaults.toml) rather than
// replacing them: see rules.Spec.Merge.
//
// Check is the one validation of a configuration: Load and Parse end with
// it, `check` prints what it finds and `run` starts only from what it
// returns (a Loaded, holding the compiled rules), so `check` refuses
// everything `run` would refuse, and nothing is validated twice. It lists
// every problem at once, each with its key (and the file's line, or the
// environment variable that set it), and warns of what is valid but
// probably not meant.
package config

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/backchannel/backchannel/rules"
)

// Loaded is a configuration that passed Check, with what checking it built.
type Loaded struct {
	Config
	// Defaults is Config.Rules compiled: the rules every guild starts with.
	Defaults *rules.Set
	// Warnings are settings that are valid but probably not what was meant
	// (no feeds, no rules, an unknown BACKCHANNEL_ variable): `check`
	// prints them and `run` logs them; neither fails.
	Warnings Problems
}

// Env is the process environment as the configuration reads it, name to
// value. OSEnv reads the real one; tests write their own.
type Env map[string]string

// OSEnv returns the process environment.
func OSEnv() Env {
	env := Env{}
	for _, kv := range os.Environ() {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	return env
}

// MaxBytesLimit is the largest poll.max_bytes: a feed is held in memory
// while it is parsed, once per concurrent poll, and no feed is a gigabyte.
const MaxBytesLimit = 1 << 30

// Config is the whole configuration. Sections mirror the TOML tables.
type Config struct {
	Database  Database   `toml:"database"`
	Discord   Discord    `toml:"discord"`
	HTTP      HTTP       `toml:"http"`
	Poll      Poll       `toml:"poll"`
	Retention Retention  `toml:"retention"`
	Log       Log        `toml:"log"`
	Feeds     []Feed     `toml:"feeds"`
	Rules     rules.Spec `toml:"rules"`
}

// Database configures the SQLite store.
type Database struct {
	Path string `toml:"path"`
}

// Discord configures the Discord client.
type Discord struct {
	Token         Secret   `toml:"token"`
	ApplicationID string   `toml:"application_id"`
	PublicKey     string   `toml:"public_key"`
	APIURL        string   `toml:"api_url"`
	Gateway       bool     `toml:"gateway"`
	GuildID       string   `toml:"guild_id"`
	OwnerIDs      []string `toml:"owner_ids"`
}

// HTTP configures the health, metrics and interactions server.
type HTTP struct {
	Listen string `toml:"listen"`
}

// Poll configures feed polling.
type Poll struct {
	Schedule             string   `toml:"schedule"`
	Timeout              Duration `toml:"timeout"`
	Concurrency          int      `toml:"concurrency"`
	MaxBytes             int64    `toml:"max_bytes"`
	MaxAge               Duration `toml:"max_age"`
	AllowPrivateNetworks bool     `toml:"allow_private_networks"`
}

// Retention says how long articles that did not alert are kept (see
// db.Retention): their text for Text, their de-duplication keys for Keys
// (UndatedKeys for items without a date; 0 keeps those for ever), deleted
// by a sweep that goes round once every KeySweep. Prune runs every Interval. Articles that
// alerted are kept whole.
type Retention struct {
	Text        Duration `toml:"text"`
	Keys        Duration `toml:"keys"`
	UndatedKeys Duration `toml:"undated_keys"`
	KeySweep    Duration `toml:"key_sweep"`
	Interval    Duration `toml:"interval"`
}

// Log configures structured logging.
type Log struct {
	Format string `toml:"format"` // text or json, any case
	Level  string `toml:"level"`  // debug, info, warn or error, any case
}

// Handler returns the slog handler writing to w that l describes. Check
// uses the same parsing, so a level or format `run` cannot use is refused
// by `check` first, in the same words. Empty means the default (info,
// text).
func (l Log) Handler(w io.Writer) (slog.Handler, error) {
	level, json, probs := l.parse()
	if len(probs) > 0 {
		return nil, probs
	}
	opts := &slog.HandlerOptions{Level: level}
	if json {
		return slog.NewJSONHandler(w, opts), nil
	}
	return slog.NewTextHandler(w, opts), nil
}

func (l Log) parse() (level slog.Level, json bool, probs Problems) {
	switch lv := strings.ToLower(strings.TrimSpace(l.Level)); lv {
	case "":
	case "debug", "info", "warn", "error":
		_ = level.UnmarshalText([]byte(lv))
	default:
		probs = append(probs, Problem{Key: "log.level", Msg: fmt.Sprintf("must be debug, info, warn or error (any case), got %q", l.Level)})
	}
	switch strings.ToLower(strings.TrimSpace(l.Format)) {
	case "", "text":
	case "json":
		json = true
	default:
		probs = append(probs, Problem{Key: "log.format", Msg: fmt.Sprintf("must be \"text\" or \"json\", got %q", l.Format)})
	}
	return level, json, probs
}

// Feed is a feed written in the file; such feeds are trusted. Their URL may
// also be a file: URL (file:///srv/feed.xml, or file:feed.xml relative to
// the configuration file), which a feed added from Discord never may.
type Feed struct {
	Name     string `toml:"name"`
	URL      string `toml:"url"`
	Schedule string `toml:"schedule"`
}

// Default returns the built-in settings, the values config.example.toml
// shows. Its Rules are empty: the built-in rules are rules.Defaults(),
// which Load and Parse merge the file's [rules] over.
func Default() Config {
	return Config{
		Database: Database{Path: "backchannel.db"},
		Discord:  Discord{APIURL: "https://discord.com/api/v10", Gateway: true, OwnerIDs: []string{}},
		Poll: Poll{
			Schedule:    "@every 5m",
			Timeout:     Duration{D: 20 * time.Second},
			Concurrency: 8,
			MaxBytes:    10 << 20,
			MaxAge:      Duration{D: 48 * time.Hour},
		},
		Retention: Retention{
			Text:        Duration{D: 48 * time.Hour},
			Keys:        Duration{D: 30 * 24 * time.Hour},
			UndatedKeys: Duration{D: 365 * 24 * time.Hour},
			KeySweep:    Duration{D: 7 * 24 * time.Hour},
			Interval:    Duration{D: time.Hour},
		},
		Log: Log{Format: "text", Level: "info"},
	}
}

// Secret is a string that never prints itself, so a token cannot reach a log
// line or an error message by accident.
type Secret string

func (s Secret) String() string {
	if s == "" {
		return ""
	}
	return "[redacted]"
}

// GoString keeps %#v from printing the secret either.
func (s Secret) GoString() string { return s.String() }

// Reveal returns the secret for the one place that needs it.
func (s Secret) Reveal() string { return string(s) }

// Duration is a time.Duration written as a Go duration string ("20s").
// Decoding never fails; a bad value is kept and reported by Validate with
// its key, so one bad duration does not hide the file's other problems.
type Duration struct {
	D   time.Duration
	raw string
	err error
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	d.raw = string(b)
	v, err := time.ParseDuration(d.raw)
	if err != nil {
		d.err = fmt.Errorf("invalid duration %q (use e.g. \"30s\", \"5m\", \"48h\")", d.raw)
		return nil
	}
	d.D, d.err = v, nil
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.D.String()), nil }

func (d Duration) String() string { return d.D.String() }
