// Package db is backchannel's SQLite store: feeds and their fetch state,
// de-duplicated articles, alerts with their outbox of deliveries,
// subscriptions and guild rule overrides.
//
// It uses modernc.org/sqlite (pure Go, so the binary builds with
// CGO_ENABLED=0). All writes go through a single connection opened with
// _txlock=immediate, so writers queue in Go rather than meeting SQLITE_BUSY
// half-way through a transaction; reads go through a small pool of
// read-only connections, which WAL lets run beside the writer. Every method
// is one transaction, except that feed states are written behind, many in
// one transaction (QueueFeedState, in feeds.go).
//
// De-duplication is enforced by unique indexes in the schema (see
// migrations/0001_init.sql and articles.go), not only by this code.
package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/backchannel/backchannel/model"
)

// Connection settings. The page cache is per connection, so with one writer
// and readerConns readers the store holds at most (1+readerConns)*2 MB of
// cache however large the database grows.
const (
	busyTimeout = 10 * time.Second
	cacheKiB    = 2000 // PRAGMA cache_size=-2000: about 2 MB per connection
	readerConns = 4
	// journalLimit caps the WAL file left on disk after a checkpoint.
	journalLimit = 64 << 20
	// walAutocheckpoint is the WAL size, in pages, at which a commit
	// checkpoints (see dsn).
	walAutocheckpoint = 10000
)

// DB is the store. It is safe for concurrent use.
type DB struct {
	path     string
	writer   *sql.DB // exactly one connection: SQLite allows one writer
	reader   *sql.DB // read-only pool
	instance string  // random hex id of this database, for delivery nonces
	now      atomic.Pointer[func() time.Time]
	states   stateQueue // feed states written behind (feeds.go)
	stmts    stmts      // prepared once (stmts.go)
	writes   writeState // writes SQLite could not make (writehealth.go)
	turns    writeTurns // writes waiting for the writer (groupcommit.go)
}

// Open opens (creating if needed) the database at path and brings its
// schema up to date. A file that is not a database, is corrupt or cannot be
// written is an error naming the file.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return nil, errors.New("db: open: empty database path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("db: open %s: %w", path, err)
	}
	db := &DB{path: abs}
	now := time.Now
	db.now.Store(&now)

	// Read another program's file before the writer opens it: opening
	// switches the file to WAL, which is already a change.
	if err := claimFile(ctx, abs); err != nil {
		return nil, fmt.Errorf("db: open %s: %w", abs, err)
	}
	if db.writer, err = sql.Open("sqlite", dsn(abs, false)); err != nil {
		return nil, fmt.Errorf("db: open %s: %w", abs, err)
	}
	db.writer.SetMaxOpenConns(1)
	db.writer.SetMaxIdleConns(1)
	db.writer.SetConnMaxLifetime(0)
	db.writer.SetConnMaxIdleTime(0)

	if err := db.start(ctx); err != nil {
		db.writer.Close()
		return nil, fmt.Errorf("db: open %s: %w", abs, err)
	}

	// The reader pool is opened after the writer has created the file and
	// switched it to WAL, because a read-only connection can do neither.
	if db.reader, err = sql.Open("sqlite", dsn(abs, true)); err != nil {
		db.writer.Close()
		return nil, fmt.Errorf("db: open %s: %w", abs, err)
	}
	// Idle readers are kept (opening one re-reads the schema) but let go
	// after a quiet spell, which also returns their page cache.
	db.reader.SetMaxOpenConns(readerConns)
	db.reader.SetMaxIdleConns(readerConns)
	db.reader.SetConnMaxIdleTime(5 * time.Minute)
	if err := db.reader.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("db: open %s: reader: %w", abs, err)
	}
	if err := db.prepareStmts(ctx, true); err != nil {
		db.Close()
		return nil, fmt.Errorf("db: open %s: reader: %w", abs, err)
	}
	return db, nil
}

