package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/backchannel/backchannel/model"
)

// mustFeed adds a feed and returns its id.
func mustFeed(tb testing.TB, db *DB, name string) int64 {
	tb.Helper()
	f, err := db.AddFeed(context.Background(), model.Feed{Name: name, URL: "https://" + name + ".example/feed"})
	if err != nil {
		tb.Fatal(err)
	}
	return f.ID
}

func mustStore(tb testing.TB, db *DB, feedID int64, items ...model.Article) []model.Article {
	tb.Helper()
	out, err := db.StoreArticles(context.Background(), feedID, items)
	if err != nil {
		tb.Fatalf("StoreArticles: %v", err)
	}
	return out
}

func titles(as []model.Article) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Title)
	}
	return out
}

func art(guid, link, title string) model.Article {
	return model.Article{GUID: guid, Link: link, Title: title, Summary: "summary of " + title}
}

func TestStoreArticlesNewOnes(t *testing.T) {
	db := MustOpen(t)
	clock := newClock(db)
	feed := mustFeed(t, db, "wire")
	pub := epoch.Add(-time.Hour)
	in := []model.Article{
		{GUID: "1", Link: "https://news.example/1", Title: "One", Published: pub, Content: "body"},
		{GUID: "2", Link: "https://news.example/2", Title: "Two"},
	}
	got := mustStore(t, db, feed, in...)
	if len(got) != 2 {
		t.Fatalf("stored %v, want both", titles(got))
	}
	for i, a := range got {
		if a.ID == 0 || a.FeedID != feed || a.Feed != "wire" || !a.Fetched.Equal(clock.now()) {
			t.Errorf("article %d: %+v", i, a)
		}
		if a.Title != in[i].Title || a.Content != in[i].Content || !a.Published.Equal(in[i].Published) {
			t.Errorf("article %d changed: %+v", i, a)
		}
	}
	// The same batch again: nothing new, and the writer is not needed.
	if again := mustStore(t, db, feed, in...); len(again) != 0 {
		t.Fatalf("re-fetch stored %v", titles(again))
	}
	feeds, _ := db.Feeds(context.Background())
	if feeds[0].State.ItemsSeen != 2 {
		t.Errorf("items seen %d, want 2", feeds[0].State.ItemsSeen)
	}
}

func TestStoreArticlesDedup(t *testing.T) {
	base := art("g1", "https://news.example/story?id=1", "Burns meets Naryshkin in Ankara")
	tests := []struct {
		name string
		next model.Article
		new  bool
	}{
		{"same guid, everything else changed but title", art("g1", "https://other.example/x", "Burns meets Naryshkin in Ankara"), false},
		{"same guid, same link", art("g1", "https://news.example/story?id=1", "A new headline"), false},
		{"same guid only (no link or title to compare)", art("g1", "", ""), false},
		{"new guid, same link", art("g2", "https://news.example/story?id=1", "Other"), false},
		{"link differs in fragment", art("g3", "https://news.example/story?id=1#comments", "Other"), false},
		{"link differs in utm", art("g4", "https://news.example/story?utm_source=rss&id=1&utm_medium=x", "Other"), false},
		{"link differs in host case and port", art("g5", "HTTPS://NEWS.example:443/story?id=1", "Other"), false},
		{"same title, other case and spaces", art("g6", "https://mirror.example/copy", "  BURNS meets\tnaryshkin  IN ankara "), false},
		{"no guid, same title", art("", "https://mirror.example/copy2", "burns meets naryshkin in ankara"), false},
		{"different story", art("g7", "https://news.example/story?id=2", "Burns meets Naryshkin in Cairo"), true},
		{"same guid reused for a different story", art("g1", "https://news.example/story?id=3", "Something else entirely"), true},
		{"no keys at all", art("", "", ""), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := MustOpen(t)
			feed := mustFeed(t, db, "wire")
			if got := mustStore(t, db, feed, base); len(got) != 1 {
				t.Fatal("base not stored")
			}
			got := mustStore(t, db, feed, tt.next)
			if (len(got) == 1) != tt.new {
				t.Fatalf("stored %v, want new=%v", titles(got), tt.new)
			}
		})
	}
}

