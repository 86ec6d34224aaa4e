package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Retention
//
// What an article must keep depends on why it is kept. One that alerted is
// read again (stories, /explain, /search, edits of its story's messages),
// so it keeps everything, for as long as its alerts exist. One that did not
// alert is kept only so that a feed serving it again is recognised: that
// needs its de-duplication keys (guid_key with feed_id, link_key,
// title_key, see articles.go), not its text. So retention works in two
// steps on the articles that have no alert and no story:
//
//  1. After Retention.Text, the article's text is emptied (title, link,
//     GUID, summary, content, feed name). The row keeps its id, keys, times
//     and flags (see stripArticles for why this is a delete and insert).
//  2. After Retention.Keys (Retention.UndatedKeys for an item without a
//     publication date), the row is deleted, keys and all.
//
// Once its keys are gone, an item re-served by its feed is new again, and
// dispatched as news. A dated item cannot alert then: dispatch.Eligible
// refuses items published more than poll.max_age ago (48 h by default), and
// the key window is far longer (config.Check requires at least twice
// max_age). An undated item has no such guard, so its keys are kept for the
// longer UndatedKeys window (by default a year; 0 keeps them for ever).
//
// What is never pruned: an article not yet dispatched (its alerts may not
// be recorded yet), one with an alert (deliveries hang off alerts, so a
// pending delivery's article is kept too), and one a story names, as its
// first report or as a member (stories, article_stories).
//
// Each pass walks the articles in id order from a cursor kept in meta, so a
// run reads only what it has not seen. Rows are handled in batches of
// Retention.Batch per write transaction: the candidates are read on a
// reader connection, and the write transaction re-checks every condition in
// its own WHERE clause, so an article that alerted in between is left
// alone. Between batches the writer is free for polls and deliveries.

// Retention is how long articles that did not alert keep their text and
// their keys (see the comment above).
type Retention struct {
	Text        time.Duration // text of non-alerting articles, after fetch
	Keys        time.Duration // keys of non-alerting dated articles, after fetch
	UndatedKeys time.Duration // keys of non-alerting undated articles; 0: for ever
	// Batch is the number of articles per write transaction; 0 means
	// DefaultPruneBatch.
	Batch int
	// VacuumPages is the number of free pages returned to the file system
	// per write transaction after pruning; 0 means DefaultVacuumPages.
	VacuumPages int
}

// Defaults of Retention's tuning.
const (
	DefaultPruneBatch  = 400
	DefaultVacuumPages = 512 // 2 MB of 4 KiB pages
)

// PruneStats says what one Prune did.
type PruneStats struct {
	Stripped int // articles whose text was emptied
	Deleted  int // articles deleted with their keys
	Vacuumed int // free pages returned to the file system
	// Transactions is the number of write transactions, and MaxLock the
	// longest time one of them held the write lock.
	Transactions int
	MaxLock      time.Duration
}

// prunePass is one walk of the articles: rows fetched before cutoff that
// match the kind are stripped or deleted.
type prunePass struct {
	cursor string // meta key of the last id this pass has seen
	cutoff time.Time
	delete bool
	// undated: nil for every article, else only undated (true) or only
	// dated (false) ones.
	undated *bool
}

// Prune applies r once: it strips and deletes what the windows allow, in
// batches, then returns the freed pages to the file system (incremental
// vacuum), a few at a time. It stops early, with what it did so far, when
// ctx ends.
func (db *DB) Prune(ctx context.Context, r Retention) (PruneStats, error) {
	var st PruneStats
	if r.Text <= 0 || r.Keys <= 0 || r.UndatedKeys < 0 {
		return st, fmt.Errorf("db: prune: windows must be positive (text %s, keys %s, undated keys %s)", r.Text, r.Keys, r.UndatedKeys)
	}
	if r.Batch <= 0 {
		r.Batch = DefaultPruneBatch
	}
	if r.VacuumPages <= 0 {
		r.VacuumPages = DefaultVacuumPages
	}
	now := db.clock()
	dated, undated := false, true
	passes := []prunePass{
		{cursor: "retention_text_cursor", cutoff: now.Add(-r.Text)},
		{cursor: "retention_keys_cursor", cutoff: now.Add(-r.Keys), delete: true, undated: &dated},
	}
	if r.UndatedKeys > 0 {
		passes = append(passes, prunePass{cursor: "retention_undated_cursor", cutoff: now.Add(-r.UndatedKeys), delete: true, undated: &undated})
	}
	for _, p := range passes {
		if err := db.prunePass(ctx, p, r.Batch, &st); err != nil {
			return st, fmt.Errorf("db: prune: %w", err)
		}
	}
	if st.Stripped+st.Deleted > 0 {
		if err := db.vacuum(ctx, r.VacuumPages, &st); err != nil {
			return st, fmt.Errorf("db: prune: %w", err)
		}
	}
	return st, nil
}

