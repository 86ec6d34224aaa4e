package db

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/backchannel/backchannel/model"
)

// MustOpen opens a fresh database in a temporary directory, with a fixed
// clock (see testClock), and closes it when the test ends.
func MustOpen(tb testing.TB) *DB {
	tb.Helper()
	return mustOpenPath(tb, filepath.Join(tb.TempDir(), "test.db"))
}

func mustOpenPath(tb testing.TB, path string) *DB {
	tb.Helper()
	db, err := Open(context.Background(), path)
	if err != nil {
		tb.Fatalf("Open(%s): %v", path, err)
	}
	tb.Cleanup(func() { db.Close() })
	return db
}

// testClock is a settable clock for SetNow.
type testClock struct{ ms atomic.Int64 }

var epoch = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func newClock(db *DB) *testClock {
	c := &testClock{}
	c.ms.Store(epoch.UnixMilli())
	db.SetNow(c.now)
	return c
}

func (c *testClock) now() time.Time          { return time.UnixMilli(c.ms.Load()).UTC() }
func (c *testClock) advance(d time.Duration) { c.ms.Add(d.Milliseconds()) }

func TestOpenMigratesFromEmpty(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if v != len(ms) || v < 1 {
		t.Fatalf("schema version %d, want %d", v, len(ms))
	}
	var mode string
	if err := db.writer.QueryRow("PRAGMA journal_mode").Scan(&mode); err != nil || mode != "wal" {
		t.Fatalf("journal_mode = %q, %v; want wal", mode, err)
	}
	var fk int
	if err := db.writer.QueryRow("PRAGMA foreign_keys").Scan(&fk); err != nil || fk != 1 {
		t.Fatalf("foreign_keys = %d, %v", fk, err)
	}
	var temp int
	if err := db.writer.QueryRow("PRAGMA temp_store").Scan(&temp); err != nil || temp != 2 {
		t.Fatalf("temp_store = %d, %v; want 2 (memory: the savepoints' sub-journals)", temp, err)
	}
	var cache int
	if err := db.reader.QueryRow("PRAGMA cache_size").Scan(&cache); err != nil || cache != -cacheKiB {
		t.Fatalf("reader cache_size = %d, %v", cache, err)
	}
	for _, table := range []string{"meta", "feeds", "feed_state", "articles", "alerts", "deliveries", "subscriptions", "guild_rules", "alerts_fts"} {
		var n int
		if err := db.reader.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = ?`, table).Scan(&n); err != nil || n != 1 {
			t.Errorf("table %s: %d, %v", table, n, err)
		}
	}
	if err := db.Ping(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestReaderIsReadOnly(t *testing.T) {
	db := MustOpen(t)
	_, err := db.reader.Exec(`INSERT INTO meta (key, value) VALUES ('x', 'y')`)
	if err == nil {
		t.Fatal("write through the reader pool succeeded")
	}
}

func TestReopenIsNoOpMigration(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "re.db")
	db1, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	id1 := db1.instance
	if _, err := db1.AddFeed(ctx, model.Feed{Name: "a", URL: "https://a.example/feed"}); err != nil {
		t.Fatal(err)
	}
	v1, _ := db1.SchemaVersion(ctx)
	if err := db1.Close(); err != nil {
		t.Fatal(err)
	}
	db2 := mustOpenPath(t, path)
	v2, _ := db2.SchemaVersion(ctx)
	if v1 != v2 {
		t.Fatalf("version changed on reopen: %d -> %d", v1, v2)
	}
	if db2.instance != id1 {
		t.Fatalf("instance id changed on reopen: %s -> %s", id1, db2.instance)
	}
	feeds, err := db2.Feeds(ctx)
	if err != nil || len(feeds) != 1 {
		t.Fatalf("feeds after reopen: %v, %v", feeds, err)
	}
}

func TestMigrationsAreNumbered(t *testing.T) {
	ms, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range ms {
		if m.version != i+1 {
			t.Errorf("%s has version %d, want %d", m.name, m.version, i+1)
		}
	}
}

func TestOpenNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "new.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.writer.Exec(`PRAGMA user_version = 999`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	_, err = Open(ctx, path)
	if err == nil || !strings.Contains(err.Error(), "newer") || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open of a newer schema: %v", err)
	}
}

func TestOpenCorruptFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "garbage.db")
	junk := []byte(strings.Repeat("this is not a database, it is garbage. ", 200))
	if err := os.WriteFile(path, junk, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := Open(context.Background(), path)
	if err == nil {
		db.Close()
		t.Fatal("Open of a garbage file succeeded")
	}
	if !strings.Contains(err.Error(), path) {
		t.Fatalf("error does not name the file: %v", err)
	}
	if !strings.Contains(err.Error(), "not a SQLite database") {
		t.Errorf("error does not say what is wrong: %v", err)
	}
}

func TestOpenTruncatedDatabase(t *testing.T) {
	// A real database cut short: the header is valid, pages are missing.
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cut.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// Keep the header, overwrite the schema page with junk.
	for i := 100; i < len(data) && i < 4096; i++ {
		data[i] = 0xA5
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err = Open(ctx, path)
	if err == nil {
		db.Close()
		t.Fatal("Open of a damaged database succeeded")
	}
	if !strings.Contains(err.Error(), path) {
		t.Fatalf("error does not name the file: %v", err)
	}
}

func TestOpenUnwritable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root can write anywhere")
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	path := filepath.Join(dir, "x.db")
	_, err := Open(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open in a read-only directory: %v", err)
	}
}

func TestOpenMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "dir", "x.db")
	_, err := Open(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open in a missing directory: %v", err)
	}
}

func TestOpenOddPath(t *testing.T) {
	// Characters that mean something in a file: URI must stay in the name.
	path := filepath.Join(t.TempDir(), "we?ird #name%20.db")
	db := mustOpenPath(t, path)
	if err := db.Ping(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at %q: %v", path, err)
	}
}

func TestNonce(t *testing.T) {
	db := MustOpen(t)
	n := db.nonce(99999999999999) // 14 digits: the documented limit
	if len(n) > 25 || !regexp.MustCompile(`^bc[0-9a-f]{8}-[0-9]+$`).MatchString(n) {
		t.Fatalf("nonce %q", n)
	}
}

func TestErrNotFoundMapping(t *testing.T) {
	db := MustOpen(t)
	_, err := db.Alert(context.Background(), "g", 12345)
	if !errors.Is(err, model.ErrNotFound) {
		t.Fatalf("Alert of a missing id: %v", err)
	}
}

func TestOpenDirectoryAsFile(t *testing.T) {
	path := t.TempDir() // runs as root in CI too, where permissions do not stop a write
	_, err := Open(context.Background(), path)
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("Open of a directory: %v", err)
	}
}

// TestOpenForeignDatabaseRefused: another program's SQLite file is refused
// with a clear error and left exactly as it was; an empty database file
// and a backchannel database from before the marker are accepted.
func TestOpenForeignDatabaseRefused(t *testing.T) {
	ctx := context.Background()
	create := func(t *testing.T, stmts ...string) string {
		t.Helper()
		path := filepath.Join(t.TempDir(), "other.db")
		raw, err := sql.Open("sqlite", path)
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		for _, s := range stmts {
			if _, err := raw.ExecContext(ctx, s); err != nil {
				t.Fatalf("%s: %v", s, err)
			}
		}
		return path
	}
	refused := []struct {
		name  string
		stmts []string
	}{
		{"invoices", []string{`CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)`, `INSERT INTO invoices (total) VALUES (9.5)`}},
		{"versioned with its own meta", []string{`CREATE TABLE meta (k TEXT, v TEXT)`, `PRAGMA user_version = 3`}},
		{"only a view", []string{`CREATE VIEW v AS SELECT 1`}},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			path := create(t, tt.stmts...)
			before, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			db, err := Open(ctx, path)
			if err == nil {
				db.Close()
				t.Fatal("Open took over another program's database")
			}
			if !errors.Is(err, ErrForeignDatabase) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "database.path") {
				t.Errorf("err = %v; want ErrForeignDatabase naming the file and the setting", err)
			}
			after, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(before, after) {
				t.Error("the refused file was changed")
			}
			if _, err := os.Stat(path + "-wal"); err == nil {
				t.Error("a WAL file was created next to the refused database")
			}
		})
	}

	t.Run("empty database file", func(t *testing.T) {
		path := create(t, `PRAGMA user_version = 0`)
		db := mustOpenPath(t, path)
		var v string
		if err := db.reader.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, markerKey).Scan(&v); err != nil || v != markerValue {
			t.Fatalf("marker = %q, %v", v, err)
		}
	})
	t.Run("zero-byte file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "zero.db")
		if err := os.WriteFile(path, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		mustOpenPath(t, path)
	})
}
