package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
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
// needs its de-duplication keys, not its text. The two live in two tables:
// articles holds the text and dispatch state under the article's id,
// seen_keys (migrations/0006_seen_keys.sql) its keys, a row each, keyed by
// the key. So retention works in two steps on the articles that have no
// alert and no story:
//
//  1. After Retention.Text, the article's articles row (its text) is
//     deleted. Its rows are in id (= fetch) order, so a pass walks them
//     from a cursor and frees whole pages at little cost, in batches of
//     Retention.Batch per write transaction.
//  2. After Retention.Keys (Retention.UndatedKeys for an item without a
//     publication date), its keys are deleted by the key sweep: a walk
//     through seen_keys in key order, a few thousand rows per write
//     transaction, that goes round once every Retention.KeySweep, in
//     sweepSteps steps (a day each by default): the Prune that finds a
//     step due walks that share of the keys. The keys are hashes, spread over the whole table, so deleting
//     them article by article would rewrite a random page for each key,
//     and again at each checkpoint; walking in key order rewrites each
//     page once a round, however many of its keys go. A key so lives
//     between Keys and Keys + KeySweep.
//
// Once its keys are gone, an item re-served by its feed is new again, and
// dispatched as news. A dated item cannot alert then: model.Article.CanAlert
// refuses items published more than poll.max_age ago (48 h by default),
// and the key window is far longer (config.Check requires at least twice
// max_age). An undated item has no such guard, so its keys are kept for
// the longer UndatedKeys window (by default a year; 0 keeps them for ever).
//
// What is never pruned: an article not yet dispatched (its alerts may not
// be recorded yet), one with an alert (deliveries hang off alerts, so a
// pending delivery's article is kept too), and one a story names, as its
// first report or as a member (stories, article_stories); nor the keys of
// an article whose text is kept.
//
// The text pass reads its candidates on a reader connection, and the write
// transaction re-checks every condition in its own WHERE clause, so an
// article that alerted in between is left alone; the sweep's DELETE checks
// its conditions itself. Between transactions the writer is free for
// polls and deliveries, and both walks keep their place in meta, so a run
// cut short continues where it stopped.

// Retention is how long articles that did not alert keep their text and
// their keys (see the comment above).
type Retention struct {
	Text        time.Duration // text of non-alerting articles, after fetch
	Keys        time.Duration // keys of non-alerting dated articles, after fetch
	UndatedKeys time.Duration // keys of non-alerting undated articles; 0: for ever
	// KeySweep is how long the key sweep takes to go round (see the
	// comment at the top); 0 means DefaultKeySweep.
	KeySweep time.Duration
	// Batch is the number of articles per write transaction of the text
	// pass; 0 means DefaultPruneBatch.
	Batch int
	// SweepRows is the number of key rows the sweep walks per write
	// transaction; 0 means DefaultSweepRows.
	SweepRows int
	// VacuumPages is the number of free pages returned to the file system
	// per write transaction after pruning; 0 means DefaultVacuumPages.
	VacuumPages int
}

// Defaults of Retention's tuning.
const (
	DefaultKeySweep    = 7 * 24 * time.Hour
	DefaultPruneBatch  = 200
	DefaultSweepRows   = 4000
	DefaultVacuumPages = 256 // 1 MB of 4 KiB pages
)

// PruneStats says what one Prune did.
type PruneStats struct {
	Stripped int // articles whose text was deleted, keys kept
	Keys     int // keys deleted (an article has up to three)
	Vacuumed int // free pages returned to the file system
	// Transactions is the number of write transactions, and MaxLock the
	// longest time one of them held the write lock.
	Transactions int
	MaxLock      time.Duration
	// MaxCheckpoint is the longest WAL checkpoint made after one of them
	// (which holds the writer connection, not the write lock).
	MaxCheckpoint time.Duration
}

// The meta rows of retention: the text pass's cursor (the last article id
// it has seen); the sweep's (the last key its round has walked), and when
// that round began.
const (
	textCursorKey  = "retention_text_cursor"
	sweepCursorKey = "retention_sweep_cursor"
	sweepStartKey  = "retention_sweep_started"
)