// prunePass runs one pass to its cutoff, batch by batch.
func (db *DB) prunePass(ctx context.Context, p prunePass, batch int, st *PruneStats) error {
	cursor, err := db.metaInt(ctx, p.cursor)
	if err != nil {
		return err
	}
	cutoff := toMillis(p.cutoff)
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		ids, last, done, err := db.pruneCandidates(ctx, cursor, cutoff, p.undated, batch)
		if err != nil {
			return err
		}
		if last == cursor {
			return nil
		}
		n, err := db.pruneBatch(ctx, p, ids, last, st)
		if err != nil {
			return err
		}
		if p.delete {
			st.Deleted += n
		} else {
			st.Stripped += n
		}
		cursor = last
		if done {
			return nil
		}
	}
}

// pruneCandidates reads, on a reader, up to batch articles after id
// cursor fetched before cutoff, and returns the ids of those of the
// pass's kind that look prunable, the last id it looked at (cursor when
// none) and whether it reached the cutoff or the end. The write
// transaction checks each id again.
func (db *DB) pruneCandidates(ctx context.Context, cursor, cutoff int64, undated *bool, batch int) (ids []int64, last int64, done bool, err error) {
	last = cursor
	rows, err := db.reader.QueryContext(ctx, `SELECT a.id, a.fetched, a.published, a.dispatched,
			EXISTS (SELECT 1 FROM alerts WHERE article_id = a.id)
			OR EXISTS (SELECT 1 FROM article_stories WHERE article_id = a.id)
			OR EXISTS (SELECT 1 FROM stories WHERE article_id = a.id)
		FROM articles a WHERE a.id > ? ORDER BY a.id LIMIT ?`, cursor, batch)
	if err != nil {
		return nil, cursor, false, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id, fetched, published, dispatched int64
		var kept bool
		if err := rows.Scan(&id, &fetched, &published, &dispatched, &kept); err != nil {
			return nil, cursor, false, err
		}
		n++
		// Articles are stored in fetch order, so the first one inside the
		// window ends the pass. (A fetch time given by the caller can be
		// out of order; such an article is only pruned late, never early.)
		if fetched >= cutoff {
			return ids, last, true, rows.Err()
		}
		last = id
		// An undispatched article is passed, not waited for: its dispatch
		// is retried until it succeeds, and a pass that stopped here would
		// stop retention with it. It keeps its text and keys for ever, at
		// the cost of one row.
		if dispatched == 0 || kept {
			continue
		}
		if undated != nil && *undated != (published == 0) {
			continue
		}
		ids = append(ids, id)
	}
	return ids, last, n < batch, rows.Err()
}

// pruneBatch strips or deletes ids in one write transaction and moves the
// pass's cursor to last in the same transaction.
func (db *DB) pruneBatch(ctx context.Context, p prunePass, ids []int64, last int64, st *PruneStats) (int, error) {
	var n int64
	err := db.timedWrite(ctx, st, func(tx *sql.Tx) error {
		n = 0
		if len(ids) > 0 {
			// The conditions of pruneCandidates again, under the write lock.
			where := ` WHERE id IN (SELECT value FROM json_each(?)) AND dispatched = 1
				AND NOT EXISTS (SELECT 1 FROM alerts WHERE article_id = articles.id)
				AND NOT EXISTS (SELECT 1 FROM article_stories WHERE article_id = articles.id)
				AND NOT EXISTS (SELECT 1 FROM stories WHERE article_id = articles.id)`
			var err error
			if p.delete {
				var res sql.Result
				if res, err = tx.ExecContext(ctx, `DELETE FROM articles`+where, idList(ids)); err == nil {
					n, err = res.RowsAffected()
				}
			} else {
				n, err = stripArticles(ctx, tx, where, idList(ids))
			}
			if err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, p.cursor, strconv.FormatInt(last, 10))
		return err
	})
	return int(n), err
}

