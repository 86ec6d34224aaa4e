package dedup

import (
	"testing"
)

func TestNormalizeLink(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://example.com/a", "https://example.com/a"},
		{"  https://example.com/a  ", "https://example.com/a"},
		{"HTTPS://Example.COM/Path", "https://example.com/Path"}, // path case matters
		{"https://example.com", "https://example.com/"},
		{"https://example.com:443/a", "https://example.com/a"},
		{"http://example.com:80/a", "http://example.com/a"},
		{"http://example.com:8080/a", "http://example.com:8080/a"},
		{"https://example.com:80/a", "https://example.com:80/a"},
		{"https://example.com:/a", "https://example.com/a"},
		{"http://[::1]:80/a", "http://[::1]/a"},
		{"http://[::1]:8080/a", "http://[::1]:8080/a"},
		{"https://example.com/a#section-2", "https://example.com/a"},
		{"https://example.com/a#", "https://example.com/a"},
		{"https://example.com/a?", "https://example.com/a"},
		{"https://example.com/a?utm_source=rss&utm_medium=feed", "https://example.com/a"},
		{"https://example.com/a?UTM_Source=rss", "https://example.com/a"},
		{"https://example.com/a?id=7&utm_campaign=x", "https://example.com/a?id=7"},
		{"https://example.com/a?fbclid=abc&gclid=def&mc_cid=1&mc_eid=2&msclkid=3", "https://example.com/a"},
		{"https://example.com/a?b=2&a=1", "https://example.com/a?a=1&b=2"},
		{"https://example.com/a?b=2&a=1&a=0", "https://example.com/a?a=1&a=0&b=2"}, // repeated keys keep their order
		{"https://example.com/a?q=hello%20world&utm_x=1", "https://example.com/a?q=hello%20world"},
		{"https://example.com/a?&&x=1&&", "https://example.com/a?x=1"},
		{"https://example.com/a?utm_source=x#frag", "https://example.com/a"},
		{"https://user:pw@Example.com/a", "https://user:pw@example.com/a"},
		{"https://example.com/caf%C3%A9", "https://example.com/caf%C3%A9"},
		{"https://example.com/a/", "https://example.com/a/"}, // trailing slash kept: servers differ
		{"", ""},
		{"not a url", "not a url"},
		{"/relative/path", "/relative/path"},
		{"mailto:someone@example.com", "mailto:someone@example.com"},
		{"ftp://Example.com/x", "ftp://Example.com/x"},
		{"http://%zz", "http://%zz"},
	}
	for _, tt := range tests {
		if got := NormalizeLink(tt.in); got != tt.want {
			t.Errorf("NormalizeLink(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := NormalizeLink(tt.want); got != tt.want {
			t.Errorf("NormalizeLink(%q) (a normalized form) = %q", tt.want, got)
		}
	}
}

func TestTitleFingerprint(t *testing.T) {
	same := [][]string{
		{"Burns meets Naryshkin in Ankara", "burns  MEETS naryshkin\tin ankara", "  Burns meets\nNaryshkin in Ankara "},
		{"Straße", "STRASSE", "strasse"},          // full case folding
		{"Ｎａｒｙｓｈｋｉｎ", "Naryshkin"},                // full-width forms
		{"Нарышкин и Бернс", "НАРЫШКИН  И БЕРНС"}, // Cyrillic
		{"café", "cafe\u0301"},                    // composed and decomposed
		{"a\u00a0b", "a b"},                       // no-break space
	}
	for _, group := range same {
		want := TitleFingerprint(group[0])
		for _, s := range group[1:] {
			if got := TitleFingerprint(s); got != want {
				t.Errorf("TitleFingerprint(%q) = %q, want %q (as %q)", s, got, want, group[0])
			}
		}
	}
	if TitleFingerprint("Burns meets Naryshkin") == TitleFingerprint("Burns meets Naryshkin again") {
		t.Error("different titles share a fingerprint")
	}
	if got := TitleFingerprint(" \t\n "); got != "" {
		t.Errorf("blank title fingerprint %q", got)
	}
}

func FuzzNormalizeLink(f *testing.F) {
	for _, s := range []string{
		"https://example.com/a?utm_source=x&b=2&a=1#frag",
		"HTTP://EXAMPLE.COM:80",
		"http://[::1]:443/x?y",
		"https://example.com/%zz?%zz=1",
		"mailto:x@example.com",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		once := NormalizeLink(s)
		twice := NormalizeLink(once)
		if once != twice {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, once, twice)
		}
	})
}

func FuzzTitleFingerprint(f *testing.F) {
	for _, s := range []string{"Burns meets Naryshkin", "STRASSE ß", "Ｎａｒｙｓｈｋｉｎ", "\u0301a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		once := TitleFingerprint(s)
		if twice := TitleFingerprint(once); once != twice {
			t.Fatalf("not idempotent: %q -> %q -> %q", s, once, twice)
		}
	})
}