func TestStoreArticlesAcrossFeeds(t *testing.T) {
	db := MustOpen(t)
	a, b := mustFeed(t, db, "a"), mustFeed(t, db, "b")
	mustStore(t, db, a, art("1", "https://x.example/s", "Story"))
	// Same GUID in another feed is another item...
	if got := mustStore(t, db, b, art("1", "https://y.example/t", "Other story")); len(got) != 1 {
		t.Fatalf("same guid in another feed: %v", titles(got))
	}
	// ...but the same link or title anywhere is the same story.
	if got := mustStore(t, db, b, art("9", "https://x.example/s?utm_source=b", "Syndicated")); len(got) != 0 {
		t.Fatalf("same link in another feed: %v", titles(got))
	}
	if got := mustStore(t, db, b, art("10", "https://y.example/u", "STORY")); len(got) != 0 {
		t.Fatalf("same title in another feed: %v", titles(got))
	}
}

func TestStoreArticlesWithinBatch(t *testing.T) {
	db := MustOpen(t)
	feed := mustFeed(t, db, "wire")
	got := mustStore(t, db, feed,
		art("1", "https://x.example/a", "A"),
		art("2", "https://x.example/a#dup", "A again"),
		art("3", "https://x.example/b", "a"),
		art("4", "https://x.example/c", "C"),
	)
	if fmt.Sprint(titles(got)) != "[A C]" {
		t.Fatalf("stored %v, want [A C]", titles(got))
	}
}

// A feed that puts a fresh GUID on every item at every fetch.
func TestStoreArticlesChangingGUIDFeed(t *testing.T) {
	db := MustOpen(t)
	feed := mustFeed(t, db, "churn")
	fetch := func(n int) []model.Article {
		var items []model.Article
		for i := range 5 {
			items = append(items, art(fmt.Sprintf("fetch%d-item%d", n, i),
				fmt.Sprintf("https://churn.example/%d", i), fmt.Sprintf("Churn story %d", i)))
		}
		return items
	}
	if got := mustStore(t, db, feed, fetch(1)...); len(got) != 5 {
		t.Fatalf("first fetch stored %d", len(got))
	}
	for n := 2; n < 6; n++ {
		if got := mustStore(t, db, feed, fetch(n)...); len(got) != 0 {
			t.Fatalf("fetch %d stored %v", n, titles(got))
		}
	}
}

// A feed that gives every item the same GUID.
func TestStoreArticlesRepeatedGUIDFeed(t *testing.T) {
	db := MustOpen(t)
	feed := mustFeed(t, db, "lazy")
	item := func(i int) model.Article {
		return art("same-guid", fmt.Sprintf("https://lazy.example/%d", i), fmt.Sprintf("Lazy story %d", i))
	}
	// All distinct items of one fetch are kept...
	if got := mustStore(t, db, feed, item(1), item(2), item(3)); len(got) != 3 {
		t.Fatalf("first fetch stored %v", titles(got))
	}
	// ...a re-fetch repeats none...
	if got := mustStore(t, db, feed, item(3), item(2), item(1)); len(got) != 0 {
		t.Fatalf("re-fetch stored %v", titles(got))
	}
	// ...and a later fetch with one new item (still the same GUID) keeps it.
	if got := mustStore(t, db, feed, item(4), item(3), item(2)); len(got) != 1 || got[0].Title != "Lazy story 4" {
		t.Fatalf("next fetch stored %v", titles(got))
	}
	// A feed whose items have no link and one GUID is keyed on titles.
	if got := mustStore(t, db, feed, art("same-guid", "", "Linkless 1"), art("same-guid", "", "Linkless 2")); len(got) != 2 {
		t.Fatalf("linkless items stored %v", titles(got))
	}
	if got := mustStore(t, db, feed, art("same-guid", "", "Linkless 2")); len(got) != 0 {
		t.Fatalf("linkless repeat stored %v", titles(got))
	}
}

