package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// Backup writes a consistent copy of the database at src to out, also
// while another process (`run`) writes to it. The copy is one snapshot:
// SQLite's VACUUM INTO reads the database in a single read transaction
// (which WAL lets run beside the writer) and writes a compact new file. It
// goes to a temporary file beside out, is checked, synced, and only then
// given the name out, so out either does not exist or is complete. out
// must not exist yet; its directory must.
//
// The read transaction holds back checkpoints past its snapshot while it
// lasts (the WAL grows meanwhile, and is checkpointed after), so the copy
// is best taken to a fast local disk and moved from there.
func Backup(ctx context.Context, src, out string) error {
	if err := backup(ctx, src, out); err != nil {
		return fmt.Errorf("db: backup %s to %s: %w", src, out, err)
	}
	return nil
}

func backup(ctx context.Context, src, out string) error {
	fi, err := os.Stat(src)
	if err != nil {
		return fmt.Errorf("database: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return errors.New("database is not a regular file")
	}
	if _, err := os.Lstat(out); err == nil {
		return errors.New("the output file exists; backup never overwrites (name a new file)")
	} else if !errors.Is(err, os.ErrNotExist) {
		return err
	}
	dir := filepath.Dir(out)
	if di, err := os.Stat(dir); err != nil {
		return fmt.Errorf("output directory: %w", err)
	} else if !di.IsDir() {
		return fmt.Errorf("output directory %s is not a directory", dir)
	}

	// Read-only: the backup never writes to the live database, never
	// creates one where there was none, and never migrates it.
	conn, err := sql.Open("sqlite", "file:"+escapePath(src)+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer conn.Close()
	conn.SetMaxOpenConns(1)
	if err := claim(ctx, conn); err != nil {
		return explain(err)
	}
	var tables int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_schema`).Scan(&tables); err != nil {
		return explain(err)
	}
	if tables == 0 {
		return errors.New("database is empty: not a backchannel database")
	}

	var rnd [6]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return err
	}
	tmp := filepath.Join(dir, "."+filepath.Base(out)+".partial-"+hex.EncodeToString(rnd[:]))
	done := false
	defer func() {
		if !done {
			os.Remove(tmp)
		}
	}()
	if _, err := conn.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		return fmt.Errorf("copy: %w", explain(err))
	}
	if err := conn.Close(); err != nil {
		return err
	}
	if err := checkCopy(ctx, tmp); err != nil {
		return fmt.Errorf("check of the copy: %w", err)
	}
	if err := syncFile(tmp); err != nil {
		return err
	}
	// A hard link gives the copy its name only if the name is still free:
	// a file made there meanwhile is never replaced.
	if err := os.Link(tmp, out); err != nil {
		if errors.Is(err, os.ErrExist) {
			return errors.New("the output file appeared while copying; backup never overwrites")
		}
		return err
	}
	done = true
	os.Remove(tmp)
	return syncFile(dir)
}

// checkCopy opens the copy and runs SQLite's quick check on it.
func checkCopy(ctx context.Context, path string) error {
	c, err := sql.Open("sqlite", "file:"+escapePath(path)+"?mode=ro")
	if err != nil {
		return err
	}
	defer c.Close()
	var res string
	if err := c.QueryRowContext(ctx, `PRAGMA quick_check`).Scan(&res); err != nil {
		return err
	}
	if res != "ok" {
		return fmt.Errorf("quick_check: %s", res)
	}
	return nil
}

// syncFile flushes a file (or directory) to disk.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	return nil
}