// vacuum returns the free pages to the file system, at most pages per
// transaction, so the file shrinks to near its live size without holding
// the write lock long. It does nothing when the file is not in incremental
// auto-vacuum mode (see ensureIncrementalVacuum).
func (db *DB) vacuum(ctx context.Context, pages int, st *PruneStats) error {
	for {
		var free int
		if err := db.writer.QueryRowContext(ctx, `PRAGMA freelist_count`).Scan(&free); err != nil {
			return err
		}
		if free == 0 {
			return nil
		}
		var mode int
		if err := db.writer.QueryRowContext(ctx, `PRAGMA auto_vacuum`).Scan(&mode); err != nil || mode != 2 {
			return err
		}
		step := min(free, pages)
		err := db.timedWrite(ctx, st, func(tx *sql.Tx) error {
			// PRAGMA takes no bound parameters; step is our own integer.
			_, err := tx.ExecContext(ctx, fmt.Sprintf(`PRAGMA incremental_vacuum(%d)`, step))
			return err
		})
		if err != nil {
			return err
		}
		st.Vacuumed += step
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// stripArticles empties the text of the articles where selects (with the
// id list as its one argument), by deleting each row and inserting its
// keys, times and flags again under the same id. An UPDATE would be
// simpler, but SQLite leaves the pages of rows that shrank as sparse as
// they became (only a delete merges underfull pages), so the table would
// keep one ~4 KiB page per two articles; deleting and re-inserting packs
// the key-only rows densely. It returns the number of articles stripped.
func stripArticles(ctx context.Context, tx *sql.Tx, where, idsJSON string) (int64, error) {
	type keyRow struct {
		id, published, fetched, backlog int64
		feedID, guid, link, title       sql.NullInt64
	}
	rows, err := tx.QueryContext(ctx, `SELECT id, feed_id, guid_key, link_key, title_key, published, fetched, backlog
		FROM articles`+where, idsJSON)
	if err != nil {
		return 0, err
	}
	var keep []keyRow
	for rows.Next() {
		var r keyRow
		if err := rows.Scan(&r.id, &r.feedID, &r.guid, &r.link, &r.title, &r.published, &r.fetched, &r.backlog); err != nil {
			rows.Close()
			return 0, err
		}
		keep = append(keep, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(keep) == 0 {
		return 0, err
	}
	ids := make([]int64, len(keep))
	for i, r := range keep {
		ids[i] = r.id
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM articles WHERE id IN (SELECT value FROM json_each(?))`, idList(ids)); err != nil {
		return 0, err
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO articles
		(id, feed_id, guid_key, link_key, title_key, published, fetched, dispatched, backlog)
		VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?)`)
	if err != nil {
		return 0, err
	}
	defer ins.Close()
	for _, r := range keep {
		if _, err := ins.ExecContext(ctx, r.id, r.feedID, r.guid, r.link, r.title, r.published, r.fetched, r.backlog); err != nil {
			return 0, err
		}
	}
	return int64(len(keep)), nil
}

// timedWrite is db.write, counting the transaction and how long it held
// the write lock (from BEGIN IMMEDIATE to the end of COMMIT) in st.
func (db *DB) timedWrite(ctx context.Context, st *PruneStats, fn func(*sql.Tx) error) error {
	conn, err := db.writer.Conn(ctx)
	if err != nil {
		return db.noteWrite(err)
	}
	defer conn.Close()
	start := time.Now()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return db.noteWrite(err)
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback()
		return db.noteWrite(err)
	}
	err = tx.Commit()
	held := time.Since(start)
	st.Transactions++
	st.MaxLock = max(st.MaxLock, held)
	return db.noteWrite(err)
}

// metaInt reads an integer meta value, 0 when absent.
func (db *DB) metaInt(ctx context.Context, key string) (int64, error) {
	var s string
	err := db.reader.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, fmt.Errorf("meta %s: %w", key, err)
	}
	return v, nil
}

// idList is ids as a JSON array, for json_each: one bound argument
// whatever the number of ids.
func idList(ids []int64) string {
	b := make([]byte, 0, 2+20*len(ids))
	b = append(b, '[')
	for i, id := range ids {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, id, 10)
	}
	return string(append(b, ']'))
}
