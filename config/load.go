package config

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	toml "github.com/pelletier/go-toml/v2"

	"github.com/backchannel/backchannel/rules"
)

// Problem is one thing wrong with the configuration.
type Problem struct {
	Key  string // e.g. "poll.timeout", "feeds[2].url", or an environment variable
	Line int    // 1-based line in the file; 0 when unknown
	Msg  string
}

func (p Problem) String() string {
	if p.Line > 0 {
		return fmt.Sprintf("%s (line %d): %s", p.Key, p.Line, p.Msg)
	}
	return fmt.Sprintf("%s: %s", p.Key, p.Msg)
}

// Problems is a list of configuration problems; as an error it reads as one
// line per problem.
type Problems []Problem

func (ps Problems) Error() string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = p.String()
	}
	return strings.Join(lines, "\n")
}

// ErrMissingFile is returned (wrapped) when the configuration file does not exist.
var ErrMissingFile = errors.New("configuration file not found")

// Load reads path over the defaults, applies environment overrides and
// checks the result (Check). A missing file, a file that does not decode,
// and an invalid configuration are errors; the last two are Problems. A
// feed's relative file: URL is taken relative to path's directory.
func Load(path string, env Env) (Loaded, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return Loaded{}, fmt.Errorf("%w: %s (create it from config.example.toml, or pass -config FILE)", ErrMissingFile, path)
	}
	if err != nil {
		return Loaded{}, fmt.Errorf("config: %w", err)
	}
	return parse(data, env, filepath.Dir(path))
}

// document is a configuration file as written: Config, except that its
// [rules] table holds changes to the built-in rules rather than a rule set.
type document struct {
	Config
	Rules rules.Overlay `toml:"rules"`
}

// Parse is Load for a document already in memory; relative file: URLs are
// taken relative to the working directory. The file's [rules] table is
// merged over the built-in rules (rules.Defaults); Config.Rules is the
// result.
func Parse(data []byte, env Env) (Loaded, error) {
	return parse(data, env, ".")
}

func parse(data []byte, env Env, dir string) (Loaded, error) {
	builtin, err := rules.Defaults()
	if err != nil {
		return Loaded{}, fmt.Errorf("config: built-in rules: %w", err)
	}
	doc := document{Config: Default()}
	lines := keyLines(data)
	var probs Problems
	if err := decode(data, &doc); err != nil {
		// Unknown keys leave the rest of the document decoded: go on, so
		// that `check` reports them together with every other problem. A
		// syntax or type error stops the decoder, and so stops here.
		var unknown unknownKeys
		if !errors.As(err, &unknown) {
			return Loaded{}, withLines(redactSecrets(err, data), lines)
		}
		probs = append(probs, unknown...)
	}
	cfg := doc.Config
	resolveFileURLs(cfg.Feeds, dir)
	spec, keys, err := builtin.Merge(doc.Rules)
	if err != nil {
		probs = append(probs, ruleProblems(err)...)
	}
	cfg.Rules = spec
	def := Default()
	def.Rules = builtin
	fromEnv, envProbs, envWarnings := applyEnv(&cfg, env, def)
	probs = append(probs, envProbs...)
	loaded, checked := Check(cfg)
	for _, p := range checked {
		// Rule problems are found in the merged rules; name them as the
		// file wrote them, so that they get the file's line. A value the
		// environment set is named by its variable, which no line of the
		// file writes.
		p.Key = keys.Source(p.Key)
		if v, ok := fromEnv.variable(p.Key); ok {
			p.Key = v
		}
		probs = append(probs, p)
	}
	for i := range probs {
		if probs[i].Line == 0 {
			probs[i].Line = lines.find(probs[i].Key)
		}
	}
	if len(probs) > 0 {
		return Loaded{Config: cfg}, probs
	}
	for i, w := range loaded.Warnings {
		if w.Line == 0 {
			loaded.Warnings[i].Line = lines.find(w.Key)
		}
	}
	loaded.Warnings = append(loaded.Warnings, envWarnings...)
	return loaded, nil
}