// Prune applies r once: it strips the text the window allows, in batches,
// moves the key sweep on by the time since the last run, then returns
// the freed pages to the file system (incremental vacuum), a few at a
// time. It stops early, with what it did so far, when ctx ends.
func (db *DB) Prune(ctx context.Context, r Retention) (st PruneStats, err error) {
	// The sweep passes for good over a key whose text is still there, so
	// the text window must be the shortest; it deletes every key older
	// than the undated window, so that must be the longest.
	if r.Text <= 0 || r.Keys < r.Text || r.UndatedKeys < 0 || (r.UndatedKeys > 0 && r.UndatedKeys < r.Keys) || r.KeySweep < 0 {
		return st, fmt.Errorf("db: prune: windows must be positive, text the shortest, undated keys the longest (text %s, keys %s, undated keys %s, sweep %s)",
			r.Text, r.Keys, r.UndatedKeys, r.KeySweep)
	}
	if r.KeySweep == 0 {
		r.KeySweep = DefaultKeySweep
	}
	if r.Batch <= 0 {
		r.Batch = DefaultPruneBatch
	}
	if r.SweepRows <= 0 {
		r.SweepRows = DefaultSweepRows
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
		ctx := context.WithoutCancel(ctx)
		if conn, err := db.writer.Conn(ctx); err == nil {
			if st.Transactions%checkpointEvery != 0 {
				db.checkpoint(ctx, conn, &st)
			}
			_, _ = conn.ExecContext(ctx, fmt.Sprintf("PRAGMA wal_autocheckpoint = %d", walAutocheckpoint))
			conn.Close()
		}
	}()
	now := db.clock()
	if err := db.stripTexts(ctx, now.Add(-r.Text), r.Batch, &st); err != nil {
		return st, fmt.Errorf("db: prune: %w", err)
	}
	if err := db.sweepKeys(ctx, r, now, &st); err != nil {
		return st, fmt.Errorf("db: prune: %w", err)
	}
	if st.Stripped+st.Keys > 0 {
		if err := db.vacuum(ctx, r.VacuumPages, &st); err != nil {
			return st, fmt.Errorf("db: prune: %w", err)
		}
	}
	return st, nil
}

// stripTexts deletes the text of the articles fetched before cutoff that
// may go, batch by batch, from its cursor.
func (db *DB) stripTexts(ctx context.Context, cutoff time.Time, batch int, st *PruneStats) error {
	cursor, _, err := db.metaInt(ctx, textCursorKey)
	if err != nil {
		return err
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		ids, last, done, err := db.textCandidates(ctx, cursor, toMillis(cutoff), batch)
		if err != nil {
			return err
		}
		if last == cursor {
			return nil
		}
		n, err := db.stripBatch(ctx, ids, last, st)
		if err != nil {
			return err
		}
		st.Stripped += n
		cursor = last
		if done {
			return nil
		}
	}
}

// articleKept is the condition under which an article's text stays: it
// is not dispatched yet, or it alerted, or a story names it.
const articleKept = `a.dispatched = 0
	OR EXISTS (SELECT 1 FROM alerts WHERE article_id = a.id)
	OR EXISTS (SELECT 1 FROM article_stories WHERE article_id = a.id)
	OR EXISTS (SELECT 1 FROM stories WHERE article_id = a.id)`

