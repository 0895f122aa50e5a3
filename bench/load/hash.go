package main

import (
	"context"
	"runtime"
	"time"

	"github.com/sigil-auth/sigil/bench/internal/loadkit"
	"github.com/sigil-auth/sigil/internal/password"
)

// rawHash measures one argon2id hash exactly as the server computes it
// for a password login (password.New(password.OWASP, 1).Hash: the server
// verifies with the same parameters) over about d, at least twice: the
// unit of the password-login target.
//
// The calling goroutine is locked to its thread like the verify baseline,
// but cpu is the whole driver's CPU (RUSAGE_SELF), not the thread's:
// x/crypto's argon2 fills each lane on a goroutine of its own, and the
// 19 MiB of memory per hash costs garbage collection on other threads,
// which the server pays too. It is measured while no server runs, so the
// driver is otherwise idle and the figure is the hash's alone.
func rawHash(d time.Duration) (cpu, wall time.Duration) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	h := password.New(password.OWASP, 1)
	ctx := context.Background()
	// Warm-up: the first hashes fault in the heap's pages (two or three
	// 19 MiB blocks live before a collection reuses them), which added
	// 50–150 % to a short measurement; the server's heap is warm.
	for range 4 {
		if _, err := h.Hash(ctx, "warm-up password"); err != nil {
			panic(err)
		}
	}
	cpu0, n, start := loadkit.SelfCPU(), 0, time.Now()
	for n < 2 || time.Since(start) < d {
		if _, err := h.Hash(ctx, "correct horse battery staple"); err != nil {
			panic(err)
		}
		n++
	}
	wall = time.Since(start) / time.Duration(n)
	return (loadkit.SelfCPU() - cpu0) / time.Duration(n), wall
}
