//go:build !sigiltestclock

package main

import (
	"log/slog"
	"time"
)

// serverClock is the clock of `sigil serve`: the machine's. A binary
// built with -tags sigiltestclock (bench/cluster's, never a release)
// reads SIGIL_TEST_CLOCK_OFFSET instead; see clock_testclock.go.
func serverClock(*slog.Logger) func() time.Time { return time.Now }
