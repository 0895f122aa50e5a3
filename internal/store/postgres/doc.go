// Package postgres is the PostgreSQL backend of store.Store, built on
// pgxpool directly (no database/sql on the hot path).
//
// It owns the PostgreSQL schema (migrations/, embedded and applied by Open
// under an advisory lock so that several replicas may start at once) and
// every SQL statement run against it. It must not hold business rules
// beyond those store.Store documents, and it imports nothing of Sigil's
// but internal/store. It must pass internal/store/storetest.
//
// The URL is a pgx connection string. Useful parameters: search_path (the
// schema to use; tests isolate with it), pool_max_conns, and, behind
// PgBouncer in transaction mode, default_query_exec_mode=simple_protocol.
package postgres
