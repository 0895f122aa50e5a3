// Package sqlite is the embedded SQLite backend of store.Store (the
// default: `sqlite://PATH`), built on the pure-Go modernc.org/sqlite driver
// through database/sql.
//
// It owns the SQLite schema (migrations/, applied by goose at Open) and
// the hand-written SQL of every Store method. Callers see store.Store only;
// only the program's wiring should import this package. It must not hold
// rules beyond the contract in internal/store, which
// internal/store/storetest pins down, and must not import other Sigil
// packages.
//
// Concurrency model: every write goes to one writer goroutine that owns
// the single writer connection and commits the writes queued meanwhile as
// one transaction, each in its own savepoint (group commit, writer.go);
// reads run on a pool of query-only connections beside it (WAL). Every
// read-modify-write is one statement or one BEGIN IMMEDIATE transaction,
// so races are decided by SQLite's write lock, also against other
// processes on the same file.
//
// Schema version 2 (migrations/00002_credentials.sql) rebuilds sessions to
// make user_id nullable, and refresh_tokens with it, inside goose's
// transaction; optional text ("" in Go) is stored as NULL throughout, so
// that partial UNIQUE indexes and foreign keys skip it. Version 3
// (00003_browser_signin.sql) adds apps, authorization codes, workspace
// branding and sessions.app_id with plain ALTER TABLE ADD COLUMN.
package sqlite
