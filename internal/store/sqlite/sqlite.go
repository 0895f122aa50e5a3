package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/sigil-auth/sigil/internal/store"
)

//go:embed migrations/*.sql
var migrations embed.FS

// dsnParams are set on every connection: PRAGMAs are per connection, so
// they belong in the DSN (LIBRARIES.md). _txlock=immediate makes BeginTx
// take the write lock up front, so read-then-write transactions never
// fail with SQLITE_BUSY on the upgrade; busy_timeout covers other
// processes sharing the file.
const dsnParams = "_pragma=busy_timeout(5000)&_pragma=journal_mode(WAL)" +
	"&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(1)&_txlock=immediate"

// writerParams turn off automatic checkpoints on the writer: they would
// run (and fsync) inside a commit, stalling every write queued behind it.
// A separate connection checkpoints instead (checkpointer).
const writerParams = dsnParams + "&_pragma=wal_autocheckpoint(0)"

// checkpointEvery is how often the checkpointer copies the WAL into the
// database file.
const checkpointEvery = 200 * time.Millisecond

// readerParams additionally make reader connections refuse writes, so a
// write routed to the wrong pool fails loudly instead of racing the writer.
const readerParams = dsnParams + "&_pragma=query_only(1)"

// Store is the SQLite backend of store.Store.
//
// It keeps two pools on one file: a writer pool of exactly one connection,
// used only by the writer goroutine (see writer.go), and a reader pool of
// several query-only connections, which WAL runs in parallel with the
// writer. Every statement is prepared once per connection.
type Store struct {
	w, r  *sql.DB
	ckpt  *sql.DB     // one connection for PASSIVE checkpoints, off the writer's path
	stmts []*sql.Stmt // indexed by query.id

	reqs       chan *writeReq // unbuffered: a send is a caller waiting
	quit       chan struct{}  // closed by Close
	writerDone chan struct{}  // closed when the writer goroutine ends
	ckptDone   chan struct{}  // closed when the checkpointer ends
	closeOnce  sync.Once
	closeErr   error
}

var _ store.Store = (*Store)(nil)

// Open opens (creating if needed) the database file at path, applies the
// embedded migrations and prepares the statements. path is a file system
// path; in-memory databases are refused because the writer and reader
// pools must share one database (tests use a file in t.TempDir()).
func Open(ctx context.Context, path string) (*Store, error) {
	if err := checkPath(path); err != nil {
		return nil, err
	}
	s := &Store{}
	var err error
	if s.w, err = openPool(ctx, path+"?"+writerParams, 1); err != nil {
		return nil, err
	}
	if err = migrate(ctx, s.w); err != nil {
		return nil, errors.Join(err, s.w.Close())
	}
	if s.r, err = openPool(ctx, path+"?"+readerParams, readerConns()); err != nil {
		return nil, errors.Join(err, s.w.Close())
	}
	if s.ckpt, err = openPool(ctx, path+"?"+dsnParams, 1); err != nil {
		return nil, errors.Join(err, s.closeDBs())
	}
	if err = s.prepare(ctx); err != nil {
		return nil, errors.Join(err, s.closeDBs())
	}
	s.reqs, s.quit, s.writerDone = make(chan *writeReq), make(chan struct{}), make(chan struct{})
	s.ckptDone = make(chan struct{})
	go s.runWriter()
	go s.runCheckpointer()
	return s, nil
}

// runCheckpointer copies the WAL into the database file every
// checkpointEvery with a PASSIVE checkpoint, which waits for no reader or
// writer, so its fsync never holds up a commit.
func (s *Store) runCheckpointer() {
	defer close(s.ckptDone)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
			_, _ = s.ckpt.Exec("PRAGMA wal_checkpoint(PASSIVE)") // best effort; the next tick retries
		}
	}
}

// checkPath refuses names the driver would not treat as a plain file.
func checkPath(path string) error {
	switch {
	case path == "" || path == ":memory:" || strings.HasPrefix(path, "file:"):
		return fmt.Errorf("sqlite: %q: need a file path (in-memory and URI names are not supported)", path)
	case strings.ContainsRune(path, '?'):
		return fmt.Errorf("sqlite: %q: a path must not contain '?'", path)
	}
	return nil
}

// readerConns sizes the reader pool: reads are CPU-bound in the pure-Go
// engine, so a few more connections than cores keeps every core busy while
// some readers wait on I/O.
func readerConns() int {
	return max(4, 2*runtime.GOMAXPROCS(0))
}

// openPool opens a pool of at most n connections and keeps all of them
// open (database/sql would otherwise close all but two idle ones and
// re-open and re-prepare them under load).
func openPool(ctx context.Context, dsn string, n int) (*sql.DB, error) {
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	db.SetMaxOpenConns(n)
	db.SetMaxIdleConns(n)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if err := db.PingContext(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("sqlite: open: %w", err), db.Close())
	}
	return db, nil
}

// migrate brings the schema up to the newest embedded migration.
func migrate(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys)
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// prepare prepares every registered query on its pool.
func (s *Store) prepare(ctx context.Context) error {
	s.stmts = make([]*sql.Stmt, len(queries))
	for _, q := range queries {
		db := s.r
		if q.writes {
			db = s.w
		}
		st, err := db.PrepareContext(ctx, q.text)
		if err != nil {
			return fmt.Errorf("sqlite: prepare %q: %w", q.text, err)
		}
		s.stmts[q.id] = st
	}
	return nil
}

// Ping checks that both pools answer.
func (s *Store) Ping(ctx context.Context) error {
	return errors.Join(s.w.PingContext(ctx), s.r.PingContext(ctx))
}

// Close stops the writer (writes still queued get an error; one being
// committed finishes), then closes the statements and both pools. The last
// connection to go checkpoints the WAL into the main file. Calling Close
// again returns the first call's result.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		close(s.quit)
		<-s.writerDone
		<-s.ckptDone
		s.closeErr = s.closeDBs()
	})
	return s.closeErr
}

func (s *Store) closeDBs() error {
	var errs []error
	for _, st := range s.stmts {
		if st != nil {
			errs = append(errs, st.Close())
		}
	}
	if s.r != nil {
		errs = append(errs, s.r.Close())
	}
	if s.ckpt != nil {
		errs = append(errs, s.ckpt.Close())
	}
	errs = append(errs, s.w.Close())
	return errors.Join(errs...)
}
