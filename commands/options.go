package commands

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/bwmarrin/discordgo"
)

// options are the leaf options of one command or subcommand. The getters
// check the option's declared type and the dynamic type of its value, and
// report a mismatch as an error the user sees, instead of panicking as
// discordgo's getters do.
type options []*discordgo.ApplicationCommandInteractionDataOption

func (o options) find(name string) *discordgo.ApplicationCommandInteractionDataOption {
	for _, opt := range o {
		if opt != nil && opt.Name == name {
			return opt
		}
	}
	return nil
}

// optionError is a problem with the options the user (or a malformed
// payload) sent; its text is shown as is.
type optionError struct{ msg string }

func (e *optionError) Error() string { return e.msg }

func optErrorf(format string, args ...any) error {
	return &optionError{msg: fmt.Sprintf(format, args...)}
}

// str returns the string option name, trimmed, or "" when absent. It
// refuses a value longer than maxLen characters: Discord enforces the
// declared max_length, but a forged or replayed payload need not.
func (o options) str(name string, maxLen int) (string, error) {
	opt := o.find(name)
	if opt == nil || opt.Value == nil {
		return "", nil
	}
	if opt.Type != discordgo.ApplicationCommandOptionString {
		return "", optErrorf("option `%s` should be text", name)
	}
	s, ok := opt.Value.(string)
	if !ok {
		return "", optErrorf("option `%s` should be text", name)
	}
	s = strings.TrimSpace(s)
	if !utf8.ValidString(s) {
		return "", optErrorf("option `%s` is not valid text", name)
	}
	if n := utf8.RuneCountInString(s); maxLen > 0 && n > maxLen {
		return "", optErrorf("option `%s` is too long: %d characters, at most %d", name, n, maxLen)
	}
	return s, nil
}

// requiredStr is str for an option the command cannot do without.
func (o options) requiredStr(name string, maxLen int) (string, error) {
	s, err := o.str(name, maxLen)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", optErrorf("option `%s` is required", name)
	}
	return s, nil
}

// integer returns the integer option name, or def when absent, refusing
// values outside [lo, hi].
func (o options) integer(name string, def, lo, hi int) (int, error) {
	opt := o.find(name)
	if opt == nil || opt.Value == nil {
		return def, nil
	}
	if opt.Type != discordgo.ApplicationCommandOptionInteger {
		return 0, optErrorf("option `%s` should be a whole number", name)
	}
	// JSON numbers decode as float64; accept only whole values in range.
	f, ok := opt.Value.(float64)
	if !ok || math.IsNaN(f) || f != math.Trunc(f) {
		return 0, optErrorf("option `%s` should be a whole number", name)
	}
	if f < float64(lo) || f > float64(hi) {
		return 0, optErrorf("option `%s` must be between %d and %d", name, lo, hi)
	}
	return int(f), nil
}

// channel returns the id of the channel option name, "" when absent.
func (o options) channel(name string) (string, error) {
	opt := o.find(name)
	if opt == nil || opt.Value == nil {
		return "", nil
	}
	s, ok := opt.Value.(string)
	if opt.Type != discordgo.ApplicationCommandOptionChannel || !ok || !isSnowflake(s) {
		return "", optErrorf("option `%s` should be a channel", name)
	}
	return s, nil
}

// focused returns the option being typed in an autocomplete interaction
// and what has been typed so far.
func (o options) focused() (name, typed string) {
	for _, opt := range o {
		if opt == nil || !opt.Focused {
			continue
		}
		s, _ := opt.Value.(string)
		return opt.Name, strings.TrimSpace(s)
	}
	return "", ""
}

// isSnowflake reports whether s looks like a Discord id.
func isSnowflake(s string) bool {
	if len(s) == 0 || len(s) > 20 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
