package config

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) LookupEnv {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func TestExampleConfigIsValid(t *testing.T) {
	cfg, err := Load(filepath.Join("..", "config.example.toml"), env(nil))
	if err != nil {
		t.Fatalf("config.example.toml: %v", err)
	}
	if len(cfg.Feeds) == 0 || len(cfg.Rules.Rules) < 2 {
		t.Errorf("example has %d feeds and %d rules; want feeds and the default rules", len(cfg.Feeds), len(cfg.Rules.Rules))
	}
}

func TestExampleConfigValidWithoutFeeds(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "config.example.toml"))
	if err != nil {
		t.Fatal(err)
	}
	// Drop every [[feeds]] table: INTERFACE.md promises the rest stays valid.
	var kept []string
	inFeed := false
	for _, line := range strings.Split(string(data), "\n") {
		trim := strings.TrimSpace(line)
		if strings.HasPrefix(trim, "[") {
			inFeed = trim == "[[feeds]]"
		}
		if !inFeed {
			kept = append(kept, line)
		}
	}
	cfg, err := Parse([]byte(strings.Join(kept, "\n")), env(nil))
	if err != nil {
		t.Fatalf("example without feeds: %v", err)
	}
	if len(cfg.Feeds) != 0 {
		t.Fatalf("feeds left: %d", len(cfg.Feeds))
	}
}

func TestDefaults(t *testing.T) {
	cfg, err := Parse([]byte(""), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := Default()
	if cfg.Database.Path != "backchannel.db" || cfg.Poll.Schedule != "@every 5m" || cfg.Poll.Timeout.D != 20*time.Second ||
		cfg.Poll.Concurrency != 8 || cfg.Poll.MaxBytes != 10485760 || cfg.Poll.MaxAge.D != 48*time.Hour ||
		cfg.Poll.AllowPrivateNetworks || !cfg.Discord.Gateway || cfg.Discord.APIURL != want.Discord.APIURL || cfg.HTTP.Listen != "" {
		t.Errorf("defaults differ from INTERFACE.md: %+v", cfg)
	}
}

func TestProblems(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		env  map[string]string
		want []string // each must appear in the error text
	}{
		{"unknown key with line", "[poll]\nschedule = \"@every 1m\"\nbogus = 1\n", nil,
			[]string{"poll.bogus (line 3): unknown key"}},
		{"unknown section", "[pol]\nx = 1\n", nil, []string{"pol", "unknown key"}},
		{"unknown feed key", "[[feeds]]\nname = \"a\"\nurl = \"https://a.example/rss\"\nurll = \"x\"\n", nil,
			[]string{"feeds.urll (line 4): unknown key"}},
		{"bad duration", "[poll]\ntimeout = \"20 seconds\"\n", nil,
			[]string{"poll.timeout (line 2): invalid duration \"20 seconds\""}},
		{"bad cron", "[poll]\nschedule = \"every five minutes\"\n", nil,
			[]string{"poll.schedule (line 2): invalid cron spec"}},
		{"bad feed cron", "[[feeds]]\nname = \"a\"\nurl = \"https://a.example/rss\"\n\n[[feeds]]\nname = \"b\"\nurl = \"https://b.example/rss\"\nschedule = \"@sometimes\"\n", nil,
			[]string{"feeds[1].schedule (line 8): invalid cron spec"}},
		{"every problem at once", "[poll]\ntimeout = \"x\"\nmax_age = \"y\"\nconcurrency = 0\n[log]\nformat = \"xml\"\n", nil,
			[]string{"poll.timeout (line 2)", "poll.max_age (line 3)", "poll.concurrency (line 4)", "log.format (line 6)"}},
		{"bad feed url", "[[feeds]]\nname = \"a\"\nurl = \"ftp://a.example/rss\"\n", nil,
			[]string{"feeds[0].url (line 3): must be an http:// or https:// URL"}},
		{"duplicate feed", "[[feeds]]\nname = \"a\"\nurl = \"https://a.example/1\"\n[[feeds]]\nname = \"a\"\nurl = \"https://a.example/2\"\n", nil,
			[]string{"feeds[1].name (line 5): duplicate feed name"}},
		{"wrong type", "[poll]\nconcurrency = \"eight\"\n", nil, []string{"poll.concurrency (line 2)"}},
		{"bad env duration", "", map[string]string{"BACKCHANNEL_POLL_TIMEOUT": "soon"},
			[]string{"BACKCHANNEL_POLL_TIMEOUT: invalid duration"}},
		{"bad env int", "", map[string]string{"BACKCHANNEL_POLL_CONCURRENCY": "many"},
			[]string{"BACKCHANNEL_POLL_CONCURRENCY: invalid integer"}},
		{"bad public key", "[discord]\npublic_key = \"abc\"\n", nil, []string{"discord.public_key (line 2)"}},
		{"bad listen", "[http]\nlisten = \"8080\"\n", nil, []string{"http.listen (line 2)"}},
		{"syntax error", "[poll\n", nil, []string{"line 1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.doc), env(tt.env))
			if err == nil {
				t.Fatal("no error")
			}
			var probs Problems
			if !errors.As(err, &probs) {
				t.Fatalf("error %T is not Problems: %v", err, err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error\n%s\ndoes not contain %q", err, w)
				}
			}
		})
	}
}

