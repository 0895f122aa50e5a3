//go:build !sigiltestclock

package main

import (
	"log/slog"
	"testing"
	"time"
)

// TestClockOffsetNeedsTestBuild: a release build ignores
// SIGIL_TEST_CLOCK_OFFSET, so the environment cannot move its clock.
func TestClockOffsetNeedsTestBuild(t *testing.T) {
	t.Setenv("SIGIL_TEST_CLOCK_OFFSET", "1h")
	now := serverClock(slog.New(slog.DiscardHandler))
	if d := now().Sub(time.Now()); d > time.Minute || d < -time.Minute {
		t.Fatalf("release build's clock is %v off the machine's", d)
	}
}
