package db

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/backchannel/backchannel/dispatch"
	"github.com/backchannel/backchannel/model"
	"github.com/backchannel/backchannel/rules"
)

var testRetention = Retention{Text: 72 * time.Hour, Keys: 30 * 24 * time.Hour, UndatedKeys: 365 * 24 * time.Hour}

// articleRow is what retention leaves of an article.
type articleRow struct {
	text  bool   // its articles row exists
	title string // its title, when it does
	keys  int    // how many of its three keys are known
}

func readArticle(t *testing.T, db *DB, id int64) articleRow {
	t.Helper()
	var r articleRow
	if err := db.reader.QueryRow(`SELECT title FROM articles WHERE id = ?`, id).Scan(&r.title); err == nil {
		r.text = true
	}
	if err := db.reader.QueryRow(`SELECT count(*) FROM seen_keys WHERE article_id = ?`, id).Scan(&r.keys); err != nil {
		t.Fatal(err)
	}
	return r
}

func mustPrune(t *testing.T, db *DB, r Retention) PruneStats {
	t.Helper()
	st, err := db.Prune(context.Background(), r)
	if err != nil {
		t.Fatalf("Prune: %v", err)
	}
	return st
}

// TestPrune walks articles of every kind through the windows: text goes
// first, keys later (undated ones much later), and what alerted, is in a
// story or is undispatched is never touched.
func TestPrune(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	clock := newClock(db)
	feed := mustFeed(t, db, "wire")
	pub := epoch.Add(-time.Hour)
	item := func(name string, dated bool) model.Article {
		a := art("g-"+name, "https://news.example/"+name, "Story "+name)
		if dated {
			a.Published = pub
		}
		return a
	}
	stored := mustStore(t, db, feed, item("plain", true), item("undated", false), item("alerted", true),
		item("undispatched", true), item("storied", true))
	if len(stored) != 5 {
		t.Fatalf("stored %d articles, want 5", len(stored))
	}
	plain, undated, alerted, undispatched, storied := stored[0], stored[1], stored[2], stored[3], stored[4]
	mustAlertFor(t, db, "g1", alerted, []model.ActorHit{naryshkin}, "c1")
	if _, err := db.writer.ExecContext(ctx, `INSERT INTO article_stories (article_id, story) VALUES (?, 's1')`, storied.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.MarkDispatched(ctx, []int64{plain.ID, undated.ID, alerted.ID, storied.ID}); err != nil {
		t.Fatal(err)
	}
	full := func(a model.Article) articleRow {
		return articleRow{text: true, title: a.Title, keys: 3}
	}
	stripped := articleRow{keys: 3}
	gone := articleRow{}

	steps := []struct {
		name                               string
		advance                            time.Duration
		plain, undated, kept               articleRow
		wantStripped, wantKeys, reserveNew int
	}{
		{"inside every window", 71 * time.Hour, full(plain), full(undated), articleRow{}, 0, 0, 0},
		{"text window over", 2 * time.Hour, stripped, stripped, articleRow{}, 2, 0, 0},
		{"nothing new", time.Hour, stripped, stripped, articleRow{}, 0, 0, 0},
		{"key window over", 30 * 24 * time.Hour, gone, stripped, articleRow{}, 0, 3, 1},
		{"undated key window over", 365 * 24 * time.Hour, gone, gone, articleRow{}, 0, 3, 2},
	}
	for _, s := range steps {
		clock.advance(s.advance)
		st := mustPrune(t, db, testRetention)
		if st.Stripped != s.wantStripped || st.Keys != s.wantKeys {
			t.Errorf("%s: stripped %d, deleted %d keys; want %d, %d", s.name, st.Stripped, st.Keys, s.wantStripped, s.wantKeys)
		}
		if got := readArticle(t, db, plain.ID); got != s.plain {
			t.Errorf("%s: dated article %+v, want %+v", s.name, got, s.plain)
		}
		if got := readArticle(t, db, undated.ID); got != s.undated {
			t.Errorf("%s: undated article %+v, want %+v", s.name, got, s.undated)
		}
		for _, a := range []model.Article{alerted, undispatched, storied} {
			if got := readArticle(t, db, a.ID); got != full(a) {
				t.Errorf("%s: %s pruned: %+v", s.name, a.Title, got)
			}
		}
		// The keys are what recognises a re-served item: while they are
		// kept, the feed serving every item again stores none.
		again, err := db.StoreArticles(ctx, feed, []model.Article{item("plain", true), item("undated", false)})
		if err != nil {
			t.Fatal(err)
		}
		if len(again) != s.reserveNew {
			t.Errorf("%s: re-served items stored again: %v, want %d", s.name, titles(again), s.reserveNew)
		}
		// Put the state back as it was before the re-serve.
		for _, a := range again {
			for _, q := range []string{`DELETE FROM articles WHERE id = ?`, `DELETE FROM seen_keys WHERE article_id = ?`} {
				if _, err := db.writer.ExecContext(ctx, q, a.ID); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	if got, _ := db.Alert(ctx, "g1", 1); got.Article.Title != alerted.Title {
		t.Errorf("alert's article after pruning: %+v", got.Article)
	}
}

// TestPruneWindowsRefused: a zero window would delete what was just
// stored, and a key window shorter than the text window would never
// delete the keys it passed over.
func TestPruneWindowsRefused(t *testing.T) {
	db := MustOpen(t)
	for _, r := range []Retention{{}, {Text: time.Hour}, {Text: time.Hour, Keys: time.Hour, UndatedKeys: -1},
		{Text: time.Hour, Keys: time.Minute}, {Text: time.Hour, Keys: time.Hour, UndatedKeys: time.Minute}} {
		if _, err := db.Prune(context.Background(), r); err == nil {
			t.Errorf("Prune(%+v) accepted", r)
		}
	}
}

// TestPrunedItemDoesNotAlertAgain re-serves an item whose keys were pruned
// through the real dispatcher: it is stored as new, and does not alert,
// because it was published longer ago than poll.max_age, which the key
// window is far above.
func TestPrunedItemDoesNotAlertAgain(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	clock := newClock(db)
	feed := mustFeed(t, db, "wire")
	if _, err := db.Subscribe(ctx, model.Subscription{GuildID: "g1", ChannelID: "c1"}); err != nil {
		t.Fatal(err)
	}
	set, err := rules.Compile(rules.Spec{Rules: []model.RuleSpec{{Name: "spies", Keywords: []string{`naryshkin`}}}})
	if err != nil {
		t.Fatal(err)
	}
	const maxAge = 48 * time.Hour
	d := dispatch.New(db, fixedSets{set}, dispatch.Options{MaxAge: maxAge, Now: clock.now})
	item := model.Article{GUID: "n1", Link: "https://news.example/naryshkin", Title: "Naryshkin meets Burns",
		Published: clock.now().Add(-time.Hour)}
	poll := func() []model.Article {
		t.Helper()
		got, err := db.StoreArticles(ctx, feed, []model.Article{item})
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Dispatch(ctx, model.Feed{ID: feed, Name: "wire"}, got); err != nil {
			t.Fatal(err)
		}
		return got
	}
	alerts := func() int {
		t.Helper()
		var n int
		if err := db.reader.QueryRow(`SELECT count(*) FROM alerts`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if got := poll(); len(got) != 1 || alerts() != 1 {
		t.Fatalf("first poll: %d new, %d alerts; want 1, 1", len(got), alerts())
	}
	// A second item that matched nothing at first; with rules changed it
	// would match, so only its age keeps it from alerting once re-served.
	quiet := model.Article{GUID: "q1", Link: "https://news.example/quiet", Title: "Quiet day at the ministry",
		Published: clock.now().Add(-time.Hour)}
	got, err := db.StoreArticles(ctx, feed, []model.Article{quiet})
	if err != nil || len(got) != 1 {
		t.Fatalf("storing the quiet item: %v, %v", got, err)
	}
	if err := d.Dispatch(ctx, model.Feed{ID: feed, Name: "wire"}, got); err != nil {
		t.Fatal(err)
	}

	if testRetention.Keys < 2*maxAge {
		t.Fatalf("key window %s is not above twice max_age %s", testRetention.Keys, maxAge)
	}
	clock.advance(testRetention.Keys + 24*time.Hour) // keys expire by whole days
	if st := mustPrune(t, db, testRetention); st.Keys != 3 {
		t.Fatalf("pruned %+v, want the quiet item's three keys deleted", st)
	}
	set2, err := rules.Compile(rules.Spec{Rules: []model.RuleSpec{{Name: "quiet", Keywords: []string{`quiet`}}}})
	if err != nil {
		t.Fatal(err)
	}
	d = dispatch.New(db, fixedSets{set2}, dispatch.Options{MaxAge: maxAge, Now: clock.now})
	item = quiet
	if got := poll(); len(got) != 1 {
		t.Fatalf("re-served pruned item: %d new, want 1 (its keys were pruned)", len(got))
	}
	if n := alerts(); n != 1 {
		t.Fatalf("%d alerts after re-serving a pruned item, want still 1", n)
	}
	undispatched, err := db.UndispatchedArticles(ctx, 0, clock.now().Add(time.Hour), 10)
	if err != nil || len(undispatched) != 0 {
		t.Fatalf("re-served item left undispatched: %v, %v", undispatched, err)
	}
}

type fixedSets struct{ s *rules.Set }

func (f fixedSets) Defaults() *rules.Set                                 { return f.s }
func (f fixedSets) ForGuild(context.Context, string) (*rules.Set, error) { return f.s, nil }

// TestPruneShrinksFile: after the text and then the keys of many articles
// are pruned, the incremental vacuum gives the pages back and the file
// shrinks.
func TestPruneShrinksFile(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	clock := newClock(db)
	var mode int
	if err := db.reader.QueryRow(`PRAGMA auto_vacuum`).Scan(&mode); err != nil || mode != 2 {
		t.Fatalf("auto_vacuum = %d, %v; want 2 (incremental)", mode, err)
	}
	feed := mustFeed(t, db, "wire")
	var ids []int64
	for b := 0; b < 20; b++ {
		var batch []model.Article
		for i := 0; i < 100; i++ {
			n := b*100 + i
			a := art("g"+itoa(n), "https://news.example/"+itoa(n), "Story number "+itoa(n))
			a.Content = string(make([]byte, 1500))
			a.Published = epoch
			batch = append(batch, a)
		}
		for _, a := range mustStore(t, db, feed, batch...) {
			ids = append(ids, a.ID)
		}
	}
	if err := db.MarkDispatched(ctx, ids); err != nil {
		t.Fatal(err)
	}
	size := func() int64 {
		t.Helper()
		if _, err := db.writer.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			t.Fatal(err)
		}
		fi, err := os.Stat(db.Path())
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	clock.advance(testRetention.Text + time.Hour)
	st := mustPrune(t, db, Retention{Text: testRetention.Text, Keys: testRetention.Keys, Batch: 300, VacuumPages: 100})
	afterText := size()
	if st.Stripped != len(ids) || st.Vacuumed == 0 || afterText > before/3 {
		t.Fatalf("text pruned: %+v; file %d -> %d bytes, want under a third", st, before, afterText)
	}
	clock.advance(testRetention.Keys)
	st = mustPrune(t, db, testRetention)
	afterKeys := size()
	if st.Keys != 3*len(ids) || afterKeys >= afterText {
		t.Fatalf("keys pruned: %+v; file %d -> %d bytes, want smaller", st, afterText, afterKeys)
	}
	if st.Transactions < 2 {
		t.Errorf("%d write transactions for %d keys in sweeps of %d", st.Transactions, st.Keys, DefaultSweepRows)
	}
	var free, count int
	if err := db.reader.QueryRow(`SELECT f.freelist_count, c.page_count
		FROM pragma_freelist_count() f, pragma_page_count() c`).Scan(&free, &count); err != nil || free > count/vacuumReserve {
		t.Errorf("freelist_count = %d of %d pages, %v after pruning; want at most an eighth", free, count, err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestUpgradeToIncrementalVacuum: a database made by the build before
// retention (schema 0001–0004, auto_vacuum off) is converted at open,
// keeps its data, and is then pruned like a new one.
func TestUpgradeToIncrementalVacuum(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := sql.Open("sqlite", path+"?_pragma=journal_mode(WAL)")
	if err != nil {
		t.Fatal(err)
	}
	stmts := []string{}
	for _, m := range ms[:4] {
		stmts = append(stmts, m.sql)
	}
	stmts = append(stmts,
		`PRAGMA user_version = 4`,
		`INSERT INTO meta (key, value) VALUES ('application', 'backchannel'), ('instance_id', '0123456789abcdef')`,
		`INSERT INTO feeds (id, name, url, url_key, source, created) VALUES (1, 'wire', 'https://w.example/f', 'https://w.example/f', 'config', 1)`,
	)
	for i := 1; i <= 300; i++ {
		stmts = append(stmts, fmt.Sprintf(`INSERT INTO articles (feed_id, feed, title, title_key, summary, published, fetched)
			VALUES (1, 'wire', 'Old story %d', %d, '%s', %d, %d)`, i, legacyKey(TitleFingerprint(fmt.Sprintf("Old story %d", i))), strings.Repeat("s", 1000), epoch.UnixMilli(), epoch.UnixMilli()))
	}
	for _, stmt := range stmts {
		if _, err := raw.ExecContext(ctx, stmt); err != nil {
			raw.Close()
			t.Fatalf("%.40s: %v", stmt, err)
		}
	}
	var mode int
	if err := raw.QueryRow(`PRAGMA auto_vacuum`).Scan(&mode); err != nil || mode != 0 {
		t.Fatalf("old database auto_vacuum = %d, %v; want 0 as the old build made it", mode, err)
	}
	raw.Close()

	db := mustOpenPath(t, path)
	clock := newClock(db)
	if err := db.reader.QueryRow(`PRAGMA auto_vacuum`).Scan(&mode); err != nil || mode != 2 {
		t.Fatalf("upgraded auto_vacuum = %d, %v; want 2 (incremental)", mode, err)
	}
	if v, _ := db.SchemaVersion(ctx); v != len(ms) {
		t.Fatalf("schema version %d, want %d", v, len(ms))
	}
	if n, err := db.ArticleCount(ctx); err != nil || n != 300 {
		t.Fatalf("articles after upgrade: %d, %v", n, err)
	}
	// A stored title is still a known key.
	if got := mustStore(t, db, 1, model.Article{Title: "Old story 7"}); len(got) != 0 {
		t.Fatalf("old article's key lost in the upgrade: %v stored", titles(got))
	}
	clock.advance(testRetention.Keys + 24*time.Hour) // keys expire by whole days
	if st := mustPrune(t, db, testRetention); st.Stripped != 300 || st.Keys != 300 || st.Vacuumed == 0 {
		t.Fatalf("pruning the upgraded database: %+v", st)
	}
}
