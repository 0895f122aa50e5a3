package postgres

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
)

// Migrations holds the goose migrations, migrations/NNNNN_name.sql. The
// SQLite backend keeps a folder with the same file names.
//
//go:embed migrations/*.sql
var Migrations embed.FS

// migrate applies pending migrations to the schema cfg points at. goose
// needs database/sql, so it gets a short-lived *sql.DB of its own.
func migrate(ctx context.Context, cfg *pgx.ConnConfig) error {
	fsys, err := fs.Sub(Migrations, "migrations")
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	db := stdlib.OpenDB(*cfg)
	defer db.Close()
	p, err := goose.NewProvider(goose.DialectPostgres, db, fsys,
		goose.WithSessionLocker(advisoryLocker{}),
		goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

// advisoryLocker serialises migrations across processes with a
// session-level advisory lock. Unlike goose's own PostgreSQL locker, which
// polls pg_try_advisory_lock every 5 s, it blocks in pg_advisory_lock, so a
// waiter proceeds the moment the holder finishes (or ctx ends).
//
// The key is derived from the schema being migrated: processes migrating
// different schemas of one database (tests, or several Sigil instances)
// do not wait for each other, while goose's version table, which lives in
// that schema, is only ever created and read by one process at a time.
type advisoryLocker struct{}

const lockKey = `hashtextextended('sigil.migrate:' || coalesce(current_schema(), ''), 0)`

func (advisoryLocker) SessionLock(ctx context.Context, c *sql.Conn) error {
	if _, err := c.ExecContext(ctx, `SELECT pg_advisory_lock(`+lockKey+`)`); err != nil {
		return fmt.Errorf("postgres: migration lock: %w", err)
	}
	return nil
}

func (advisoryLocker) SessionUnlock(ctx context.Context, c *sql.Conn) error {
	if _, err := c.ExecContext(ctx, `SELECT pg_advisory_unlock(`+lockKey+`)`); err != nil {
		return fmt.Errorf("postgres: migration unlock: %w", err)
	}
	return nil
}
