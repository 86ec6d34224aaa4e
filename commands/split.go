package commands

import "strings"

// splitPatterns splits a comma-separated list of RE2 patterns. A comma
// inside (), [] or {} or after a backslash belongs to the pattern, so
// `a{1,3}` and `[,;]` survive; elsewhere a comma separates patterns.
// Surrounding spaces are trimmed and empty items dropped.
func splitPatterns(s string) []string {
	var (
		out   []string
		start int
		depth int
		class bool // inside [...], where ( and { are literal
	)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\':
			i++ // the escaped byte is literal, whatever it is
		case class:
			if c == ']' {
				class = false
			}
		case c == '[':
			class = true
			// A ] right after [ or [^ is a literal member, not the end.
			if i+1 < len(s) && s[i+1] == '^' {
				i++
			}
			if i+1 < len(s) && s[i+1] == ']' {
				i++
			}
		case c == '(' || c == '{':
			depth++
		case (c == ')' || c == '}') && depth > 0:
			depth--
		case c == ',' && depth == 0:
			out = appendItem(out, s[start:i])
			start = i + 1
		}
	}
	return appendItem(out, s[start:])
}

// splitList splits a plain comma-separated list (actor ids).
func splitList(s string) []string {
	var out []string
	for _, item := range strings.Split(s, ",") {
		out = appendItem(out, item)
	}
	return out
}

func appendItem(out []string, item string) []string {
	if item = strings.TrimSpace(item); item != "" {
		out = append(out, item)
	}
	return out
}
