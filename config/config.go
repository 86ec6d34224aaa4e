// Package config loads backchannel's TOML configuration: built-in defaults,
// then the file (decoded strictly: an unknown key is an error naming it and
// its line), then BACKCHANNEL_SECTION_KEY environment overrides. The file's
// [rules] table changes the built-in rules (rules/defaults.toml) rather than
// replacing them: see rules.Spec.Merge. Validate lists every problem at once
// so `backchannel check` can print them all.
package config

import (
	"fmt"
	"time"

	"github.com/backchannel/backchannel/rules"
)

// Config is the whole configuration. Sections mirror the TOML tables.
type Config struct {
	Database Database   `toml:"database"`
	Discord  Discord    `toml:"discord"`
	HTTP     HTTP       `toml:"http"`
	Poll     Poll       `toml:"poll"`
	Log      Log        `toml:"log"`
	Feeds    []Feed     `toml:"feeds"`
	Rules    rules.Spec `toml:"rules"`
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

// Log configures structured logging.
type Log struct {
	Format string `toml:"format"`
	Level  string `toml:"level"`
}

// Feed is a feed written in the file; such feeds are trusted.
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
