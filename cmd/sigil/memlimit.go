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
const autoMemoryBase = 32 << 20

// releaseAfter is how long hashing must pause before the memory of
// finished hashes is returned to the operating system.
const releaseAfter = 2 * time.Second

// memoryLimit chooses the Go runtime's soft memory limit: keep is true
// when GOMEMLIMIT is set (the runtime has applied it and the operator's
// word wins over SIGIL_MEMORY_LIMIT); otherwise limit is the one to set,
// config.MemoryLimitOff for none. hashing is the hasher's PeakMemory.
//
// The automatic limit leaves room for every hashing slot three times over
// (the hash in flight, the previous one's garbage, and one more while a
// collection runs): measured on two cores, a limit close to the hashes'
// own peak makes the collector run and return memory to the kernel on
// every hash, and a login costs up to 1.8× its hash instead of 1.05×.
func memoryLimit(setting int64, getenv func(string) string, hashing int64) (limit int64, keep bool) {
	if getenv("GOMEMLIMIT") != "" {
		return 0, true
	}
	if setting == config.MemoryLimitAuto {
		return autoMemoryBase + 3*hashing, false
	}
	return setting, false
}

// applyMemory sets the memory limit memoryLimit chooses, logs it, and has
// the hasher hand argon2's memory back to the kernel once logins pause
// (an idle Go heap is otherwise collected only every two minutes).
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
