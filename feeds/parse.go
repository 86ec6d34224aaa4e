package feeds

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mmcdole/gofeed"
	"golang.org/x/text/encoding/charmap"

	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/plaintext"
)

// ErrNotFeed is returned (wrapped) when a body is not RSS, Atom or JSON Feed,
// typically an HTML page given instead of its feed.
var ErrNotFeed = errors.New("not an RSS, Atom or JSON feed")

// summaryRunes bounds (ellipsis included) a summary derived from the
// content when the item has no description of its own.
const summaryRunes = 500

// titleRunes bounds a title derived from the summary for items without one.
const titleRunes = 120

// Parse turns a feed document into articles. Title, Summary and Content are
// plain text (plaintext.FromHTML: tags removed, entities decoded, white
// space collapsed), so matching and alert rendering never see markup. Items
// without a GUID get one derived from the link or title; GUIDs repeated
// within the document are made unique; dates after now are clamped to now;
// relative links are resolved against feedURL and links that are not
// http(s) are dropped. FeedID and Feed are left for the caller to fill in.
func Parse(body []byte, feedURL string, now time.Time) ([]model.Article, error) {
	doc, err := parseDocument(body, feedURL, now, time.Time{})
	if err != nil {
		return nil, err
	}
	return doc.articles, nil
}

type document struct {
	title    string
	articles []model.Article
}

// parseDocument parses a feed document. Items dated before textSince (when
// it is not zero) that have a title come without Summary and Content: they
// cannot alert (model.Article.CanAlert), so the store keeps only their keys,
// which are made of GUID, link and title; converting their text was a third
// of converting a first fetch (most of a back catalogue is old).
func parseDocument(body []byte, feedURL string, now, textSince time.Time) (document, error) {
	body = fixEncoding(body)
	parser := gofeed.NewParser()
	// The image scan runs a full HTML parse of every item's description and
	// content, about a fifth of gofeed's time, for images we never show.
	parser.RSSTranslator = &gofeed.DefaultRSSTranslator{DisableContentImageScan: true}
	feed, err := parser.Parse(bytes.NewReader(body))
	if err != nil {
		if errors.Is(err, gofeed.ErrFeedTypeNotDetected) {
			if looksLikeHTML(body) {
				return document{}, fmt.Errorf("feeds: parse %s: %w: got an HTML page", model.RedactURL(feedURL), ErrNotFeed)
			}
			return document{}, fmt.Errorf("feeds: parse %s: %w", model.RedactURL(feedURL), ErrNotFeed)
		}
		return document{}, fmt.Errorf("feeds: parse %s: malformed feed: %w", model.RedactURL(feedURL), err)
	}
	// gofeed takes any JSON object for a JSON Feed; a real one says so in
	// its version (https://jsonfeed.org/version/1.1).
	if feed.FeedType == "json" && !strings.HasPrefix(feed.FeedVersion, "https://jsonfeed.org/version/") {
		return document{}, fmt.Errorf("feeds: parse %s: %w: JSON without a JSON Feed version", model.RedactURL(feedURL), ErrNotFeed)
	}
	base, _ := url.Parse(feedURL)
	if base != nil && !base.IsAbs() {
		base = nil
	}
	doc := document{title: plaintext.FromHTML(feed.Title), articles: make([]model.Article, 0, len(feed.Items))}
	for _, it := range feed.Items {
		if it == nil {
			continue
		}
		doc.articles = append(doc.articles, convertItem(it, base, now, textSince))
	}
	uniqueGUIDs(doc.articles)
	return doc, nil
}

// fixEncoding handles bodies that are not valid UTF-8 and do not declare
// another encoding (which gofeed would honour): a wrong or missing charset.
// Such bodies are nearly always Windows-1252 or its subset ISO-8859-1, so they
// are decoded as such rather than rejected.
func fixEncoding(body []byte) []byte {
	if utf8.Valid(body) {
		return body
	}
	switch declaredEncoding(body) {
	case "", "utf-8", "utf8":
	default:
		return body
	}
	out, err := charmap.Windows1252.NewDecoder().Bytes(body)
	if err != nil {
		return body
	}
	return out
}

