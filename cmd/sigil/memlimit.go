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
// Measured on two cores under password load (10 connections, 30 s): with
// 18 MiB peak RSS was 78–80 MiB; with 26 MiB (a 64 MiB limit) 82.5 MiB,
// and without a binding limit 84–87 MiB: the slots' 38 MiB are live, so
// GOGC alone lets as much again of small garbage pile up. 12 MiB (50 MiB)
// kept it at 75–76 MiB but the collector then ran nearly all the time: a
// login cost 1.14–1.64× its hash instead of 1.09–1.18×.
//
// The base is also all the heap the rest of the server gets once the
// slots are live, and a busier mix needs more: in bench/cluster's mixed
// workload (logins, refreshes, API keys, a few password logins) a 15 MiB
// base (79.0–79.6 MiB peak in the password run) made the collector run
// constantly — replicas' CPU per request 695–902 µs at one replica and
// 1.09–1.28 ms at two, against 545 µs and 636 µs with 18 MiB in the same
// hour. So 18 stays, and a server whose live heap outgrows it (large
// caches) needs SIGIL_MEMORY_LIMIT set: the limit is soft, the collector's
// CPU is what pays.
const autoMemoryBase = 18 << 20

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
