package db

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Writes take turns on the one writer connection. When several are
// waiting, the one whose turn it is runs them all in one transaction, each
// in a savepoint of its own, and commits once: a page that several of them
// change (the articles' pages, seen_keys' leaves) goes to the WAL once per
// commit instead of once per write. On the first fetch of 1,000 feeds,
// committing was a fifth of storing (perf on poll-cost.sh: appending WAL
// frames alone 4.5 % of the process). A write waiting alone runs as it
// always did, in a transaction of its own.
//
// Each write keeps its own outcome: one that fails (or panics) is rolled
// back to its savepoint, alone, and the others go on. Only a failure that
// ends the whole transaction (SQLite rolls back on its own after some
// errors: a full disk, an I/O error) or a failed commit fails them all, with
// that error.

// maxGroup bounds how many writes share a transaction, so that one commit
// never waits for an unbounded queue.
const maxGroup = 64

// gatherWindow is how long a write that is not urgent (storing a poll's
// articles, marking them dispatched) waits for others to join it before it
// leads their group, when writes have lately had to queue (within
// crowdedFor): a lone writer, one poll at a time, never waits. A feed's
// keys lie on about as many seen_keys leaves as it has keys, so one feed's
// write appends nearly a WAL page a key; gathered writes share the leaves
// they land on. Nobody waits on these writes but the poll that made them,
// and an alert is late by this at most.
const gatherWindow = 50 * time.Millisecond

// crowdedFor is how long after writes last queued gathering goes on.
const crowdedFor = time.Second

// writeTurns is the queue of writes waiting for the writer.
type writeTurns struct {
	mu        sync.Mutex
	waiting   []*writeReq
	busy      bool          // a write is leading a group; it hands on to waiting[0]
	gathering bool          // the leader waits for others (gather)
	wake      chan struct{} // ends the leader's gathering early
	window    time.Duration // 0: gatherWindow (tests lengthen it)
	crowded   time.Time     // when writes last had to wait for others
}

// writeReq is one call of write.
type writeReq struct {
	ctx      context.Context
	fn       func(context.Context, *sql.Tx) error
	err      error
	panicked any       // what fn panicked with, re-panicked in the caller
	turn     chan bool // true: lead the next group; false: done, err is set
	gather   bool      // not urgent: its group may wait for others to join
}

// write runs fn in a transaction on the writer connection, committing when
// fn returns nil; fn's writes are committed by the time it returns nil, and
// none of them are when it returns an error. The transaction begins
// IMMEDIATE (see dsn), so it holds the write lock from the start and cannot
// fail with SQLITE_BUSY on upgrade. fn may share the transaction with other
// writes waiting at the same time (see above). A write whose ctx ends while
// it waits returns ctx's error without running; once fn has started it is
// not interrupted: it is given ctx without its cancellation, for its
// statements (a statement interrupted inside a group would roll back the
// others' work too, and the driver watches every statement of a
// cancellable ctx with a goroutine of its own: a sixth of storing a first
// fetch).
func (db *DB) write(ctx context.Context, fn func(context.Context, *sql.Tx) error) error {
	return db.writeTurn(&writeReq{ctx: ctx, fn: fn, turn: make(chan bool, 1)})
}

// writeGathered is write for writes that are not urgent: when it leads a
// group, it first waits up to the gather window for others to join, unless
// the group is full or an urgent write comes.
func (db *DB) writeGathered(ctx context.Context, fn func(context.Context, *sql.Tx) error) error {
	return db.writeTurn(&writeReq{ctx: ctx, fn: fn, turn: make(chan bool, 1), gather: true})
}

// writeTurn queues r, runs its group when r leads it, and returns r's
// outcome.
func (db *DB) writeTurn(r *writeReq) error {
	if db.turns.join(r) || <-r.turn {
		if r.gather {
			db.turns.gather()
		}
		group := db.turns.take()
		db.runGroup(group)
		for _, o := range group {
			if o != r {
				o.turn <- false
			}
		}
		db.turns.handOn()
	}
	if r.panicked != nil {
		panic(r.panicked)
	}
	return db.noteWrite(r.err)
}

