package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/backchannel/backchannel/model"
)

// De-duplication of articles
//
// Every stored article has up to three keys, each under a unique index
// (stored as 64-bit hashes of the text, see keyOf) of the table
// article_keys, which outlives the article's text (see retention.go):
//
//   - (feed_id, guid_key): the feed's own identifier for the item;
//   - link_key: NormalizeLink(link), so links differing only in case of
//     the host, default port, fragment, tracking parameters or parameter
//     order are one story, across all feeds;
//   - title_key: TitleFingerprint(title), so copies with the same title
//     (case, Unicode form and white space folded) are one story, across
//     all feeds.
//
// An item is new only if it collides with no stored article on any key;
// the unique indexes make that true whatever this code does. Items with no
// key at all (no GUID, no link, no title) are dropped: nothing could ever
// recognise them again, so storing them would repeat them on every fetch.
//
// Feeds with broken GUIDs:
//
//   - A feed that changes every GUID on every fetch is handled by the other
//     two keys: the re-fetched item has the same link or title.
//   - A feed that repeats one GUID for every item would, if the GUID were
//     trusted, store only its first item ever. So a GUID match counts only
//     when it is not contradicted: if the stored item with that GUID
//     differs from the new one in every key both of them have (link and/or
//     title; at least one), the feed is reusing the GUID for a different
//     story. The new item is then stored without its GUID key (NULL) and
//     keyed on its link and title alone. An item whose link or title
//     matches is already a repeat by that key, so this never lets a repeat
//     through; what it gives up is recognising a story whose publisher
//     changed both its link and its title while keeping the GUID, which
//     then posts again — rarer, and less harmful, than losing items.

// articleKeys are an item's de-duplication keys; 0 means "none".
type articleKeys struct {
	guid, link, title int64
}

// keyOf hashes a key's text to the integer stored in the index: the first
// 8 bytes of its SHA-256 (a cryptographic hash, so that a hostile feed
// cannot craft a link that collides with another story's and suppresses
// it). 0 is reserved for "no key".
func keyOf(s string) int64 {
	if s == "" {
		return 0
	}
	sum := sha256.Sum256([]byte(s))
	k := int64(binary.BigEndian.Uint64(sum[:8]))
	if k == 0 {
		k = 1
	}
	return k
}

func keysOf(a model.Article) articleKeys {
	return articleKeys{
		guid:  keyOf(strings.TrimSpace(a.GUID)),
		link:  keyOf(NormalizeLink(a.Link)),
		title: keyOf(TitleFingerprint(a.Title)),
	}
}

func (k articleKeys) empty() bool { return k.guid == 0 && k.link == 0 && k.title == 0 }

// nullKey binds 0 as NULL, which no unique index compares.
func nullKey(k int64) any {
	if k == 0 {
		return nil
	}
	return k
}

// lookups are the prepared probes classify makes. The link and title
// probes are answered from their indexes alone (covering), without reading
// the article rows, which are large; only a GUID probe reads a row, and
// only for an item whose link and title are both unknown.
type lookups struct {
	link, title, guid *sql.Stmt
}

func prepareLookups(ctx context.Context, tx *sql.Tx) (*lookups, error) {
	var l lookups
	var err error
	if l.link, err = tx.PrepareContext(ctx, `SELECT 1 FROM article_keys WHERE link_key = ?`); err != nil {
		return nil, err
	}
	if l.title, err = tx.PrepareContext(ctx, `SELECT 1 FROM article_keys WHERE title_key = ?`); err != nil {
		return nil, err
	}
	if l.guid, err = tx.PrepareContext(ctx,
		`SELECT link_key, title_key FROM article_keys WHERE feed_id = ? AND guid_key = ?`); err != nil {
		return nil, err
	}
	return &l, nil
}

// The statements are closed with their transaction; Close is for tidiness.
func (l *lookups) close() {
	for _, st := range []*sql.Stmt{l.link, l.title, l.guid} {
		if st != nil {
			st.Close()
		}
	}
}

