package rules

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckRuleName(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"intel-heads", true},
		{"a", true},
		{"9", true},
		{"v1.2_beta-3", true},
		{strings.Repeat("x", MaxRuleNameLen), true},
		{strings.Repeat("x", MaxRuleNameLen+1), false},
		{"", false},
		{"-leading", false},
		{".leading", false},
		{"two words", false},
		{"tab\tname", false},
		{"émigré", false},
		{"back`tick", false},
		{"new\nline", false},
	} {
		err := CheckRuleName(tc.name)
		if (err == nil) != tc.ok {
			t.Errorf("CheckRuleName(%q) = %v, want ok %v", tc.name, err, tc.ok)
		}
	}
}

func TestCompilePattern(t *testing.T) {
	for _, tc := range []struct {
		pat     string
		problem string // "" when the pattern is accepted
		matches string // text it must match, case-insensitively
	}{
		{`spy chief`, "", "The SPY CHIEF said"},
		{`\bmet\b`, "", "they Met"},
		{strings.Repeat("a", MaxPatternLen), "", strings.Repeat("A", MaxPatternLen)},
		{strings.Repeat("ä", MaxPatternLen), "", strings.Repeat("Ä", MaxPatternLen)},
		{strings.Repeat("a", MaxPatternLen+1), "is 1001 characters long; at most 1000 allowed", ""},
		{"", "is empty", ""},
		{"  ", "is empty", ""},
		{"\xff", "is not valid UTF-8", ""},
		{"(", "is not valid RE2: missing closing )", ""},
		{`\p{Nope}`, "is not valid RE2: invalid character class range", ""},
		{`(?=lookahead)`, "is not valid RE2: invalid or unsupported Perl syntax", ""},
	} {
		re, err := CompilePattern(tc.pat)
		if tc.problem == "" {
			if err != nil {
				t.Errorf("CompilePattern(%.20q): %v", tc.pat, err)
			} else if !re.MatchString(tc.matches) {
				t.Errorf("CompilePattern(%.20q) does not match %.20q", tc.pat, tc.matches)
			}
			continue
		}
		var pe *PatternError
		if !errors.As(err, &pe) || pe.Problem != tc.problem {
			t.Errorf("CompilePattern(%.20q) = %v, want problem %q", tc.pat, err, tc.problem)
			continue
		}
		if want := "pattern " + tc.problem; err.Error() != want {
			t.Errorf("error text %q, want %q", err, want)
		}
	}
}
