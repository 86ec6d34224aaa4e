package model

import (
	"testing"
	"time"
)

func TestMatchWhoAndHow(t *testing.T) {
	tests := []struct {
		m        Match
		who, how string
	}{
		{Match{Actors: []ActorHit{{ID: "us-cia", Office: "CIA Director", Alias: "Burns"}, {ID: "ru-svr", Office: "SVR Director", Alias: "Naryshkin"}},
			ContactKind: "meeting", ContactTerm: "met"},
			"CIA Director (Burns) ↔ SVR Director (Naryshkin)", "meeting (met)"},
		{Match{Actors: []ActorHit{{ID: "a", Office: "Foreign Minister", Alias: "Lavrov"}, {ID: "a", Office: "Foreign Minister", Alias: "Sergei Lavrov"}, {ID: "b", Office: "", Alias: "Rubio"}},
			ContactKind: "call", ContactTerm: "call"},
			"Foreign Minister (Lavrov) ↔ Rubio", "call"},
		{Match{Actors: []ActorHit{{Office: "spy chief", Alias: "Spy  Chief\n"}}, ContactTerm: "talks"}, "spy chief", "talks"},
		// Roles name their country, not the title again; a role with no
		// country (several at once) keeps its words.
		{Match{Actors: []ActorHit{{ID: "ru-intel", Office: "intelligence chief", Country: "RU", Alias: "intelligence", Role: true},
			{ID: "eg-counterpart", Office: "counterpart", Country: "EG", Alias: "counterpart", Role: true}}, ContactKind: "meeting", ContactTerm: "met"},
			"Russia's intelligence chief ↔ Egypt's counterpart", "meeting (met)"},
		{Match{Actors: []ActorHit{{ID: "us-fm", Office: "foreign minister", Country: "us", Alias: "top diplomat", Role: true},
			{ID: "xk-fm", Office: "foreign minister", Country: "XK", Alias: "foreign minister", Role: true}}},
			"the US's foreign minister ↔ XK's foreign minister", ""},
		{Match{Actors: []ActorHit{{ID: "multi-intel", Office: "intelligence chief", Alias: "spy chiefs", Role: true}}},
			"intelligence chief (spy chiefs)", ""},
		// A named office keeps its holder's name, whatever its country.
		{Match{Actors: []ActorHit{{ID: "ru-svr", Office: "SVR Director", Country: "RU", Alias: "Naryshkin"}}}, "SVR Director (Naryshkin)", ""},
		{Match{}, "", ""},
	}
	for _, tt := range tests {
		if got := tt.m.Who(); got != tt.who {
			t.Errorf("Who() = %q, want %q", got, tt.who)
		}
		if got := tt.m.How(); got != tt.how {
			t.Errorf("How() = %q, want %q", got, tt.how)
		}
	}
}

func TestCountryPossessive(t *testing.T) {
	for code, want := range map[string]string{"RU": "Russia's", "ru": "Russia's", " EG ": "Egypt's", "NL": "the Netherlands'", "XK": "XK's", "": ""} {
		if got := CountryPossessive(code); got != want {
			t.Errorf("CountryPossessive(%q) = %q, want %q", code, got, want)
		}
	}
}

func TestCanAlert(t *testing.T) {
	now := time.Date(2026, 1, 2, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		published time.Time
		backlog   bool
		maxAge    time.Duration
		want      bool
	}{
		{now.Add(-time.Hour), true, 48 * time.Hour, true},
		{now.Add(-49 * time.Hour), false, 48 * time.Hour, false},
		{now.Add(-48 * time.Hour), false, 48 * time.Hour, true},
		{time.Time{}, true, 48 * time.Hour, false},
		{time.Time{}, false, 48 * time.Hour, true},
		{now.Add(-1000 * time.Hour), false, 0, true},
	}
	for _, tt := range tests {
		if got := (Article{Published: tt.published, Backlog: tt.backlog}).CanAlert(tt.maxAge, now); got != tt.want {
			t.Errorf("CanAlert(%v, backlog=%v, %v) = %v", tt.published, tt.backlog, tt.maxAge, got)
		}
	}
}
