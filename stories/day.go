package stories

import (
	"fmt"
	"slices"
	"time"
)

// Day is a calendar day, counted from 1970-01-01. A report's day is its
// publication date where it was published (the offset of its timestamp),
// which is also the calendar its "on Tuesday" refers to.
type Day int32

// DayOf returns the calendar day of t in t's own location.
func DayOf(t time.Time) Day {
	y, m, d := t.Date()
	secs := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix()
	days := secs / 86400
	if secs%86400 < 0 {
		days--
	}
	return Day(days)
}

// Time returns midnight UTC of d.
func (d Day) Time() time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// String is e.g. "Tue 11 Mar 2025".
func (d Day) String() string { return d.Time().Format("Mon 2 Jan 2006") }

// Weekday returns the day of the week of d.
func (d Day) Weekday() time.Weekday { return d.Time().Weekday() }

// Span is the days from From to To, both included.
type Span struct {
	From Day `json:"from"`
	To   Day `json:"to"`
}

func (s Span) String() string {
	if s.From == s.To {
		return s.From.String()
	}
	return fmt.Sprintf("%s – %s", s.From, s.To)
}

// Overlaps reports whether s and o share a day.
func (s Span) Overlaps(o Span) bool { return s.From <= o.To && o.From <= s.To }

// Single reports whether s is one day.
func (s Span) Single() bool { return s.From == s.To }

// intersect returns the days both span lists allow, as a sorted list of
// disjoint spans.
func intersect(a, b []Span) []Span {
	var out []Span
	for _, x := range a {
		for _, y := range b {
			if x.Overlaps(y) {
				out = append(out, Span{max(x.From, y.From), min(x.To, y.To)})
			}
		}
	}
	return normalize(out)
}

// overlapsAny reports whether the two span lists share a day.
func overlapsAny(a, b []Span) bool {
	for _, x := range a {
		for _, y := range b {
			if x.Overlaps(y) {
				return true
			}
		}
	}
	return false
}

// normalize sorts spans and merges those that overlap or touch.
func normalize(spans []Span) []Span {
	if len(spans) < 2 {
		return spans
	}
	slices.SortFunc(spans, func(a, b Span) int { return int(a.From) - int(b.From) })
	out := spans[:1]
	for _, s := range spans[1:] {
		last := &out[len(out)-1]
		if s.From <= last.To+1 {
			last.To = max(last.To, s.To)
			continue
		}
		out = append(out, s)
	}
	return out
}

func spansString(spans []Span) string {
	if len(spans) == 0 {
		return "any day"
	}
	s := spans[0].String()
	for _, x := range spans[1:] {
		s += " or " + x.String()
	}
	return s
}
