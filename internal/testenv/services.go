package testenv

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/sigil-auth/sigil/internal/ratelimit"
)

// admin is one pool for creating and dropping schemas, shared by every
// test of a binary.
var admin struct {
	once sync.Once
	pool *pgxpool.Pool
	err  error
}

// PostgresURL returns SIGIL_TEST_POSTGRES or skips tb.
func PostgresURL(tb testing.TB) string {
	tb.Helper()
	u := os.Getenv("SIGIL_TEST_POSTGRES")
	if u == "" {
		tb.Skip("PostgreSQL tests skipped: set SIGIL_TEST_POSTGRES (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable)")
	}
	return u
}

// PostgresSchema creates an empty schema, drops it when tb ends, and
// returns a URL whose search_path points at it.
func PostgresSchema(tb testing.TB) string {
	tb.Helper()
	base := PostgresURL(tb)
	admin.once.Do(func() {
		admin.pool, admin.err = pgxpool.New(context.Background(), base)
		if admin.err == nil {
			admin.err = admin.pool.Ping(context.Background())
		}
	})
	if admin.err != nil {
		tb.Fatalf("SIGIL_TEST_POSTGRES is set but unreachable: %v", admin.err)
	}
	schema := "sigil_t_" + strings.ToLower(rand.Text()[:12])
	if _, err := admin.pool.Exec(context.Background(), "CREATE SCHEMA "+schema); err != nil {
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		admin.pool.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
	})
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Redis returns a client on SIGIL_TEST_REDIS and a fresh key prefix whose
// keys are deleted when tb ends, or skips tb.
func Redis(tb testing.TB) (redis.UniversalClient, string) {
	tb.Helper()
	u := os.Getenv("SIGIL_TEST_REDIS")
	if u == "" {
		tb.Skip("Redis tests skipped: set SIGIL_TEST_REDIS (e.g. redis://127.0.0.1:6379/0)")
	}
	c, err := ratelimit.NewRedisClient(u)
	if err != nil {
		tb.Fatalf("SIGIL_TEST_REDIS: %v", err)
	}
	if err := c.Ping(context.Background()).Err(); err != nil {
		tb.Fatalf("SIGIL_TEST_REDIS is set but unreachable: %v", err)
	}
	prefix := "sigiltest:" + strings.ToLower(rand.Text()[:10]) + ":"
	tb.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		c.Close()
	})
	return c, prefix
}
