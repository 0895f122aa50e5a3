package ratelimit

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// testRedis connects to SIGIL_TEST_REDIS: skip when unset, fail when set but
// unreachable (CI sets it and must fail loudly).
func testRedis(tb testing.TB) redis.UniversalClient {
	tb.Helper()
	url := os.Getenv("SIGIL_TEST_REDIS")
	if url == "" {
		tb.Skip("Redis tests skipped: set SIGIL_TEST_REDIS (e.g. redis://127.0.0.1:6379/0) to run")
	}
	c, err := NewRedisClient(url)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		tb.Fatalf("SIGIL_TEST_REDIS set but unreachable: %v", err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}

// testPrefix returns a random key prefix and deletes its keys after the test.
func testPrefix(tb testing.TB, c redis.UniversalClient) string {
	prefix := fmt.Sprintf("sigiltest:%x:", rand.Uint64())
	tb.Cleanup(func() {
		ctx := context.Background()
		it := c.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for it.Next(ctx) {
			if err := c.Del(ctx, it.Val()).Err(); err != nil {
				tb.Errorf("cleanup of %s: %v", it.Val(), err)
			}
		}
		if err := it.Err(); err != nil {
			tb.Errorf("cleanup of %s*: %v", prefix, err)
		}
	})
	return prefix
}

func TestRedis(t *testing.T) {
	c := testRedis(t)
	runSuite(t, func(t *testing.T, now func() time.Time) Limiter {
		return NewRedis(c, testPrefix(t, c), now)
	})
}

// TestRedisSharedAcrossReplicas: two limiters with their own clients (two
// replicas) share one budget.
func TestRedisSharedAcrossReplicas(t *testing.T) {
	c1, c2 := testRedis(t), testRedis(t)
	prefix := testPrefix(t, c1)
	clock := newClock()
	l1, l2 := NewRedis(c1, prefix, clock.Now), NewRedis(c2, prefix, clock.Now)
	r := Rule{Limit: 4, Window: time.Minute}
	var got []bool
	for i := range 6 {
		l := []Limiter{l1, l2}[i%2]
		d, err := l.Allow(context.Background(), "k", r)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, d.Allowed)
	}
	if want := "[true true true true false false]"; fmt.Sprint(got) != want {
		t.Errorf("allowed = %v, want %s", got, want)
	}
}

func TestRedisKeyExpires(t *testing.T) {
	c := testRedis(t)
	prefix := testPrefix(t, c)
	l := NewRedis(c, prefix, nil)
	if _, err := l.Allow(context.Background(), "k", Rule{Limit: 1, Window: time.Minute}); err != nil {
		t.Fatal(err)
	}
	ttl, err := c.PTTL(context.Background(), prefix+"k").Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= 0 || ttl > time.Minute+expirySlack {
		t.Errorf("PTTL = %v, want in (0, %v]", ttl, time.Minute+expirySlack)
	}
}

func TestNewRedisClient(t *testing.T) {
	tests := []struct {
		url     string
		wantErr bool
	}{
		{"redis://127.0.0.1:6379/0", false},
		{"rediss://user:pw@redis.example:6380/2", false},
		{"http://127.0.0.1:6379", true},
		{"redis://user:s3cret@[bad/0", true},
	}
	for _, tt := range tests {
		c, err := NewRedisClient(tt.url)
		if (err != nil) != tt.wantErr {
			t.Errorf("NewRedisClient(%q) error = %v, wantErr %v", tt.url, err, tt.wantErr)
		}
		if err != nil && strings.Contains(err.Error(), "s3cret") {
			t.Errorf("NewRedisClient(%q) error leaks the password: %v", tt.url, err)
		}
		if c == nil {
			continue
		}
		if mn := c.(*redis.Client).Options().MaintNotificationsConfig; mn == nil || mn.Mode != "disabled" {
			t.Errorf("NewRedisClient(%q): maint notifications not disabled: %+v", tt.url, mn)
		}
		c.Close()
	}
}

// With Redis down, a limited request is refused at once: a refused
// connection is not retried for seconds.
func TestRedisDownFailsFast(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close() // nothing listens there now
	c, err := NewRedisClient("redis://" + addr + "/0")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	l := NewRedis(c, "down:", nil)
	t0 := time.Now()
	if _, err := l.Allow(context.Background(), "k", Rule{Limit: 1, Window: time.Minute}); err == nil {
		t.Fatal("Allow with Redis down: no error")
	}
	if d := time.Since(t0); d > 300*time.Millisecond {
		t.Errorf("Allow with Redis down took %v, want a refusal within 300ms", d)
	}
}

func BenchmarkRedisAllow(b *testing.B) {
	c := testRedis(b)
	l := NewRedis(c, testPrefix(b, c), nil)
	r := Rule{Limit: 60, Window: time.Minute}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		i := rand.IntN(1 << 20)
		for pb.Next() {
			if _, err := l.Allow(context.Background(), "ip:"+strconv.Itoa(i%1000), r); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}

// TestRedisClientRetryOptions: the fail-fast defaults apply unless the
// URL's own query sets max_retries or dial_timeout; the same words in a
// password change nothing.
func TestRedisClientRetryOptions(t *testing.T) {
	for _, tt := range []struct {
		url     string
		retries int
		dial    time.Duration
	}{
		{"redis://127.0.0.1:6379/0", 1, time.Second},
		{"redis://127.0.0.1:6379/0?max_retries=5&dial_timeout=3s", 5, 3 * time.Second},
		{"redis://:max_retries=9&dial_timeout=9s@127.0.0.1:6379/0", 1, time.Second},
	} {
		c, err := NewRedisClient(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		o := c.(*redis.Client).Options()
		if o.MaxRetries != tt.retries || o.DialTimeout != tt.dial || o.DialerRetries != 1 {
			t.Errorf("%s: max retries %d, dial timeout %v, dialer retries %d; want %d, %v, 1",
				tt.url, o.MaxRetries, o.DialTimeout, o.DialerRetries, tt.retries, tt.dial)
		}
		c.Close()
	}
}
