package httpapi

import (
	"errors"
	"fmt"

	"github.com/sigil-auth/sigil/internal/authn"
	"github.com/sigil-auth/sigil/internal/ratelimit"
)

// StreamLimits cap the long-lived responses of one replica (today the
// revocation feed, GET /v1/revocations): each open stream holds a
// goroutine, buffers and a socket for as long as the client likes, so
// without a cap one API key could open thousands (measured before the
// cap: 3,000 streams of one key, RSS 45 → 121 MB). Zero fields take the
// defaults.
type StreamLimits struct {
	// PerCredential is how many streams one credential (an API key, the
	// admin token) may hold open at once. A fleet of resource servers
	// sharing one key needs one stream per process.
	PerCredential int
	// Total is how many streams the replica serves at once, whoever holds
	// them.
	Total int
}

// streams counts the open long-lived responses, per credential and in all.
type streams struct{ open *ratelimit.Concurrency }

func newStreams(l StreamLimits) *streams {
	return &streams{open: ratelimit.NewConcurrency(l.PerCredential, l.Total)}
}

// acquire takes a slot for p's stream, or refuses with a 429
// (rate_limited, Retry-After) when p or the replica is at its cap. The
// caller calls release exactly once when the stream ends.
func (s *streams) acquire(p authn.Principal) (release func(), err error) {
	release, err = s.open.Acquire(p.Kind + ":" + p.Subject)
	switch {
	case errors.Is(err, ratelimit.ErrKeyFull):
		return nil, &authn.Error{Code: authn.CodeRateLimited, RetryAfter: ratelimit.StreamRetryAfter,
			Detail: fmt.Sprintf("this credential already has %d streams open, the most allowed; close one or retry later", s.open.PerKey())}
	case err != nil:
		return nil, &authn.Error{Code: authn.CodeRateLimited, RetryAfter: ratelimit.StreamRetryAfter,
			Detail: "this server has as many streams open as it serves; retry later"}
	}
	return release, nil
}
