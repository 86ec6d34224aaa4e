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
// Every stored article has up to three keys, each a row of the table
// seen_keys keyed by the key itself (a 64-bit hash of the text tagged with
// its kind, see keyOf and migrations/0006_seen_keys.sql), which outlives
// the article's text (see retention.go):
//
//   - the feed's own identifier for the item, its GUID, mixed with the
//     feed's id;
//   - NormalizeLink(link), so links differing only in case of the host,
//     default port, fragment, tracking parameters or parameter order are
//     one story, across all feeds;
//   - TitleFingerprint(title), so copies with the same title (case,
//     Unicode form and white space folded) are one story, across all
//     feeds.
//
// An item is new only if it collides with no stored article on any key;
// the table's primary key makes that true whatever this code does: an
// article's keys are inserted together or not at all (see writePass).
// Items with no key at all (no GUID, no link, no title) are dropped:
// nothing could ever recognise them again, so storing them would repeat
// them on every fetch.
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
//     story. The new item is then stored without its GUID key and keyed on
//     its link and title alone. An item whose link or title matches is
//     already a repeat by that key, so this never lets a repeat through;
//     what it gives up is recognising a story whose publisher changed both
//     its link and its title while keeping the GUID, which then posts
//     again — rarer, and less harmful, than losing items. (So that a GUID
//     match can be checked without reading another row, a GUID's row
//     says in its flags whether its article has a link key and a title
//     key.)

// articleKeys are an item's de-duplication keys, as stored in seen_keys; 0
// means "none".
type articleKeys struct {
	guid, link, title int64
}

// The kinds of key, in the top two bits of a stored key (see 0006).
const (
	guidKind  = 1
	linkKind  = 2
	titleKind = 3
	kindShift = 62
	hashMask  = 1<<kindShift - 1
)

// keyOf hashes a key's text: the first 8 bytes of its SHA-256 (a
// cryptographic hash, so that a hostile feed cannot craft a link that
// collides with another story's and suppresses it), and tags the low 62
// bits with kind. 0 is "no key" (empty text).
func keyOf(kind uint64, s string) int64 {
	if s == "" {
		return 0
	}
	sum := sha256.Sum256([]byte(s))
	return tagged(kind, binary.BigEndian.Uint64(sum[:8]))
}

func tagged(kind, hash uint64) int64 { return int64(kind<<kindShift | hash&hashMask) }

// guidKeyOf is the key of a GUID in a feed: a GUID is only unique within
// its feed, so the feed's id is mixed into its hash (as 0006 does).
func guidKeyOf(feedID int64, guid string) int64 {
	k := keyOf(guidKind, guid)
	if k == 0 {
		return 0
	}
	return tagged(guidKind, uint64(k)^uint64(feedID)<<32)
}

func keysOf(feedID int64, a model.Article) articleKeys {
	return articleKeys{
		guid:  guidKeyOf(feedID, strings.TrimSpace(a.GUID)),
		link:  keyOf(linkKind, NormalizeLink(a.Link)),
		title: keyOf(titleKind, TitleFingerprint(a.Title)),
	}
}

func (k articleKeys) empty() bool { return k.guid == 0 && k.link == 0 && k.title == 0 }

// The flags of a seen_keys row.
const (
	flagHasLink  = 1 << iota // its article has a link key
	flagHasTitle             // its article has a title key
	flagUndated              // its article has no publication date
)

// flags are what every key row of an article with keys k says of it.
func (k articleKeys) flags(a model.Article) int64 {
	var f int64
	if k.link != 0 {
		f |= flagHasLink
	}
	if k.title != 0 {
		f |= flagHasTitle
	}
	if a.Published.IsZero() {
		f |= flagUndated
	}
	return f
}

// heldKeys is what the flags of a stored GUID's row say of its article's
// keys: link and title non-zero when it has them (their values are not
// needed, see judge).
func heldKeys(flags int64) *articleKeys {
	var k articleKeys
	if flags&flagHasLink != 0 {
		k.link = 1
	}
	if flags&flagHasTitle != 0 {
		k.title = 1
	}
	return &k
}

// findKeySQL probes one key, of any kind.
const findKeySQL = `SELECT flags FROM seen_keys WHERE key = ?`