func exists(ctx context.Context, st *sql.Stmt, key int64) (bool, error) {
	var one int
	err := st.QueryRowContext(ctx, key).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// verdict says what to do with one item.
type verdict int

const (
	isNew         verdict = iota
	isNewDropGUID         // new, but its GUID belongs to another story: store it without
	isRepeat
	isKeyless // no key at all: nothing could recognise it again, so it is dropped
)

// stores reports whether the item is to be stored.
func (v verdict) stores() bool { return v == isNew || v == isNewDropGUID }

// held is what the store holds that bears on an item: whether its link key
// and its title key are taken, and the link and title keys (0 for none) of
// the feed's article with the same GUID key, nil when there is none.
type held struct {
	link, title bool
	sameGUID    *articleKeys
}

// judge is the one verdict on an item's keys k given what the store holds
// (see the comment at the top of this file). Both passes of StoreArticles
// ask it: prefilter with what a few batch queries found, classify with
// what its probes found.
func judge(k articleKeys, h held) verdict {
	switch {
	case k.empty():
		return isKeyless
	case h.link || h.title:
		return isRepeat
	case k.guid == 0 || h.sameGUID == nil:
		return isNew
	case (k.link != 0 && h.sameGUID.link != 0) || (k.title != 0 && h.sameGUID.title != 0):
		// Neither link nor title is taken, so the GUID is contradicted as
		// soon as the two articles have a key to compare.
		return isNewDropGUID
	}
	return isRepeat
}

// classify decides on an item inside the write transaction, probing only
// as far as the verdict needs. The link is probed first: in a re-fetch it
// is what almost always hits.
func classify(ctx context.Context, l *lookups, feedID int64, k articleKeys) (verdict, error) {
	var h held
	var err error
	if k.link != 0 {
		if h.link, err = exists(ctx, l.link, k.link); err != nil {
			return 0, err
		}
	}
	if k.title != 0 && !h.link {
		if h.title, err = exists(ctx, l.title, k.title); err != nil {
			return 0, err
		}
	}
	if k.guid != 0 && !h.link && !h.title {
		var link, title sql.NullInt64
		err := l.guid.QueryRowContext(ctx, feedID, k.guid).Scan(&link, &title)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return 0, err
		default:
			h.sameGUID = &articleKeys{link: link.Int64, title: title.Int64}
		}
	}
	return judge(k, h), nil
}

// StoreArticles stores a feed's items and returns the ones that were new,
// with ID, FeedID, Feed and Fetched set, in input order. New articles are
// stored undispatched: see MarkDispatched. A KeysOnly article is stored as
// its keys alone (no text, nothing to dispatch), as retention leaves an
// article that did not alert. An item colliding
// with a stored article (or an earlier item of the batch) on any
// de-duplication key is not new. Re-fetching a feed whose items are all
// stored, the common case, only reads: the writer is not taken. A first
// fetch (every item Backlog) goes straight to the writer.
func (db *DB) StoreArticles(ctx context.Context, feedID int64, items []model.Article) ([]model.Article, error) {
	if len(items) == 0 {
		return nil, nil
	}
	keys := make([]articleKeys, len(items))
	for i, it := range items {
		keys[i] = keysOf(it)
	}

	var candidates []candidate
	if backCatalogue(items) {
		// A feed's first fetch: nearly every item is new, so the write
		// is needed anyway, and the read pass would only answer early
		// what the write pass finds out (a key taken by another feed's
		// article is refused by the schema and decided by classify).
		for i, k := range keys {
			if v := judge(k, held{}); v.stores() {
				candidates = append(candidates, candidate{i, v})
			}
		}
	} else {
		var err error
		if candidates, err = db.readPass(ctx, feedID, keys); err != nil {
			return nil, fmt.Errorf("db: store articles of feed %d: %w", feedID, err)
		}
	}
	if len(candidates) == 0 {
		return nil, nil
	}
	out, err := db.writePass(ctx, feedID, items, keys, candidates)
	if err != nil {
		return nil, fmt.Errorf("db: store articles of feed %d: %w", feedID, err)
	}
	return out, nil
}

