package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/backchannel/backchannel/rules"
)

// De-duplication of articles
//
// Every stored article has up to three keys, each under a unique index:
//
//   - (feed_id, guid): the feed's own identifier for the item;
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
//     story. The new item is then stored without its GUID (guid NULL) and
//     keyed on its link and title alone. An item whose link or title
//     matches is already a repeat by that key, so this never lets a repeat
//     through; what it gives up is recognising a story whose publisher
//     changed both its link and its title while keeping the GUID, which
//     then posts again — rarer, and less harmful, than losing items.

// articleKeys are an item's de-duplication keys; nil means "none".
type articleKeys struct {
	guid, link, title *string
}

func keysOf(a rules.Article) articleKeys {
	opt := func(s string) *string {
		if s == "" {
			return nil
		}
		return &s
	}
	return articleKeys{
		guid:  opt(strings.TrimSpace(a.GUID)),
		link:  opt(NormalizeLink(a.Link)),
		title: opt(TitleFingerprint(a.Title)),
	}
}

func (k articleKeys) empty() bool { return k.guid == nil && k.link == nil && k.title == nil }

// lookupSQL finds the stored articles sharing any key with an item. SQLite
// answers the OR from the three unique indexes (a multi-index OR), so the
// cost is three index probes whatever the table size.
const lookupSQL = `SELECT feed_id, guid, link_key, title_key FROM articles
	WHERE (feed_id = ?1 AND guid = ?2) OR link_key = ?3 OR title_key = ?4`

// verdict says what to do with one item.
type verdict int

const (
	isNew         verdict = iota
	isNewDropGUID         // new, but its GUID belongs to another story: store it without
	isRepeat
)

// classify decides on an item from the stored articles sharing a key with
// it (see the comment at the top of this file).
func classify(ctx context.Context, lookup *sql.Stmt, feedID int64, k articleKeys) (verdict, error) {
	rows, err := lookup.QueryContext(ctx, feedID, k.guid, k.link, k.title)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var guidHit *articleKeys
	for rows.Next() {
		var fid sql.NullInt64
		var s articleKeys
		if err := rows.Scan(&fid, &s.guid, &s.link, &s.title); err != nil {
			return 0, err
		}
		if same(k.link, s.link) || same(k.title, s.title) {
			return isRepeat, nil
		}
		if fid.Valid && fid.Int64 == feedID && same(k.guid, s.guid) {
			guidHit = &s
		}
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if guidHit == nil {
		return isNew, nil
	}
	// Neither link nor title matched (we would have returned above), so
	// the GUID is contradicted as soon as there was something to compare.
	comparable := (k.link != nil && guidHit.link != nil) || (k.title != nil && guidHit.title != nil)
	if comparable {
		return isNewDropGUID, nil
	}
	return isRepeat, nil
}

func same(a, b *string) bool { return a != nil && b != nil && *a == *b }

// StoreArticles stores a feed's items and returns the ones that were new,
// with ID, FeedID, Feed and Fetched set, in input order. An item colliding
// with a stored article (or an earlier item of the batch) on any
// de-duplication key is not new. Re-fetching a feed whose items are all
// stored, the common case, only reads: the writer is not taken.
func (db *DB) StoreArticles(ctx context.Context, feedID int64, items []rules.Article) ([]rules.Article, error) {
	if len(items) == 0 {
		return nil, nil
	}
	keys := make([]articleKeys, len(items))
	for i, it := range items {
		keys[i] = keysOf(it)
	}

	// Read pass: find the candidates on a reader connection, so that a
	// re-fetch of known items never queues behind (or blocks) writers.
	var candidates []int
	err := db.read(ctx, func(tx *sql.Tx) error {
		lookup, err := tx.PrepareContext(ctx, lookupSQL)
		if err != nil {
			return err
		}
		defer lookup.Close()
		for i, k := range keys {
			if k.empty() {
				continue
			}
			v, err := classify(ctx, lookup, feedID, k)
			if err != nil {
				return err
			}
			if v != isRepeat {
				candidates = append(candidates, i)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("db: store articles of feed %d: %w", feedID, err)
	}
	if len(candidates) == 0 {
		return nil, nil
	}

	// Write pass: decide again inside the write transaction (another
	// writer may have stored some of them since) and insert.
	var out []rules.Article
	err = db.write(ctx, func(tx *sql.Tx) error {
		out = nil
		var feedName string
		if err := tx.QueryRowContext(ctx, `SELECT name FROM feeds WHERE id = ?`, feedID).Scan(&feedName); err != nil {
			return notFound(err)
		}
		lookup, err := tx.PrepareContext(ctx, lookupSQL)
		if err != nil {
			return err
		}
		defer lookup.Close()
		// ON CONFLICT DO NOTHING with no target covers every unique index:
		// should classify ever miss a collision, the schema still refuses
		// the row, and RETURNING then yields nothing.
		insert, err := tx.PrepareContext(ctx, `INSERT INTO articles
			(feed_id, feed, guid, link, link_key, title, title_key, summary, content, published, fetched)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT DO NOTHING RETURNING id`)
		if err != nil {
			return err
		}
		defer insert.Close()
		now := db.clock()
		for _, i := range candidates {
			k := keys[i]
			v, err := classify(ctx, lookup, feedID, k)
			if err != nil {
				return err
			}
			if v == isRepeat {
				continue
			}
			if v == isNewDropGUID {
				k.guid = nil
			}
			a := items[i]
			if a.Fetched.IsZero() {
				a.Fetched = now
			}
			err = insert.QueryRowContext(ctx, feedID, feedName, k.guid, a.Link, k.link, a.Title, k.title,
				a.Summary, a.Content, toMillis(a.Published), toMillis(a.Fetched)).Scan(&a.ID)
			if errors.Is(err, sql.ErrNoRows) {
				continue
			}
			if err != nil {
				return err
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
	if err != nil {
		return nil, fmt.Errorf("db: store articles of feed %d: %w", feedID, err)
	}
	return out, nil
}

// ArticleCount returns the number of stored articles.
func (db *DB) ArticleCount(ctx context.Context) (int64, error) {
	var n int64
	if err := db.reader.QueryRowContext(ctx, `SELECT count(*) FROM articles`).Scan(&n); err != nil {
		return 0, fmt.Errorf("db: count articles: %w", err)
	}
	return n, nil
}
