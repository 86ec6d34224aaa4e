package feeds

import (
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"github.com/backchannel/backchannel/model"
)

// fuzzSeeds are the committed seeds (testdata/fuzz/FuzzParse, written by
// go test -run TestFuzzSeeds -update) besides the golden documents.
var fuzzSeeds = []struct {
	name                             string
	body                             string
	title, desc, content, link, guid string
}{
	{"empty", "", "", "", "", "", ""},
	{"html-fields", `<rss><channel><item><title>&lt;b&gt;x</title></item></channel></rss>`,
		"<b>T</b>", "<p>a<script>x</script>b</p>", "<!-- c", "/rel?a=1#f", ""},
	{"bad-link", `<feed xmlns="http://www.w3.org/2005/Atom"><entry><link href="::"/></entry></feed>`,
		"", "", "", "javascript:alert(1)", "g"},
	{"json", `{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"1","url":"%zz"}]}`,
		"t", "", "long content", "http://[::1", " "},
	{"latin1", "<rss><channel><item><title>Caf\xe9</title></item></channel></rss>",
		"Caf\xe9", "\xff\xfe", "", "https://example.org/\xe9", "\x00"},
	{"future", `<rss><channel><item><pubDate>Fri, 01 Jan 2100 00:00:00 GMT</pubDate></item></channel></rss>`,
		"", "a < b & c", "<", "//host/path", "dup"},
}

func FuzzParse(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s.body), s.title, s.desc, s.content, s.link, s.guid)
	}
	for _, name := range []string{"rss2.xml", "atom.xml", "jsonfeed.json", "noguids.xml", "htmldesc.xml"} {
		if b, err := os.ReadFile(filepath.Join("testdata", name)); err == nil {
			f.Add(b, "", "", "", "", "")
		}
	}
	now := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	base, _ := url.Parse("https://fuzz.example.org/feed")
	f.Fuzz(func(t *testing.T, body []byte, title, desc, content, link, guid string) {
		// Whole documents: never panic, and every article is well formed.
		arts, err := Parse(body, "https://fuzz.example.org/feed", now)
		if err == nil {
			for _, a := range arts {
				checkArticle(t, a, now)
			}
		}
		// One item straight through the conversion, with hostile fields.
		past := now.Add(-time.Hour)
		future := now.Add(time.Hour)
		for _, pub := range []*time.Time{nil, &past, &future} {
			it := &gofeed.Item{Title: title, Description: desc, Content: content, Link: link, Links: []string{link, guid}, GUID: guid, PublishedParsed: pub}
			arts := []model.Article{convertItem(it, base, now, time.Time{}), convertItem(it, nil, now, time.Time{})}
			uniqueGUIDs(arts)
			for _, a := range arts {
				checkArticle(t, a, now)
			}
			// Converted as too old to alert, an item keeps every key.
			keysOnly := []model.Article{convertItem(it, base, now, now), convertItem(it, nil, now, now)}
			uniqueGUIDs(keysOnly)
			for i, a := range keysOnly {
				if full := arts[i]; a.GUID != full.GUID || a.Link != full.Link || a.Title != full.Title || !a.Published.Equal(full.Published) {
					t.Fatalf("keys of an old item converted without text differ:\n%+v\n%+v", a, full)
				}
			}
		}
	})
}

func checkArticle(t *testing.T, a model.Article, now time.Time) {
	t.Helper()
	if strings.TrimSpace(a.GUID) == "" {
		t.Fatalf("empty GUID: %+v", a)
	}
	if a.Published.After(now) {
		t.Fatalf("published in the future: %v", a.Published)
	}
	if a.Link != "" {
		u, err := url.Parse(a.Link)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			t.Fatalf("bad link %q", a.Link)
		}
	}
	for _, s := range []string{a.Title, a.Summary, a.Content} {
		if s != strings.TrimSpace(s) || strings.Contains(s, "  ") {
			t.Fatalf("white space not collapsed: %q", s)
		}
	}
}

// TestFuzzSeeds keeps the committed corpus in step with fuzzSeeds.
func TestFuzzSeeds(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzParse")
	for _, s := range fuzzSeeds {
		var b strings.Builder
		b.WriteString("go test fuzz v1\n")
		fmt.Fprintf(&b, "[]byte(%s)\n", strconv.Quote(s.body))
		for _, v := range []string{s.title, s.desc, s.content, s.link, s.guid} {
			fmt.Fprintf(&b, "string(%s)\n", strconv.Quote(v))
		}
		path := filepath.Join(dir, "seed-"+s.name)
		if *update {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		if got, err := os.ReadFile(path); err != nil || string(got) != b.String() {
			t.Errorf("%s missing or stale (run go test -run TestFuzzSeeds -update): %v", path, err)
		}
	}
}
