package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/backchannel/backchannel/model"
)

const feedColumns = `f.id, f.name, f.url, f.schedule, f.source,
	s.last_poll, s.last_success, s.next_poll, s.status, s.error,
	s.etag, s.last_modified, s.items_seen, s.failures`

const feedFrom = ` FROM feeds f JOIN feed_state s ON s.feed_id = f.id`

func scanFeed(row interface{ Scan(...any) error }) (model.Feed, error) {
	var f model.Feed
	var lastPoll, lastSuccess, nextPoll int64
	err := row.Scan(&f.ID, &f.Name, &f.URL, &f.Schedule, &f.Source,
		&lastPoll, &lastSuccess, &nextPoll, &f.State.Status, &f.State.Error,
		&f.State.ETag, &f.State.LastModified, &f.State.ItemsSeen, &f.State.Failures)
	f.State.LastPoll = fromMillis(lastPoll)
	f.State.LastSuccess = fromMillis(lastSuccess)
	f.State.NextPoll = fromMillis(nextPoll)
	return f, err
}

// Feeds returns every feed with its state, by name.
func (db *DB) Feeds(ctx context.Context) ([]model.Feed, error) {
	var out []model.Feed
	err := db.read(ctx, func(tx *sql.Tx) (err error) {
		out, err = listFeeds(ctx, tx)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("db: feeds: %w", err)
	}
	return db.withQueued(out), nil
}

func listFeeds(ctx context.Context, tx *sql.Tx) ([]model.Feed, error) {
	rows, err := tx.QueryContext(ctx, `SELECT `+feedColumns+feedFrom+` ORDER BY f.name`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []model.Feed
	for rows.Next() {
		f, err := scanFeed(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

func feedByName(ctx context.Context, tx *sql.Tx, name string) (model.Feed, error) {
	f, err := scanFeed(tx.QueryRowContext(ctx, `SELECT `+feedColumns+feedFrom+` WHERE f.name = ?`, name))
	return f, notFound(err)
}

func feedByURLKey(ctx context.Context, tx *sql.Tx, key string) (model.Feed, error) {
	f, err := scanFeed(tx.QueryRowContext(ctx, `SELECT `+feedColumns+feedFrom+` WHERE f.url_key = ?`, key))
	return f, notFound(err)
}

// insertFeed adds a feed and its empty state row.
func (db *DB) insertFeed(ctx context.Context, tx *sql.Tx, f model.Feed) (int64, error) {
	res, err := tx.ExecContext(ctx,
		`INSERT INTO feeds (name, url, url_key, schedule, source, created) VALUES (?, ?, ?, ?, ?, ?)`,
		f.Name, f.URL, NormalizeLink(f.URL), f.Schedule, f.Source, toMillis(db.clock()))
	if err != nil {
		return 0, err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO feed_state (feed_id) VALUES (?)`, id); err != nil {
		return 0, err
	}
	return id, nil
}

// updateFeed rewrites a feed's definition. When its URL changes the fetch
// state is reset: an ETag or Last-Modified of another URL means nothing,
// and its failures are not the new URL's.
func updateFeed(ctx context.Context, tx *sql.Tx, old, f model.Feed) error {
	if _, err := tx.ExecContext(ctx,
		`UPDATE feeds SET name = ?, url = ?, url_key = ?, schedule = ?, source = ? WHERE id = ?`,
		f.Name, f.URL, NormalizeLink(f.URL), f.Schedule, f.Source, old.ID); err != nil {
		return err
	}
	if NormalizeLink(old.URL) == NormalizeLink(f.URL) {
		return nil
	}
	_, err := tx.ExecContext(ctx,
		`UPDATE feed_state SET etag = '', last_modified = '', failures = 0, next_poll = 0, status = '', error = ''
		 WHERE feed_id = ?`, old.ID)
	return err
}

// SyncConfigFeeds makes the stored config feeds those of the configuration
// file: each is upserted by name, config feeds no longer listed are removed
// with their state, and feeds added from Discord are kept. It returns every
// feed, by name.
//
// A listed feed whose URL is already stored under another name takes that
// row over (so renaming a feed in the file, or moving an admin-added feed
// into it, keeps its fetch state and GUID history) unless that other name is
// listed too, which is a duplicate URL in the file: model.ErrDuplicate.
func (db *DB) SyncConfigFeeds(ctx context.Context, feeds []model.Feed) ([]model.Feed, error) {
	listed := make(map[string]bool, len(feeds))
	for _, f := range feeds {
		if f.Name == "" || f.URL == "" {
			return nil, fmt.Errorf("db: sync feeds: feed %q: name and url are required", f.Name)
		}
		if listed[f.Name] {
			return nil, fmt.Errorf("db: sync feeds: feed %q listed twice: %w", f.Name, model.ErrDuplicate)
		}
		listed[f.Name] = true
	}
	// Queued states are written first, so none of them can land on a
	// feed this sync resets or on a removed feed's reused id.
	db.states.flushMu.Lock()
	defer db.states.flushMu.Unlock()
	if err := db.flushLocked(ctx); err != nil {
		return nil, fmt.Errorf("db: sync feeds: %w", err)
	}
	var out []model.Feed
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		for _, f := range feeds {
			f.Source = model.SourceConfig
			if err := db.syncFeed(ctx, tx, f, listed); err != nil {
				return fmt.Errorf("feed %q: %w", f.Name, err)
			}
		}
		all, err := listFeeds(ctx, tx)
		if err != nil {
			return err
		}
		for _, f := range all {
			if f.Source == model.SourceConfig && !listed[f.Name] {
				// feed_state goes with it (ON DELETE CASCADE); articles stay,
				// with feed_id NULL, so that their links and titles still
				// count as seen.
				if _, err := tx.ExecContext(ctx, `DELETE FROM feeds WHERE id = ?`, f.ID); err != nil {
					return fmt.Errorf("remove feed %q: %w", f.Name, err)
				}
				continue
			}
			out = append(out, f)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("db: sync feeds: %w", err)
	}
	db.forgetWritten() // the sync may have reset states or removed feeds
	return db.withQueued(out), nil
}

// forgetWritten forgets every state last written, so that the next state
// queued for each feed counts as a change and is written soon. q.flushMu
// is held.
func (db *DB) forgetWritten() {
	q := &db.states
	q.mu.Lock()
	defer q.mu.Unlock()
	clear(q.written)
}

func (db *DB) syncFeed(ctx context.Context, tx *sql.Tx, f model.Feed, listed map[string]bool) error {
	old, err := feedByName(ctx, tx, f.Name)
	if err == nil {
		if other, err := feedByURLKey(ctx, tx, NormalizeLink(f.URL)); err == nil && other.ID != old.ID {
			if listed[other.Name] {
				return fmt.Errorf("url %s is also feed %q's: %w", f.URL, other.Name, model.ErrDuplicate)
			}
			// The URL moved here from a feed that is going away (or is an
			// admin feed the file now names differently): drop that one.
			if _, err := tx.ExecContext(ctx, `DELETE FROM feeds WHERE id = ?`, other.ID); err != nil {
				return err
			}
		}
		return updateFeed(ctx, tx, old, f)
	}
	if !errors.Is(err, model.ErrNotFound) {
		return err
	}
	other, err := feedByURLKey(ctx, tx, NormalizeLink(f.URL))
	switch {
	case err == nil && listed[other.Name]:
		return fmt.Errorf("url %s is also feed %q's: %w", f.URL, other.Name, model.ErrDuplicate)
	case err == nil:
		return updateFeed(ctx, tx, other, f) // a rename, or an admin feed adopted by the file
	case !errors.Is(err, model.ErrNotFound):
		return err
	}
	_, err = db.insertFeed(ctx, tx, f)
	return err
}

// AddFeed stores a new feed (source "admin" unless set) and returns it with
// its ID. A feed with the same name or URL is model.ErrDuplicate.
func (db *DB) AddFeed(ctx context.Context, f model.Feed) (model.Feed, error) {
	if f.Name == "" || f.URL == "" {
		return model.Feed{}, fmt.Errorf("db: add feed %q: name and url are required", f.Name)
	}
	if f.Source == "" {
		f.Source = model.SourceAdmin
	}
	db.states.flushMu.Lock() // see stateQueue.flushMu
	defer db.states.flushMu.Unlock()
	var out model.Feed
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		id, err := db.insertFeed(ctx, tx, f)
		if err != nil {
			return err
		}
		out, err = scanFeed(tx.QueryRowContext(ctx, `SELECT `+feedColumns+feedFrom+` WHERE f.id = ?`, id))
		return err
	})
	if isUnique(err) {
		return model.Feed{}, fmt.Errorf("db: add feed %q (%s): %w", f.Name, f.URL, model.ErrDuplicate)
	}
	if err != nil {
		return model.Feed{}, fmt.Errorf("db: add feed %q: %w", f.Name, err)
	}
	db.dropQueued(out.ID) // a removed feed's, if SQLite reused its id
	return out, nil
}

// RemoveFeed removes the named feed and its state and returns what it was.
// Its articles stay, so re-adding it does not post its items again.
func (db *DB) RemoveFeed(ctx context.Context, name string) (model.Feed, error) {
	db.states.flushMu.Lock() // see stateQueue.flushMu
	defer db.states.flushMu.Unlock()
	var out model.Feed
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) (err error) {
		if out, err = feedByName(ctx, tx, name); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM feeds WHERE id = ?`, out.ID)
		return err
	})
	if err != nil {
		return model.Feed{}, fmt.Errorf("db: remove feed %q: %w", name, err)
	}
	db.dropQueued(out.ID)
	return out, nil
}

// Feed state is written behind. The poller hands over every feed's state
// after every poll; most of those polls changed nothing but their times (a
// 304), and a write transaction per poll was most of what an unchanged poll
// cost. QueueFeedState keeps the state in memory and FlushFeedStates writes
// every queued state in one transaction. A state that changed more than
// its times (status, error, validators, failures) is written
// stateFlushInterval after it was queued; one whose poll changed only its
// times waits up to stateQuietInterval, so that a bot whose feeds answer
// 304 writes nothing between those; Close writes everything. Feeds shows
// queued states meanwhile, so /status is never behind. SaveFeedState
// writes at once (and takes the queue along).
//
// A crash loses the states queued since the last flush; see feeds.Poller for
// why that is safe (lost times only make a feed be polled sooner). items_seen
// is not part of it: StoreArticles counts it in the transaction that stores
// the items.
const (
	stateFlushInterval = 30 * time.Second
	stateQuietInterval = 10 * time.Minute
	stateFlushTimeout  = 10 * time.Second
)

const updateStateSQL = `UPDATE feed_state SET last_poll = ?, last_success = ?, next_poll = ?, status = ?, error = ?,
	etag = ?, last_modified = ?, failures = ? WHERE feed_id = ?`

// stateQueue is the DB's write-behind buffer of feed states.
type stateQueue struct {
	// flushMu serialises flushes, and holds them off while a feed is added
	// or removed: SQLite may give a removed feed's id to the next feed
	// added, which must not then receive the removed feed's queued state.
	flushMu sync.Mutex

	mu      sync.Mutex
	pending map[int64]model.FeedState
	written map[int64]model.FeedState // the last state written of each feed, to tell a change of times only
	timer   *time.Timer               // armed while states are pending
	due     time.Time                 // when timer fires
	every   time.Duration             // stateFlushInterval; tests shorten it
	quiet   time.Duration             // stateQuietInterval; tests change it
	err     error                     // a background flush's failure, for the next QueueFeedState to report
	closed  bool
}

// timesOnly says whether b differs from a, the state last written, in its
// poll times alone (and items_seen, which the store counts itself).
func timesOnly(a, b model.FeedState) bool {
	for _, st := range []*model.FeedState{&a, &b} {
		st.LastPoll, st.LastSuccess, st.NextPoll, st.ItemsSeen = time.Time{}, time.Time{}, time.Time{}, 0
	}
	return a == b
}

// timesOnlyChange says whether st, queued for feed id, differs from the state last
// written for it in its poll times alone. q.mu is held.
func (q *stateQueue) timesOnlyChange(id int64, st model.FeedState) bool {
	w, ok := q.written[id]
	return ok && timesOnly(w, st)
}

// arm makes sure a flush runs within d. q.mu is held.
func (db *DB) arm(d time.Duration) {
	q := &db.states
	at := time.Now().Add(d)
	if q.timer != nil {
		if !q.due.After(at) || !q.timer.Stop() {
			return // due soon enough, or firing now: it re-arms for what is left
		}
	}
	q.timer, q.due = time.AfterFunc(d, db.backgroundFlush), at
}

// armFor arms the timer for what is pending: soon if any queued state
// changed more than its times, else quietly. q.mu is held.
func (db *DB) armFor() {
	q := &db.states
	if len(q.pending) == 0 || q.closed {
		return
	}
	for id, st := range q.pending {
		if !q.timesOnlyChange(id, st) {
			db.arm(q.interval())
			return
		}
	}
	db.arm(q.quietInterval())
}

// QueueFeedState records the poller's state for a feed, to be written with
// the others by the next flush. It returns an error only to report that the
// last background flush failed (the states stay queued and are tried again).
// A feed removed meanwhile is skipped by the flush.
func (db *DB) QueueFeedState(feedID int64, st model.FeedState) error {
	q := &db.states
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return fmt.Errorf("db: queue state of feed %d: database closed", feedID)
	}
	if q.pending == nil {
		q.pending = map[int64]model.FeedState{}
	}
	q.pending[feedID] = st
	if q.timesOnlyChange(feedID, st) {
		db.arm(q.quietInterval())
	} else {
		db.arm(q.interval())
	}
	err := q.err
	q.err = nil
	if err != nil {
		return fmt.Errorf("db: queue state of feed %d: an earlier flush failed: %w", feedID, err)
	}
	return nil
}

// backgroundFlush is the timer's flush. It re-arms the timer if states
// are still (or again) pending, which includes after a failure.
func (db *DB) backgroundFlush() {
	ctx, cancel := context.WithTimeout(context.Background(), stateFlushTimeout)
	defer cancel()
	err := db.FlushFeedStates(ctx)
	q := &db.states
	q.mu.Lock()
	defer q.mu.Unlock()
	q.timer = nil
	if err != nil {
		q.err = err
		if len(q.pending) > 0 && !q.closed {
			db.arm(q.interval())
		}
		return
	}
	db.armFor()
}

func (q *stateQueue) interval() time.Duration {
	if q.every <= 0 {
		return stateFlushInterval
	}
	return q.every
}

func (q *stateQueue) quietInterval() time.Duration {
	if q.quiet <= 0 {
		return stateQuietInterval
	}
	return q.quiet
}

// FlushFeedStates writes every queued feed state in one transaction. A
// state queued again while it ran stays queued.
func (db *DB) FlushFeedStates(ctx context.Context) error {
	db.states.flushMu.Lock()
	defer db.states.flushMu.Unlock()
	return db.flushLocked(ctx)
}

// flushLocked is FlushFeedStates with q.flushMu held.
func (db *DB) flushLocked(ctx context.Context) error {
	q := &db.states
	q.mu.Lock()
	batch := maps.Clone(q.pending)
	q.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	if err := db.writeStates(ctx, batch, -1); err != nil {
		return fmt.Errorf("db: flush %d feed states: %w", len(batch), err)
	}
	return nil
}

// writeStates writes batch in one transaction, and forgets the queued
// states it wrote (those not queued again meanwhile). With must >= 0 the
// state of feed must has to find its row (model.ErrNotFound otherwise);
// others whose feed is gone are skipped. q.flushMu is held.
func (db *DB) writeStates(ctx context.Context, batch map[int64]model.FeedState, must int64) error {
	q := &db.states
	ids := slices.Sorted(maps.Keys(batch)) // in key order: fewer pages touched
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		update := tx.StmtContext(ctx, db.stmts.updateState)
		for _, id := range ids {
			st := batch[id]
			res, err := update.ExecContext(ctx,
				toMillis(st.LastPoll), toMillis(st.LastSuccess), toMillis(st.NextPoll), st.Status, st.Error,
				st.ETag, st.LastModified, st.Failures, id)
			if err != nil {
				return err
			}
			if id == must {
				if n, err := res.RowsAffected(); err != nil {
					return err
				} else if n == 0 {
					return model.ErrNotFound
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.written == nil {
		q.written = make(map[int64]model.FeedState, len(batch))
	}
	for id, st := range batch {
		if cur, ok := q.pending[id]; ok && cur == st {
			delete(q.pending, id)
		}
		q.written[id] = st // a removed feed's too: dropQueued forgets it
	}
	return nil
}

// SaveFeedState writes the poller's state for a feed now, together with
// every queued state. ItemsSeen is not taken from st: StoreArticles counts
// it, in the same transaction as the items it stores, so it is exact
// whatever the caller does. A feed removed meanwhile is model.ErrNotFound.
func (db *DB) SaveFeedState(ctx context.Context, feedID int64, st model.FeedState) error {
	q := &db.states
	q.flushMu.Lock()
	defer q.flushMu.Unlock()
	q.mu.Lock()
	batch := maps.Clone(q.pending)
	q.mu.Unlock()
	if batch == nil {
		batch = map[int64]model.FeedState{}
	}
	old, hadOld := batch[feedID]
	batch[feedID] = st
	if err := db.writeStates(ctx, batch, feedID); err != nil {
		return fmt.Errorf("db: save state of feed %d: %w", feedID, err)
	}
	if hadOld { // superseded by st, now written, unless queued again since
		q.mu.Lock()
		if cur, ok := q.pending[feedID]; ok && cur == old {
			delete(q.pending, feedID)
		}
		q.mu.Unlock()
	}
	return nil
}

// withQueued returns fs with the queued states in place of the stored
// ones, except items_seen, which only the store counts.
func (db *DB) withQueued(fs []model.Feed) []model.Feed {
	q := &db.states
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.pending) == 0 {
		return fs
	}
	for i := range fs {
		if st, ok := q.pending[fs[i].ID]; ok {
			st.ItemsSeen = fs[i].State.ItemsSeen
			fs[i].State = st
		}
	}
	return fs
}

// dropQueued forgets the queued state of a feed that was removed, added (it
// may have a removed feed's id) or reset. q.flushMu is held, so no flush
// is writing it at the same time.
func (db *DB) dropQueued(feedID int64) {
	q := &db.states
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.pending, feedID)
	delete(q.written, feedID)
}

// closeStates flushes the queue and stops queueing: Close calls it before
// closing the connections.
func (db *DB) closeStates(ctx context.Context) error {
	q := &db.states
	q.mu.Lock()
	q.closed = true
	if q.timer != nil {
		q.timer.Stop() // a flush already running finishes under flushMu
	}
	q.mu.Unlock()
	return db.FlushFeedStates(ctx)
}
