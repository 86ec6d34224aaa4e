package feeds

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata/")

// parseNow is the clock for golden tests: after every real date in the
// fixtures, before the "future" one.
var parseNow = time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

func TestParseGolden(t *testing.T) {
	for _, tc := range []struct{ file, url string }{
		{"rss2.xml", "https://news.example.org/rss"},
		{"atom.xml", "https://press.example.org/atom.xml"},
		{"jsonfeed.json", "https://wire.example.org/feed.json"},
		{"nodates.xml", "https://nodates.example.org/rss"},
		{"futuredates.xml", "https://future.example.org/rss"},
		{"noguids.xml", "https://noguid.example.org/rss"},
		{"htmldesc.xml", "https://html.example.org/rss"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			body, err := os.ReadFile(filepath.Join("testdata", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			arts, err := Parse(body, tc.url, parseNow)
			if err != nil {
				t.Fatal(err)
			}
			got, err := json.MarshalIndent(arts, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := filepath.Join("testdata", strings.TrimSuffix(tc.file, filepath.Ext(tc.file))+".golden.json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -run TestParseGolden -update)", err)
			}
			if string(got) != string(want) {
				t.Fatalf("%s differs from golden:\n%s", tc.file, got)
			}
			for _, a := range arts {
				if a.GUID == "" || !a.Fetched.Equal(parseNow) || a.Published.After(parseNow) {
					t.Errorf("bad article %+v", a)
				}
			}
		})
	}
}

func TestParseGUIDsStable(t *testing.T) {
	body, err := os.ReadFile("testdata/noguids.xml")
	if err != nil {
		t.Fatal(err)
	}
	a, _ := Parse(body, "https://noguid.example.org/rss", parseNow)
	b, _ := Parse(body, "https://noguid.example.org/rss", parseNow.Add(time.Hour))
	seen := map[string]bool{}
	for i := range a {
		if a[i].GUID != b[i].GUID {
			t.Errorf("item %d: GUID changed between fetches: %q, %q", i, a[i].GUID, b[i].GUID)
		}
		if seen[a[i].GUID] {
			t.Errorf("item %d: GUID %q not unique", i, a[i].GUID)
		}
		seen[a[i].GUID] = true
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		notFeed    bool
		contains   string
	}{
		{"html page", "@page.html", true, "HTML page"},
		{"malformed xml", "@malformed.xml", false, "malformed feed"},
		{"empty", "", true, "not an RSS"},
		{"plain text", "hello, world", true, "not an RSS"},
		{"unknown xml root", `<?xml version="1.0"?><svg></svg>`, true, "not an RSS"},
		{"broken json", `{"version": "https://jsonfeed.org/version/1", "items": [`, false, "malformed feed"},
		{"json that is not a feed", `{"status": "ok", "data": [1, 2, 3]}`, true, "JSON without a JSON Feed version"},
		{"empty json object", `{}`, true, "JSON without a JSON Feed version"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := []byte(tc.body)
			if name, ok := strings.CutPrefix(tc.body, "@"); ok {
				var err error
				if body, err = os.ReadFile(filepath.Join("testdata", name)); err != nil {
					t.Fatal(err)
				}
			}
			_, err := Parse(body, "https://bad.example.org/feed", parseNow)
			if err == nil || errors.Is(err, ErrNotFeed) != tc.notFeed ||
				!strings.Contains(err.Error(), tc.contains) || !strings.Contains(err.Error(), "https://bad.example.org/feed") {
				t.Fatalf("got %v", err)
			}
		})
	}
}

func TestResolveLink(t *testing.T) {
	base := mustURL(t, "https://example.org/news/feed.xml")
	for _, tc := range []struct {
		link  string
		links []string
		want  string
	}{
		{"https://other.org/a", nil, "https://other.org/a"},
		{"/a/b", nil, "https://example.org/a/b"},
		{"story.html", nil, "https://example.org/news/story.html"},
		{"//cdn.example.org/x", nil, "https://cdn.example.org/x"},
		{"", []string{"", "https://example.org/alt"}, "https://example.org/alt"},
		{"javascript:alert(1)", nil, ""},
		{"data:text/html,hi", nil, ""},
		{"mailto:a@b", nil, ""},
		{"http://[::1", nil, ""},
		{"  https://example.org/space  ", nil, "https://example.org/space"},
		{"https://example.org/a b", nil, "https://example.org/a%20b"},
	} {
		if got := resolveLink(base, tc.link, tc.links); got != tc.want {
			t.Errorf("%q: got %q, want %q", tc.link, got, tc.want)
		}
	}
	if got := resolveLink(nil, "/relative", nil); got != "" {
		t.Errorf("no base: got %q", got)
	}
}

// TestParseTextSince: items dated before textSince that have a title come
// without their text (they can only be stored as keys); a title-less one
// keeps it, for the title it lends, and newer or undated items keep theirs.
func TestParseTextSince(t *testing.T) {
	body := []byte(`<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
<item><title>Old news</title><link>https://n.example/old</link><description>&lt;p&gt;Old text&lt;/p&gt;</description><pubDate>Mon, 02 Jan 2006 15:04:05 +0000</pubDate></item>
<item><link>https://n.example/untitled</link><description>Untitled old text</description><pubDate>Mon, 02 Jan 2006 15:04:05 +0000</pubDate></item>
<item><title>Fresh news</title><link>https://n.example/fresh</link><description>Fresh text</description><pubDate>Sat, 31 May 2025 23:00:00 +0000</pubDate></item>
<item><title>Undated news</title><link>https://n.example/undated</link><description>Undated text</description></item>
</channel></rss>`)
	since := parseNow.Add(-24 * time.Hour)
	doc, err := parseDocument(body, "https://n.example/rss", parseNow, since)
	if err != nil {
		t.Fatal(err)
	}
	full, err := Parse(body, "https://n.example/rss", parseNow)
	if err != nil {
		t.Fatal(err)
	}
	wantText := []bool{false, true, true, true}
	if len(doc.articles) != len(wantText) || len(full) != len(wantText) {
		t.Fatalf("got %d and %d articles, want %d", len(doc.articles), len(full), len(wantText))
	}
	for i, a := range doc.articles {
		f := full[i]
		if a.GUID != f.GUID || a.Link != f.Link || a.Title != f.Title || !a.Published.Equal(f.Published) {
			t.Errorf("item %d: keys %q %q %q differ from the full parse's %q %q %q", i, a.GUID, a.Link, a.Title, f.GUID, f.Link, f.Title)
		}
		if hasText := a.Summary != ""; hasText != wantText[i] {
			t.Errorf("item %d (%q): summary %q, want text %v", i, a.Title, a.Summary, wantText[i])
		}
		if wantText[i] && a.Summary != f.Summary {
			t.Errorf("item %d: summary %q, want %q", i, a.Summary, f.Summary)
		}
	}
}
