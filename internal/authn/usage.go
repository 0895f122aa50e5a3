package authn

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

// Usage kinds: what the dashboard's overview counts per workspace and
// UTC hour (store.UsageCount.Kind).
const (
	UsageSignIn      = "login.success" // a login of any method succeeded
	UsageSignInFail  = "login.failure" // a login attributable to the workspace failed
	UsageRateLimited = "rate_limited"  // a request of the workspace got 429
)

// usageEvery is how often a replica writes its counts: the overview of
// another replica lags at most this much (its own flushes on read).
const usageEvery = 5 * time.Second

type usageKey struct {
	ws, kind string
	hour     int64 // Unix seconds of the UTC hour
}

// usageCounter counts usage in memory and adds it to the store's
// counters every usageEvery, on demand (flush) and at close, so a login
// costs a map increment rather than a write, and replicas only ever add
// to the shared rows. After close, counts are written at once.
type usageCounter struct {
	store store.Store
	log   *slog.Logger
	now   func() time.Time

	mu      sync.Mutex
	pending map[usageKey]int64
	closed  bool

	flushMu     sync.Mutex // one flush at a time, so a failed one's counts go back before the next
	stop        sync.Once
	done, ended chan struct{}
}

func newUsageCounter(st store.Store, log *slog.Logger, now func() time.Time) *usageCounter {
	return &usageCounter{store: st, log: log, now: now, pending: map[usageKey]int64{},
		done: make(chan struct{}), ended: make(chan struct{})}
}

// add counts one event of kind for workspace ws; "" (not attributable)
// is not counted.
func (u *usageCounter) add(ws, kind string) {
	if ws == "" {
		return
	}
	k := usageKey{ws: ws, kind: kind, hour: u.now().UTC().Truncate(time.Hour).Unix()}
	u.mu.Lock()
	u.pending[k]++
	closed := u.closed
	u.mu.Unlock()
	if closed {
		u.flush(context.Background())
	}
}

// countAudit counts a login's audit event: a success, a failure, or a
// refusal by a rate limit (counted as a 429, not as a failure). Hooked
// where every audit event passes, so every login method counts.
func (u *usageCounter) countAudit(e store.AuditEvent) {
	switch {
	case e.Action == AuditLoginSuccess:
		u.add(e.WorkspaceID, UsageSignIn)
	case e.Action == AuditLoginFailure && e.Details["reason"] == string(CodeRateLimited):
		u.add(e.WorkspaceID, UsageRateLimited)
	case e.Action == AuditLoginFailure:
		u.add(e.WorkspaceID, UsageSignInFail)
	}
}

// flush writes the pending counts in one AddUsage. If the store refuses,
// they go back to pending for the next flush (a write that committed but
// reported an error would then count twice: rare, and on the safe side
// of "nothing lost").
func (u *usageCounter) flush(ctx context.Context) {
	u.flushMu.Lock()
	defer u.flushMu.Unlock()
	u.mu.Lock()
	batch := u.pending
	u.pending = make(map[usageKey]int64, len(batch))
	u.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	deltas := make([]store.UsageCount, 0, len(batch))
	for k, n := range batch {
		deltas = append(deltas, store.UsageCount{WorkspaceID: k.ws, Hour: time.Unix(k.hour, 0).UTC(), Kind: k.kind, Count: n})
	}
	// Not cut short by a page request that ends, but bounded, so a hung
	// database cannot hold flushMu (and every overview) forever.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*usageEvery)
	defer cancel()
	if err := u.store.AddUsage(ctx, deltas...); err != nil {
		u.log.Error("usage counters not written; retrying at the next flush", "err", err, "buckets", len(deltas))
		u.mu.Lock()
		for k, n := range batch {
			u.pending[k] += n
		}
		u.mu.Unlock()
	}
}

// run flushes every usageEvery until close.
func (u *usageCounter) run() {
	defer close(u.ended)
	t := time.NewTicker(usageEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			u.flush(context.Background())
		case <-u.done:
			return
		}
	}
}

// close stops the ticker and writes what is pending; later counts are
// written as they come.
func (u *usageCounter) close() {
	u.stop.Do(func() {
		u.mu.Lock()
		u.closed = true
		u.mu.Unlock()
		close(u.done)
		<-u.ended
	})
	u.flush(context.Background())
}

// limitedIn counts err as a 429 of workspace ws when it is a rate-limit
// refusal, and returns it: for the limits whose workspace is known (the
// credential's or account's), unlike the per-IP ones.
func (s *Service) limitedIn(ws string, err error) error {
	var e *Error
	if errors.As(err, &e) && e.Code == CodeRateLimited {
		s.usage.add(ws, UsageRateLimited)
	}
	return err
}
