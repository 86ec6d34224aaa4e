// Package schedule parses poll schedules: robfig/cron's standard five fields
// ("*/5 * * * *"), optionally after CRON_TZ=Zone, or a descriptor (@hourly,
// @daily, @every 5m). It is the one parser behind both `check` (config
// validation) and `run` (the feed scheduler), so a schedule `check` accepts
// is one the scheduler honours.
//
// It refuses, besides what robfig/cron itself refuses:
//   - "@every" intervals under one second or not a whole number of
//     seconds: robfig/cron would silently run them every second, or round
//     them down;
//   - schedules that never fire (30 February);
//   - a time zone prefix with nothing after it, on which robfig/cron panics.
package schedule

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Error is a refused schedule. Msg is written for someone reading a
// configuration problem; Error adds the package prefix.
type Error struct {
	Spec string
	Msg  string
	Err  error // robfig/cron's reason, when it is the one refusing
}

func (e *Error) Error() string { return "schedule: " + e.Msg }

func (e *Error) Unwrap() error { return e.Err }

// parser is robfig/cron's standard five-field syntax plus descriptors, the
// syntax docs/CONTRACT.md documents for poll.schedule. A Parser holds only its
// options, so one per call costs nothing.
func parser() cron.Parser {
	return cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)
}

// Parse returns the schedule spec describes, or an *Error saying why the
// scheduler could not honour it.
func Parse(spec string) (cron.Schedule, error) {
	return parseAt(spec, time.Now())
}

// parseAt is Parse with the clock passed in: "never fires" is decided by
// looking for a firing after now.
func parseAt(spec string, now time.Time) (cron.Schedule, error) {
	refuse := func(err error, format string, args ...any) (cron.Schedule, error) {
		return nil, &Error{Spec: spec, Msg: fmt.Sprintf("invalid cron spec %q: ", spec) + fmt.Sprintf(format, args...), Err: err}
	}
	trimmed := strings.TrimSpace(spec)
	if trimmed == "" {
		return nil, &Error{Spec: spec, Msg: "must not be empty"}
	}
	body := trimmed
	if strings.HasPrefix(body, "TZ=") || strings.HasPrefix(body, "CRON_TZ=") {
		_, rest, ok := strings.Cut(body, " ")
		if !ok || strings.TrimSpace(rest) == "" {
			return refuse(nil, "a time zone needs a schedule after it (\"CRON_TZ=Europe/Paris 0 9 * * *\")")
		}
		body = strings.TrimSpace(rest)
	}
	s, err := parser().Parse(trimmed)
	if err != nil {
		return refuse(err, "%v", err)
	}
	if rest, ok := strings.CutPrefix(body, "@every "); ok {
		// robfig turns "@every 0s", "@every -5m" and "@every 10ms" into one
		// second, and "@every 1500ms" into one second too.
		d, err := time.ParseDuration(strings.TrimSpace(rest))
		switch {
		case err != nil:
			return refuse(err, "%v", err)
		case d < time.Second:
			return refuse(nil, "interval %s is under one second", d)
		case d%time.Second != 0:
			return refuse(nil, "interval %s is not a whole number of seconds", d)
		}
		return s, nil
	}
	if s.Next(now).IsZero() {
		return refuse(nil, "it never fires")
	}
	return s, nil
}
