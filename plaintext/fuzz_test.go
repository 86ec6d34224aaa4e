package plaintext

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzFromHTML checks, on any input (invalid UTF-8 included), that the
// functions do not panic and keep their promises: FromHTML is on one line
// and agrees with FromHTMLLines; OneLine and Truncate are idempotent;
// valid UTF-8 stays valid; Truncate keeps to n runes and to the bytes of
// its input.
func FuzzFromHTML(f *testing.F) {
	for _, s := range []string{
		"", "a < b", "<p>a</p><p>b</p>", "x<script>y</script>z", "a<!-- c", "<a title='>'>x</a>",
		"&amp;#8217;", "&amp;lt;b&amp;gt;", "x<sCript>\xd7\xd7</SCRIPT>y", "\xff<\xfe", "a\u200b\u00a0b",
		"<a href=\"", "<!-->", "</script>", "a&nbsp;&nbsp;b",
	} {
		f.Add(s, 10)
	}
	if inputs, err := filepath.Glob(filepath.Join("testdata", "html", "*.html")); err == nil {
		for _, in := range inputs {
			if b, err := os.ReadFile(in); err == nil {
				f.Add(string(b), 120)
			}
		}
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		flat := FromHTML(s)
		lines := FromHTMLLines(s)
		if OneLine(flat) != flat {
			t.Errorf("FromHTML(%q) = %q is not on one line", s, flat)
		}
		if got := OneLine(lines); got != flat {
			t.Errorf("OneLine(FromHTMLLines(%q)) = %q, FromHTML = %q", s, got, flat)
		}
		if !strings.ContainsAny(flat, "<&") && FromHTML(flat) != flat {
			t.Errorf("FromHTML not idempotent on markup-free %q: %q", flat, FromHTML(flat))
		}
		if utf8.ValidString(s) && (!utf8.ValidString(flat) || !utf8.ValidString(lines)) {
			t.Errorf("valid input %q gave invalid UTF-8: %q, %q", s, flat, lines)
		}

		one := OneLine(s)
		if OneLine(one) != one {
			t.Errorf("OneLine not idempotent on %q", s)
		}

		n %= 1000
		cut := Truncate(s, n)
		if got := utf8.RuneCountInString(cut); got > max(n, 0) {
			t.Errorf("Truncate(%q, %d) has %d runes", s, n, got)
		}
		if Truncate(cut, n) != cut {
			t.Errorf("Truncate not idempotent on %q, %d", s, n)
		}
		if fits := n >= 0 && utf8.RuneCountInString(s) <= n; fits != (cut == s) && s != "" {
			t.Errorf("Truncate(%q, %d) = %q: fits %v", s, n, cut, fits)
		}
		if cut != s && cut != "" {
			kept, ok := strings.CutSuffix(cut, "…")
			if !ok || !strings.HasPrefix(s, kept) {
				t.Errorf("Truncate(%q, %d) = %q is not a prefix of it and an ellipsis", s, n, cut)
			}
		}
	})
}
