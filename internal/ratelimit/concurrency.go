package ratelimit

import (
	"errors"
	"sync"
	"time"
)

// Caps of a Concurrency given none, the server's revocation feed's and
// the proxy's streamed answers' alike: per key (a credential) and in all.
const (
	defaultPerKey = 64
	defaultTotal  = 1024
)

// StreamRetryAfter is the Retry-After of a stream refused for its caps:
// a slot frees when some client goes away, which no one can predict, so
// the client retries at about the verify package's longest backoff.
const StreamRetryAfter = 5 * time.Second

// Refusals of Concurrency.Acquire.
var (
	ErrKeyFull   = errors.New("ratelimit: this key holds as many as allowed")
	ErrTotalFull = errors.New("ratelimit: as many are open as allowed in all")
)

// Concurrency caps how many of something long-lived (streamed responses,
// WebSockets) are open at once: per key (a credential) and in all. Safe
// for concurrent use; in memory, so per process.
type Concurrency struct {
	perKey, total int
	mu            sync.Mutex
	open          map[string]int
	n             int
}

// NewConcurrency allows perKey open per key and total in all; zero (or
// less) is 64 per key, 1024 in all.
func NewConcurrency(perKey, total int) *Concurrency {
	if perKey <= 0 {
		perKey = defaultPerKey
	}
	if total <= 0 {
		total = defaultTotal
	}
	return &Concurrency{perKey: perKey, total: total, open: map[string]int{}}
}

// PerKey is how many one key may hold open.
func (c *Concurrency) PerKey() int { return c.perKey }

// Acquire takes a slot for key ("" counts only toward the total), or
// refuses with ErrKeyFull or ErrTotalFull. release, called once or more,
// frees the slot once.
func (c *Concurrency) Acquire(key string) (release func(), err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	switch {
	case key != "" && c.open[key] >= c.perKey:
		return nil, ErrKeyFull
	case c.n >= c.total:
		return nil, ErrTotalFull
	}
	if key != "" {
		c.open[key]++
	}
	c.n++
	var once sync.Once
	return func() {
		once.Do(func() {
			c.mu.Lock()
			defer c.mu.Unlock()
			if key != "" {
				if c.open[key]--; c.open[key] == 0 {
					delete(c.open, key)
				}
			}
			c.n--
		})
	}, nil
}
