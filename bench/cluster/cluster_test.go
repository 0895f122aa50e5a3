package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// ciSet reports whether CI is set: there every program this test needs
// must be installed (.ci/run installs them) and a missing one fails.
func ciSet() bool {
	ci := os.Getenv("CI")
	return ci != "" && ci != "false" && ci != "0"
}

// needs skips the test (or fails it under CI) without a program.
func needs(t *testing.T, prog, install string) {
	t.Helper()
	if _, err := exec.LookPath(prog); err == nil {
		return
	}
	if _, err := os.Stat(prog); err == nil {
		return
	}
	if ciSet() {
		t.Fatalf("%s is not installed and CI is set: %s", prog, install)
	}
	t.Skipf("cluster test skipped: %s is not installed (%s)", prog, install)
}

// TestClusterFaults is the CI short form: three replicas behind haproxy
// under the mixed workload, every fault once with Redis (kill -9, a
// PostgreSQL restart, Redis down and back, a clock 30 s ahead and 30 s
// behind), then the faults that do not need Redis with PostgreSQL
// LISTEN/NOTIFY as the bus; every invariant on every answer and the
// ledger at the end. PostgreSQL and Redis are private to the test (a
// throwaway cluster and server on free ports), so restarting them
// disturbs nobody. `go run ./bench/cluster report` is the long form.
func TestClusterFaults(t *testing.T) {
	if testing.Short() {
		t.Skip("cluster test skipped with -short: it runs for about two minutes")
	}
	needs(t, "haproxy", "apt-get install haproxy")
	needs(t, pgBinDir+"/initdb", "apt-get install postgresql")
	needs(t, "redis-server", "apt-get install redis-server")
	start := time.Now()
	o := options{replicas: 3, conc: 4, calm: 2 * time.Second, duration: 0}
	var log strings.Builder
	err := run(t.Context(), "faults", o, &log)
	t.Logf("%s\nwall time %v", log.String(), time.Since(start).Round(time.Second))
	if err != nil {
		t.Fatal(err)
	}
}
