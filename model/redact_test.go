package model

import (
	"net/url"
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		// The example: user info and an API key.
		{"http://alice:hunter2@host/feed.xml?api_key=SEKRET", "http://host/feed.xml?api_key=REDACTED"},
		{"https://TOKEN123@example.com/rss", "https://example.com/rss"},
		// Names: exact, by suffix, any case, '-' like '_'.
		{"https://h/rss?token=t1&page=2", "https://h/rss?token=REDACTED&page=2"},
		{"https://h/rss?Access_Token=t&X-Api-Key=k&apikey=a&KEY=b", "https://h/rss?Access_Token=REDACTED&X-Api-Key=REDACTED&apikey=REDACTED&KEY=REDACTED"},
		{"https://h/rss?secret=1&client_secret=2&password=3&passwd=4&pass=5&user_pass=6", "https://h/rss?secret=REDACTED&client_secret=REDACTED&password=REDACTED&passwd=REDACTED&pass=REDACTED&user_pass=REDACTED"},
		{"https://h/rss?auth=1&sig=2&signature=3&X-Amz-Signature=4&X-Amz-Credential=5&url_sig=6", "https://h/rss?auth=REDACTED&sig=REDACTED&signature=REDACTED&X-Amz-Signature=REDACTED&X-Amz-Credential=REDACTED&url_sig=REDACTED"},
		{"https://h/rss?authtoken=1&feedkey=2&sid=3&jwt=4", "https://h/rss?authtoken=REDACTED&feedkey=REDACTED&sid=REDACTED&jwt=REDACTED"},
		// Encoded names are recognised; other parameters keep their encoding.
		{"https://h/rss?q=a%20b&api%5Fkey=s&tag=%E2%9C%93", "https://h/rss?q=a%20b&api%5Fkey=REDACTED&tag=%E2%9C%93"},
		// Not secrets: the URL stays as it was.
		{"https://h/rss?category=world&lang=en&author=x&passage=1", "https://h/rss?category=world&lang=en&author=x&passage=1"},
		{"https://news.example.com/feed.xml", "https://news.example.com/feed.xml"},
		{"https://h/rss?flag&token", "https://h/rss?flag&token"},
		// A fragment that carries parameters (an OAuth implicit grant).
		{"https://h/rss#access_token=abc&x=1", "https://h/rss#access_token=REDACTED&x=1"},
		// Files have no user info; their query is redacted all the same.
		{"file:///srv/feeds/a.xml?token=x", "file:///srv/feeds/a.xml?token=REDACTED"},
		// net/url refuses it (bad port), yet nothing secret gets through.
		{"http://bob:pw@host:port/x?key=1", "http://host:port/x?key=REDACTED"},
		{"http://bob:pw@host:port", "http://host:port"},
		// Odd text net/url accepts but would re-spell comes back as it was.
		{"A://", "A://"},
		{"A:// @", "A://"},
		{"//@//@", "////@"},
	}
	for _, tt := range tests {
		if got := RedactURL(tt.in); got != tt.want {
			t.Errorf("RedactURL(%q)\n got %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestRedactURLsInText(t *testing.T) {
	in := `feeds: fetch http://alice:hunter2@h.example/f?api_key=SEKRET: Get "http://alice:hunter2@h.example/f?api_key=SEKRET": dial tcp: refused`
	got := RedactURLs(in)
	for _, secret := range []string{"hunter2", "SEKRET", "alice"} {
		if strings.Contains(got, secret) {
			t.Errorf("%q still holds %q", got, secret)
		}
	}
	want := `feeds: fetch http://h.example/f?api_key=REDACTED: Get "http://h.example/f?api_key=REDACTED": dial tcp: refused`
	if got != want {
		t.Errorf("RedactURLs\n got %q\nwant %q", got, want)
	}
	if plain := "no URL here: timed out after 20s"; RedactURLs(plain) != plain {
		t.Errorf("text without URLs changed: %q", RedactURLs(plain))
	}
}

func TestFeedRedactedURL(t *testing.T) {
	f := Feed{Name: "x", URL: "https://u:p@h/rss?token=1"}
	if got := f.RedactedURL(); got != "https://h/rss?token=REDACTED" {
		t.Errorf("RedactedURL = %q", got)
	}
}

func FuzzRedactURL(f *testing.F) {
	f.Add("http://alice:hunter2@host/feed.xml?api_key=SEKRET")
	f.Add("http://bob:pw@host:port/x?key=1#token=2")
	f.Add("%zz://a:b@c?token=1")
	f.Add("A:// @")
	f.Add("//@//@")
	f.Fuzz(func(t *testing.T, raw string) {
		got := RedactURL(raw)
		// Redacting is idempotent, and a secret parameter value never
		// survives it.
		if again := RedactURL(got); again != got {
			t.Fatalf("not idempotent: %q → %q → %q", raw, got, again)
		}
		if u, err := url.Parse(got); err == nil && u.User != nil {
			t.Fatalf("user info survives: %q → %q", raw, got)
		}
	})
}
