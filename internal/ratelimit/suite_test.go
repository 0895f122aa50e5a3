package ratelimit

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// fakeClock is an injectable clock; tests advance it instead of sleeping.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// newFunc builds a fresh, empty limiter on the given clock.
type newFunc func(t *testing.T, now func() time.Time) Limiter

// runSuite is the behaviour both backends must share.
func runSuite(t *testing.T, newLimiter newFunc) {
	t.Run("ExactWindow", func(t *testing.T) { testExactWindow(t, newLimiter) })
	t.Run("RefusedNotRecorded", func(t *testing.T) { testRefusedNotRecorded(t, newLimiter) })
	t.Run("EdgeBurst", func(t *testing.T) { testEdgeBurst(t, newLimiter) })
	t.Run("KeysIndependent", func(t *testing.T) { testKeysIndependent(t, newLimiter) })
	t.Run("InvalidRule", func(t *testing.T) { testInvalidRule(t, newLimiter) })
	t.Run("MatchesModel", func(t *testing.T) { testMatchesModel(t, newLimiter) })
	t.Run("Concurrent", func(t *testing.T) { testConcurrent(t, newLimiter) })
}

type step struct {
	at   time.Duration // offset from the clock's start
	want Decision
}

func runSteps(t *testing.T, l Limiter, c *fakeClock, key string, r Rule, steps []step) {
	t.Helper()
	t0 := c.Now()
	for i, s := range steps {
		c.Set(t0.Add(s.at))
		got, err := l.Allow(context.Background(), key, r)
		if err != nil {
			t.Fatalf("step %d (+%v): %v", i, s.at, err)
		}
		if diff := cmp.Diff(s.want, got); diff != "" {
			t.Fatalf("step %d (+%v): decision (-want +got):\n%s", i, s.at, diff)
		}
	}
}

func testExactWindow(t *testing.T, newLimiter newFunc) {
	c := newClock()
	l := newLimiter(t, c.Now)
	r := Rule{Limit: 3, Window: time.Minute}
	ok := func(rem int) Decision { return Decision{Allowed: true, Limit: 3, Remaining: rem, Reset: time.Minute} }
	no := func(retry, reset time.Duration) Decision { return Decision{Limit: 3, RetryAfter: retry, Reset: reset} }
	runSteps(t, l, c, "k", r, []step{
		{0, ok(2)},
		{time.Second, ok(1)},
		{2 * time.Second, ok(0)},
		{10 * time.Second, no(50*time.Second, 52*time.Second)},
		{time.Minute - time.Microsecond, no(time.Microsecond, 2*time.Second+time.Microsecond)},
		{time.Minute, ok(0)}, // exactly 60 s after the first: it no longer counts
		{time.Minute, no(time.Second, time.Minute)},
		{time.Minute + time.Second, ok(0)},
	})
}

func testRefusedNotRecorded(t *testing.T, newLimiter newFunc) {
	c := newClock()
	l := newLimiter(t, c.Now)
	r := Rule{Limit: 2, Window: time.Minute}
	steps := []step{
		{0, Decision{Allowed: true, Limit: 2, Remaining: 1, Reset: time.Minute}},
		{0, Decision{Allowed: true, Limit: 2, Remaining: 0, Reset: time.Minute}},
	}
	// Hammer the closed window once a second: every try is refused, and none
	// of them pushes the reopening past 60 s after the accepted attempts.
	for s := 1; s < 60; s++ {
		at := time.Duration(s) * time.Second
		steps = append(steps, step{at, Decision{Limit: 2, RetryAfter: time.Minute - at, Reset: time.Minute - at}})
	}
	steps = append(steps, step{time.Minute, Decision{Allowed: true, Limit: 2, Remaining: 1, Reset: time.Minute}})
	runSteps(t, l, c, "k", r, steps)
}

