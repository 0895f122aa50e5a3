package postgres_test

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sigil-auth/sigil/internal/store/postgres"
)

// baseURL is SIGIL_TEST_POSTGRES; without it the test is skipped.
func baseURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("SIGIL_TEST_POSTGRES")
	if u == "" {
		tb.Skip("PostgreSQL tests skipped: set SIGIL_TEST_POSTGRES to run " +
			"(e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	return u
}

// admin is one pool shared by every test of the binary for creating,
// emptying and dropping schemas: a connection costs tens of milliseconds
// here, and newStore runs once per conformance subtest.
var admin struct {
	once sync.Once
	pool *pgxpool.Pool
	err  error
}

// spare holds migrated schemas that finished tests emptied. Migrating a
// new schema is most of a subtest's setup (about 0.8 s on a loaded
// machine, against 0.2 s to open a store on a migrated one), so newStore
// takes one of these when it can.
var spare struct {
	sync.Mutex
	schemas []string
}

func TestMain(m *testing.M) {
	code := m.Run()
	if admin.pool != nil {
		for _, schema := range spare.schemas {
			if _, err := admin.pool.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
				fmt.Fprintf(os.Stderr, "drop schema %s: %v\n", schema, err)
			}
		}
		admin.pool.Close()
	}
	os.Exit(code)
}

// adminPool connects to SIGIL_TEST_POSTGRES once; a set but unreachable
// database fails tb.
func adminPool(tb testing.TB) *pgxpool.Pool {
	tb.Helper()
	base := baseURL(tb)
	admin.once.Do(func() {
		admin.pool, admin.err = pgxpool.New(context.Background(), base)
		if admin.err == nil {
			admin.err = admin.pool.Ping(context.Background())
		}
	})
	if admin.err != nil {
		tb.Fatalf("SIGIL_TEST_POSTGRES is set but unreachable: %v", admin.err)
	}
	return admin.pool
}

// createSchema creates an empty schema with a random name.
func createSchema(tb testing.TB) string {
	tb.Helper()
	schema := "sigil_test_" + strings.ToLower(rand.Text()[:12])
	if _, err := adminPool(tb).Exec(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	return schema
}

// freshSchema creates an empty schema, drops it (with everything in it)
// when tb ends, and returns a URL whose search_path points at it. Tests
// of migration use it; newStore may hand out a reused one.
func freshSchema(tb testing.TB) string {
	tb.Helper()
	schema := createSchema(tb)
	tb.Cleanup(func() { dropSchema(tb, schema) })
	return withSearchPath(tb, baseURL(tb), schema)
}

func dropSchema(tb testing.TB, schema string) {
	if _, err := adminPool(tb).Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
		tb.Errorf("drop schema %s: %v", schema, err)
	}
}

// withSearchPath adds search_path to a URL or keyword/value connection
// string.
func withSearchPath(tb testing.TB, conn, schema string) string {
	if !strings.Contains(conn, "://") {
		return conn + " search_path=" + schema
	}
	u, err := url.Parse(conn)
	if err != nil {
		tb.Fatalf("parse SIGIL_TEST_POSTGRES: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// newStore opens a store on an empty schema: a spare one if there is
// one, else a new one (Open migrates it). When tb ends the store closes
// and the schema is emptied and kept for the next test, or dropped if it
// cannot be emptied.
func newStore(tb testing.TB) *postgres.Store {
	tb.Helper()
	spare.Lock()
	var schema string
	if n := len(spare.schemas); n > 0 {
		schema, spare.schemas = spare.schemas[n-1], spare.schemas[:n-1]
	}
	spare.Unlock()
	if schema == "" {
		schema = createSchema(tb)
	}
	s, err := postgres.Open(tb.Context(), withSearchPath(tb, baseURL(tb), schema))
	if err != nil {
		dropSchema(tb, schema)
		tb.Fatalf("Open: %v", err)
	}
	tb.Cleanup(func() {
		s.Close()
		if err := emptySchema(schema); err != nil {
			tb.Logf("empty schema %s: %v; dropping it", schema, err)
			dropSchema(tb, schema)
			return
		}
		spare.Lock()
		spare.schemas = append(spare.schemas, schema)
		spare.Unlock()
	})
	return s
}

// emptySchema deletes every row of every table of schema but goose's
// version table. DELETE, not TRUNCATE: on these tiny tables TRUNCATE's
// new files and fsyncs cost ~30 times more. All foreign keys cascade, so
// the order of the deletes does not matter.
func emptySchema(schema string) error {
	ctx := context.Background()
	var stmts string
	err := admin.pool.QueryRow(ctx, `SELECT coalesce(string_agg(
			format('DELETE FROM %I.%I', schemaname, tablename), '; '), '')
		FROM pg_tables WHERE schemaname = $1 AND tablename <> 'goose_db_version'`,
		schema).Scan(&stmts)
	if err != nil || stmts == "" {
		return err
	}
	_, err = admin.pool.Exec(ctx, stmts) // no arguments: simple protocol, several statements
	return err
}
