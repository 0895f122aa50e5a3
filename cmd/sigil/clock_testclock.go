//go:build sigiltestclock

package main

import (
	"log/slog"
	"os"
	"time"
)

// serverClock, in a binary built with -tags sigiltestclock only, runs the
// server's clock SIGIL_TEST_CLOCK_OFFSET (a Go duration, e.g. "30s" or
// "-30s") away from the machine's, so bench/cluster can show what a
// replica with a wrong clock does to the others. It is a build tag and not
// a setting because a clock that can be moved by the environment would
// let whoever sets it stretch every token lifetime and rate-limit window:
// no release build can honour it. A binary that does says so at start.
func serverClock(log *slog.Logger) func() time.Time {
	v := os.Getenv("SIGIL_TEST_CLOCK_OFFSET")
	if v == "" {
		return time.Now
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		log.Error("SIGIL_TEST_CLOCK_OFFSET ignored: not a duration", "value", v)
		return time.Now
	}
	log.Warn("test build: the server's clock is offset from the machine's", "offset", d.String())
	return func() time.Time { return time.Now().Add(d) }
}