// backCatalogue says whether items are a feed's first fetch (every one
// Backlog; see model.Article).
func backCatalogue(items []model.Article) bool {
	for _, it := range items {
		if !it.Backlog {
			return false
		}
	}
	return true
}

// readPass finds the candidates on a reader connection, so that a re-fetch
// of known items never queues behind (or blocks) writers. It asks about the
// whole batch in a few IN queries rather than probing item by item.
func (db *DB) readPass(ctx context.Context, feedID int64, keys []articleKeys) (candidates []candidate, err error) {
	err = db.read(ctx, func(tx *sql.Tx) (err error) {
		q := keyQueries{db.stmts.storedLinks, db.stmts.storedTitles, db.stmts.storedGUIDs}
		candidates, err = prefilter(ctx, tx, q, feedID, keys)
		return err
	})
	return candidates, err
}

// writePass inserts the candidates of the read pass. Another writer may
// have stored articles since then; the keys' unique indexes refuse an item
// one of them took a key of (ON CONFLICT DO NOTHING), and only then is the
// item decided again, alone, by classify, which sees what is stored now.
// That is the rare case: re-running the read pass's queries in here
// whenever anything was stored in between cost a first fetch of many feeds
// (all polled at once, all storing) a query per feed for nothing. An item
// sharing a key with one inserted before it in this batch is decided by
// classify too.
func (db *DB) writePass(ctx context.Context, feedID int64, items []model.Article, keys []articleKeys,
	candidates []candidate) ([]model.Article, error) {
	var out []model.Article
	err := db.write(ctx, func(tx *sql.Tx) error {
		out = nil
		var feedName string
		if err := tx.QueryRowContext(ctx, `SELECT name FROM feeds WHERE id = ?`, feedID).Scan(&feedName); err != nil {
			return notFound(err)
		}
		var lookup *lookups
		defer func() {
			if lookup != nil {
				lookup.close()
			}
		}()
		insertKeys := tx.StmtContext(ctx, db.stmts.insertKeys)
		insert := tx.StmtContext(ctx, db.stmts.insertArticle)
		inBatch := map[int64]bool{} // keys of the items inserted so far, all three kinds
		now := db.clock()
		decide := func(k articleKeys) (verdict, error) {
			if lookup == nil {
				var err error
				if lookup, err = prepareLookups(ctx, tx); err != nil {
					return 0, err
				}
			}
			return classify(ctx, lookup, feedID, k)
		}
		for _, c := range candidates {
			k := keys[c.i]
			v := c.v
			if inBatch[k.link] || inBatch[k.title] || inBatch[k.guid] {
				var err error
				if v, err = decide(k); err != nil {
					return err
				}
			}
			if !v.stores() {
				continue
			}
			if v == isNewDropGUID {
				k.guid = 0
			}
			a := items[c.i]
			if a.Fetched.IsZero() {
				a.Fetched = now
			}
			id, err := insertKeysRow(ctx, insertKeys, feedID, k, a)
			if err != nil {
				return err
			}
			if id == 0 {
				// Refused: a key was taken since the read pass. Decide
				// again on what is stored now, and try once more; what the
				// schema refuses then is not new.
				if v, err = decide(k); err != nil {
					return err
				}
				if !v.stores() {
					continue
				}
				if v == isNewDropGUID {
					k.guid = 0
				}
				if id, err = insertKeysRow(ctx, insertKeys, feedID, k, a); err != nil {
					return err
				}
				if id == 0 {
					continue
				}
			}
			a.ID = id
			if !a.KeysOnly {
				if _, err := insert.ExecContext(ctx, a.ID, feedID, feedName, a.GUID, a.Link, a.Title,
					a.Summary, a.Content, toMillis(a.Published), toMillis(a.Fetched), boolInt(a.Backlog)); err != nil {
					return err
				}
			}
			for _, key := range []int64{k.link, k.title, k.guid} {
				if key != 0 {
					inBatch[key] = true
				}
			}
			a.FeedID, a.Feed = feedID, feedName
			out = append(out, a)
		}
		if len(out) > 0 {
			if _, err := tx.ExecContext(ctx,
				`UPDATE feed_state SET items_seen = items_seen + ? WHERE feed_id = ?`, len(out), feedID); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// insertKeysRow inserts an article's keys and returns its new id, or 0
// when the schema refused the row (ON CONFLICT DO NOTHING: a key is taken).
func insertKeysRow(ctx context.Context, st *sql.Stmt, feedID int64, k articleKeys, a model.Article) (int64, error) {
	res, err := st.ExecContext(ctx, feedID, nullKey(k.guid), nullKey(k.link), nullKey(k.title),
		toMillis(a.Published), toMillis(a.Fetched))
	if err != nil {
		return 0, err
	}
	if n, err := res.RowsAffected(); err != nil || n == 0 {
		return 0, err
	}
	return res.LastInsertId()
}

// insertKeysSQL stores an article's keys, which makes it known: the first
// half of storing an article (insertArticleSQL is the second). ON CONFLICT
// DO NOTHING with no target covers every unique index: should a verdict
// ever miss a collision, the schema still refuses the row, and no row is
// inserted.
const insertKeysSQL = `INSERT INTO article_keys (feed_id, guid_key, link_key, title_key, published, fetched)
	VALUES (?, ?, ?, ?, ?, ?)
	ON CONFLICT DO NOTHING`

// insertArticleSQL stores an article's text and state under the id its
// keys got. (Its own key columns, from before 0005, stay NULL.)
const insertArticleSQL = `INSERT INTO articles
	(id, feed_id, feed, guid, link, title, summary, content, published, fetched, dispatched, backlog)
	VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)`

// MarkDispatched records that the articles' alerts were recorded (or that
// they had none), so UndispatchedArticles no longer returns them.
func (db *DB) MarkDispatched(ctx context.Context, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	err := db.write(ctx, func(tx *sql.Tx) error {
		// In chunks well below SQLite's limit on bound variables.
		const chunk = 500
		for rest := ids; len(rest) > 0; {
			n := min(len(rest), chunk)
			args := make([]any, n)
			for i, id := range rest[:n] {
				args[i] = id
			}
			rest = rest[n:]
			if _, err := tx.ExecContext(ctx,
				`UPDATE articles SET dispatched = 1 WHERE dispatched = 0 AND id IN (?`+strings.Repeat(",?", n-1)+`)`, args...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("db: mark %d articles dispatched: %w", len(ids), err)
	}
	return nil
}

// UndispatchedArticles returns up to limit articles stored but not marked
// dispatched, with IDs above afterID and fetched before fetchedBefore (so a
// poll still handling its articles is left alone), in ID order. Callers page
// through them by passing the last ID they got.
func (db *DB) UndispatchedArticles(ctx context.Context, afterID int64, fetchedBefore time.Time, limit int) ([]model.Article, error) {
	rows, err := db.reader.QueryContext(ctx, `SELECT id, coalesce(feed_id, 0), feed, guid, link, title, summary, content,
			published, fetched, backlog
		FROM articles WHERE dispatched = 0 AND id > ? AND fetched < ? ORDER BY id LIMIT ?`,
		afterID, toMillis(fetchedBefore), limit)
	if err != nil {
		return nil, fmt.Errorf("db: undispatched articles: %w", err)
	}
	defer rows.Close()
	var out []model.Article
	for rows.Next() {
		var a model.Article
		var published, fetched, backlog int64
		if err := rows.Scan(&a.ID, &a.FeedID, &a.Feed, &a.GUID, &a.Link, &a.Title, &a.Summary, &a.Content,
			&published, &fetched, &backlog); err != nil {
			return nil, fmt.Errorf("db: undispatched articles: %w", err)
		}
		a.Published, a.Fetched, a.Backlog = fromMillis(published), fromMillis(fetched), backlog != 0
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("db: undispatched articles: %w", err)
	}
	return out, nil
}

// ArticleCount returns the number of articles the store knows: those it
// holds, and those of which retention kept only the keys.
func (db *DB) ArticleCount(ctx context.Context) (int64, error) {
	var n int64
	if err := db.reader.QueryRowContext(ctx, `SELECT count(*) FROM article_keys`).Scan(&n); err != nil {
		return 0, fmt.Errorf("db: count articles: %w", err)
	}
	return n, nil
}

// candidate is an item prefilter finds new, with classify's verdict on it
// (isNew or isNewDropGUID).
type candidate struct {
	i int // index in the keys given to prefilter
	v verdict
}

// prefilter returns the items that may be new, in order: all but those
// whose link or title is stored, or whose GUID is stored and not
// contradicted (see classify, which this applies to a whole batch at once;
// repeats within the batch are left to the write pass).
func prefilter(ctx context.Context, tx *sql.Tx, q keyQueries, feedID int64, keys []articleKeys) ([]candidate, error) {
	pick := func(f func(articleKeys) int64) []int64 {
		var out []int64
		for _, k := range keys {
			if v := f(k); v != 0 {
				out = append(out, v)
			}
		}
		return out
	}
	links, err := storedKeys(ctx, tx, q.links, storedLinksSQL, nil, pick(func(k articleKeys) int64 { return k.link }))
	if err != nil {
		return nil, err
	}
	titles, err := storedKeys(ctx, tx, q.titles, storedTitlesSQL, nil, pick(func(k articleKeys) int64 { return k.title }))
	if err != nil {
		return nil, err
	}
	var unsettled []int64 // GUIDs of the items whose link and title are free
	for _, k := range keys {
		if k.guid != 0 && links[k.link] == nil && titles[k.title] == nil {
			unsettled = append(unsettled, k.guid)
		}
	}
	guids, err := storedKeys(ctx, tx, q.guids, storedGUIDsSQL, []any{feedID}, unsettled)
	if err != nil {
		return nil, err
	}
	var out []candidate
	for i, k := range keys {
		h := held{link: k.link != 0 && links[k.link] != nil, title: k.title != 0 && titles[k.title] != nil}
		if k.guid != 0 {
			h.sameGUID = guids[k.guid]
		}
		if v := judge(k, h); v.stores() {
			out = append(out, candidate{i, v})
		}
	}
	return out, nil
}

// prefilter's queries take their keys as one JSON array, so that each is
// one statement whatever the batch size, compiled once (see keyQueries).
const (
	storedLinksSQL  = `SELECT link_key, NULL, NULL FROM article_keys WHERE link_key IN (SELECT value FROM json_each(?))`
	storedTitlesSQL = `SELECT title_key, NULL, NULL FROM article_keys WHERE title_key IN (SELECT value FROM json_each(?))`
	storedGUIDsSQL  = `SELECT guid_key, link_key, title_key FROM article_keys
		WHERE feed_id = ? AND guid_key IN (SELECT value FROM json_each(?))`
)

// keyQueries are prefilter's statements prepared on the readers (see
// stmts), or nil, in a write transaction, to compile them there.
type keyQueries struct{ links, titles, guids *sql.Stmt }

// storedKeys runs query (or st, its prepared form, when not nil) with args
// and keys as a JSON array, and returns the rows found by their first
// column.
func storedKeys(ctx context.Context, tx *sql.Tx, st *sql.Stmt, query string, args []any, keys []int64) (map[int64]*articleKeys, error) {
	found := map[int64]*articleKeys{}
	if len(keys) == 0 {
		return found, nil
	}
	list := make([]byte, 0, 1+21*len(keys))
	for i, k := range keys {
		if i == 0 {
			list = append(list, '[')
		} else {
			list = append(list, ',')
		}
		list = strconv.AppendInt(list, k, 10)
	}
	list = append(list, ']')
	args = append(args[:len(args):len(args)], string(list))
	var rows *sql.Rows
	var err error
	if st != nil {
		rows, err = tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	} else {
		rows, err = tx.QueryContext(ctx, query, args...)
	}
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var key int64
		var link, title sql.NullInt64
		if err := rows.Scan(&key, &link, &title); err != nil {
			return nil, err
		}
		found[key] = &articleKeys{link: link.Int64, title: title.Int64}
	}
	return found, rows.Err()
}
