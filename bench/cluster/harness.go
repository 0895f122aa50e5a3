package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sigil-auth/sigil/bench/internal/loadkit"
)

// harness drives one cluster: clients through the balancer (the
// workload) and straight to each replica (the checks).
type harness struct {
	c        *cluster
	lb       *loadkit.API
	reps     []*loadkit.API
	fx       loadkit.Fixture
	rec      *recorder
	led      *ledger
	prop     propagation
	checkSem chan struct{}
	workers  []*worker
	down     atomic.Int32 // 1-based index of the replica a fault killed; 0 none
}

// newHarness makes the workspace and conc workers (set up through the
// balancer before the clock starts).
func newHarness(ctx context.Context, c *cluster, conc int) (*harness, error) {
	h := &harness{c: c, lb: loadkit.NewAPI(c.lb.url, conc), led: newLedger(), checkSem: make(chan struct{}, 8)}
	for _, r := range c.reps {
		h.reps = append(h.reps, loadkit.NewAPI(r.url(), conc))
	}
	var err error
	if h.fx, err = h.lb.CreateWorkspace(ctx, c.admin); err != nil {
		return nil, fmt.Errorf("workspace: %w", err)
	}
	for i := range conc {
		w := &worker{h: h, rng: rand.New(rand.NewPCG(uint64(i), uint64(time.Now().UnixNano())))}
		if err := w.setup(ctx); err != nil {
			return nil, fmt.Errorf("worker setup: %w", err)
		}
		h.workers = append(h.workers, w)
	}
	h.rec = newRecorder()
	return h, nil
}

// drive runs the workers until script (which injects faults) returns,
// or for d when script is nil. The script's error ends the run.
func (h *harness) drive(ctx context.Context, d time.Duration, script func(ctx context.Context) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for _, w := range h.workers {
		wg.Go(func() { w.loop(ctx) })
	}
	var err error
	if script != nil {
		err = script(ctx)
	} else {
		err = sleep(ctx, d)
	}
	cancel()
	wg.Wait()
	// Refusal checks started near the end still run: wait for them.
	for range cap(h.checkSem) {
		h.checkSem <- struct{}{}
	}
	for range cap(h.checkSem) {
		<-h.checkSem
	}
	return err
}

// close drops the clients' idle connections.
func (h *harness) close() {
	h.lb.Close()
	for _, a := range h.reps {
		a.Close()
	}
}

// ledgerCounts is what the final check looked at.
type ledgerCounts struct{ Users, Keys, Revoked, LoggedOut, Missing int }

// verifyLedger asks every replica about everything acknowledged: a
// registered user can log in (through one replica, round robin: a login
// is a write), a created key works and a revoked key or ended session is
// refused on each replica.
func (h *harness) verifyLedger(ctx context.Context) ledgerCounts {
	h.led.mu.Lock()
	defer h.led.mu.Unlock()
	n := ledgerCounts{Users: len(h.led.users), Keys: len(h.led.keys), Revoked: len(h.led.revoked), LoggedOut: len(h.led.loggedOut)}
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	var mu sync.Mutex
	miss := func(format string, args ...any) {
		mu.Lock()
		n.Missing++
		mu.Unlock()
		h.rec.violation(format, args...)
	}
	check := func(f func()) { sem <- struct{}{}; wg.Go(func() { defer func() { <-sem }(); f() }) }
	i := 0
	for id, v := range h.led.users {
		a := h.reps[i%len(h.reps)]
		i++
		check(func() {
			if _, err := a.Login(ctx, v.(loadkit.User)); err != nil {
				miss("registered user %s cannot log in: %v", id, err)
			}
		})
	}
	for id, v := range h.led.keys {
		want := http.StatusOK
		if _, gone := h.led.revoked[id]; gone {
			want = http.StatusUnauthorized
		}
		key := v.(loadkit.APIKey).Key
		check(func() { h.everyReplica(ctx, "key "+id, "X-API-KEY", key, want, miss) })
	}
	for at := range h.led.loggedOut {
		check(func() {
			h.everyReplica(ctx, "ended session", "Authorization", "Bearer "+at, http.StatusUnauthorized, miss)
		})
	}
	wg.Wait()
	return n
}

// everyReplica wants status want from every replica for a credential.
func (h *harness) everyReplica(ctx context.Context, what, header, value string, want int, miss func(string, ...any)) {
	for i, a := range h.reps {
		if st := status(ctx, a, header, value); st != want {
			miss("%s: r%d answered %d, want %d", what, i+1, st, want)
		}
	}
}
