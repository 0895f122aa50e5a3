package fanout

import (
	"bytes"
	"net"
	"os"
	"reflect"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/sigil-auth/sigil/internal/testenv/faultproxy"
)

// closeBound is how long Close may take with a subscription stuck in any of
// the states below. It is far shorter than each state would last if Close
// did not interrupt it — healthEvery (30 s), pingTimeout and
// connectTimeout (10 s), the lengthened backoff (at least 30 s) — so
// passing proves interruption, not patience; and far longer than Close
// needs (milliseconds, or the Redis client's 1 s ReadTimeout mid-handshake,
// see Bus.Close), so a loaded machine does not fail it.
const closeBound = 4 * time.Second

// TestCloseBounded breaks the network under a live subscription in each
// way production does and checks that Close still returns promptly.
func TestCloseBounded(t *testing.T) {
	backends := []struct {
		name  string
		buses func(t *testing.T, p *faultproxy.Proxy) (sub, pub Bus) // sub's connections go through p
		addr  func(t *testing.T) string                              // the real server's address
	}{
		{"Redis", redisViaProxy, redisAddr},
		{"Postgres", postgresViaProxy, postgresAddr},
	}
	cases := []struct {
		name   string
		health time.Duration // 0: the default
		// fail breaks the link and returns once the subscription is in the
		// state under test.
		fail func(t *testing.T, p *faultproxy.Proxy)
	}{
		{"DeadLinkIdle", 0, func(t *testing.T, p *faultproxy.Proxy) {
			p.Set(faultproxy.Silent) // reading, with 30 s before its next health ping
		}},
		{"DeadLinkAwaitingPing", 20 * time.Millisecond, func(t *testing.T, p *faultproxy.Proxy) {
			p.Set(faultproxy.Silent)
			eventually(t, "a health ping swallowed by the dead link", func() bool { return p.Dropped.Load() > 0 })
		}},
		{"ServerDownInBackoff", 0, func(t *testing.T, p *faultproxy.Proxy) {
			p.Set(faultproxy.Refuse)
			reconnectAttempted(t, p)
			eventually(t, "waiting out a backoff", sleepingInRetry)
		}},
		{"ServerSilentMidHandshake", 0, func(t *testing.T, p *faultproxy.Proxy) {
			p.Set(faultproxy.Silent)
			reconnectAttempted(t, p)
		}},
	}
	for _, be := range backends {
		for _, tc := range cases {
			t.Run(be.name+"/"+tc.name, func(t *testing.T) {
				if tc.health != 0 {
					shortHealth(t, tc.health)
				}
				longBackoff(t)
				p := faultproxy.New(t, be.addr(t))
				sub, pub := be.buses(t, p)
				t.Cleanup(p.Close) // before the clients' and pools' cleanups
				topic := randomTopic()
				c := subscribe(t, sub, topic)
				publish(t, pub, topic, "through the proxy")
				c.expect(t, "through the proxy")

				tc.fail(t, p)
				closeWithin(t, sub, closeBound)
			})
		}
	}
}

// reconnectAttempted cuts the subscription's connection and returns once a
// new connection to replace it reached the proxy.
func reconnectAttempted(t *testing.T, p *faultproxy.Proxy) {
	t.Helper()
	before := p.Accepted.Load()
	p.Cut()
	eventually(t, "a reconnection attempt", func() bool { return p.Accepted.Load() > before })
}

// sleepingInRetry reports whether a goroutine is parked in retry's select:
// a subscription waiting out its backoff. Connecting shows as other states
// (IO wait, or parked deeper in a client library), and the refused attempts
// before the wait are too quick to catch reliably by counting connections.
func sleepingInRetry() bool {
	var buf bytes.Buffer
	if err := pprof.Lookup("goroutine").WriteTo(&buf, 2); err != nil {
		panic(err)
	}
	frame := runtime.FuncForPC(reflect.ValueOf(retry).Pointer()).Name() + "("
	for g := range strings.SplitSeq(buf.String(), "\n\n") {
		header, stack, _ := strings.Cut(g, "\n")
		if strings.Contains(header, "[select") && strings.HasPrefix(stack, frame) {
			return true
		}
	}
	return false
}

// closeWithin fails the test unless b.Close returns within bound.
func closeWithin(t *testing.T, b Bus, bound time.Duration) {
	t.Helper()
	closed := make(chan error, 1)
	go func() { closed <- b.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(bound):
		t.Errorf("Close still blocked after %v", bound)
	}
}

// longBackoff makes every failed reconnection wait at least 30 s, for the
// rest of the test. Like shortHealth, call it before creating Buses.
func longBackoff(t *testing.T) {
	old := minBackoff
	minBackoff = time.Minute
	t.Cleanup(func() { minBackoff = old })
}

func redisAddr(t *testing.T) string {
	t.Helper()
	testRedis(t, "") // skip or fail as every Redis test does
	opt, err := redis.ParseURL(os.Getenv("SIGIL_TEST_REDIS"))
	if err != nil {
		t.Fatal(err)
	}
	return opt.Addr
}

func postgresAddr(t *testing.T) string {
	t.Helper()
	pool := testPool(t) // skip or fail as every PostgreSQL test does
	cfg := pool.Config().ConnConfig
	return net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
}

// redisViaProxy: the subscriber's client goes through p, with a 1 s
// ReadTimeout (what bounds Close mid-handshake, see Bus.Close).
func redisViaProxy(t *testing.T, p *faultproxy.Proxy) (Bus, Bus) {
	subClient := redisWith(t, func(o *redis.Options) { o.Addr, o.ReadTimeout = p.Addr(), time.Second })
	sub, pub := NewRedis(subClient), NewRedis(testRedis(t, ""))
	t.Cleanup(func() { closeWithin(t, sub, closeBound); pub.Close() })
	return sub, pub
}

func postgresViaProxy(t *testing.T, p *faultproxy.Proxy) (Bus, Bus) {
	sub, pub := NewPostgres(poolVia(t, p.Addr())), NewPostgres(testPool(t))
	t.Cleanup(func() { closeWithin(t, sub, closeBound); pub.Close() })
	return sub, pub
}
