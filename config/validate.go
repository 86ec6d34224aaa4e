package config

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/backchannel/backchannel/rules"
	"github.com/backchannel/backchannel/schedule"
)

// Validate returns every problem with cfg, each naming its key.
func Validate(cfg Config) Problems {
	var ps Problems
	add := func(key, format string, args ...any) {
		ps = append(ps, Problem{Key: key, Msg: fmt.Sprintf(format, args...)})
	}

	if strings.TrimSpace(cfg.Database.Path) == "" {
		add("database.path", "must not be empty")
	}

	if err := checkHTTPURL(cfg.Discord.APIURL); err != nil {
		add("discord.api_url", "%v", err)
	}
	if k := cfg.Discord.PublicKey; k != "" {
		if b, err := hex.DecodeString(k); err != nil || len(b) != 32 {
			add("discord.public_key", "must be 64 hex characters (the application's Ed25519 public key)")
		}
	}
	for _, id := range []struct{ key, v string }{
		{"discord.application_id", cfg.Discord.ApplicationID},
		{"discord.guild_id", cfg.Discord.GuildID},
	} {
		if id.v != "" && !isSnowflake(id.v) {
			add(id.key, "must be a numeric Discord id, got %q", id.v)
		}
	}
	for i, id := range cfg.Discord.OwnerIDs {
		if !isSnowflake(id) {
			add(fmt.Sprintf("discord.owner_ids[%d]", i), "must be a numeric Discord user id, got %q", id)
		}
	}

	if l := cfg.HTTP.Listen; l != "" {
		if _, _, err := net.SplitHostPort(l); err != nil {
			add("http.listen", "must be host:port (e.g. \"127.0.0.1:8080\" or \":8080\"): %v", err)
		}
	}

	if err := checkSchedule(cfg.Poll.Schedule); err != nil {
		add("poll.schedule", "%v", err)
	}
	checkDuration(&ps, "poll.timeout", cfg.Poll.Timeout, false)
	checkDuration(&ps, "poll.max_age", cfg.Poll.MaxAge, true)
	if cfg.Poll.Concurrency < 1 || cfg.Poll.Concurrency > 1000 {
		add("poll.concurrency", "must be between 1 and 1000, got %d", cfg.Poll.Concurrency)
	}
	if cfg.Poll.MaxBytes < 1024 {
		add("poll.max_bytes", "must be at least 1024, got %d", cfg.Poll.MaxBytes)
	}

	switch cfg.Log.Format {
	case "text", "json":
	default:
		add("log.format", "must be \"text\" or \"json\", got %q", cfg.Log.Format)
	}
	switch cfg.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		add("log.level", "must be debug, info, warn or error, got %q", cfg.Log.Level)
	}

	names := map[string]int{}
	for i, f := range cfg.Feeds {
		key := fmt.Sprintf("feeds[%d]", i)
		if strings.TrimSpace(f.Name) == "" {
			add(key+".name", "must not be empty")
		} else if j, dup := names[f.Name]; dup {
			add(key+".name", "duplicate feed name %q (also feeds[%d])", f.Name, j)
		} else {
			names[f.Name] = i
		}
		if err := checkHTTPURL(f.URL); err != nil {
			add(key+".url", "%v", err)
		}
		if f.Schedule != "" {
			if err := checkSchedule(f.Schedule); err != nil {
				add(key+".schedule", "%v", err)
			}
		}
	}

	if _, err := rules.Compile(cfg.Rules); err != nil {
		ps = append(ps, ruleProblems(err)...)
	}
	return ps
}

// ruleProblems turns a rules compile error into problems; the rules
// package reports each problem with its key path below "rules".
func ruleProblems(err error) Problems {
	var list rules.SpecErrors
	if errors.As(err, &list) {
		ps := make(Problems, 0, len(list))
		for _, e := range list {
			ps = append(ps, Problem{Key: e.Key, Msg: e.Msg})
		}
		return ps
	}
	return Problems{{Key: "rules", Msg: err.Error()}}
}

func checkDuration(ps *Problems, key string, d Duration, zeroOK bool) {
	switch {
	case d.err != nil:
		*ps = append(*ps, Problem{Key: key, Msg: d.err.Error()})
	case d.D < 0 || (d.D == 0 && !zeroOK):
		*ps = append(*ps, Problem{Key: key, Msg: fmt.Sprintf("must be positive, got %s", d.D)})
	}
}

// checkSchedule is the scheduler's own check (package schedule), so that
// check refuses what run could not honour.
func checkSchedule(spec string) error {
	_, err := schedule.Parse(spec)
	if se := (*schedule.Error)(nil); errors.As(err, &se) {
		return errors.New(se.Msg) // the problem's key says where; no package prefix
	}
	return err
}

func checkHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid URL %q: %w", raw, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("must be an http:// or https:// URL, got %q", raw)
	}
	return nil
}

func isSnowflake(s string) bool {
	if len(s) == 0 || len(s) > 20 {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
