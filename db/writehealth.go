package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
)

// Writes that fail because SQLite cannot write at all — the disk (or
// max_page_count) is full, the file or its directory became read-only, the
// device fails — are not the caller's fault and not the data's: the
// transaction is rolled back, what was committed before stays as it was
// (WAL), and the same write succeeds once space returns. The store notes
// them so the process can say so (WriteError, for /healthz; WriteErrors,
// for a metric) and clears the note at the next write that commits.

// Reasons a write can fail for, as WriteErrors and WriteError name them.
const (
	WriteFull     = "full"     // SQLITE_FULL: disk or max_page_count full
	WriteReadOnly = "readonly" // SQLITE_READONLY: file or directory not writable
	WriteIOErr    = "ioerr"    // SQLITE_IOERR: the device failed a read or write
)

// WriteReasons are the reasons in a fixed order, for metrics.
var WriteReasons = [...]string{WriteFull, WriteReadOnly, WriteIOErr}

// writeState is the store's record of write failures.
type writeState struct {
	counts  [len(WriteReasons)]atomic.Uint64
	failing atomic.Pointer[writeFailure] // nil while writes succeed
}

type writeFailure struct {
	reason string
	since  time.Time
	err    error
}

// ErrCannotWrite is wrapped by the errors of writes SQLite could not make
// for lack of space or permission, or a failing device.
var ErrCannotWrite = errors.New("database cannot write")

// writeReason classifies err, "" when it is not a failure to write.
func writeReason(err error) string {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return ""
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_FULL:
		return WriteFull
	case sqlite3.SQLITE_READONLY:
		return WriteReadOnly
	case sqlite3.SQLITE_IOERR:
		return WriteIOErr
	}
	return ""
}

// noteWrite records the outcome of a write transaction and returns err,
// wrapped in ErrCannotWrite with a reason an operator can act on when
// SQLite could not write.
func (db *DB) noteWrite(err error) error {
	if err == nil {
		db.writes.failing.Store(nil)
		return nil
	}
	reason := writeReason(err)
	if reason == "" {
		return err
	}
	for i, r := range WriteReasons {
		if r == reason {
			db.writes.counts[i].Add(1)
		}
	}
	f := &writeFailure{reason: reason, since: db.clock(), err: err}
	if old := db.writes.failing.Load(); old != nil && old.reason == reason {
		f.since = old.since
	}
	db.writes.failing.Store(f)
	return fmt.Errorf("%w (%s): %s: %w", ErrCannotWrite, reason, hint(reason), err)
}

func hint(reason string) string {
	switch reason {
	case WriteFull:
		return "the disk is full; nothing stored is lost, writes resume once space is freed"
	case WriteReadOnly:
		return "the database file or its directory is read-only; writes resume once it is writable"
	}
	return "the device failed an I/O; check the disk"
}

// WriteErrors returns how many write transactions failed for each reason
// of WriteReasons since Open.
func (db *DB) WriteErrors() map[string]uint64 {
	m := make(map[string]uint64, len(WriteReasons))
	for i, r := range WriteReasons {
		m[r] = db.writes.counts[i].Load()
	}
	return m
}

// WriteError returns nil while writes succeed, else an error (wrapping
// ErrCannotWrite) saying since when and why the last write failed. It is
// cleared by the next write that commits; see ProbeWrite.
func (db *DB) WriteError() error {
	f := db.writes.failing.Load()
	if f == nil {
		return nil
	}
	return fmt.Errorf("%w (%s) since %s: %s", ErrCannotWrite, f.reason, f.since.Format(time.RFC3339), hint(f.reason))
}

// ProbeWrite makes a write that needs new pages, so that a store whose
// writes failed learns that they succeed again even when nothing else
// writes: it stores probeBytes in meta and deletes them in one committed
// transaction, which changes nothing but has to find room for them (in
// the file, under max_page_count, and in the WAL on disk). It returns the
// write's error.
func (db *DB) ProbeWrite(ctx context.Context) error {
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('write_probe', ?)
			ON CONFLICT (key) DO UPDATE SET value = excluded.value`, strings.Repeat("p", probeBytes)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM meta WHERE key = 'write_probe'`)
		return err
	})
	if err != nil {
		return fmt.Errorf("db: write probe: %w", err)
	}
	return nil
}

// probeBytes is the size of ProbeWrite's write: 16 pages, about what a
// poll of a busy feed stores.
const probeBytes = 64 << 10

// LimitPages caps the database at n pages (PRAGMA max_page_count on the
// writer; never below its current size) and returns the cap in force, so
// that a test can make the database "full" and then give it room again.
// Meant for tests.
func (db *DB) LimitPages(ctx context.Context, n int64) (int64, error) {
	var got int64
	// PRAGMA takes no bound parameters; n is an integer.
	if err := db.writer.QueryRowContext(ctx, fmt.Sprintf("PRAGMA max_page_count = %d", n)).Scan(&got); err != nil {
		return 0, fmt.Errorf("db: limit pages: %w", err)
	}
	return got, nil
}
