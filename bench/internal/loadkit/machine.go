package loadkit

import (
	"crypto/ed25519"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// verifyMsg has the length of a real access token's signing input
// (header.payload, about 420 bytes), since Verify hashes the message.
var verifyMsg = []byte(strings.Repeat("eyJhbGciOiJFZERTQSJ9.", 20))

// rusageThread is Linux's RUSAGE_THREAD (not exported by package syscall).
const rusageThread = 1

// RawVerify measures one ed25519.Verify on one goroutine, locked to its
// thread, over about d: cpu is the thread's CPU time per verify (the unit
// of every ratio in the report: like the server's utime+stime it does not
// grow when other processes take the core away), wall its elapsed time.
func RawVerify(d time.Duration) (cpu, wall time.Duration) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	pub, priv, _ := ed25519.GenerateKey(nil)
	sig := ed25519.Sign(priv, verifyMsg)
	cpu0, n, start := ThreadCPU(), 0, time.Now()
	for n == 0 || time.Since(start) < d {
		for range 32 {
			if !ed25519.Verify(pub, verifyMsg, sig) {
				panic("ed25519.Verify refused its own signature")
			}
		}
		n += 32
	}
	wall = time.Since(start) / time.Duration(n)
	return (ThreadCPU() - cpu0) / time.Duration(n), wall
}

// ThreadCPU is the calling thread's user+system CPU time.
func ThreadCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(rusageThread, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// MachineBusy is the CPU time all processes of the machine have used
// Since boot (the "cpu" line of /proc/stat minus idle and iowait), so a
// window's busy time minus the server's and the driver's is what other
// processes (other engineers' work, PostgreSQL) took meanwhile.
func MachineBusy() time.Duration {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line) // cpu user nice system idle iowait irq softirq steal …
	if len(f) < 9 || f[0] != "cpu" {
		return 0
	}
	var busy int64
	for i, v := range f[1:9] {
		n, _ := strconv.ParseInt(v, 10, 64)
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return time.Duration(busy) * ClockTick
}

// LoadAvg is /proc/loadavg's first three fields ("" if unreadable).
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// CPUModel is the first "model name" of /proc/cpuinfo.
func CPUModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.SplitSeq(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}