// textCandidates reads, on a reader, up to batch articles after id cursor
// fetched before cutoff, and returns the ids of those that may go, the
// last id it looked at (cursor when none) and whether it reached the
// cutoff or the end. The write transaction checks each id again.
func (db *DB) textCandidates(ctx context.Context, cursor, cutoff int64, batch int) (ids []int64, last int64, done bool, err error) {
	last = cursor
	rows, err := db.reader.QueryContext(ctx, `SELECT a.id, a.fetched, `+articleKept+`
		FROM articles a WHERE a.id > ? ORDER BY a.id LIMIT ?`, cursor, batch)
	if err != nil {
		return nil, cursor, false, err
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var id, fetched int64
		var keep bool
		if err := rows.Scan(&id, &fetched, &keep); err != nil {
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
		if !keep {
			ids = append(ids, id)
		}
	}
	return ids, last, n < batch, rows.Err()
}

// stripBatch deletes the texts ids in one write transaction, checking
// again that each may go, and moves the cursor to last in the same
// transaction.
func (db *DB) stripBatch(ctx context.Context, ids []int64, last int64, st *PruneStats) (int, error) {
	var n int64
	err := db.timedWrite(ctx, st, func(tx *sql.Tx) error {
		n = 0
		if len(ids) > 0 {
			res, err := tx.ExecContext(ctx, `DELETE FROM articles AS a
				WHERE a.id IN (SELECT value FROM json_each(?)) AND NOT (`+articleKept+`)`, idList(ids))
			if err != nil {
				return err
			}
			if n, err = res.RowsAffected(); err != nil {
				return err
			}
		}
		return setMeta(ctx, tx, textCursorKey, last)
	})
	return int(n), err
}

// sweepKeys moves the key sweep on (see the comment at the top): a walk
// through seen_keys in key order that goes round once every KeySweep, each
// Prune walking as far as the time since the round began says, so a
// round's work is spread over its runs. A round overdue by more than a
// round (no Prune ran for that long) is finished, and the next one starts
// at most a round ago, so this run walks it whole as well.
func (db *DB) sweepKeys(ctx context.Context, r Retention, now time.Time, st *PruneStats) error {
	cursor, sweeping, err := db.metaInt(ctx, sweepCursorKey)
	if err != nil {
		return err
	}
	started, ok, err := db.metaInt(ctx, sweepStartKey)
	if err != nil {
		return err
	}
	// Expired: fetched on a day before the window's first; so a key goes
	// up to a day late, never early. An undated key's window is the longer
	// (Prune checks), so every key before it goes, and between the two only
	// dated ones: flags below flagUndated (they have three bits).
	dated, undated := toMillis(now.Add(-r.Keys))/dayMillis, int64(math.MinInt64)
	if r.UndatedKeys > 0 {
		undated = toMillis(now.Add(-r.UndatedKeys)) / dayMillis
	}
	round := r.KeySweep.Milliseconds()
	if !ok || !sweeping {
		// The first round begins now; as if begun a round ago, so that
		// this run walks all the keys there are, when some are expired
		// already (a database upgraded to 0006).
		started, cursor = toMillis(now), math.MinInt64
		var expired bool
		if err := db.reader.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM seen_keys WHERE day < ?)`,
			dated).Scan(&expired); err != nil {
			return err
		}
		if expired {
			started -= round
		}
		if err := db.setSweep(ctx, st, started, cursor); err != nil {
			return err
		}
	}
	for {
		// In whole steps: a walk's fixed costs (its first and last
		// transactions, its checkpoint) paid a few times a round rather
		// than at every run.
		done := math.Floor(float64(toMillis(now)-started)/float64(round)*sweepSteps) / sweepSteps
		target := sweepTarget(done)
		var err error
		if cursor, err = db.sweepTo(ctx, st, cursor, target, r.SweepRows, dated, undated); err != nil {
			return err
		}
		if target != math.MaxInt64 {
			return nil
		}
		// The round is over: the next begins where the last was due to,
		// or a round ago if that is later.
		started, cursor = max(started+round, toMillis(now)-round), math.MinInt64
		if err := db.setSweep(ctx, st, started, cursor); err != nil {
			return err
		}
	}
}

// sweepSteps is how many steps a round of the sweep takes: with the
// default round of a week, a step a day.
const sweepSteps = 7

// sweepTarget is the key a round of the sweep should have walked to once
// the fraction done of its time has passed: as far through the keys'
// space, MaxInt64 at its end. The space is that of the three kinds,
// which fill [MinInt64, 0) and [1<<62, MaxInt64] (see 0006), so that the
// walk's pace follows the keys.
func sweepTarget(done float64) int64 {
	const span = 3 << 62 // positions: kinds 2 and 3, then kind 1
	if done >= 1 {
		return math.MaxInt64
	}
	pos := uint64(max(done, 0) * span)
	if pos < 1<<63 {
		return math.MinInt64 + int64(pos)
	}
	return int64(pos - 1<<63 + 1<<62)
}

// sweepTo walks the keys after cursor up to target, SweepRows a
// transaction, deleting the expired ones that may go, and returns where it
// stopped (target, unless ctx ended first).
func (db *DB) sweepTo(ctx context.Context, st *PruneStats, cursor, target int64, rows int, dated, undated int64) (int64, error) {
	for cursor < target {
		if err := ctx.Err(); err != nil {
			return cursor, err
		}
		var n int64
		err := db.timedWrite(ctx, st, func(tx *sql.Tx) error {
			// The chunk ends at the last of the next SweepRows keys, or
			// at target when fewer are left before it.
			var end sql.NullInt64
			var count int
			if err := tx.QueryRowContext(ctx, `SELECT max(key), count(*) FROM
				(SELECT key FROM seen_keys WHERE key > ? AND key <= ? ORDER BY key LIMIT ?)`, cursor, target, rows).Scan(&end, &count); err != nil {
				return err
			}
			to := target
			if count == rows {
				to = end.Int64
			}
			res, err := tx.ExecContext(ctx, `DELETE FROM seen_keys AS k
				WHERE k.key > ? AND k.key <= ?
					AND (k.day < ? OR (k.day < ? AND k.flags < ?))
					AND NOT EXISTS (SELECT 1 FROM articles WHERE id = k.article_id)`,
				cursor, to, undated, dated, flagUndated)
			if err != nil {
				return err
			}
			if n, err = res.RowsAffected(); err != nil {
				return err
			}
			cursor = to
			return setMeta(ctx, tx, sweepCursorKey, cursor)
		})
		if err != nil {
			return cursor, err
		}
		st.Keys += int(n)
	}
	return cursor, nil
}

// setSweep records a round of the sweep that began at started (Unix ms),
// walked to cursor.
func (db *DB) setSweep(ctx context.Context, st *PruneStats, started, cursor int64) error {
	return db.timedWrite(ctx, st, func(tx *sql.Tx) error {
		if err := setMeta(ctx, tx, sweepStartKey, started); err != nil {
			return err
		}
		return setMeta(ctx, tx, sweepCursorKey, cursor)
	})
}

// setMeta writes an integer meta value.
func setMeta(ctx context.Context, tx *sql.Tx, key string, v int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, strconv.FormatInt(v, 10))
	return err
}

// vacuum returns the free pages to the file system, at most pages per
// transaction, so the file shrinks to near its live size without holding
// the write lock long. It keeps a reserve of an eighth of the file's
// pages free: pruning runs every hour and the next hour's polls fill what
// it freed, so moving those pages to the end of the file only for the
// polls to grow it again would be work for nothing (each move rewrites the
// page and its parent's pointer). It does nothing when the file is not in
// incremental auto-vacuum mode (see ensureIncrementalVacuum).
func (db *DB) vacuum(ctx context.Context, pages int, st *PruneStats) error {
	for {
		var free, count int
		if err := db.writer.QueryRowContext(ctx, `SELECT f.freelist_count, c.page_count
			FROM pragma_freelist_count() f, pragma_page_count() c`).Scan(&free, &count); err != nil {
			return err
		}
		free -= count / vacuumReserve
		if free <= 0 {
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
	if st.Transactions%checkpointEvery == 0 {
		db.checkpoint(ctx, conn, st)
	}
	return db.noteWrite(nil)
}

// vacuumReserve: vacuum leaves 1/vacuumReserve of the file's pages free.
const vacuumReserve = 8

// checkpointEvery is how many of Prune's transactions go between two of
// its checkpoints: each costs two fsyncs and writes back the pages its
// transactions share (the free-list, the tables' upper pages) once.
// Prune's transactions write a few hundred pages each, so a checkpoint
// writes back a few MB, in a few ms.
const checkpointEvery = 8

// checkpoint checkpoints the WAL. A passive checkpoint waits for no reader
// and blocks no writer of another process; it does hold this process's
// writer connection, so it is timed too. Its errors are not the prune's:
// the WAL is checkpointed again later.
func (db *DB) checkpoint(ctx context.Context, conn *sql.Conn, st *PruneStats) {
	start := time.Now()
	_, _ = conn.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
	st.MaxCheckpoint = max(st.MaxCheckpoint, time.Since(start))
}

// metaInt reads an integer meta value, and whether there is one (0, false
// when absent).
func (db *DB) metaInt(ctx context.Context, key string) (int64, bool, error) {
	var s string
	err := db.reader.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, key).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, err
	}
	v, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
	if err != nil {
		return 0, false, fmt.Errorf("meta %s: %w", key, err)
	}
	return v, true, nil
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