// The schema refuses duplicates even when the code's check is bypassed.
func TestArticleUniqueKeys(t *testing.T) {
	db := MustOpen(t)
	feed := mustFeed(t, db, "wire")
	mustStore(t, db, feed, art("g", "https://x.example/a", "Title"))
	for _, key := range []int64{
		guidKeyOf(feed, "g"),
		keyOf(linkKind, NormalizeLink("https://x.example/a")),
		keyOf(titleKind, TitleFingerprint("title")),
	} {
		_, err := db.writer.Exec(`INSERT INTO seen_keys (key, article_id, day) VALUES (?, 99, 1)`, key)
		if !isUnique(err) {
			t.Errorf("insert %x: %v, want a unique violation", key, err)
		}
	}
}

// TestInsertKeyRowsAllOrNothing: an article one of whose keys is taken
// leaves none of its keys behind.
func TestInsertKeyRowsAllOrNothing(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	feed := mustFeed(t, db, "wire")
	mustStore(t, db, feed, art("g", "https://x.example/a", "Title"))
	for _, tc := range []struct {
		name string
		a    model.Article
		ok   bool
	}{
		{"title taken", art("new", "https://x.example/new", "Title"), false},
		{"link taken", art("new", "https://x.example/a#frag", "New title"), false},
		{"GUID taken", art("g", "https://x.example/new", "New title"), false},
		{"all new", art("new", "https://x.example/new", "New title"), true},
	} {
		k := keysOf(feed, tc.a)
		tc.a.ID, tc.a.Fetched = 1000, time.Now()
		var ok bool
		err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) (err error) {
			ok, err = insertKeyRows(ctx, tx, tx.StmtContext(ctx, db.stmts.insertKeys), k, tc.a)
			return err
		})
		if err != nil || ok != tc.ok {
			t.Fatalf("%s: inserted %v, %v; want %v", tc.name, ok, err, tc.ok)
		}
		var n int
		if err := db.reader.QueryRow(`SELECT count(*) FROM seen_keys WHERE article_id = 1000`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{false: 0, true: 3}[tc.ok]; n != want {
			t.Errorf("%s: %d keys of the article stored, want %d", tc.name, n, want)
		}
	}
}

func TestStoreArticlesUnknownFeed(t *testing.T) {
	db := MustOpen(t)
	_, err := db.StoreArticles(context.Background(), 42, []model.Article{art("1", "https://x.example", "X")})
	if !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("unknown feed: %v", err)
	}
}

func TestArticlesSurviveFeedRemoval(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	feed := mustFeed(t, db, "wire")
	mustStore(t, db, feed, art("1", "https://x.example/a", "A"))
	if _, err := db.RemoveFeed(ctx, "wire"); err != nil {
		t.Fatal(err)
	}
	feed = mustFeed(t, db, "wire")
	if got := mustStore(t, db, feed, art("1", "https://x.example/a", "A")); len(got) != 0 {
		t.Fatalf("re-added feed stored its old items again: %v", titles(got))
	}
	if n, _ := db.ArticleCount(ctx); n != 1 {
		t.Fatalf("%d articles", n)
	}
}

