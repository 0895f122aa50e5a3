package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Limits on a Rule. MaxLimit bounds the per-key memory of both backends (a
// key keeps at most Limit timestamps); MaxWindow keeps keys from living on
// for days.
const (
	MaxLimit  = 10_000
	MaxWindow = 24 * time.Hour
)

// ErrInvalidRule is returned (wrapped) by Allow and ParseRules for a Rule
// whose Limit or Window is out of range.
var ErrInvalidRule = errors.New("ratelimit: invalid rule")

// Rule is "at most Limit attempts in any Window".
type Rule struct {
	Limit  int
	Window time.Duration
}

func (r Rule) validate() error {
	if r.Limit < 1 || r.Limit > MaxLimit {
		return fmt.Errorf("%w: limit %d not in 1..%d", ErrInvalidRule, r.Limit, MaxLimit)
	}
	if r.Window <= 0 || r.Window > MaxWindow {
		return fmt.Errorf("%w: window %v not in (0, %v]", ErrInvalidRule, r.Window, MaxWindow)
	}
	return nil
}

// String formats r in the SIGIL_RATE_LIMITS syntax ("60/1m0s").
func (r Rule) String() string { return fmt.Sprintf("%d/%v", r.Limit, r.Window) }

// Decision is the outcome of one Allow call.
type Decision struct {
	// Allowed reports whether the attempt is within the limit (and was recorded).
	Allowed bool
	// Limit is the rule's N; Remaining is how many more attempts the window
	// admits right now (after this one, if it was allowed).
	Limit, Remaining int
	// RetryAfter is set only when refused: the time until the oldest counted
	// attempt leaves the window, i.e. the earliest moment a retry can succeed.
	RetryAfter time.Duration
	// Reset is the time until every counted attempt has left the window and
	// Remaining is back to Limit (0 when nothing is counted).
	Reset time.Duration
}

// RetryAfterSeconds is RetryAfter rounded up to whole seconds, at least 1:
// the value for a Retry-After header (a client retrying after a rounded-down
// value would be refused again).
func (d Decision) RetryAfterSeconds() int { return Seconds(d.RetryAfter) }

// Seconds is a wait in a Retry-After header's whole seconds: rounded up,
// at least 1, so a client never comes back early.
func Seconds(d time.Duration) int {
	return max(int((d+time.Second-1)/time.Second), 1)
}

// Limiter counts attempts per key. Implementations are safe for concurrent use.
type Limiter interface {
	// Allow records one attempt for key under rule r at the limiter's clock
	// and reports whether it is within the limit.
	//
	// A refused attempt is NOT recorded: the window is "N accepted attempts",
	// so a client hammering a closed window gets in again exactly when its
	// oldest accepted attempt expires instead of being locked out for as long
	// as it keeps trying. (The attempts it can make stay bounded by N per
	// window either way.)
	//
	// Errors: a wrapped ErrInvalidRule for a bad r; for Redis, a wrapped
	// backend error, in which case the Decision is zero and the caller decides
	// whether to fail open or closed.
	Allow(ctx context.Context, key string, r Rule) (Decision, error)
}

// decide builds the Decision from the counted attempts after trimming:
// n is their number (before adding this attempt), oldest/newest their times,
// all relative to now. It is shared by both backends so they agree exactly.
func decide(r Rule, n int, oldest, newest, now time.Duration) Decision {
	if n >= r.Limit {
		return Decision{
			Limit:      r.Limit,
			RetryAfter: oldest + r.Window - now,
			Reset:      newest + r.Window - now,
		}
	}
	return Decision{Allowed: true, Limit: r.Limit, Remaining: r.Limit - n - 1, Reset: r.Window}
}
