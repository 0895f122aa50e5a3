package main

import (
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/sigil-auth/sigil/internal/config"
	"github.com/sigil-auth/sigil/internal/password"
)

// autoMemoryBase is what the server needs besides password hashing (heap,
// stacks, SQLite's page cache under load) in the automatic memory limit.
// Peak RSS under password load (10 connections, 30 s, two cores) is about
// the limit plus 26 MiB (the binary's pages, ~23 MB of them already at
// idle, and the soft limit's overshoot). Measured on 2026-12-07 (MiB of
// peak RSS, server CPU per login in fresh hashes): 18 MiB base 81.3, 81.3
// (0.97–1.0×); 15 MiB 79.0–79.6 in five runs (0.93–1.00×); 13 MiB 76.8–77.3
// (0.87–1.00×). An earlier day's 12 MiB kept the collector running nearly
// all the time (1.14–1.64×), so 15 keeps a margin on both sides.
const autoMemoryBase = 15 << 20

// releaseAfter is how long hashing must pause before the memory of
// finished hashes is returned to the operating system.
const releaseAfter = 2 * time.Second

// memoryLimit chooses the Go runtime's soft memory limit: keep is true
// when GOMEMLIMIT is set (the runtime has applied it and the operator's
// word wins over SIGIL_MEMORY_LIMIT); otherwise limit is the one to set,
// config.MemoryLimitOff for none. hashing is the hasher's PeakMemory.
//
// The automatic limit is the base and the hashing slots' memory, which
// each slot keeps and reuses while logins come. Hashes allocate nothing
// large any more, so reaching the limit means collecting small garbage
// sooner, not returning 19 MiB to the kernel and faulting it back in on
// every hash (which, before the slots kept their memory, made a login
// cost up to 1.8× its hash under a limit near 60 MiB). A hash of stored
// parameters other than the server's allocates its own memory and may
// briefly pass the limit: it is soft.
func memoryLimit(setting int64, getenv func(string) string, hashing int64) (limit int64, keep bool) {
	if getenv("GOMEMLIMIT") != "" {
		return 0, true
	}
	if setting == config.MemoryLimitAuto {
		return autoMemoryBase + hashing, false
	}
	return setting, false
}

// applyMemory sets the memory limit memoryLimit chooses, logs it, and has
// the hasher free its slots' memory and hand it back to the kernel once
// logins pause (an idle Go heap is otherwise collected only every two
// minutes).
func applyMemory(cfg config.Config, getenv func(string) string, h *password.Hasher, log *slog.Logger) {
	limit, keep := memoryLimit(cfg.MemoryLimit, getenv, h.PeakMemory())
	switch {
	case keep:
		if cfg.MemoryLimit != config.MemoryLimitAuto {
			log.Warn("GOMEMLIMIT is set: SIGIL_MEMORY_LIMIT is ignored")
		}
		limit = debug.SetMemoryLimit(-1) // reads without changing
		log.Info("memory limit", "source", "GOMEMLIMIT", "limit", config.FormatMemoryLimit(limit))
	default:
		debug.SetMemoryLimit(limit)
		log.Info("memory limit", "source", "SIGIL_MEMORY_LIMIT", "limit", config.FormatMemoryLimit(limit))
	}
	h.AfterIdle(releaseAfter, debug.FreeOSMemory)
}