// TestJudge is the GUID-contradiction rule of the comment at the top of
// articles.go, case by case.
func TestJudge(t *testing.T) {
	const (
		guid, link, title = 1, 2, 3 // the item's keys
		otherLink         = 20      // keys of the stored article with its GUID
		otherTitle        = 30
	)
	all := articleKeys{guid: guid, link: link, title: title}
	stored := func(link, title int64) *articleKeys { return &articleKeys{link: link, title: title} }
	for _, tc := range []struct {
		name string
		k    articleKeys
		h    held
		want verdict
	}{
		{"no key at all", articleKeys{}, held{}, isKeyless},
		{"nothing known", all, held{}, isNew},
		{"link taken", all, held{link: true}, isRepeat},
		{"title taken", all, held{title: true}, isRepeat},
		{"link taken, GUID reused", all, held{link: true, sameGUID: stored(otherLink, otherTitle)}, isRepeat},
		{"GUID of an article with other link and title", all, held{sameGUID: stored(otherLink, otherTitle)}, isNewDropGUID},
		{"GUID of an article with another link, no title", all, held{sameGUID: stored(otherLink, 0)}, isNewDropGUID},
		{"GUID of an article with another title, no link", all, held{sameGUID: stored(0, otherTitle)}, isNewDropGUID},
		{"GUID of an article with no link or title", all, held{sameGUID: stored(0, 0)}, isRepeat},
		{"GUID only, known", articleKeys{guid: guid}, held{sameGUID: stored(otherLink, otherTitle)}, isRepeat},
		{"GUID and link; stored has only a title", articleKeys{guid: guid, link: link}, held{sameGUID: stored(0, otherTitle)}, isRepeat},
		{"GUID and title; stored has only a link", articleKeys{guid: guid, title: title}, held{sameGUID: stored(otherLink, 0)}, isRepeat},
		{"GUID and link; stored has another link", articleKeys{guid: guid, link: link}, held{sameGUID: stored(otherLink, 0)}, isNewDropGUID},
		{"GUID only, unknown", articleKeys{guid: guid}, held{}, isNew},
		{"no GUID, nothing known", articleKeys{link: link}, held{}, isNew},
		{"no GUID, title taken", articleKeys{title: title}, held{title: true}, isRepeat},
	} {
		got := judge(tc.k, tc.h)
		if got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
		if got.stores() != (tc.want == isNew || tc.want == isNewDropGUID) {
			t.Errorf("%s: stores() = %v", tc.name, got.stores())
		}
	}
}

// TestStoreArticlesKeysOnly: an article that cannot alert is stored as its
// keys: known from then on, with no text row and nothing to dispatch.
func TestStoreArticlesKeysOnly(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	newClock(db)
	feed := mustFeed(t, db, "wire")
	old := art("old-1", "https://news.example/old", "An old story")
	old.KeysOnly = true
	got := mustStore(t, db, feed, old, art("new-1", "https://news.example/new", "A new story"))
	if len(got) != 2 || got[0].ID == 0 || !got[0].KeysOnly || got[1].KeysOnly {
		t.Fatalf("stored %+v", got)
	}
	var keys, texts int
	if err := db.reader.QueryRowContext(ctx, `SELECT count(*) FROM seen_keys WHERE article_id = ?`, got[0].ID).Scan(&keys); err != nil {
		t.Fatal(err)
	}
	if err := db.reader.QueryRowContext(ctx, `SELECT count(*) FROM articles WHERE id = ?`, got[0].ID).Scan(&texts); err != nil {
		t.Fatal(err)
	}
	if keys != 3 || texts != 0 {
		t.Fatalf("keys-only article: %d key rows, %d text rows; want 3, 0", keys, texts)
	}
	// Known by every key, from this feed or another.
	again := art("old-1", "https://news.example/old", "An old story")
	copied := art("", "https://news.example/old", "")
	other := mustFeed(t, db, "other")
	if n := len(mustStore(t, db, feed, again)) + len(mustStore(t, db, other, copied)); n != 0 {
		t.Fatalf("a keys-only article came back as new %d times", n)
	}
	undispatched, err := db.UndispatchedArticles(ctx, 0, epoch.Add(time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(undispatched) != 1 || undispatched[0].ID != got[1].ID {
		t.Fatalf("undispatched %+v, want only the article with text", undispatched)
	}
}