// resolveFileURLs makes a feed's relative file: URL ("file:feed.xml")
// absolute against dir, the configuration file's directory, so the file
// is found whatever directory the bot was started in.
func resolveFileURLs(feeds []Feed, dir string) {
	for i, f := range feeds {
		u, err := url.Parse(f.URL)
		if err != nil || !strings.EqualFold(u.Scheme, "file") || u.Opaque == "" {
			continue
		}
		p, err := url.PathUnescape(u.Opaque)
		if err != nil {
			continue // Check reports it as a file: URL without an absolute path
		}
		abs, err := filepath.Abs(filepath.Join(dir, filepath.FromSlash(p)))
		if err != nil {
			continue
		}
		feeds[i].URL = (&url.URL{Scheme: "file", Path: filepath.ToSlash(abs), RawQuery: u.RawQuery}).String()
	}
}

func decode(data []byte, doc *document) error {
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(doc)
	if err == nil {
		return nil
	}
	var strict *toml.StrictMissingError
	if errors.As(err, &strict) {
		probs := make(unknownKeys, 0, len(strict.Errors))
		for _, e := range strict.Errors {
			row, _ := e.Position()
			probs = append(probs, Problem{Key: strings.Join(e.Key(), "."), Line: row, Msg: "unknown key"})
		}
		return probs
	}
	var de *toml.DecodeError
	if errors.As(err, &de) {
		row, _ := de.Position()
		key := strings.Join(de.Key(), ".")
		if key == "" {
			key = "toml"
		}
		return Problems{{Key: key, Line: row, Msg: de.Error()}}
	}
	return Problems{{Key: "toml", Msg: err.Error()}}
}

// unknownKeys are the problems of a document that decoded except for keys
// the program does not know.
type unknownKeys Problems

func (u unknownKeys) Error() string { return Problems(u).Error() }

// redactSecrets rewrites a decoding problem on the line of a secret key
// (discord.token), so that an error quoting the text it stumbled on can
// never print part of the token. The line is read from the raw document:
// the key index stops where the parser did.
func redactSecrets(err error, data []byte) error {
	var probs Problems
	if !errors.As(err, &probs) {
		return err
	}
	lines := strings.Split(string(data), "\n")
	for i, p := range probs {
		if p.Line < 1 || p.Line > len(lines) {
			continue
		}
		key, _, ok := strings.Cut(lines[p.Line-1], "=")
		key = strings.Trim(strings.TrimSpace(key), `"'`)
		if ok && (key == "token" || key == "discord.token") {
			probs[i] = Problem{Key: "discord.token", Line: p.Line, Msg: "invalid value (not shown: it is a secret); write it as a quoted string"}
		}
	}
	return probs
}

func withLines(err error, lines lineIndex) error {
	var probs Problems
	if errors.As(err, &probs) {
		for i := range probs {
			if probs[i].Line == 0 {
				probs[i].Line = lines.find(probs[i].Key)
			}
		}
		return probs
	}
	return err
}

// envPrefix is the prefix of every environment override.
const envPrefix = "BACKCHANNEL_"

// applyEnv sets every scalar key section.key (and, in nested tables,
// section.table.key) from BACKCHANNEL_SECTION_KEY when that variable is set,
// plus DISCORD_TOKEN. An empty value resets a number, boolean or duration
// to its value in def, the built-in defaults. It walks the configuration by
// reflection, so a key added to Config is overridable without touching
// this function. Lists are comma-separated; lists of tables (feeds, actors,
// rules) and maps are not scalar and stay file-only.
//
// It returns which keys the environment set (so later problems name the
// variable), the problems of values that do not parse, each named by its
// variable, and a warning for every BACKCHANNEL_ variable that sets nothing.
func applyEnv(cfg *Config, env Env, def Config) (envKeys, Problems, Problems) {
	var probs Problems
	set := envKeys{}
	known := map[string]bool{}
	if v, ok := env["DISCORD_TOKEN"]; ok {
		cfg.Discord.Token = Secret(v)
		set["discord.token"] = "DISCORD_TOKEN"
	}
	var walk func(v, d reflect.Value, prefix, keyPrefix string)
	walk = func(v, d reflect.Value, prefix, keyPrefix string) {
		t := v.Type()
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			if !f.IsExported() {
				continue
			}
			name := prefix + "_" + strings.ToUpper(tomlName(f))
			key := tomlName(f)
			if keyPrefix != "" {
				key = keyPrefix + "." + key
			}
			fv, dv := v.Field(i), d.Field(i)
			switch {
			case f.Type == durationType || isScalar(f.Type):
				known[name] = true
				val, ok := env[name]
				if !ok {
					continue
				}
				if err := setScalar(fv, dv, val); err != nil {
					probs = append(probs, Problem{Key: name, Msg: err.Error()})
					continue
				}
				set[key] = name
			case f.Type.Kind() == reflect.Struct:
				walk(fv, dv, name, key)
			}
		}
	}
	walk(reflect.ValueOf(cfg).Elem(), reflect.ValueOf(&def).Elem(), strings.TrimSuffix(envPrefix, "_"), "")
	return set, probs, unknownVariables(env, known)
}

