package ratelimit

import (
	"context"
	"hash/maphash"
	"sync"
	"time"
)

// DefaultMaxKeys caps the keys a Memory limiter tracks (NewMemory). A key
// costs about 100 bytes plus 8 per counted attempt (at most Limit).
const DefaultMaxKeys = 100_000

const (
	shardCount = 64          // power of two; spreads lock contention across keys
	sweepEvery = time.Minute // how often a shard drops its idle keys
)

// Memory is an in-process Limiter: per key a ring of the timestamps of the
// accepted attempts still in the window. Keys are spread over sharded
// mutexes. Memory is bounded: idle keys (nothing left in their window) are
// swept, and a shard at its share of maxKeys evicts first idle keys and then
// the least recently used one — which forgets that key's attempts (fails open
// for it). Refusing new keys instead would lock out every new client during a
// key flood; size maxKeys so only a flood reaches it.
type Memory struct {
	now      func() time.Time
	base     time.Time // timestamps are offsets from base (monotonic when now is time.Now)
	perShard int
	seed     maphash.Seed
	shards   [shardCount]shard
}

type shard struct {
	mu        sync.Mutex
	keys      map[string]*ring
	lastSweep time.Duration
}

// NewMemory returns a Memory limiter with DefaultMaxKeys; now nil means time.Now.
func NewMemory(now func() time.Time) *Memory { return NewMemorySize(now, DefaultMaxKeys) }

// NewMemorySize is NewMemory with a cap on tracked keys (at least one per shard).
func NewMemorySize(now func() time.Time, maxKeys int) *Memory {
	if now == nil {
		now = time.Now
	}
	m := &Memory{now: now, perShard: max(1, maxKeys/shardCount), seed: maphash.MakeSeed()}
	m.base = now()
	for i := range m.shards {
		m.shards[i].keys = make(map[string]*ring)
	}
	return m
}

// Allow implements Limiter. It never returns an error other than for an
// invalid rule; ctx is unused (no I/O).
func (m *Memory) Allow(_ context.Context, key string, r Rule) (Decision, error) {
	if err := r.validate(); err != nil {
		return Decision{}, err
	}
	sh := &m.shards[maphash.String(m.seed, key)&(shardCount-1)]
	sh.mu.Lock()
	defer sh.mu.Unlock()
	// The clock is read under the lock so each ring is filled in time order.
	now := m.now().Sub(m.base)
	if now-sh.lastSweep >= sweepEvery {
		sh.sweep(now)
		sh.lastSweep = now
	}
	w := sh.keys[key]
	if w == nil {
		sh.makeRoom(now, m.perShard)
		w = &ring{}
		sh.keys[key] = w
	}
	w.window = r.Window
	w.trim(now - r.Window)
	d := decide(r, w.n, w.oldest(), w.newest(), now)
	if d.Allowed {
		w.push(now, r.Limit)
	}
	return d, nil
}

// Len reports how many keys are tracked (for tests and metrics).
func (m *Memory) Len() int {
	n := 0
	for i := range m.shards {
		sh := &m.shards[i]
		sh.mu.Lock()
		n += len(sh.keys)
		sh.mu.Unlock()
	}
	return n
}

// sweep drops keys with nothing left in their window.
func (sh *shard) sweep(now time.Duration) {
	for k, w := range sh.keys {
		if w.idle(now) {
			delete(sh.keys, k)
		}
	}
}

// makeRoom ensures the shard can take one more key: it drops idle keys and,
// if the shard is still full, the key whose last attempt is oldest.
func (sh *shard) makeRoom(now time.Duration, limit int) {
	if len(sh.keys) < limit {
		return
	}
	var lru string
	lruAt, found := time.Duration(0), false
	for k, w := range sh.keys {
		if w.idle(now) {
			delete(sh.keys, k)
			continue
		}
		if at := w.newest(); !found || at < lruAt {
			lru, lruAt, found = k, at, true
		}
	}
	if len(sh.keys) >= limit && found {
		delete(sh.keys, lru)
	}
}

// ring holds the times of accepted attempts, oldest first, in a circular
// buffer that grows on demand up to the rule's limit (most keys see one or
// two attempts, so a full-size buffer per key would waste memory).
type ring struct {
	buf    []time.Duration
	head   int // index of the oldest entry
	n      int // number of entries
	window time.Duration
}

// trim drops entries at or before cutoff: an attempt exactly one window old
// no longer counts, so the window is (now-Window, now].
func (w *ring) trim(cutoff time.Duration) {
	for w.n > 0 && w.buf[w.head] <= cutoff {
		w.head = (w.head + 1) % len(w.buf)
		w.n--
	}
}

func (w *ring) oldest() time.Duration {
	if w.n == 0 {
		return 0
	}
	return w.buf[w.head]
}

func (w *ring) newest() time.Duration {
	if w.n == 0 {
		return 0
	}
	return w.buf[(w.head+w.n-1)%len(w.buf)]
}

func (w *ring) idle(now time.Duration) bool { return w.n == 0 || w.newest() <= now-w.window }

// push appends t; the caller guarantees w.n < limit.
func (w *ring) push(t time.Duration, limit int) {
	if w.n == len(w.buf) {
		grown := make([]time.Duration, max(w.n+1, min(2*len(w.buf), limit), min(4, limit)))
		for i := range w.n {
			grown[i] = w.buf[(w.head+i)%len(w.buf)]
		}
		w.buf, w.head = grown, 0
	}
	w.buf[(w.head+w.n)%len(w.buf)] = t
	w.n++
}