func looksLikeHTML(body []byte) bool {
	head := body[:min(len(body), 1024)]
	head = bytes.ToLower(head)
	return bytes.Contains(head, []byte("<!doctype html")) || bytes.Contains(head, []byte("<html"))
}

func convertItem(it *gofeed.Item, base *url.URL, now, textSince time.Time) model.Article {
	a := model.Article{
		Title:   plaintext.FromHTML(it.Title),
		Link:    resolveLink(base, it.Link, it.Links),
		Fetched: now,
	}
	a.Published = published(it, now)
	if a.Title == "" || a.Published.IsZero() || !a.Published.Before(textSince) {
		a.Summary = plaintext.FromHTML(it.Description)
		a.Content = plaintext.FromHTML(it.Content)
	}
	if a.Summary == "" && a.Content != "" {
		a.Summary = plaintext.Truncate(a.Content, summaryRunes)
	}
	if a.Title == "" {
		// Title-less items exist (RSS 2.0 allows them, microblogs use
		// them); alerts and /latest need something to show.
		a.Title = plaintext.Truncate(a.Summary, titleRunes)
	}
	if a.Summary == a.Content {
		// Many feeds repeat the description as content; one copy is enough.
		a.Content = ""
	}
	a.GUID = strings.TrimSpace(it.GUID)
	if a.GUID == "" {
		a.GUID = derivedGUID(a)
	}
	return a
}

// published is the item's date, UTC, never after now: a date in the future
// is a mistake (or a time zone error) and would keep the item at the top of
// every "latest" list.
func published(it *gofeed.Item, now time.Time) time.Time {
	var t time.Time
	switch {
	case it.PublishedParsed != nil:
		t = *it.PublishedParsed
	case it.UpdatedParsed != nil:
		t = *it.UpdatedParsed
	}
	if t.After(now) {
		t = now
	}
	if !t.IsZero() {
		t = t.UTC()
	}
	return t
}

// derivedGUID identifies an item that has no GUID: by its link when it has
// one, else by a hash of its text, so the same item gets the same GUID on
// every fetch.
func derivedGUID(a model.Article) string {
	if a.Link != "" {
		return a.Link
	}
	text := a.Title
	if text == "" {
		text = a.Summary + "\n" + a.Content
	}
	sum := sha256.Sum256([]byte(text))
	return "sha256:" + hex.EncodeToString(sum[:16])
}

// uniqueGUIDs gives every item that shares its GUID with another item of the
// same document a GUID qualified by its link or text. All sharers change,
// not only the later ones, so the result does not depend on item order.
// (Without this, a feed that repeats one GUID for every item would have all
// but one item dropped as duplicates by the store.)
func uniqueGUIDs(arts []model.Article) {
	if len(arts) < 2 {
		return
	}
	seen := make(map[string]int, len(arts))
	for _, a := range arts {
		seen[a.GUID]++
	}
	for i := range arts {
		if seen[arts[i].GUID] > 1 {
			d := arts[i]
			d.GUID = ""
			link := d.Link
			d.Link = ""
			sum := sha256.Sum256([]byte(link + "\n" + derivedGUID(d)))
			arts[i].GUID = arts[i].GUID + "#" + hex.EncodeToString(sum[:8])
		}
	}
}

// resolveLink returns the item's link made absolute against base, or "" if
// it is not http(s): a javascript: or data: link must never reach an embed.
func resolveLink(base *url.URL, link string, links []string) string {
	link = strings.TrimSpace(link)
	if link == "" {
		for _, l := range links {
			if l = strings.TrimSpace(l); l != "" {
				link = l
				break
			}
		}
	}
	if link == "" {
		return ""
	}
	u, err := url.Parse(link)
	if err != nil {
		return ""
	}
	abs := u.IsAbs()
	if !abs {
		if base == nil {
			return ""
		}
		u = base.ResolveReference(u)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
	default:
		return ""
	}
	if u.Host == "" {
		return ""
	}
	if abs && !strings.ContainsAny(link, " \t") {
		return link // already absolute and clean: no need to rebuild it
	}
	return u.String()
}
