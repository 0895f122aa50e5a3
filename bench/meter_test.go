package bench

import (
	"crypto/ed25519"
	"flag"
	"os"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// baseline is one raw ed25519.Verify, measured once per process so every
// benchmark of a run divides by the same figure: wall is its elapsed time,
// cpu the CPU time of the thread that ran it.
var baseline struct {
	once      sync.Once
	wall, cpu float64 // ns per verify
}

// verifyInput has the length of a real access token's signing input
// (header.payload, about 420 bytes), since Verify hashes the message.
var verifyInput = []byte(strings.Repeat("eyJhbGciOiJFZERTQSJ9.", 20))

// TestMain measures the baseline before any benchmark runs, outside the
// CPU profile (-cpuprofile starts inside m.Run), and only when benchmarks
// were asked for, so plain `go test ./...` does not pay for it.
func TestMain(m *testing.M) {
	flag.Parse()
	if f := flag.Lookup("test.bench"); f != nil && f.Value.String() != "" {
		measureBaseline()
	}
	os.Exit(m.Run())
}

// measureBaseline verifies on one goroutine locked to its thread for
// about a second.
func measureBaseline() {
	baseline.once.Do(func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		pub, priv, _ := ed25519.GenerateKey(nil)
		sig := ed25519.Sign(priv, verifyInput)
		cpu0, n, start := cpuTime(rusageThread), 0, time.Now()
		for time.Since(start) < time.Second {
			for range 64 {
				if !ed25519.Verify(pub, verifyInput, sig) {
					panic("ed25519.Verify refused its own signature")
				}
			}
			n += 64
		}
		baseline.wall = float64(time.Since(start).Nanoseconds()) / float64(n)
		baseline.cpu = float64((cpuTime(rusageThread) - cpu0).Nanoseconds()) / float64(n)
	})
}

// Linux getrusage targets (RUSAGE_THREAD is not exported by syscall).
const (
	rusageSelf   = syscall.RUSAGE_SELF
	rusageThread = 1
)

// cpuTime is the user+system CPU time of the process or calling thread.
func cpuTime(who int) time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(who, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// meter starts measuring the process's CPU; call the function it returns
// right after the benchmark loop. It reports
//
//	x_verify      ns/op ÷ the raw verify's wall time (both wall clock; for
//	              RunParallel, ns/op is wall time per op across goroutines)
//	cpu-ns/op     the whole process's CPU per op: every goroutine the op
//	              used (handlers, the SQLite writer, GC), none of other
//	              processes' (PostgreSQL's own CPU is not in it)
//	cpu-x_verify  cpu-ns/op ÷ the raw verify's CPU time
//
// The CPU figures hold up when other processes share the cores; wall
// figures do not.
func meter(b *testing.B) func() {
	measureBaseline()
	cpu0 := cpuTime(rusageSelf)
	return func() {
		if b.N == 0 {
			return
		}
		cpu := float64((cpuTime(rusageSelf) - cpu0).Nanoseconds()) / float64(b.N)
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/baseline.wall, "x_verify")
		b.ReportMetric(cpu, "cpu-ns/op")
		b.ReportMetric(cpu/baseline.cpu, "cpu-x_verify")
	}
}
