package model

import "testing"

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
