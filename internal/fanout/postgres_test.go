package fanout

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// testPool returns a new pool on SIGIL_TEST_POSTGRES (skip when unset, fail
// when unreachable). Its connections carry a random application_name, so a
// test can find them in pg_stat_activity (see listenerPID).
func testPool(t *testing.T) *pgxpool.Pool {
	t.Helper()
	return poolVia(t, "")
}

// poolVia is testPool, connecting through hostPort when it is not "".
func poolVia(t *testing.T, hostPort string) *pgxpool.Pool {
	t.Helper()
	url := os.Getenv("SIGIL_TEST_POSTGRES")
	if url == "" {
		t.Skip("PostgreSQL tests skipped: set SIGIL_TEST_POSTGRES (e.g. postgres://postgres@127.0.0.1:5432/test?sslmode=disable) to run")
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = fmt.Sprintf("sigiltest-%x", rand.Uint64())
	if hostPort != "" {
		host, port, err := net.SplitHostPort(hostPort)
		if err != nil {
			t.Fatal(err)
		}
		p, _ := strconv.ParseUint(port, 10, 16)
		cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Fallbacks = host, uint16(p), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
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

	pid := listenerPID(t, pubPool, subPool, topic)
	var ok bool
	if err := pubPool.QueryRow(t.Context(), "SELECT pg_terminate_backend($1)", pid).Scan(&ok); err != nil || !ok {
		t.Fatalf("pg_terminate_backend(%d) = %v, %v", pid, ok, err)
	}
	c.expectReconnect(t)
	publish(t, pub, topic, "after")
	c.expect(t, "after")
}

// listenerPID finds the backend of subPool LISTENing on topic: its last
// statement was that LISTEN, or a health ping since.
func listenerPID(t *testing.T, pool, subPool *pgxpool.Pool, topic string) int32 {
	t.Helper()
	rows, err := pool.Query(t.Context(), `SELECT pid FROM pg_stat_activity
		WHERE application_name = $1 AND query IN ('LISTEN "' || $2 || '"', '-- ping')`,
		subPool.Config().ConnConfig.RuntimeParams["application_name"], topic)
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

// TestPostgresHealthPing: an idle subscription pings its connection every
// health period and keeps delivering on that SAME backend, without
// reconnecting. Conditions are polled, never sampled at one instant.
func TestPostgresHealthPing(t *testing.T) {
	shortHealth(t, 20*time.Millisecond)
	subPool, pubPool := testPool(t), testPool(t)
	sub, pub := NewPostgres(subPool), NewPostgres(pubPool)
	t.Cleanup(func() { sub.Close(); pub.Close() })
	topic := randomTopic()
	c := subscribe(t, sub, topic)
	pid := listenerPID(t, pubPool, subPool, topic)
	// After at least 1 s (some 50 health periods) the listener's backend is
	// the same (a reconnect would end this pid) and was pinged within the
	// last second.
	eventually(t, "the same listener, still pinging, after 50 health periods", func() bool {
		var q string
		var age, sincePing float64
		err := pubPool.QueryRow(t.Context(), `SELECT query, extract(epoch FROM now() - backend_start),
				extract(epoch FROM now() - query_start)
			FROM pg_stat_activity WHERE pid = $1`, pid).Scan(&q, &age, &sincePing)
		if err != nil {
			t.Fatalf("listener backend %d: %v (reconnected?)", pid, err)
		}
		return q == "-- ping" && age >= 1 && sincePing < 1
	})
	publish(t, pub, topic, "still here")
	c.expect(t, "still here")
	c.expectNoReconnect(t)
	if got := listenerPID(t, pubPool, subPool, topic); got != pid {
		t.Fatalf("listener backend = %d, want the first, %d", got, pid)
	}
}
