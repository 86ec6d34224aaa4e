package markdown

import (
	"strings"
	"testing"
)

func TestLink(t *testing.T) {
	long := "https://long.example/" + strings.Repeat("x", MaxLinkURL)
	for _, tt := range []struct{ text, link, want string }{
		{"Reuters", "https://www.reuters.com/world/a-b-2022/", "[Reuters](https://www.reuters.com/world/a-b-2022/)"},
		{"  AP \n News ", " http://apnews.com/x?y=1#z ", "[AP News](http://apnews.com/x?y=1#z)"},
		{"[Official](https://phish.example)", "https://a.example/", `[\[Official\](https://phish.example)](https://a.example/)`},
		{"*b* _i_ ~s~ `c` |p| > q # h \\", "https://a.example/", "[\\*b\\* \\_i\\_ \\~s\\~ \\`c\\` \\|p\\| \\> q \\# h \\\\](https://a.example/)"},
		// What could end the target early, or reshape it, is encoded.
		{"x", "https://a.example/a) [b](https://phish.example/", "[x](https://a.example/a%29%20%5Bb%5D%28https://phish.example/)"},
		{"x", "https://a.example/p?q=a b&r=(c)<d>`e`|f\"g", "[x](https://a.example/p?q=a%20b&r=%28c%29%3Cd%3E%60e%60%7Cf%22g)"},
		{"x", "https://a.example/@here/<@1>", "[x](https://a.example/%40here/%3C%401%3E)"},
		{"x", "https://a.example/?q=a\u00a0b\u2028c", "[x](https://a.example/?q=a%C2%A0b%E2%80%A8c)"},
		{"x", "HTTPS://A.example/", "[x](https://A.example/)"},
		// No link: the text alone, still escaped.
		{"x_y", "", `x\_y`},
		{"x", "javascript:alert(1)", "x"},
		{"x", "ftp://a.example/", "x"},
		{"x", "/relative/path", "x"},
		{"x", "https://trusted.example@phish.example/", "x"},
		{"x", "http://[::1]/", "x"},
		{"x", "https://a.example/\x00", "x"},
		{"x", long, "x"},
		{"", "https://a.example/", ""},
	} {
		if got := Link(tt.text, tt.link); got != tt.want {
			t.Errorf("Link(%q, %q)\n got %q\nwant %q", tt.text, tt.link, got, tt.want)
		}
	}
}

func TestFitLines(t *testing.T) {
	a, b, c, d := strings.Repeat("a", 10), strings.Repeat("b", 10), strings.Repeat("c", 10), strings.Repeat("d", 10)
	lines := []string{a, b, c, d}
	for _, tt := range []struct {
		limit int
		want  string
	}{
		{100, a + "\n" + b + "\n" + c + "\n" + d},
		{43, a + "\n" + b + "\n" + c + "\n" + d}, // exactly
		{42, a + "\n" + b + "\n… and 2 more"},
		{34, a + "\n" + b + "\n… and 2 more"},
		{33, a + "\n… and 3 more"},
		{22, "… and 4 more"},
		{0, "… and 4 more"},
	} {
		got := FitLines(lines, tt.limit)
		if got != tt.want {
			t.Errorf("FitLines(%d) = %q, want %q", tt.limit, got, tt.want)
		}
		if n := len([]rune(got)); n > max(tt.limit, len([]rune("… and 4 more"))) {
			t.Errorf("FitLines(%d) is %d characters", tt.limit, n)
		}
	}
	if got := FitLines(nil, 10); got != "" {
		t.Errorf("no lines: %q", got)
	}
}

func TestEscape(t *testing.T) {
	for in, want := range map[string]string{
		"plain words":           "plain words",
		"two\nlines  here":      "two lines here",
		"[fake](https://x.y)":   `\[fake\](https://x.y)`,
		"`code` *bold* _it_":    "\\`code\\` \\*bold\\* \\_it\\_",
		"> quote # heading | x": `\> quote \# heading \| x`,
		`back\slash ~strike~`:   `back\\slash \~strike\~`,
	} {
		if got := Escape(in); got != want {
			t.Errorf("Escape(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCodeBlock(t *testing.T) {
	got := CodeBlock("toml", "a\n```\nb")
	if strings.Count(got, "```") != 2 || !strings.HasPrefix(got, "```toml\n") || !strings.HasSuffix(got, "\n```") {
		t.Errorf("CodeBlock = %q: the text closes the fence", got)
	}
}
