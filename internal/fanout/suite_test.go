package fanout

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// wait bounds every "should arrive" in these tests; nothing sleeps.
const wait = 10 * time.Second

// newPair returns two Buses on the same backend but separate connections,
// like two replicas. Both are closed by the test's cleanup.
type newPair func(t *testing.T) (a, b Bus)

func randomTopic() string { return fmt.Sprintf("sigiltest_%x", rand.Uint64()) }

// collector records what a subscription receives. Its callbacks never block
// past the test's end: Close waits for callbacks, so one stuck on a channel
// nobody reads any more would hang the test binary in cleanup instead of
// letting it report the failure.
type collector struct {
	done       <-chan struct{} // the test's context: ends before cleanups run
	msgs       chan string
	reconnects chan struct{} // a token when onReconnect was called (at most one pending)
	nReconnect atomic.Int32  // every onReconnect call
}

func newCollector(t *testing.T) *collector {
	return &collector{done: t.Context().Done(), msgs: make(chan string, 4096), reconnects: make(chan struct{}, 1)}
}

// fn drops the message if the test is over and nobody reads any more.
func (c *collector) fn(msg string) {
	select {
	case c.msgs <- msg:
	case <-c.done:
	}
}

// onReconnect never blocks: the subscription would stall (and Close with it)
// if a test provoked more reconnects than it reads.
func (c *collector) onReconnect() {
	c.nReconnect.Add(1)
	select {
	case c.reconnects <- struct{}{}:
	default:
	}
}