// envKeys maps a configuration key ("poll.timeout") to the environment
// variable that set it.
type envKeys map[string]string

// variable returns the variable that set key, or the list or table key
// belongs to ("discord.owner_ids[1]"), with key's index or subkey kept.
func (e envKeys) variable(key string) (string, bool) {
	for k := key; k != ""; {
		if v, ok := e[k]; ok {
			return v + key[len(k):], true
		}
		cut := strings.LastIndexAny(k, ".[")
		if cut < 0 {
			break
		}
		k = k[:cut]
	}
	return "", false
}

// unknownVariables warns of each BACKCHANNEL_ variable that is no setting,
// most likely a typo, naming the closest one that is.
func unknownVariables(env Env, known map[string]bool) Problems {
	var ws Problems
	for name := range env {
		if !strings.HasPrefix(name, envPrefix) || known[name] {
			continue
		}
		msg := "not a configuration variable; ignored"
		if near := closest(name, known); near != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", near)
		}
		ws = append(ws, Problem{Key: name, Msg: msg})
	}
	slices.SortFunc(ws, func(a, b Problem) int { return strings.Compare(a.Key, b.Key) })
	return ws
}

// closest returns the known name nearest to name by edit distance, if it
// is near enough to be a typo of it.
func closest(name string, known map[string]bool) string {
	best, bestD := "", 4 // at most three edits
	for k := range known {
		if d := editDistance(name, k); d < bestD || (d == bestD && k < best) {
			best, bestD = k, d
		}
	}
	return best
}

// editDistance is the Levenshtein distance of two ASCII names.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// isScalar reports whether a field holds one value the environment can
// give: a string, number, boolean or list of strings.
func isScalar(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int64:
		return true
	case reflect.Slice:
		return t.Elem().Kind() == reflect.String
	}
	return false
}

func tomlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
	if name == "" {
		return strings.ToLower(f.Name)
	}
	return name
}

var durationType = reflect.TypeOf(Duration{})

// setScalar sets f from the environment value v. The empty string sets
// the key to empty: a string or list to empty, and a number, boolean or
// duration, which have no empty value, back to its default (def).
func setScalar(f, def reflect.Value, v string) error {
	if strings.TrimSpace(v) == "" && f.Kind() != reflect.String && f.Kind() != reflect.Slice {
		f.Set(def)
		return nil
	}
	if f.Type() == durationType {
		var d Duration
		_ = d.UnmarshalText([]byte(v))
		if d.err != nil {
			return d.err
		}
		f.Set(reflect.ValueOf(d))
		return nil
	}
	switch f.Kind() {
	case reflect.String:
		f.SetString(v)
	case reflect.Bool:
		b, err := strconv.ParseBool(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("invalid boolean %q (use true or false)", v)
		}
		f.SetBool(b)
	case reflect.Int, reflect.Int64:
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil {
			return fmt.Errorf("invalid integer %q", v)
		}
		f.SetInt(n)
	case reflect.Slice:
		list := []string{}
		for _, part := range strings.Split(v, ",") {
			if p := strings.TrimSpace(part); p != "" {
				list = append(list, p)
			}
		}
		f.Set(reflect.ValueOf(list))
	default:
		return fmt.Errorf("cannot be set from the environment")
	}
	return nil
}