// probe says whether key is stored and, if so, its row's flags.
func probe(ctx context.Context, st *sql.Stmt, key int64) (found bool, flags int64, err error) {
	err = st.QueryRowContext(ctx, key).Scan(&flags)
	if errors.Is(err, sql.ErrNoRows) {
		return false, 0, nil
	}
	return err == nil, flags, err
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
// as far as the verdict needs, with find (findKeySQL). The link is probed
// first: in a re-fetch it is what almost always hits.
func classify(ctx context.Context, find *sql.Stmt, k articleKeys) (verdict, error) {
	var h held
	var err error
	if k.link != 0 {
		if h.link, _, err = probe(ctx, find, k.link); err != nil {
			return 0, err
		}
	}
	if k.title != 0 && !h.link {
		if h.title, _, err = probe(ctx, find, k.title); err != nil {
			return 0, err
		}
	}
	if k.guid != 0 && !h.link && !h.title {
		found, flags, err := probe(ctx, find, k.guid)
		if err != nil {
			return 0, err
		}
		if found {
			h.sameGUID = heldKeys(flags)
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
		keys[i] = keysOf(feedID, it)
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
		candidates, err = prefilter(ctx, tx, tx.StmtContext(ctx, db.stmts.storedKeys), keys)
		return err
	})
	return candidates, err
}

// writePass inserts the candidates of the read pass. Another writer may
// have stored articles since then; the primary key of seen_keys refuses an
// item one of them took a key of (ON CONFLICT DO NOTHING), and only then
// is the item decided again, alone, by classify, which sees what is stored
// now. That is the rare case: re-running the read pass's queries in here
// whenever anything was stored in between cost a first fetch of many feeds
// (all polled at once, all storing) a query per feed for nothing. An item
// sharing a key with one inserted before it in this batch is decided by
// classify too.
func (db *DB) writePass(ctx context.Context, feedID int64, items []model.Article, keys []articleKeys,
	candidates []candidate) ([]model.Article, error) {
	var out []model.Article
	err := db.writeGathered(ctx, func(ctx context.Context, tx *sql.Tx) error {
		out = nil
		var feedName string
		if err := tx.QueryRowContext(ctx, `SELECT name FROM feeds WHERE id = ?`, feedID).Scan(&feedName); err != nil {
			return notFound(err)
		}
		ids, err := newIDs(ctx, tx)
		if err != nil {
			return err
		}
		var find *sql.Stmt
		insertKeys := tx.StmtContext(ctx, db.stmts.insertKeys)
		insert := tx.StmtContext(ctx, db.stmts.insertArticle)
		inBatch := map[int64]bool{} // keys of the items inserted so far, all three kinds
		now := db.clock()
		decide := func(k articleKeys) (verdict, error) {
			if find == nil {
				var err error
				if find, err = tx.PrepareContext(ctx, findKeySQL); err != nil {
					return 0, err
				}
			}
			return classify(ctx, find, k)
		}
		for _, c := range candidates {
			k := keys[c.i]
			v := c.v
			if inBatch[k.link] || inBatch[k.title] || inBatch[k.guid] {
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
			a.ID = ids.next()
			ok, err := insertKeyRows(ctx, tx, insertKeys, k, a)
			if err != nil {
				return err
			}
			if !ok {
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
				if ok, err = insertKeyRows(ctx, tx, insertKeys, k, a); err != nil || !ok {
					return err
				}
			}
			ids.take()
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
			if err := ids.save(ctx, tx); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx,
				`UPDATE feed_state SET items_seen = items_seen + ? WHERE feed_id = ?`, len(out), feedID); err != nil {
				return err
			}
		}
		return nil
	})
	return out, err
}

// lastIDKey is the meta row holding the last article id handed out: ids
// are never reused, even once retention deleted the highest, so that they
// stay in fetch order (retention's text pass walks them from a cursor).
const lastIDKey = "last_article_id"

// idSource hands out article ids inside one write transaction.
type idSource struct{ last, taken int64 }

func newIDs(ctx context.Context, tx *sql.Tx) (*idSource, error) {
	var s string
	err := tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, lastIDKey).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return &idSource{}, nil
	}
	if err != nil {
		return nil, err
	}
	last, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("meta %s: %w", lastIDKey, err)
	}
	return &idSource{last: last}, nil
}

// next is the id the next article stored will have; take says it was.
func (s *idSource) next() int64 { return s.last + s.taken + 1 }
func (s *idSource) take()       { s.taken++ }