// expect waits for exactly the messages want, in order.
func (c *collector) expect(t *testing.T, want ...string) {
	t.Helper()
	var got []string
	deadline := time.After(wait)
	for len(got) < len(want) {
		select {
		case m := <-c.msgs:
			got = append(got, m)
		case <-deadline:
			t.Fatalf("after %v got %d of %d messages: %q", wait, len(got), len(want), got)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("messages (-want +got):\n%s", diff)
	}
}

func (c *collector) expectReconnect(t *testing.T) {
	t.Helper()
	select {
	case <-c.reconnects:
	case <-time.After(wait):
		t.Fatalf("onReconnect not called within %v", wait)
	}
}

func subscribe(t *testing.T, b Bus, topic string) *collector {
	t.Helper()
	c := newCollector(t)
	if err := b.Subscribe(t.Context(), topic, c.fn, c.onReconnect); err != nil {
		t.Fatalf("Subscribe(%s): %v", topic, err)
	}
	return c
}

func publish(t *testing.T, b Bus, topic string, msgs ...string) {
	t.Helper()
	for _, m := range msgs {
		if err := b.Publish(t.Context(), topic, m); err != nil {
			t.Fatalf("Publish(%s, %q): %v", topic, m, err)
		}
	}
}

// runSuite is the behaviour every backend shares.
func runSuite(t *testing.T, pair newPair) {
	t.Run("AcrossReplicas", func(t *testing.T) {
		a, b := pair(t)
		topic := randomTopic()
		onA, onB := subscribe(t, a, topic), subscribe(t, b, topic)
		publish(t, a, topic, "session:1")
		onB.expect(t, "session:1")
		onA.expect(t, "session:1") // the publishing replica hears itself too
		publish(t, b, topic, "apikey:2")
		onA.expect(t, "apikey:2")
		onB.expect(t, "apikey:2")
	})
	t.Run("Ordered", func(t *testing.T) {
		a, b := pair(t)
		topic := randomTopic()
		onB := subscribe(t, b, topic)
		var want []string
		for i := range 200 {
			want = append(want, "m"+strconv.Itoa(i))
		}
		publish(t, a, topic, want...)
		onB.expect(t, want...)
	})
	t.Run("TopicsSeparate", func(t *testing.T) {
		a, b := pair(t)
		t1, t2 := randomTopic(), randomTopic()
		on1, on2 := subscribe(t, b, t1), subscribe(t, b, t2)
		publish(t, a, t1, "one")
		publish(t, a, t2, "two")
		publish(t, a, t1, "three")
		// A message delivered to the wrong subscription shows up as a
		// mismatch here (expect compares everything received, in order).
		on1.expect(t, "one", "three")
		on2.expect(t, "two")
	})
	t.Run("Payloads", func(t *testing.T) {
		a, b := pair(t)
		topic := randomTopic()
		onB := subscribe(t, b, topic)
		msgs := []string{"", "with space", `quote ' and " and \`, "ünïcødé ✓", strings.Repeat("x", MaxMessage)}
		publish(t, a, topic, msgs...)
		onB.expect(t, msgs...)
	})
	t.Run("BadInput", func(t *testing.T) {
		a, _ := pair(t)
		for _, topic := range []string{"", "Upper", "1lead", "has-dash", "semi;colon", `quo"te`, strings.Repeat("a", 64)} {
			if err := a.Publish(t.Context(), topic, "x"); !errors.Is(err, ErrTopic) {
				t.Errorf("Publish(%q) error = %v, want ErrTopic", topic, err)
			}
			if err := a.Subscribe(t.Context(), topic, func(string) {}, nil); !errors.Is(err, ErrTopic) {
				t.Errorf("Subscribe(%q) error = %v, want ErrTopic", topic, err)
			}
		}
		if err := a.Publish(t.Context(), "ok_topic", strings.Repeat("x", MaxMessage+1)); !errors.Is(err, ErrTooLarge) {
			t.Errorf("Publish(too large) error = %v, want ErrTooLarge", err)
		}
	})
	t.Run("CancelAndClose", func(t *testing.T) {
		a, _ := pair(t)
		ctx, cancel := context.WithCancel(t.Context())
		if err := a.Subscribe(ctx, randomTopic(), func(string) {}, nil); err != nil {
			t.Fatal(err)
		}
		subscribe(t, a, randomTopic()) // still running at Close
		cancel()
		closeWithin(t, a, wait)
		if t.Failed() {
			return
		}
		if err := a.Publish(t.Context(), "ok_topic", "x"); !errors.Is(err, ErrClosed) {
			t.Errorf("Publish after Close: %v, want ErrClosed", err)
		}
		if err := a.Subscribe(t.Context(), "ok_topic", func(string) {}, nil); !errors.Is(err, ErrClosed) {
			t.Errorf("Subscribe after Close: %v, want ErrClosed", err)
		}
		if err := a.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
	})
}

func TestCheckTopic(t *testing.T) {
	tests := []struct {
		topic string
		ok    bool
	}{
		{"revocations", true}, {"_x", true}, {"a1_2", true}, {strings.Repeat("a", 63), true},
		{"", false}, {"1a", false}, {"A", false}, {"a-b", false}, {"a b", false}, {"a.b", false},
		{strings.Repeat("a", 64), false}, {"ä", false},
	}
	for _, tt := range tests {
		if err := checkTopic(tt.topic); (err == nil) != tt.ok {
			t.Errorf("checkTopic(%q) = %v, want ok=%v", tt.topic, err, tt.ok)
		}
	}
}

// shortHealth makes idle subscriptions ping every d for the rest of the test.
// Call it before creating Buses: cleanups run last-in first-out, so the
// Buses (and their goroutines reading healthEvery) are gone before it is
// restored.
func shortHealth(t *testing.T, d time.Duration) {
	old := healthEvery
	healthEvery = d
	t.Cleanup(func() { healthEvery = old })
}

// eventually polls cond every 10 ms until it holds or wait passes. It waits
// for an event the test cannot be told about, not for time to pass.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, wait)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// expectNoReconnect fails if onReconnect was ever called.
func (c *collector) expectNoReconnect(t *testing.T) {
	t.Helper()
	if n := c.nReconnect.Load(); n != 0 {
		t.Fatalf("onReconnect called %d times, want none", n)
	}
}