// start checks the file, migrates it, loads the instance id and prepares
// the statements of the hot paths, all on the writer connection.
func (db *DB) start(ctx context.Context) error {
	// Ping makes the driver open the file and apply the DSN pragmas; the
	// journal_mode switch is the first thing that reads the header, so a
	// file that is not SQLite fails here with SQLITE_NOTADB.
	if err := db.writer.PingContext(ctx); err != nil {
		return explain(err)
	}
	var mode string
	if err := db.writer.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return explain(err)
	}
	if mode != "wal" {
		return fmt.Errorf("journal mode is %q, want wal (is the file on a file system without shared memory?)", mode)
	}
	if err := claim(ctx, db.writer); err != nil {
		return err
	}
	if err := ensureIncrementalVacuum(ctx, db.writer); err != nil {
		return explain(err)
	}
	if err := migrate(ctx, db.writer); err != nil {
		return explain(err)
	}
	id, err := db.instanceID(ctx)
	if err != nil {
		return explain(err)
	}
	db.instance = id
	return db.prepareStmts(ctx, false)
}

// ensureIncrementalVacuum puts the file in incremental auto-vacuum mode,
// in which pages freed by deletes can be returned to the file system a few
// at a time (PRAGMA incremental_vacuum, see Prune) instead of staying in
// the file for ever. A new file takes the mode with its first table; a file
// made before this mode existed here needs one VACUUM, a rewrite of the
// whole file that needs about its size again in free space. When that
// fails (a full disk) the file is used as it is and the VACUUM is tried at
// the next start: pruning still makes room inside the file.
func ensureIncrementalVacuum(ctx context.Context, w *sql.DB) error {
	var mode int
	if err := w.QueryRowContext(ctx, "PRAGMA auto_vacuum").Scan(&mode); err != nil {
		return err
	}
	if mode == 2 {
		return nil
	}
	if _, err := w.ExecContext(ctx, "PRAGMA auto_vacuum = INCREMENTAL"); err != nil {
		return err
	}
	// Even an empty file needs it here: switching to WAL has written its
	// header already.
	_, _ = w.ExecContext(ctx, "VACUUM") // see above: not fatal
	return nil
}

// claimFile runs claim on an existing file through a read-only connection,
// which changes nothing. A file it cannot read that way (say a WAL left
// without its shared-memory file) is claimed again by start, on the writer.
func claimFile(ctx context.Context, path string) error {
	if fi, err := os.Stat(path); err != nil || fi.Size() == 0 {
		return nil // absent or empty: ours to create; other errors surface on open
	}
	probe, err := sql.Open("sqlite", "file:"+escapePath(path)+"?mode=ro")
	if err != nil {
		return nil
	}
	defer probe.Close()
	err = claim(ctx, probe)
	if errors.Is(err, ErrForeignDatabase) {
		return err
	}
	return nil
}

// dsn builds the driver's connection string. The file: URI form is needed
// for mode=ro; characters that would end the path are percent-encoded.
func dsn(path string, readOnly bool) string {
	q := url.Values{}
	q.Add("_pragma", fmt.Sprintf("busy_timeout(%d)", busyTimeout.Milliseconds()))
	q.Add("_pragma", fmt.Sprintf("cache_size(%d)", -cacheKiB))
	q.Add("_pragma", "foreign_keys(1)")
	if readOnly {
		q.Set("mode", "ro")
		q.Add("_pragma", "query_only(1)")
	} else {
		// WAL lets readers run beside the writer and survives kill -9;
		// synchronous=NORMAL is durable against a process crash (only a
		// power cut can lose the last commits, which the delivery nonce
		// and the de-duplication keys then absorb).
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
		// Checkpoint every ~40 MB of WAL rather than SQLite's 4 MB: a first
		// poll of many feeds writes tens of MB, and each checkpoint syncs
		// and copies pages that later commits would dirty again.
		q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", walAutocheckpoint))
		q.Add("_pragma", fmt.Sprintf("journal_size_limit(%d)", journalLimit))
		// A write in a group runs in a savepoint (groupcommit.go), and a
		// savepoint keeps the pages it changes in a sub-journal, which
		// SQLite spills to a temporary file past 64 KiB: a feed's keys
		// change a hundred pages, so every group wrote them to disk once
		// more (perf: 2.4 % of a first fetch). In memory it is a few
		// hundred KiB, freed at each release.
		q.Add("_pragma", "temp_store(MEMORY)")
		q.Set("_txlock", "immediate")
	}
	return "file:" + escapePath(path) + "?" + q.Encode()
}

