package fanout

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// testPool returns a new pool on SIGIL_TEST_POSTGRES (skip when unset, fail
// when unreachable).
func testPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	url := os.Getenv("SIGIL_TEST_POSTGRES")
	if url == "" {
		t.Skip("PostgreSQL tests skipped: set SIGIL_TEST_POSTGRES (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pool, err := pgxpool.New(ctx, url)
	if err == nil {
		err = pool.Ping(ctx)
	}
	if err != nil {
		t.Fatalf("SIGIL_TEST_POSTGRES set but unreachable: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

func postgresPair(t *testing.T) (Bus, Bus) {
	a, b := NewPostgres(testPool(t)), NewPostgres(testPool(t))
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func TestPostgres(t *testing.T) { runSuite(t, postgresPair) }

// TestPostgresReconnect terminates the listener's backend: the subscription
// must reconnect, call onReconnect and deliver again.
func TestPostgresReconnect(t *testing.T) {
	subPool, pubPool := testPool(t), testPool(t)
	sub, pub := NewPostgres(subPool), NewPostgres(pubPool)
	t.Cleanup(func() { sub.Close(); pub.Close() })
	topic := randomTopic()
	c := subscribe(t, sub, topic)
	publish(t, pub, topic, "before")
	c.expect(t, "before")

	pid := listenerPID(t, pubPool, topic)
	var ok bool
	if err := pubPool.QueryRow(t.Context(), "SELECT pg_terminate_backend($1)", pid).Scan(&ok); err != nil || !ok {
		t.Fatalf("pg_terminate_backend(%d) = %v, %v", pid, ok, err)
	}
	c.expectReconnect(t)
	publish(t, pub, topic, "after")
	c.expect(t, "after")
}

// listenerPID finds the backend LISTENing on topic: its last statement was
// LISTEN on this test's own random topic.
func listenerPID(t *testing.T, pool *pgxpool.Pool, topic string) int32 {
	t.Helper()
	rows, err := pool.Query(t.Context(), `SELECT pid FROM pg_stat_activity
		WHERE query = 'LISTEN "' || $1 || '"' AND pid <> pg_backend_pid()`, topic)
	if err != nil {
		t.Fatal(err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		t.Fatal(err)
	}
	if len(pids) != 1 {
		t.Fatalf("found %d backends listening on %s, want 1", len(pids), topic)
	}
	return pids[0]
}

// TestPostgresHealthPing: an idle subscription pings its connection and
// keeps delivering on it, without reconnecting.
func TestPostgresHealthPing(t *testing.T) {
	shortHealth(t, 20*time.Millisecond)
	subPool, pubPool := testPool(t), testPool(t)
	sub, pub := NewPostgres(subPool), NewPostgres(pubPool)
	t.Cleanup(func() { sub.Close(); pub.Close() })
	topic := randomTopic()
	c := subscribe(t, sub, topic)
	pid := listenerPID(t, pubPool, topic)
	// Dozens of health periods pass on the SAME backend: pings are answered
	// and the listener stays (a reconnect would end this pid).
	eventually(t, "listener pings on its first connection for 1 s", func() bool {
		var q string
		var age float64
		err := pubPool.QueryRow(t.Context(), `SELECT query, extract(epoch FROM now() - backend_start)
			FROM pg_stat_activity WHERE pid = $1`, pid).Scan(&q, &age)
		if err != nil {
			t.Fatalf("listener backend %d: %v (reconnected?)", pid, err)
		}
		return q == "-- ping" && age >= 1
	})
	publish(t, pub, topic, "still here")
	c.expect(t, "still here")
	c.expectNoReconnect(t)
}
