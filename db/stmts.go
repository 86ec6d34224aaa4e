package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// stmts are the statements of the hot paths (storing a poll's articles,
// writing feed states), prepared once when the DB opens rather than
// compiled again by every call. Those of the writer cannot be prepared
// lazily inside a write: the writer has one connection, which the
// transaction holds. Transactions use them through tx.StmtContext, which
// reuses what their connection prepared (a reader connection prepares a
// reader statement the first time it uses it).
type stmts struct {
	// On the writer.
	insertKeys    *sql.Stmt // insertKeysSQL (articles.go)
	insertArticle *sql.Stmt // insertArticleSQL (articles.go)
	updateState   *sql.Stmt // updateStateSQL (feeds.go)
	// On the readers: the read pass of StoreArticles (articles.go).
	storedKeys *sql.Stmt
	// On the readers: the outbox's rounds (alerts.go).
	dueDeliveries, nextDue *sql.Stmt
}

// prepareStmts prepares the writer's statements, or with readers the
// readers'.
func (db *DB) prepareStmts(ctx context.Context, readers bool) error {
	type spec struct {
		dst   **sql.Stmt
		query string
	}
	pool, specs := db.writer, []spec{
		{&db.stmts.insertKeys, insertKeysSQL},
		{&db.stmts.insertArticle, insertArticleSQL},
		{&db.stmts.updateState, updateStateSQL},
	}
	if readers {
		pool, specs = db.reader, []spec{
			{&db.stmts.storedKeys, storedKeysSQL},
			{&db.stmts.dueDeliveries, dueDeliveriesSQL},
			{&db.stmts.nextDue, nextDueSQL},
		}
	}
	for _, s := range specs {
		st, err := pool.PrepareContext(ctx, s.query)
		if err != nil {
			return fmt.Errorf("prepare statements: %w", err)
		}
		*s.dst = st
	}
	return nil
}

func (s *stmts) close() error {
	var errs []error
	for _, st := range []**sql.Stmt{&s.insertKeys, &s.insertArticle, &s.updateState, &s.storedKeys, &s.dueDeliveries, &s.nextDue} {
		if *st != nil {
			errs = append(errs, (*st).Close())
			*st = nil
		}
	}
	return errors.Join(errs...)
}
