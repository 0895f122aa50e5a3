package main

import (
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/sigil-auth/sigil/internal/config"
	"github.com/sigil-auth/sigil/internal/password"
)

// autoMemoryBase and 19 MiB per hashing slot make the automatic memory
// limit (56 MiB on two CPUs). On Unix the slots are mapped outside the Go
// heap (internal/password/argon2id), so the limit no longer counts them:
// all of it is room for the rest of the server's Go memory (requests,
// caches) — the total the server had when the slots were inside it, kept
// so that no workload gets less than before, and still growing with the
// CPUs, which serve that many more requests at once. SQLite's engine
// allocates outside the Go heap too (modernc's own allocator), so its page
// caches are not under the limit either. Under password load the limit
// does not bind (peak RSS was the same with SIGIL_MEMORY_LIMIT=off).
//
// History, for whoever tunes it: with the slots on the heap the limit had
// to bind under password load (GOGC alone let 38 MiB of garbage pile up
// beside 38 MiB of live slots), and no base served both loads: 18 MiB
// left SQLite password logins collecting constantly (49/s, 1.45× a hash's
// CPU per login, against 72–84/s and 0.9–1.0× with the slots off the
// heap), and 15 MiB made bench/cluster's mixed workload collect
// constantly (replica CPU per request 695–902 µs against 545 µs).
const autoMemoryBase = 18 << 20

// releaseAfter is how long hashing must pause before the memory of
// finished hashes is returned to the operating system.
const releaseAfter = 2 * time.Second

// memoryLimit chooses the Go runtime's soft memory limit: keep is true
// when GOMEMLIMIT is set (the runtime has applied it and the operator's
// word wins over SIGIL_MEMORY_LIMIT); otherwise limit is the one to set,
// config.MemoryLimitOff for none. hashing is the hasher's PeakMemory.
//
// The automatic limit is the base and 19 MiB per hashing slot (see
// autoMemoryBase: the slots themselves are outside it). A hash of stored
// parameters other than the server's allocates its own memory on the heap
// and may briefly pass the limit: it is soft.
func memoryLimit(setting int64, getenv func(string) string, hashing int64) (limit int64, keep bool) {
	if getenv("GOMEMLIMIT") != "" {
		return 0, true
	}
	if setting == config.MemoryLimitAuto {
		return autoMemoryBase + hashing, false
	}
	return setting, false
}

// applyMemory sets the memory limit memoryLimit chooses, logs it, and,
// once logins pause, has the hasher free its slots' memory (unmapped at
// once on Unix) and then collect the heap and hand it back to the kernel:
// the garbage the logins' requests left (an idle Go heap is otherwise
// collected only every two minutes), and the slots themselves off Unix,
// where they live on the heap.
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
