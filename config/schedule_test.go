package config

import (
	"strings"
	"testing"
)

// TestScheduleCheckedAsRunWouldHonourIt: check refuses, under the key of
// the schedule, what the scheduler could not honour. robfig/cron's own
// parser accepts every one of these (or panics on it).
func TestScheduleCheckedAsRunWouldHonourIt(t *testing.T) {
	for _, tc := range []struct {
		poll, feed string // schedules; "" leaves the default / the feed's own empty
		key, msg   string // "" when the configuration is valid
	}{
		{"@every 5m", "", "", ""},
		{"*/10 * * * *", "@every 90s", "", ""},
		{"@every 500ms", "", "poll.schedule", `invalid cron spec "@every 500ms": interval 500ms is under one second`},
		{"@every 5m", "@every 100ms", "feeds[0].schedule", `invalid cron spec "@every 100ms": interval 100ms is under one second`},
		{"@every 5m", "@every 1500ms", "feeds[0].schedule", "not a whole number of seconds"},
		{"@every 5m", "0 0 30 2 *", "feeds[0].schedule", "never fires"},
		{"TZ=UTC", "", "poll.schedule", "needs a schedule after it"},
		{"", "", "poll.schedule", "must not be empty"},
		{"@every 5m", "@sometimes", "feeds[0].schedule", `invalid cron spec "@sometimes"`},
	} {
		cfg := Default()
		cfg.Poll.Schedule = tc.poll
		cfg.Feeds = []Feed{{Name: "wire", URL: "https://wire.example/rss", Schedule: tc.feed}}
		var got []Problem
		_, probs := Check(cfg)
		for _, p := range probs {
			if strings.Contains(p.Key, "schedule") {
				got = append(got, p)
			}
		}
		if tc.key == "" {
			if len(got) != 0 {
				t.Errorf("%q / %q: %v", tc.poll, tc.feed, got)
			}
			continue
		}
		if len(got) != 1 || got[0].Key != tc.key || !strings.Contains(got[0].Msg, tc.msg) || strings.Contains(got[0].Msg, "schedule: ") {
			t.Errorf("%q / %q: got %v, want %s: …%s…", tc.poll, tc.feed, got, tc.key, tc.msg)
		}
	}
}
