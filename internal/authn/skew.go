package authn

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// skewTolerance is how far in this replica's future another replica's
// timestamp may be before it is reported: replicas are expected to keep
// their clocks within about a second (NTP); docs/architecture.md says what
// larger skew does.
const skewTolerance = 2 * time.Second

// skewLog reports, at most once a minute, that another replica wrote a
// time ahead of this replica's clock. Sessions' rotation times and
// key-pair challenges' issue times are the signal: every replica writes
// them with its own clock, so one read in the future means this clock is
// behind the writer's. Otherwise the skew shows only as refusals that
// look like a client's fault: challenges expired early (they live 30 s)
// and refresh retries taken for reuse (the grace window is 10 s).
type skewLog struct{ last atomic.Int64 }

// check reports written (a time another replica wrote, what it is) if it
// lies beyond skewTolerance in this replica's future.
func (l *skewLog) check(ctx context.Context, log *slog.Logger, now, written time.Time, what string) {
	ahead := written.Sub(now)
	if ahead <= skewTolerance {
		return
	}
	last := l.last.Load()
	if now.Unix()-last < 60 || !l.last.CompareAndSwap(last, now.Unix()) {
		return
	}
	log.ErrorContext(ctx, "clock skew: another replica's clock is ahead of this one's; keep replicas' clocks in sync "+
		"(key-pair challenges expire early and refresh retries are taken for reuse across the difference)",
		"seen_in", what, "ahead", ahead.Round(time.Millisecond).String())
}