// save records the ids taken.
func (s *idSource) save(ctx context.Context, tx *sql.Tx) error {
	if s.taken == 0 {
		return nil
	}
	return setMeta(ctx, tx, lastIDKey, s.last+s.taken)
}

// insertKeyRows inserts an article's keys as rows of seen_keys, all or
// none: when the schema refuses one (ON CONFLICT DO NOTHING: a key is
// taken), those inserted before it are taken out again and it reports
// false. One row a statement: a statement writing several rows needs a
// statement journal, to be undone alone, and cost more (measured with
// BenchmarkInsert100kArticles, a batch of a whole transaction's keys too).
func insertKeyRows(ctx context.Context, tx *sql.Tx, st *sql.Stmt, k articleKeys, a model.Article) (bool, error) {
	day, flags := toMillis(a.Fetched)/dayMillis, k.flags(a)
	done := false // a key of the article went in
	for _, key := range []int64{k.guid, k.link, k.title} {
		if key == 0 {
			continue
		}
		res, err := st.ExecContext(ctx, key, a.ID, day, flags)
		if err != nil {
			return false, err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return false, err
		}
		if n == 0 {
			if done {
				_, err := tx.ExecContext(ctx, `DELETE FROM seen_keys WHERE article_id = ? AND key IN (?, ?, ?)`,
					a.ID, k.guid, k.link, k.title)
				return false, err
			}
			return false, nil
		}
		done = true
	}
	return true, nil
}

// dayMillis is a day in milliseconds: seen_keys.day is a Unix day.
const dayMillis = 24 * 60 * 60 * 1000

// insertKeysSQL stores one of an article's keys, with the article's id,
// day and flags; an article is known once its keys are stored: the first
// half of storing it (insertArticleSQL is the second). ON CONFLICT DO
// NOTHING: a key already stored is not inserted, and insertKeyRows takes
// the article's others out again.
const insertKeysSQL = `INSERT INTO seen_keys (key, article_id, day, flags) VALUES (?, ?, ?, ?)
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
	err := db.writeGathered(ctx, func(ctx context.Context, tx *sql.Tx) error {
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
	if err := db.reader.QueryRowContext(ctx, `SELECT count(DISTINCT article_id) FROM seen_keys`).Scan(&n); err != nil {
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
// repeats within the batch are left to the write pass). It asks with
// stored (storedKeysSQL): once for the links and titles, and once more
// for the GUIDs of the items neither settles.
func prefilter(ctx context.Context, tx *sql.Tx, stored *sql.Stmt, keys []articleKeys) ([]candidate, error) {
	var ask []int64
	for _, k := range keys {
		for _, key := range []int64{k.link, k.title} {
			if key != 0 {
				ask = append(ask, key)
			}
		}
	}
	found, err := storedKeys(ctx, stored, ask)
	if err != nil {
		return nil, err
	}
	has := func(key int64) bool {
		_, ok := found[key]
		return key != 0 && ok
	}
	ask = ask[:0]
	for _, k := range keys {
		if k.guid != 0 && !has(k.link) && !has(k.title) {
			ask = append(ask, k.guid)
		}
	}
	guids, err := storedKeys(ctx, stored, ask)
	if err != nil {
		return nil, err
	}
	var out []candidate
	for i, k := range keys {
		h := held{link: has(k.link), title: has(k.title)}
		if flags, ok := guids[k.guid]; ok && k.guid != 0 {
			h.sameGUID = heldKeys(flags)
		}
		if v := judge(k, h); v.stores() {
			out = append(out, candidate{i, v})
		}
	}
	return out, nil
}

// storedKeysSQL takes its keys as one JSON array, so that it is one
// statement whatever the batch size, prepared once (see stmts).
const storedKeysSQL = `SELECT key, flags FROM seen_keys WHERE key IN (SELECT value FROM json_each(?))`

// storedKeys runs st (storedKeysSQL) on keys and returns the flags of
// those stored, by key.
func storedKeys(ctx context.Context, st *sql.Stmt, keys []int64) (map[int64]int64, error) {
	found := map[int64]int64{}
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
	rows, err := st.QueryContext(ctx, string(list))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var key, flags int64
		if err := rows.Scan(&key, &flags); err != nil {
			return nil, err
		}
		found[key] = flags
	}
	return found, rows.Err()
}
