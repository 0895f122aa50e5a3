package fanout

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"
)

// Bus delivers messages on named topics to every subscriber of every replica.
type Bus interface {
	// Publish sends msg to every current subscriber of topic, on any replica
	// (this one included). It returns once the backend has accepted it.
	Publish(ctx context.Context, topic, msg string) error
	// Subscribe calls fn for every message on topic published by ANY replica
	// (including this one) until ctx ends or the Bus is closed. fn runs on one
	// goroutine per subscription, in arrival order; it should be quick (it
	// holds up the messages behind it) and must return: Close waits for it.
	//
	// On failure it reconnects with backoff and then calls onReconnect (if
	// not nil, on the same goroutine as fn), so callers can flush caches whose
	// invalidations may have been lost meanwhile. It returns once the
	// subscription is established — a Publish that starts after it returns
	// is delivered — or with the error that prevented that (no retry).
	Subscribe(ctx context.Context, topic string, fn func(msg string), onReconnect func()) error
	// Close ends every subscription and waits for their goroutines; Publish
	// and Subscribe get ErrClosed afterwards, and no fn or onReconnect runs
	// once it has returned. It does not close the underlying client or pool.
	// Closing twice is harmless.
	//
	// Close interrupts whatever a subscription is doing — reading from a
	// dead connection, sleeping between reconnects, connecting — so it
	// returns promptly. Two things can delay it: a fn or onReconnect that
	// has not returned (Close cannot interrupt callers' code; one that never
	// returns blocks Close forever), and a Redis subscription caught in a
	// connection handshake with an unresponsive server, which go-redis
	// finishes first: it ignores cancellation there, so the client's
	// ReadTimeout bounds it (3 s by default; a negative one, no deadline,
	// would let a blackholed server hold Close forever).
	Close() error
}

// MaxMessage is the longest message in bytes: PostgreSQL's NOTIFY payload
// must be shorter than 8000 bytes, and every backend applies the same limit
// so code tested on one works on all.
const MaxMessage = 7999

var (
	// ErrClosed is returned by a Bus after Close.
	ErrClosed = errors.New("fanout: bus closed")
	// ErrTopic is returned (wrapped) for a topic that is not a safe name.
	ErrTopic = errors.New("fanout: invalid topic")
	// ErrTooLarge is returned (wrapped) by Publish for a message over MaxMessage.
	ErrTooLarge = errors.New("fanout: message too large")
)

// checkTopic accepts [a-z_][a-z0-9_]{0,62}: a PostgreSQL identifier that
// needs no quoting or case folding (63 bytes is its length limit), and so a
// name every backend treats the same.
func checkTopic(topic string) error {
	if len(topic) == 0 || len(topic) > 63 {
		return fmt.Errorf("%w: %q must be 1 to 63 characters", ErrTopic, topic)
	}
	for i, c := range []byte(topic) {
		if c == '_' || 'a' <= c && c <= 'z' || i > 0 && '0' <= c && c <= '9' {
			continue
		}
		return fmt.Errorf("%w: %q: want lower-case letters, digits and _ (not leading digit)", ErrTopic, topic)
	}
	return nil
}

func checkPublish(topic, msg string) error {
	if err := checkTopic(topic); err != nil {
		return err
	}
	if len(msg) > MaxMessage {
		return fmt.Errorf("%w: %d bytes, max %d", ErrTooLarge, len(msg), MaxMessage)
	}
	return nil
}

// group tracks a Bus's running subscriptions so Close can end them and wait.
type group struct {
	mu      sync.Mutex
	closed  bool
	next    int
	cancels map[int]context.CancelFunc
	wg      sync.WaitGroup
}

// start registers a subscription: it returns a context that ends with ctx or
// Close, and done, which the subscription's goroutine calls as it exits.
func (g *group) start(ctx context.Context) (context.Context, func(), error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return nil, nil, ErrClosed
	}
	if g.cancels == nil {
		g.cancels = map[int]context.CancelFunc{}
	}
	sctx, cancel := context.WithCancel(ctx)
	id := g.next
	g.next++
	g.cancels[id] = cancel
	g.wg.Add(1)
	done := func() {
		cancel()
		g.mu.Lock()
		delete(g.cancels, id)
		g.mu.Unlock()
		g.wg.Done()
	}
	return sctx, done, nil
}

func (g *group) isClosed() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.closed
}

func (g *group) close() error {
	g.mu.Lock()
	g.closed = true
	for _, cancel := range g.cancels {
		cancel()
	}
	g.mu.Unlock()
	g.wg.Wait()
	return nil
}

// Reconnect backoff: doubling from minBackoff to maxBackoff, with jitter so
// replicas that lost the same server do not reconnect in lockstep.
var minBackoff = 100 * time.Millisecond // a var only so tests can lengthen it

const maxBackoff = 10 * time.Second

// healthEvery is how long a subscription waits for traffic before it pings
// its connection: a silently dead TCP connection would otherwise stall
// delivery forever without an error to reconnect on.
var healthEvery = 30 * time.Second // a var only so tests can shorten it

// connectTimeout bounds one (re)connection attempt of a subscription.
const connectTimeout = 10 * time.Second

// pingTimeout is how long a health ping may take to be answered before the
// connection counts as dead. It is separate from healthEvery, and generous,
// so a slow or loaded server is not mistaken for a dead link (reconnecting
// loses messages).
const pingTimeout = 10 * time.Second

// retry calls connect until it succeeds or ctx ends, sleeping with backoff
// between failures. It returns false when ctx ended first.
func retry(ctx context.Context, connect func(context.Context) error) bool {
	wait := minBackoff
	for {
		if err := connect(ctx); err == nil {
			return true
		}
		jittered := wait/2 + rand.N(wait/2+1)
		t := time.NewTimer(jittered)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
		wait = min(2*wait, maxBackoff)
	}
}
