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
// needs its de-duplication keys, not its text. The two live in two tables
// (migrations/0005_article_keys.sql): articles holds the text and dispatch
// state, article_keys the keys under unique indexes, both under the
// article's id. So retention works in two steps on the articles that have
// no alert and no story:
//
//  1. After Retention.Text, the article's articles row (its text) is
//     deleted. Its rows are in id (= fetch) order and no unique index
//     covers them, so this frees whole pages at little cost.
//  2. After Retention.Keys (Retention.UndatedKeys for an item without a
//     publication date), its article_keys row is deleted, and with it the
//     three index entries.
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
// first report or as a member (stories, article_stories); nor the keys of
// an article whose text is kept.
//
// Each pass walks its table in id order from a cursor kept in meta, so a
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
	DefaultPruneBatch  = 200
	DefaultVacuumPages = 256 // 1 MB of 4 KiB pages
)

// PruneStats says what one Prune did.
type PruneStats struct {
	Stripped int // articles whose text was deleted, keys kept
	Deleted  int // articles whose keys were deleted
	Vacuumed int // free pages returned to the file system
	// Transactions is the number of write transactions, and MaxLock the
	// longest time one of them held the write lock.
	Transactions int
	MaxLock      time.Duration
	// MaxCheckpoint is the longest WAL checkpoint made after one of them
	// (which holds the writer connection, not the write lock).
	MaxCheckpoint time.Duration
}

// prunePass is one walk of a table: rows fetched before cutoff that match
// the kind are deleted.
type prunePass struct {
	cursor string // meta key of the last id this pass has seen
	cutoff time.Time
	keys   bool // article_keys rather than articles
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
	// The key passes pass for good over an article whose text is still
	// there, so the text window must be the shortest.
	if r.Text <= 0 || r.Keys < r.Text || r.UndatedKeys < 0 || (r.UndatedKeys > 0 && r.UndatedKeys < r.Text) {
		return st, fmt.Errorf("db: prune: windows must be positive, text the shortest (text %s, keys %s, undated keys %s)", r.Text, r.Keys, r.UndatedKeys)
	}
	if r.Batch <= 0 {
		r.Batch = DefaultPruneBatch
	}
	if r.VacuumPages <= 0 {
		r.VacuumPages = DefaultVacuumPages
	}
	// Pruning writes many pages; checkpointed 40 MB at a time (see
	// walAutocheckpoint) the commit that crosses the mark would hold the
	// writer for tens of milliseconds. So while it runs, the WAL is
	// checkpointed after each of its transactions instead, a few pages
	// at a time (see timedWrite).
	if _, err := db.writer.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 0"); err != nil {
		return st, fmt.Errorf("db: prune: %w", db.noteWrite(err))
	}
	defer func() {
		_, _ = db.writer.ExecContext(context.WithoutCancel(ctx), fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", walAutocheckpoint))
	}()
	now := db.clock()
	dated, undated := false, true
	passes := []prunePass{
		{cursor: "retention_text_cursor", cutoff: now.Add(-r.Text)},
		{cursor: "retention_keys_cursor", cutoff: now.Add(-r.Keys), keys: true, undated: &dated},
	}
	if r.UndatedKeys > 0 {
		passes = append(passes, prunePass{cursor: "retention_undated_cursor", cutoff: now.Add(-r.UndatedKeys), keys: true, undated: &undated})
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
		ids, last, done, err := db.pruneCandidates(ctx, p, cursor, cutoff, batch)
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
		if p.keys {
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

// The conditions under which a row may go, for each table: an article's
// text when it is dispatched and neither alerted nor in a story; its keys
// when its text is gone.
const (
	articleKept = `a.dispatched = 0
		OR EXISTS (SELECT 1 FROM alerts WHERE article_id = a.id)
		OR EXISTS (SELECT 1 FROM article_stories WHERE article_id = a.id)
		OR EXISTS (SELECT 1 FROM stories WHERE article_id = a.id)`
	keysKept = `EXISTS (SELECT 1 FROM articles WHERE id = a.id)`
)

// pruneCandidates reads, on a reader, up to batch rows of the pass's
// table after id cursor fetched before cutoff, and returns the ids of
// those of the pass's kind that may go, the last id it looked at (cursor
// when none) and whether it reached the cutoff or the end. The write
// transaction checks each id again.
func (db *DB) pruneCandidates(ctx context.Context, p prunePass, cursor, cutoff int64, batch int) (ids []int64, last int64, done bool, err error) {
	last = cursor
	table, kept := "articles", articleKept
	if p.keys {
		table, kept = "article_keys", keysKept
	}
	rows, err := db.reader.QueryContext(ctx, `SELECT a.id, a.fetched, a.published, `+kept+`
		FROM `+table+` a WHERE a.id > ? ORDER BY a.id LIMIT ?`, cursor, batch)
	if err != nil {
		return nil, cursor, false, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id, fetched, published int64
		var keep bool
		if err := rows.Scan(&id, &fetched, &published, &keep); err != nil {
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
		// A row kept is passed, not waited for. An undispatched article's
		// dispatch is retried until it succeeds, and a pass that stopped
		// there would stop retention with it; it keeps its text and keys
		// for ever, at the cost of one row.
		if keep {
			continue
		}
		if p.undated != nil && *p.undated != (published == 0) {
			continue
		}
		ids = append(ids, id)
	}
	return ids, last, n < batch, rows.Err()
}

// pruneBatch deletes ids in one write transaction, checking again that
// each may go, and moves the pass's cursor to last in the same
// transaction.
func (db *DB) pruneBatch(ctx context.Context, p prunePass, ids []int64, last int64, st *PruneStats) (int, error) {
	var n int64
	err := db.timedWrite(ctx, st, func(tx *sql.Tx) error {
		n = 0
		if len(ids) > 0 {
			table, kept := "articles", articleKept
			if p.keys {
				table, kept = "article_keys", keysKept
			}
			res, err := tx.ExecContext(ctx, `DELETE FROM `+table+` AS a
				WHERE a.id IN (SELECT value FROM json_each(?)) AND NOT (`+kept+`)`, idList(ids))
			if err != nil {
				return err
			}
			if n, err = res.RowsAffected(); err != nil {
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
	if err != nil {
		return db.noteWrite(err)
	}
	// A passive checkpoint waits for no reader and blocks no writer of
	// another process; it does hold this process's writer connection, so
	// it is timed too. Its errors are not the prune's: the WAL is
	// checkpointed again after the next transaction.
	start = time.Now()
	_, _ = conn.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
	st.MaxCheckpoint = max(st.MaxCheckpoint, time.Since(start))
	return db.noteWrite(nil)
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