// escapePath percent-encodes the characters SQLite's URI parser would
// otherwise read as the end of the path or an escape.
func escapePath(p string) string {
	var b []byte
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '%', '?', '#':
			b = append(b, '%', "0123456789ABCDEF"[c>>4], "0123456789ABCDEF"[c&15])
		default:
			b = append(b, c)
		}
	}
	return string(b)
}

// explain adds a hint to the start-up errors an operator can act on.
func explain(err error) error {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return err
	}
	switch se.Code() & 0xff {
	case sqlite3.SQLITE_NOTADB:
		return fmt.Errorf("not a SQLite database (wrong path, or the file is damaged): %w", err)
	case sqlite3.SQLITE_CORRUPT:
		return fmt.Errorf("database file is corrupt (restore a backup or move it aside): %w", err)
	case sqlite3.SQLITE_CANTOPEN:
		return fmt.Errorf("cannot open the file (does the directory exist, and may this user write there?): %w", err)
	case sqlite3.SQLITE_READONLY, sqlite3.SQLITE_PERM:
		return fmt.Errorf("database file is not writable: %w", err)
	}
	return err
}

// instanceID returns this database's random id, creating it on first use.
// It is stored rather than derived from the path so that a copied database
// keeps its nonces and a new one never reuses another's.
func (db *DB) instanceID(ctx context.Context) (string, error) {
	var raw [8]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return "", fmt.Errorf("instance id: %w", err)
	}
	var id string
	err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx,
			`INSERT INTO meta (key, value) VALUES ('instance_id', ?) ON CONFLICT (key) DO NOTHING`,
			hex.EncodeToString(raw[:])); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'instance_id'`).Scan(&id)
	})
	if err != nil {
		return "", fmt.Errorf("instance id: %w", err)
	}
	if len(id) < 8 {
		return "", fmt.Errorf("instance id %q is too short", id)
	}
	return id, nil
}

// Close writes the queued feed states (see QueueFeedState), then closes
// both connection pools. The writer is closed last so that its close
// checkpoints the WAL into the main file.
func (db *DB) Close() error {
	var errs []error
	if db.writer != nil {
		ctx, cancel := context.WithTimeout(context.Background(), stateFlushTimeout)
		errs = append(errs, db.closeStates(ctx), db.stmts.close())
		cancel()
	}
	if db.reader != nil {
		errs = append(errs, db.reader.Close())
	}
	if db.writer != nil {
		errs = append(errs, db.writer.Close())
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("db: close %s: %w", db.path, err)
	}
	return nil
}

// Ping reports whether the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	if err := db.reader.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("db: ping: %w", err)
	}
	return nil
}

// Path returns the absolute path of the database file.
func (db *DB) Path() string { return db.path }

// SetNow replaces the clock used for timestamps the store writes itself
// (article fetch times, alert and delivery creation). Meant for tests.
func (db *DB) SetNow(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	db.now.Store(&now)
}

func (db *DB) clock() time.Time { return (*db.now.Load())().UTC() }

// nonce derives a delivery's Discord nonce: "bc", 8 hex characters of the
// instance id, "-", the delivery id. Delivery ids below 10^14 keep it within
// Discord's 25 characters.
func (db *DB) nonce(deliveryID int64) string {
	return "bc" + db.instance[:8] + "-" + strconv.FormatInt(deliveryID, 10)
}

// read runs fn in a read-only transaction, so that its queries see one
// snapshot of the database.
func (db *DB) read(ctx context.Context, fn func(*sql.Tx) error) error {
	return runTx(ctx, db.reader, &sql.TxOptions{ReadOnly: true}, fn)
}

func runTx(ctx context.Context, pool *sql.DB, opts *sql.TxOptions, fn func(*sql.Tx) error) error {
	tx, err := pool.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		_ = tx.Rollback() // the error that made us roll back is the one worth returning
		return err
	}
	return tx.Commit()
}

// Times are stored as Unix milliseconds with 0 for the zero time.

func toMillis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// isUnique reports whether err is a UNIQUE or PRIMARY KEY violation.
func isUnique(err error) bool {
	var se *sqlite.Error
	if !errors.As(err, &se) {
		return false
	}
	switch se.Code() {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return true
	}
	return false
}

// notFound maps sql.ErrNoRows to model.ErrNotFound and leaves other errors.
func notFound(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return model.ErrNotFound
	}
	return err
}
