package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// groupRig holds the writer with one write while others queue behind it,
// so that the queued ones run as one group when it is let go.
type groupRig struct {
	t       *testing.T
	db      *DB
	release chan struct{}
	first   chan error
}

// newGroupRig opens a database with a scratch table, runs setup on it, and
// holds its writer.
func newGroupRig(t *testing.T, setup func(*DB)) *groupRig {
	t.Helper()
	db := MustOpen(t)
	ctx := context.Background()
	if err := db.write(ctx, func(ctx context.Context, tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `CREATE TABLE scratch (k TEXT PRIMARY KEY, blob BLOB)`)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(db)
	}
	g := &groupRig{t: t, db: db, release: make(chan struct{}), first: make(chan error, 1)}
	holding := make(chan struct{})
	go func() {
		g.first <- db.write(ctx, func(context.Context, *sql.Tx) error {
			close(holding)
			<-g.release
			return nil
		})
	}()
	select {
	case <-holding:
	case <-time.After(10 * time.Second):
		t.Fatal("the first write never ran")
	}
	return g
}

// queue starts a write and waits until it is queued behind the held one.
func (g *groupRig) queue(ctx context.Context, fn func(context.Context, *sql.Tx) error) <-chan error {
	g.t.Helper()
	done := make(chan error, 1)
	g.db.turns.mu.Lock()
	n := len(g.db.turns.waiting)
	g.db.turns.mu.Unlock()
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("panicked: %v", p)
			}
		}()
		done <- g.db.write(ctx, fn)
	}()
	for i := 0; ; i++ { // bounded: 10 s
		g.db.turns.mu.Lock()
		queued := len(g.db.turns.waiting) > n
		g.db.turns.mu.Unlock()
		if queued {
			return done
		}
		if i == 10_000 {
			g.t.Fatal("write not queued")
		}
		time.Sleep(time.Millisecond)
	}
}

// run lets the held write finish and returns the queued writes' errors.
func (g *groupRig) run(queued ...<-chan error) []error {
	g.t.Helper()
	close(g.release)
	out := make([]error, len(queued))
	for i, c := range append([]<-chan error{g.first}, queued...) {
		select {
		case err := <-c:
			if i == 0 {
				if err != nil {
					g.t.Fatalf("held write: %v", err)
				}
				continue
			}
			out[i-1] = err
		case <-time.After(10 * time.Second):
			g.t.Fatalf("write %d never returned", i)
		}
	}
	return out
}

func (g *groupRig) insert(k string, tx *sql.Tx) error {
	_, err := tx.Exec(`INSERT INTO scratch (k) VALUES (?)`, k)
	return err
}

func (g *groupRig) stored() []string {
	g.t.Helper()
	rows, err := g.db.reader.Query(`SELECT k FROM scratch ORDER BY k`)
	if err != nil {
		g.t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			g.t.Fatal(err)
		}
		out = append(out, k)
	}
	if err := rows.Err(); err != nil {
		g.t.Fatal(err)
	}
	return out
}

// TestGroupCommit: writes that wait together share one transaction, in the
// order they came, and each keeps its own outcome: one that fails or
// panics is undone alone, one whose ctx ended while it waited never runs.
func TestGroupCommit(t *testing.T) {
	g := newGroupRig(t, nil)
	ctx := context.Background()
	var mu sync.Mutex
	txs := map[*sql.Tx]int{}
	var order []string
	write := func(k string, then error) func(context.Context, *sql.Tx) error {
		return func(_ context.Context, tx *sql.Tx) error {
			mu.Lock()
			txs[tx]++
			order = append(order, k)
			mu.Unlock()
			if err := g.insert(k, tx); err != nil {
				return err
			}
			return then
		}
	}
	refused := errors.New("refused")
	cancelled, cancel := context.WithCancel(ctx)
	ran := false
	queued := []<-chan error{
		g.queue(ctx, write("a", nil)),
		g.queue(ctx, write("b", refused)),
		g.queue(ctx, func(_ context.Context, tx *sql.Tx) error {
			if err := g.insert("c", tx); err != nil {
				return err
			}
			panic("boom")
		}),
		g.queue(cancelled, func(context.Context, *sql.Tx) error { ran = true; return nil }),
		g.queue(ctx, write("a", nil)), // a's key again: the schema refuses it
		g.queue(ctx, write("e", nil)),
	}
	cancel()
	errs := g.run(queued...)

	if errs[0] != nil || errs[5] != nil {
		t.Errorf("a, e: %v, %v; want committed", errs[0], errs[5])
	}
	if !errors.Is(errs[1], refused) {
		t.Errorf("b: %v, want its own error", errs[1])
	}
	if errs[2] == nil || !strings.Contains(errs[2].Error(), "panicked: boom") {
		t.Errorf("c: %v, want its panic in its own goroutine", errs[2])
	}
	if !errors.Is(errs[3], context.Canceled) || ran {
		t.Errorf("cancelled write: %v (ran %v), want context.Canceled without running", errs[3], ran)
	}
	if !isUnique(errs[4]) {
		t.Errorf("a again: %v, want the schema's refusal", errs[4])
	}
	if got := strings.Join(g.stored(), ","); got != "a,e" {
		t.Errorf("stored %q, want a,e (b, c and the second a undone)", got)
	}
	if strings.Join(order, ",") != "a,b,a,e" {
		t.Errorf("ran in order %v", order)
	}
	if len(txs) != 1 {
		t.Errorf("the queued writes ran in %d transactions, want one", len(txs))
	}
}