// join queues r and reports whether it leads (no group is running).
func (t *writeTurns) join(r *writeReq) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.waiting = append(t.waiting, r)
	if t.gathering && (!r.gather || len(t.waiting) >= maxGroup) {
		select {
		case t.wake <- struct{}{}:
		default: // already woken
		}
	}
	if t.busy {
		return false
	}
	t.busy = true
	return true
}

// gather waits for the window, or less when the group fills up or an
// urgent write is waiting.
func (t *writeTurns) gather() {
	t.mu.Lock()
	if t.wake == nil {
		t.wake = make(chan struct{}, 1)
	}
	window := cmp.Or(t.window, gatherWindow)
	if time.Since(t.crowded) > crowdedFor {
		window = 0
	}
	for _, r := range t.waiting {
		if !r.gather {
			window = 0
		}
	}
	if len(t.waiting) >= maxGroup {
		window = 0
	}
	t.gathering = window > 0
	t.mu.Unlock()
	if window == 0 {
		return
	}
	timer := time.NewTimer(window)
	select {
	case <-timer.C:
	case <-t.wake:
		timer.Stop()
	}
	t.mu.Lock()
	t.gathering = false
	select {
	case <-t.wake: // a wake-up sent as the timer fired
	default:
	}
	t.mu.Unlock()
}

// take takes the next group off the queue; the leader's own write is its
// first.
func (t *writeTurns) take() []*writeReq {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := min(len(t.waiting), maxGroup)
	group := make([]*writeReq, n)
	copy(group, t.waiting)
	t.waiting = append(t.waiting[:0], t.waiting[n:]...)
	return group
}

// handOn wakes the first write waiting to lead the next group, or ends the
// turns when nobody waits. Writes that waited for a group to end are what
// makes the writer crowded (gather).
func (t *writeTurns) handOn() {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.waiting) == 0 {
		t.busy = false
		return
	}
	t.crowded = time.Now()
	t.waiting[0].turn <- true
}

// errGroupEnded wraps the error that ended a shared transaction, for the
// writes in it that did nothing wrong.
var errGroupEnded = errors.New("rolled back with the writes it was committed with")

// runGroup runs the writes of a group and sets each one's err.
func (db *DB) runGroup(group []*writeReq) {
	if len(group) == 1 {
		r := group[0]
		if r.err = r.ctx.Err(); r.err == nil {
			r.err = runTx(context.WithoutCancel(r.ctx), db.writer, nil, r.call)
		}
		return
	}
	// The transaction outlives any one write's ctx; each write's ctx is
	// checked before it starts.
	ctx := context.WithoutCancel(group[0].ctx)
	tx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		for _, r := range group {
			r.err = err
		}
		return
	}
	var done []*writeReq // committed with the transaction
	fail := func(cause error, rest []*writeReq) {
		_ = tx.Rollback() // cause is the error worth returning
		for _, r := range append(done, rest...) {
			r.err = fmt.Errorf("db: %w: %w", errGroupEnded, cause)
		}
	}
	for i, r := range group {
		if r.err = r.ctx.Err(); r.err != nil {
			continue
		}
		if _, err := tx.ExecContext(ctx, "SAVEPOINT write"); err != nil {
			fail(err, group[i:])
			return
		}
		if r.err = r.call(tx); r.err != nil {
			if err := rollbackTo(ctx, tx); err != nil {
				// SQLite ended the transaction itself: r's error did.
				fail(r.err, group[i+1:])
				return
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, "RELEASE write"); err != nil {
			fail(err, group[i:])
			return
		}
		done = append(done, r)
	}
	err = tx.Commit()
	for _, r := range done {
		r.err = err
	}
}

// rollbackTo undoes the writes since the savepoint and pops it.
func rollbackTo(ctx context.Context, tx *sql.Tx) error {
	if _, err := tx.ExecContext(ctx, "ROLLBACK TO write"); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, "RELEASE write")
	return err
}

// errPanicked is the error of a write whose fn panicked; write re-panics
// with the value in the caller's goroutine.
var errPanicked = errors.New("db: write panicked")

// call runs r's fn, catching a panic so that it rolls back r alone and
// reaches r's caller rather than the group's leader.
func (r *writeReq) call(tx *sql.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			r.panicked, err = p, errPanicked
		}
	}()
	return r.fn(context.WithoutCancel(r.ctx), tx)
}