// testEdgeBurst: one attempt at 0, a burst at the end of the window and a
// burst right after it. A fixed-window counter or a token bucket would let
// close to 2N through within 60 s here; the log must not.
func testEdgeBurst(t *testing.T, newLimiter newFunc) {
	c := newClock()
	l := newLimiter(t, c.Now)
	const n = 10
	r := Rule{Limit: n, Window: time.Minute}
	t0 := c.Now()
	var allowed []time.Duration
	try := func(at time.Duration, times int) {
		for range times {
			c.Set(t0.Add(at))
			d, err := l.Allow(context.Background(), "k", r)
			if err != nil {
				t.Fatal(err)
			}
			if d.Allowed {
				allowed = append(allowed, at)
			}
		}
	}
	try(0, 1)
	try(59*time.Second, 3*n)
	try(60*time.Second, 3*n)
	try(61*time.Second, 3*n)
	try(119*time.Second, 3*n)
	checkWindows(t, allowed, r)
	// 1 at 0, n-1 at 59 s, 1 at 60 s (the one from 0 left), none at 61 s,
	// n-1 at 119 s (the 59 s burst left): liveness, not just safety.
	if got, want := len(allowed), 1+(n-1)+1+(n-1); got != want {
		t.Errorf("allowed %d attempts, want %d: %v", got, want, allowed)
	}
}

// checkWindows fails if any window of r.Window holds more than r.Limit of
// the allowed times (which are in order).
func checkWindows(t *testing.T, allowed []time.Duration, r Rule) {
	t.Helper()
	lo := 0
	for hi, at := range allowed {
		for allowed[lo] <= at-r.Window {
			lo++
		}
		if hi-lo+1 > r.Limit {
			t.Fatalf("%d attempts allowed in the window ending at +%v, limit %d", hi-lo+1, at, r.Limit)
		}
	}
}

func testKeysIndependent(t *testing.T, newLimiter newFunc) {
	c := newClock()
	l := newLimiter(t, c.Now)
	r := Rule{Limit: 1, Window: time.Minute}
	for _, key := range []string{"login_ip:1.2.3.4", "login_ip:1.2.3.5", "login_account:a@example.com"} {
		if d, err := l.Allow(context.Background(), key, r); err != nil || !d.Allowed {
			t.Fatalf("first attempt for %q: %+v, %v", key, d, err)
		}
		if d, err := l.Allow(context.Background(), key, r); err != nil || d.Allowed {
			t.Fatalf("second attempt for %q: %+v, %v", key, d, err)
		}
	}
}

func testInvalidRule(t *testing.T, newLimiter newFunc) {
	l := newLimiter(t, newClock().Now)
	for _, r := range []Rule{{}, {Limit: 1}, {Window: time.Second}, {Limit: -1, Window: time.Second},
		{Limit: MaxLimit + 1, Window: time.Second}, {Limit: 1, Window: MaxWindow + 1}} {
		if _, err := l.Allow(context.Background(), "k", r); !errors.Is(err, ErrInvalidRule) {
			t.Errorf("Allow(%+v) error = %v, want ErrInvalidRule", r, err)
		}
	}
}

// testMatchesModel compares the limiter with an obviously correct model (a
// plain list of accepted times) over a random schedule, which exercises ring
// growth and wrap-around.
func testMatchesModel(t *testing.T, newLimiter newFunc) {
	c := newClock()
	l := newLimiter(t, c.Now)
	rng := rand.New(rand.NewPCG(1, 2))
	r := Rule{Limit: 7, Window: 10 * time.Second}
	t0 := c.Now()
	var at time.Duration
	var model []time.Duration
	for i := range 400 {
		at += time.Duration(rng.IntN(3000)) * time.Millisecond
		c.Set(t0.Add(at))
		for len(model) > 0 && model[0] <= at-r.Window {
			model = model[1:]
		}
		want := Decision{Limit: r.Limit}
		if len(model) < r.Limit {
			want = Decision{Allowed: true, Limit: r.Limit, Remaining: r.Limit - len(model) - 1, Reset: r.Window}
			model = append(model, at)
		} else {
			want.RetryAfter = model[0] + r.Window - at
			want.Reset = model[len(model)-1] + r.Window - at
		}
		got, err := l.Allow(context.Background(), "k", r)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("attempt %d at +%v (-want +got):\n%s", i, at, diff)
		}
	}
}

// testConcurrent: 200 simultaneous attempts on one key, limit 60 → exactly 60.
func testConcurrent(t *testing.T, newLimiter newFunc) {
	l := newLimiter(t, newClock().Now) // one instant: all 200 fall in one window
	r := Rule{Limit: 60, Window: time.Minute}
	var allowed, refused atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range 200 {
		wg.Go(func() {
			<-start
			d, err := l.Allow(context.Background(), "hot", r)
			switch {
			case err != nil:
				t.Error(err)
			case d.Allowed:
				allowed.Add(1)
			default:
				refused.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	if allowed.Load() != 60 || refused.Load() != 140 {
		t.Errorf("allowed %d, refused %d; want 60, 140", allowed.Load(), refused.Load())
	}
}
