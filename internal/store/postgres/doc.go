// Package postgres is the PostgreSQL backend of store.Store, built on
// pgxpool directly (no database/sql on the hot path).
//
// It owns the PostgreSQL schema (migrations/, embedded and applied by Open
// under an advisory lock so that several replicas may start at once) and
// every SQL statement run against it. It must not hold business rules
// beyond those store.Store documents, and it imports nothing of Sigil's
// but internal/store. It must pass internal/store/storetest.
//
// Conventions shared by every file: "" is stored as NULL where a column is
// optional (emails, a session's or key's missing user, a session's API
// key or app, an unredeemed code's session) and coalesced back to ""; ids that are ordered or paged on (audit
// ids, tie-breaks) compare bytewise (COLLATE "C"), as SQLite's BINARY
// does, whatever the database's locale; read-modify-write methods lock
// the row (FOR NO KEY UPDATE) in a transaction; the rest are one
// statement where it can be.
//
// Refreshes are written in batches (refresh.go: group commit) on a
// connection of their own, beside the pool's.
//
// The URL is a pgx connection string. Useful parameters: search_path (the
// schema to use; tests isolate with it), pool_max_conns (the refresh
// batches' connection comes on top), and, behind PgBouncer in
// transaction mode, default_query_exec_mode=simple_protocol.
package postgres
