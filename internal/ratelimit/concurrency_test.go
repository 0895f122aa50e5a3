package ratelimit

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// Of 100 concurrent acquisitions of one key, exactly the per-key cap
// succeed; a second key fills the total; releases free the slots (once,
// however often release is called).
func TestConcurrency(t *testing.T) {
	c := NewConcurrency(5, 8)
	var ok atomic.Int64
	var releases sync.Map
	var wg sync.WaitGroup
	for i := range 100 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if rel, err := c.Acquire("a"); err == nil {
				ok.Add(1)
				releases.Store(i, rel)
			} else if !errors.Is(err, ErrKeyFull) {
				t.Errorf("refusal %v, want ErrKeyFull", err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 5 {
		t.Fatalf("%d acquired, want 5", ok.Load())
	}
	for range 3 {
		if _, err := c.Acquire("b"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := c.Acquire("c"); !errors.Is(err, ErrTotalFull) {
		t.Fatalf("beyond the total: %v, want ErrTotalFull", err)
	}
	releases.Range(func(_, rel any) bool {
		rel.(func())()
		rel.(func())()
		return true
	})
	for range 5 {
		if _, err := c.Acquire("c"); err != nil {
			t.Fatalf("after the releases: %v", err)
		}
	}
	if _, err := c.Acquire(""); !errors.Is(err, ErrTotalFull) {
		t.Fatalf("a keyless acquisition beyond the total: %v", err)
	}
}

// TestConcurrencyDefaults: no caps given is 64 per key and 1024 in all.
func TestConcurrencyDefaults(t *testing.T) {
	c := NewConcurrency(0, -1)
	if c.PerKey() != 64 {
		t.Fatalf("per key %d, want 64", c.PerKey())
	}
	for i := range 64 {
		if _, err := c.Acquire("k"); err != nil {
			t.Fatalf("slot %d of key k: %v", i, err)
		}
	}
	if _, err := c.Acquire("k"); !errors.Is(err, ErrKeyFull) {
		t.Fatalf("65th slot of k: %v, want ErrKeyFull", err)
	}
	for i := range 1024 - 64 {
		if _, err := c.Acquire(fmt.Sprint("key-", i)); err != nil {
			t.Fatalf("slot %d in all: %v", 64+i, err)
		}
	}
	if _, err := c.Acquire("another"); !errors.Is(err, ErrTotalFull) {
		t.Fatalf("slot 1025: %v, want ErrTotalFull", err)
	}
}
