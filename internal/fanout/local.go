package fanout

import (
	"context"
	"sync"
	"sync/atomic"
)

// localQueue is how many undelivered messages a Local subscription buffers
// before it drops messages (and then calls onReconnect, as a real backend
// would after losing its connection).
const localQueue = 1024

// Local is a Bus within one process: for a single replica (SQLite), and as
// the in-process stand-in where no other replica can exist.
type Local struct {
	g    group
	mu   sync.Mutex
	subs map[string]map[*localSub]struct{}
}

type localSub struct {
	ch   chan string
	lost atomic.Bool // a message was dropped because ch was full
}

// NewLocal returns an empty in-process Bus.
func NewLocal() *Local { return &Local{subs: map[string]map[*localSub]struct{}{}} }

// Publish implements Bus. It never blocks on a slow subscriber.
func (b *Local) Publish(_ context.Context, topic, msg string) error {
	if err := checkPublish(topic, msg); err != nil {
		return err
	}
	if b.g.isClosed() {
		return ErrClosed
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs[topic] {
		select {
		case s.ch <- msg:
		default:
			s.lost.Store(true)
		}
	}
	return nil
}

// Subscribe implements Bus; a Local subscription cannot fail, so onReconnect
// is called only after messages were dropped for a subscriber that fell
// localQueue messages behind.
func (b *Local) Subscribe(ctx context.Context, topic string, fn func(string), onReconnect func()) error {
	if err := checkTopic(topic); err != nil {
		return err
	}
	sctx, done, err := b.g.start(ctx)
	if err != nil {
		return err
	}
	s := &localSub{ch: make(chan string, localQueue)}
	b.mu.Lock()
	if b.subs[topic] == nil {
		b.subs[topic] = map[*localSub]struct{}{}
	}
	b.subs[topic][s] = struct{}{}
	b.mu.Unlock()
	go func() {
		defer done()
		defer b.remove(topic, s)
		for {
			select {
			case <-sctx.Done():
				return
			case msg := <-s.ch:
				fn(msg)
			}
			if s.lost.Swap(false) && onReconnect != nil {
				onReconnect()
			}
		}
	}()
	return nil
}

func (b *Local) remove(topic string, s *localSub) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.subs[topic], s)
	if len(b.subs[topic]) == 0 {
		delete(b.subs, topic)
	}
}

// Close implements Bus.
func (b *Local) Close() error { return b.g.close() }
