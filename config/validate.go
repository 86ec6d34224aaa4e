package config

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"

	"github.com/backchannel/backchannel/dedup"
	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/rules"
	"github.com/backchannel/backchannel/schedule"
)

// Check validates cfg as `run` needs it and compiles its rules. It returns
// every problem, each naming its key; when there is none, the Loaded holds
// the compiled default rules and the warnings. Load and Parse end with it;
// a configuration built in code (tests) goes through it too.
func Check(cfg Config) (Loaded, Problems) {
	ps := validate(cfg)
	set, err := rules.Compile(cfg.Rules)
	if err != nil {
		ps = append(ps, ruleProblems(err)...)
	}
	if len(ps) > 0 {
		return Loaded{Config: cfg}, ps
	}
	return Loaded{Config: cfg, Defaults: set, Warnings: warnings(cfg)}, nil
}

// warnings are what Check finds valid but probably not meant.
func warnings(cfg Config) Problems {
	var ws Problems
	// Valid, but a bot that polls or matches nothing: say so without
	// failing, as a file may mean it (a staging bot, feeds added from
	// Discord, rules added per guild).
	if len(cfg.Feeds) == 0 {
		ws = append(ws, Problem{Key: "feeds", Msg: "no feeds: nothing is polled until an owner adds one with /feeds add"})
	}
	if len(cfg.Rules.Rules) == 0 {
		ws = append(ws, Problem{Key: "rules", Msg: "no rules: nothing will be matched until a guild adds one with /rules add"})
	}
	// An item a feed serves again after its keys were pruned is stored as
	// new; only being older than max_age keeps it from alerting again.
	// Valid (a replay of old news may want it), but rarely meant. (max_age
	// 0s, no limit, is meant that way: the demo replays last year's news.)
	if r, age := cfg.Retention.Keys.D, cfg.Poll.MaxAge.D; age > 0 && r > 0 && r < 2*age {
		ws = append(ws, Problem{Key: "retention.keys", Msg: fmt.Sprintf("%s is less than twice poll.max_age (%s): an item a feed serves again after its keys were pruned can alert a second time", r, age)})
	}
	if len(cfg.Rules.Actors) == 0 {
		ws = append(ws, Problem{Key: "rules.actor", Msg: "no actors: contact rules cannot fire, only keyword rules"})
	}
	return ws
}

// validate returns every problem with cfg but those of its rules.
func validate(cfg Config) Problems {
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
	if n := cfg.Poll.MaxBytes; n < 1024 || n > MaxBytesLimit {
		add("poll.max_bytes", "must be between 1024 and %d (1 GiB), got %d", MaxBytesLimit, n)
	}

	ps = append(ps, checkRetention(cfg.Retention)...)

	if _, _, lp := cfg.Log.parse(); len(lp) > 0 {
		ps = append(ps, lp...)
	}

	names := map[string]int{}
	urls := map[string]int{} // dedup.NormalizeLink(url), the store's url_key
	for i, f := range cfg.Feeds {
		key := fmt.Sprintf("feeds[%d]", i)
		if strings.TrimSpace(f.Name) == "" {
			add(key+".name", "must not be empty")
		} else if j, dup := names[f.Name]; dup {
			add(key+".name", "duplicate feed name %q (also feeds[%d])", f.Name, j)
		} else {
			names[f.Name] = i
		}
		if err := checkFeedURL(f.URL); err != nil {
			add(key+".url", "%v", err)
		} else if j, dup := urls[dedup.NormalizeLink(f.URL)]; dup {
			// The store keys feeds by this form of the URL and would
			// refuse the second at start-up.
			add(key+".url", "the same feed as feeds[%d].url (%s): each feed once", j, model.RedactURL(f.URL))
		} else {
			urls[dedup.NormalizeLink(f.URL)] = i
		}
		if f.Schedule != "" {
			if err := checkSchedule(f.Schedule); err != nil {
				add(key+".schedule", "%v", err)
			}
		}
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

// checkRetention checks the [retention] windows against each other (and
// warnings, against poll.max_age).
func checkRetention(r Retention) Problems {
	var ps Problems
	checkDuration(&ps, "retention.text", r.Text, false)
	checkDuration(&ps, "retention.keys", r.Keys, false)
	checkDuration(&ps, "retention.undated_keys", r.UndatedKeys, true)
	checkDuration(&ps, "retention.interval", r.Interval, false)
	checkDuration(&ps, "retention.key_sweep", r.KeySweep, false)
	if len(ps) > 0 {
		return ps
	}
	add := func(key, format string, args ...any) {
		ps = append(ps, Problem{Key: key, Msg: fmt.Sprintf(format, args...)})
	}
	if r.Keys.D < r.Text.D {
		add("retention.keys", "must be at least retention.text (%s), got %s: the keys outlive the text", r.Text.D, r.Keys.D)
	}
	if u := r.UndatedKeys.D; u != 0 && u < r.Keys.D {
		add("retention.undated_keys", "must be 0 (for ever) or at least retention.keys (%s), got %s: an undated item has no max_age to keep it from alerting again", r.Keys.D, u)
	}
	return ps
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

// checkHTTPURL accepts an absolute http(s) URL. The URL is quoted
// redacted: it may be a feed's, with a key in it, and problems are logged.
func checkHTTPURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid URL %q", model.RedactURL(raw))
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("must be an http:// or https:// URL, got %q", model.RedactURL(raw))
	}
	return nil
}

// checkFeedURL accepts what the fetcher fetches for a feed of the file: an
// http(s) URL, or a file: URL of an absolute path (Load makes a relative
// one absolute).
func checkFeedURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("invalid URL %q", model.RedactURL(raw))
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return checkHTTPURL(raw)
	case "file":
	default:
		return fmt.Errorf("must be an http://, https:// or file: URL, got %q", model.RedactURL(raw))
	}
	if u.Opaque != "" || !filepath.IsAbs(filepath.FromSlash(u.Path)) {
		return fmt.Errorf("a file: URL needs an absolute path (file:///srv/feed.xml), got %q", model.RedactURL(raw))
	}
	if u.Host != "" && u.Host != "localhost" {
		return fmt.Errorf("a file: URL names no host (file:///path), got %q", model.RedactURL(raw))
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
