package schedule

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		spec string
		want string // "" accepted; else a part of the refusal
		next time.Duration
	}{
		{"@every 5m", "", 5 * time.Minute},
		{"@every 1s", "", time.Second},
		{"@every 1m30s", "", 90 * time.Second},
		{" @every 5m ", "", 5 * time.Minute},
		{"@hourly", "", time.Hour},
		{"*/5 * * * *", "", 5 * time.Minute},
		{"0 9 * * 1-5", "", 0},
		{"CRON_TZ=UTC 0 12 * * *", "", 24 * time.Hour},
		{"TZ=UTC @every 2m", "", 2 * time.Minute},
		{"0 0 29 2 *", "", 0}, // leap years only, but it fires

		{"", "must not be empty", 0},
		{"   ", "must not be empty", 0},
		{"@every 500ms", "under one second", 0},
		{"@every 100ms", "under one second", 0},
		{"@every 0s", "under one second", 0},
		{"@every -5m", "under one second", 0},
		{"@every 1500ms", "not a whole number of seconds", 0},
		{"@every five", `invalid cron spec "@every five"`, 0},
		{"@sometimes", `invalid cron spec "@sometimes"`, 0},
		{"* * * *", "invalid cron spec", 0},
		{"61 * * * *", "invalid cron spec", 0},
		{"* * * * * *", "invalid cron spec", 0}, // no seconds field
		{"0 0 30 2 *", "never fires", 0},
		{"TZ=UTC", "needs a schedule after it", 0},       // robfig/cron panics on this
		{"CRON_TZ=UTC ", "needs a schedule after it", 0}, // and on this
		{"TZ=Nowhere/Atlantis @hourly", "invalid cron spec", 0},
	} {
		s, err := parseAt(tc.spec, now)
		if tc.want != "" {
			var se *Error
			if err == nil || !errors.As(err, &se) || !strings.Contains(se.Msg, tc.want) || se.Spec != tc.spec ||
				!strings.HasPrefix(err.Error(), "schedule: ") {
				t.Errorf("%q: got %v, want an *Error containing %q", tc.spec, err, tc.want)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.spec, err)
			continue
		}
		first := s.Next(now)
		if !first.After(now) {
			t.Errorf("%q: next %v", tc.spec, first)
		}
		if tc.next != 0 {
			if gap := s.Next(first).Sub(first); gap != tc.next {
				t.Errorf("%q: fires every %v, want %v", tc.spec, gap, tc.next)
			}
		}
	}
}

// FuzzParse: Parse never panics, and whatever it accepts fires, later than
// now, at least a second after the firing before.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"@every 5m", "*/5 * * * *", "TZ=UTC", "CRON_TZ=UTC 0 9 * * *", "@every 10ms", "0 0 30 2 *", "@yearly"} {
		f.Add(s)
	}
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := parseAt(spec, now)
		if err != nil {
			return
		}
		first := s.Next(now)
		if !first.After(now) {
			t.Fatalf("%q accepted, next %v", spec, first)
		}
		if second := s.Next(first); second.Sub(first) < time.Second {
			t.Fatalf("%q accepted, fires %v apart", spec, second.Sub(first))
		}
	})
}