func TestEnvOverrides(t *testing.T) {
	doc := "[http]\nlisten = \"127.0.0.1:8080\"\n[poll]\nconcurrency = 4\n[discord]\ntoken = \"file-token\"\n"
	cfg, err := Parse([]byte(doc), env(map[string]string{
		"BACKCHANNEL_HTTP_LISTEN":                 "", // set but empty: turns the server off
		"BACKCHANNEL_POLL_CONCURRENCY":            "16",
		"BACKCHANNEL_POLL_MAX_AGE":                "2h",
		"BACKCHANNEL_POLL_ALLOW_PRIVATE_NETWORKS": "true",
		"BACKCHANNEL_DISCORD_API_URL":             "http://127.0.0.1:9/api/v10",
		"BACKCHANNEL_DISCORD_OWNER_IDS":           "1, 2,,3",
		"BACKCHANNEL_DISCORD_GATEWAY":             "false",
		"DISCORD_TOKEN":                           "env-token",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.HTTP.Listen != "" {
		t.Errorf("http.listen = %q, want empty", cfg.HTTP.Listen)
	}
	if cfg.Poll.Concurrency != 16 || cfg.Poll.MaxAge.D != 2*time.Hour || !cfg.Poll.AllowPrivateNetworks {
		t.Errorf("poll = %+v", cfg.Poll)
	}
	if cfg.Discord.APIURL != "http://127.0.0.1:9/api/v10" || cfg.Discord.Gateway {
		t.Errorf("discord = %+v", cfg.Discord)
	}
	if got := strings.Join(cfg.Discord.OwnerIDs, "|"); got != "1|2|3" {
		t.Errorf("owner_ids = %q", got)
	}
	if cfg.Discord.Token.Reveal() != "env-token" {
		t.Errorf("DISCORD_TOKEN did not override the file")
	}
}

func TestBackchannelTokenVariableWinsOverDiscordToken(t *testing.T) {
	cfg, err := Parse(nil, env(map[string]string{"DISCORD_TOKEN": "a", "BACKCHANNEL_DISCORD_TOKEN": "b"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Discord.Token.Reveal() != "b" {
		t.Errorf("token = %q", cfg.Discord.Token.Reveal())
	}
}

func TestSecretNeverPrints(t *testing.T) {
	cfg, err := Parse([]byte("[discord]\ntoken = \"Bot.sekrit.value\"\n"), env(nil))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{fmt.Sprint(cfg), fmt.Sprintf("%+v", cfg), fmt.Sprintf("%#v", cfg.Discord), fmt.Sprintf("%v", cfg.Discord.Token)} {
		if strings.Contains(s, "sekrit") {
			t.Fatalf("secret printed: %s", s)
		}
	}
}

func TestDefaultRulesFallback(t *testing.T) {
	defaults := []byte("[poll]\nschedule = \"@hourly\"\n[rules]\n")
	cfg, err := ParseWithDefaultRules([]byte("[poll]\nschedule = \"@every 1m\"\n"), env(nil), defaults)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Poll.Schedule != "@every 1m" {
		t.Errorf("only the rules may come from the defaults document; schedule = %q", cfg.Poll.Schedule)
	}
}

func TestMissingFile(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.toml"), env(nil))
	if !errors.Is(err, ErrMissingFile) || !strings.Contains(err.Error(), "nope.toml") {
		t.Fatalf("err = %v; want ErrMissingFile naming the file", err)
	}
}

// TestUnknownKeysReportedWithEveryOtherProblem: an unknown key does not hide
// the rest of what is wrong (check prints every problem).
func TestUnknownKeysReportedWithEveryOtherProblem(t *testing.T) {
	doc := "[discord]\nbogus = 1\n[poll]\ntimeout = \"soon\"\nconcurrency = 0\nschedule = \"every now and then\"\n"
	_, err := Parse([]byte(doc), env(nil))
	var probs Problems
	if !errors.As(err, &probs) {
		t.Fatalf("err = %v, want Problems", err)
	}
	got := map[string]int{}
	for _, p := range probs {
		got[p.Key] = p.Line
	}
	for key, line := range map[string]int{"discord.bogus": 2, "poll.timeout": 4, "poll.concurrency": 5, "poll.schedule": 6} {
		if l, ok := got[key]; !ok || l != line {
			t.Errorf("problem for %s: line %d, reported %v; all: %v", key, l, ok, probs)
		}
	}
}

func TestEnvEmptyValueOfATypedKeyMeansItsDefault(t *testing.T) {
	doc := "[discord]\ngateway = false\n[poll]\nconcurrency = 3\ntimeout = \"5s\"\n"
	cfg, err := Parse([]byte(doc), env(map[string]string{
		"BACKCHANNEL_DISCORD_GATEWAY":  "",
		"BACKCHANNEL_POLL_CONCURRENCY": " ",
		"BACKCHANNEL_POLL_TIMEOUT":     "",
	}))
	if err != nil {
		t.Fatal(err)
	}
	def := Default()
	if cfg.Discord.Gateway != def.Discord.Gateway || cfg.Poll.Concurrency != def.Poll.Concurrency || cfg.Poll.Timeout != def.Poll.Timeout {
		t.Errorf("gateway %v, concurrency %d, timeout %v; want the defaults", cfg.Discord.Gateway, cfg.Poll.Concurrency, cfg.Poll.Timeout.D)
	}
}

func TestEnvReachesNestedRuleKeys(t *testing.T) {
	doc := "[rules.contact]\nwindow = 30\n[rules.heads]\nspan = 6\n"
	cfg, err := Parse([]byte(doc), env(map[string]string{
		"BACKCHANNEL_RULES_CONTACT_WINDOW": "12",
		"BACKCHANNEL_RULES_HEADS_SPAN":     "x",
	}))
	var probs Problems
	if !errors.As(err, &probs) || len(probs) != 1 || probs[0].Key != "BACKCHANNEL_RULES_HEADS_SPAN" {
		t.Fatalf("err = %v; want one problem naming BACKCHANNEL_RULES_HEADS_SPAN", err)
	}
	if cfg.Rules.Contact.Window != 12 {
		t.Errorf("rules.contact.window = %d, want 12", cfg.Rules.Contact.Window)
	}
}

func TestSyntaxErrorNeverQuotesTheToken(t *testing.T) {
	_, err := Parse([]byte("[discord]\ntoken = Xsekrit.value\n"), env(nil))
	if err == nil {
		t.Fatal("an unquoted token was accepted")
	}
	if msg := err.Error(); strings.Contains(msg, "sekrit") || strings.Contains(msg, "Xs") || !strings.Contains(msg, "discord.token") {
		t.Fatalf("error %q: want it to name discord.token without any of its value", msg)
	}
}