// TestGroupCommitFull: when the disk fills up in a shared transaction, each
// write either reports success and is stored, or reports an error that
// says why and is not: nothing is lost without an error, nothing reported
// failed is half there, and the writes after it run in a later group.
func TestGroupCommitFull(t *testing.T) {
	ctx := context.Background()
	g := newGroupRig(t, func(db *DB) {
		var pages int64
		if err := db.reader.QueryRow(`PRAGMA page_count`).Scan(&pages); err != nil {
			t.Fatal(err)
		}
		if _, err := db.LimitPages(ctx, pages); err != nil {
			t.Fatal(err)
		}
	})
	big := func(k string) func(context.Context, *sql.Tx) error {
		return func(_ context.Context, tx *sql.Tx) error {
			_, err := tx.Exec(`INSERT INTO scratch (k, blob) VALUES (?, zeroblob(6000))`, k)
			return err
		}
	}
	keys := []string{"k1", "k2", "k3", "k4", "k5", "k6", "k7", "k8"}
	var queued []<-chan error
	for _, k := range keys {
		queued = append(queued, g.queue(ctx, big(k)))
	}
	errs := g.run(queued...)
	stored := map[string]bool{}
	for _, k := range g.stored() {
		stored[k] = true
	}
	failed := 0
	for i, k := range keys {
		switch {
		case errs[i] == nil && !stored[k]:
			t.Errorf("%s reported stored and is not", k)
		case errs[i] != nil && stored[k]:
			t.Errorf("%s reported failed (%v) and is stored", k, errs[i])
		case errs[i] != nil:
			failed++
			if !errors.Is(errs[i], ErrCannotWrite) {
				t.Errorf("%s: %v, want ErrCannotWrite", k, errs[i])
			}
		}
	}
	if failed == 0 {
		t.Fatal("nothing failed: the cap did not bite")
	}
	if _, err := g.db.LimitPages(ctx, 1<<30); err != nil {
		t.Fatal(err)
	}
	if err := g.db.write(ctx, big("after")); err != nil {
		t.Fatalf("a write with room again: %v", err)
	}
	var check string
	if err := g.db.reader.QueryRow(`PRAGMA integrity_check`).Scan(&check); err != nil || check != "ok" {
		t.Fatalf("integrity_check = %q, %v", check, err)
	}
}

// TestGatherWindow: a write that is not urgent waits for others before it
// leads their group, once writes have had to queue; an urgent write or a
// full group ends the wait, and a lone writer never waits. The window is an
// hour here, so a wait that did not end would time the test out.
func TestGatherWindow(t *testing.T) {
	ctx := context.Background()
	db := MustOpen(t)
	db.turns.window = time.Hour
	txOf := func(got chan<- *sql.Tx) func(context.Context, *sql.Tx) error {
		return func(_ context.Context, tx *sql.Tx) error { got <- tx; return nil }
	}
	wait := func(errs <-chan error, n int) {
		t.Helper()
		for range n {
			select {
			case err := <-errs:
				if err != nil {
					t.Fatal(err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("a write waited for the whole window")
			}
		}
	}
	queued := func() int {
		db.turns.mu.Lock()
		defer db.turns.mu.Unlock()
		return len(db.turns.waiting)
	}
	gathering := func() bool {
		db.turns.mu.Lock()
		defer db.turns.mu.Unlock()
		return db.turns.gathering
	}
	until := func(what string, cond func() bool) {
		t.Helper()
		for i := 0; !cond(); i++ { // bounded: 10 s
			if i == 10_000 {
				t.Fatalf("never %s", what)
			}
			time.Sleep(time.Millisecond)
		}
	}

	// Nobody queued lately: a gathered write goes at once.
	lone := make(chan error, 1)
	go func() { lone <- db.writeGathered(ctx, func(context.Context, *sql.Tx) error { return nil }) }()
	wait(lone, 1)

	t.Run("urgent write ends the wait", func(t *testing.T) {
		db.turns.mu.Lock()
		db.turns.crowded = time.Now()
		db.turns.mu.Unlock()
		txs, errs := make(chan *sql.Tx, 3), make(chan error, 3)
		go func() { errs <- db.writeGathered(ctx, txOf(txs)) }()
		until("gathering", gathering)
		go func() { errs <- db.writeGathered(ctx, txOf(txs)) }()
		until("queued", func() bool { return queued() == 2 })
		if !gathering() || len(txs) != 0 {
			t.Fatal("a gathered write did not wait for the group")
		}
		go func() { errs <- db.write(ctx, txOf(txs)) }()
		wait(errs, 3)
		if a, b, c := <-txs, <-txs, <-txs; a != b || b != c {
			t.Error("the gathered writes and the urgent one ran in different transactions")
		}
	})

	t.Run("full group ends the wait", func(t *testing.T) {
		db.turns.mu.Lock()
		db.turns.crowded = time.Now()
		db.turns.mu.Unlock()
		txs, errs := make(chan *sql.Tx, maxGroup), make(chan error, maxGroup)
		go func() { errs <- db.writeGathered(ctx, txOf(txs)) }()
		until("gathering", gathering)
		for range maxGroup - 1 {
			go func() { errs <- db.writeGathered(ctx, txOf(txs)) }()
		}
		wait(errs, maxGroup)
		first := <-txs
		for range maxGroup - 1 {
			if <-txs != first {
				t.Fatal("a full group ran in more than one transaction")
			}
		}
	})
}
