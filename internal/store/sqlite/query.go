package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/sigil-auth/sigil/internal/store"
)

// query is one SQL statement, prepared once at Open on the pool it runs
// on. Queries register themselves at package init through readQuery and
// writeQuery, next to the method that uses them.
type query struct {
	id     int
	writes bool
	text   string
}

var queries []*query

func register(writes bool, text string) *query {
	q := &query{id: len(queries), writes: writes, text: text}
	queries = append(queries, q)
	return q
}

// qualify prefixes each column of a comma-separated list with alias and
// a dot, for joins of tables that share column names.
func qualify(alias, cols string) string {
	list := strings.Split(cols, ",")
	for i, c := range list {
		list[i] = alias + "." + strings.TrimSpace(c)
	}
	return strings.Join(list, ", ")
}

// readQuery runs on the reader pool, outside transactions.
func readQuery(text string) *query { return register(false, text) }

// writeQuery runs on the single writer connection, alone or inside a
// transaction. Reads that must see the transaction's own state are
// writeQueries too.
func writeQuery(text string) *query { return register(true, text) }

func (s *Store) stmt(q *query) *sql.Stmt { return s.stmts[q.id] }

// queryRow runs a read query on the reader pool.
func (s *Store) queryRow(ctx context.Context, q *query, args ...any) *sql.Row {
	return s.stmt(q).QueryRowContext(ctx, args...)
}

// writeExec runs one write statement through the writer.
func (s *Store) writeExec(ctx context.Context, q *query, args ...any) error {
	return s.write(ctx, func(t tx) error {
		_, err := t.exec(q, args...)
		return err
	})
}

// writeAffected is writeExec reporting ErrNotFound when no row matched.
func (s *Store) writeAffected(ctx context.Context, q *query, args ...any) error {
	return s.write(ctx, func(t tx) error { return t.execAffected(q, args...) })
}

// tx is the writer's open transaction as a write sees it. A write must
// use only its tx: the writer pool has a single connection, so touching
// s.w (or calling the Store) from inside would wait on itself forever.
type tx struct {
	ctx context.Context
	tx  *sql.Tx
	s   *Store
}

func (t tx) stmt(q *query) *sql.Stmt { return t.tx.StmtContext(t.ctx, t.s.stmt(q)) }

func (t tx) exec(q *query, args ...any) (sql.Result, error) {
	return t.stmt(q).ExecContext(t.ctx, args...)
}

func (t tx) queryRow(q *query, args ...any) *sql.Row {
	return t.stmt(q).QueryRowContext(t.ctx, args...)
}

// execAffected runs q and reports ErrNotFound when it matched no row.
func (t tx) execAffected(q *query, args ...any) error {
	res, err := t.exec(q, args...)
	if err != nil {
		return err
	}
	n, err := res.RowsAffected()
	if err == nil && n == 0 {
		return store.ErrNotFound
	}
	return err
}

// inTx runs fn in one transaction (BEGIN IMMEDIATE, through the DSN's
// _txlock): committed if fn returns nil, rolled back otherwise. Only the
// writer goroutine calls it.
func (s *Store) inTx(ctx context.Context, fn func(t tx) error) error {
	sqlTx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx{ctx: ctx, tx: sqlTx, s: s}); err != nil {
		// fn's error goes back as is (UpdateWorkspace promises that);
		// a failed rollback is only added to it.
		if rbErr := sqlTx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(err, rbErr)
		}
		return err
	}
	return sqlTx.Commit()
}

// wrap turns driver errors into the store sentinels and names the
// operation: no row → ErrNotFound; a PRIMARY KEY or UNIQUE violation →
// ErrConflict; a FOREIGN KEY violation (the referenced workspace or user is
// missing) → ErrNotFound. It goes by SQLite's extended result code, which
// the driver turns on for every connection, never by message text.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE:
			err = fmt.Errorf("%w (%w)", store.ErrConflict, err)
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			err = fmt.Errorf("%w (%w)", store.ErrNotFound, err)
		}
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}

// list runs a read query on the reader pool and scans every row.
func list[T any](ctx context.Context, s *Store, q *query, scan func(scanner) (T, error), args ...any) ([]T, error) {
	rows, err := s.stmt(q).QueryContext(ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// strings runs q (a statement returning one text column, such as an
// UPDATE … RETURNING id) in the transaction and collects the column.
func (t tx) strings(q *query, args ...any) ([]string, error) {
	rows, err := t.stmt(q).QueryContext(t.ctx, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}
