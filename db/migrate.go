package db

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// Migrations are embedded so that the binary carries its schema. Each file
// is named NNNN_what.sql; NNNN is the schema version it produces, recorded
// in PRAGMA user_version in the same transaction as the statements, so a
// crash mid-migration leaves the previous version intact.
//
//go:embed migrations/*.sql
var migrationFS embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order, checking
// that the versions run 1, 2, 3... without gaps or repeats.
func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, name := range names {
		base := strings.TrimPrefix(name, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive version and '_'", base)
		}
		body, err := migrationFS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: base, sql: string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %s: expected version %d", m.name, i+1)
		}
	}
	return ms, nil
}

// The meta row that marks a database as backchannel's. It is written in
// the transaction that creates the schema, so no backchannel database is
// ever without it. (Databases created before the marker carry an
// instance_id row instead, written at their first start.)
const (
	markerKey   = "application"
	markerValue = "backchannel"
)

// ErrForeignDatabase is returned (wrapped) by Open for a database that has
// tables but is not backchannel's: adding our tables to another program's
// file would be a silent takeover.
var ErrForeignDatabase = errors.New("not a backchannel database")

// claim checks that the database is empty (ours to create) or
// backchannel's, before anything is written to it.
func claim(ctx context.Context, w *sql.DB) error {
	var tables []string
	rows, err := w.QueryContext(ctx, `SELECT name FROM sqlite_schema WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' ORDER BY name`)
	if err != nil {
		return fmt.Errorf("read schema: %w", err)
	}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			rows.Close()
			return fmt.Errorf("read schema: %w", err)
		}
		tables = append(tables, name)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("read schema: %w", err)
	}
	if len(tables) == 0 {
		return nil
	}
	var marked bool
	if slices.Contains(tables, "meta") {
		err := w.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM meta WHERE (key = ? AND value = ?) OR key = 'instance_id')`,
			markerKey, markerValue).Scan(&marked)
		if err != nil {
			// Another program's table called meta, with other columns.
			marked = false
		}
	}
	if !marked {
		shown := tables
		if len(shown) > 5 {
			shown = append(shown[:5:5], "…")
		}
		return fmt.Errorf("%w: it holds tables (%s) and no backchannel marker; set database.path to a new file or to a backchannel database", ErrForeignDatabase, strings.Join(shown, ", "))
	}
	return nil
}

// migrate applies the migrations newer than the database's user_version,
// each in its own transaction. A database written by a newer binary is
// refused rather than used with a schema this code does not know.
func migrate(ctx context.Context, w *sql.DB) error {
	ms, err := migrations()
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	var current int
	if err := w.QueryRowContext(ctx, "PRAGMA user_version").Scan(&current); err != nil {
		return fmt.Errorf("migrate: read schema version: %w", err)
	}
	if current > len(ms) {
		return fmt.Errorf("migrate: schema version %d is newer than this program knows (%d); use a newer backchannel", current, len(ms))
	}
	for _, m := range ms[current:] {
		err := runTx(ctx, w, nil, func(tx *sql.Tx) error {
			if _, err := tx.ExecContext(ctx, m.sql); err != nil {
				return err
			}
			// The marker goes in with the first schema change (meta exists
			// from the first migration on), and into older databases now.
			if _, err := tx.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`, markerKey, markerValue); err != nil {
				return err
			}
			// PRAGMA takes no bound parameters; the version is our own integer.
			_, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", m.version))
			return err
		})
		if err != nil {
			return fmt.Errorf("migrate: %s: %w", m.name, err)
		}
	}
	return nil
}

// SchemaVersion returns the database's schema version (PRAGMA user_version).
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	if err := db.reader.QueryRowContext(ctx, "PRAGMA user_version").Scan(&v); err != nil {
		return 0, fmt.Errorf("db: schema version: %w", err)
	}
	return v, nil
}
