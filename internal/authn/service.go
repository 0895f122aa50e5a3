package authn

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/sigil-auth/sigil/internal/fanout"
	"github.com/sigil-auth/sigil/internal/ratelimit"
	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/token"
)

// Options are the settings of a Service that are not its collaborators.
type Options struct {
	Issuer     string // iss of every token; named in auth codes
	AdminToken string // the static instance-admin token; "" disables it
	// Limits maps rule names to rules; a missing rule is not enforced.
	Limits map[string]ratelimit.Rule
	// RefreshKey keys the derivation of child refresh tokens (derived from
	// the master key, so every replica derives the same child).
	RefreshKey []byte
	Now        func() time.Time
	Log        *slog.Logger
	// OnAuth, if set, is told every authentication outcome, for metrics.
	OnAuth func(method, outcome string)
}

// Service runs the flows. Create one with New; it is safe for concurrent
// use, and several Services (replicas) may share one store.
type Service struct {
	store   store.Store
	keys    *token.Keyring
	verify  *token.Verifier
	derive  *token.Deriver
	limiter ratelimit.Limiter
	bus     fanout.Bus
	opt     Options
	now     func() time.Time
	log     *slog.Logger

	tokens *tokenCache
	live   *liveCache
	admin  []byte // SHA-256 of the admin token, for constant-time compares
}

// New wires a Service. bus announces session revocations to the other
// replicas; call Run to listen for theirs.
func New(st store.Store, keys *token.Keyring, lim ratelimit.Limiter, bus fanout.Bus, o Options) *Service {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	s := &Service{
		store: st, keys: keys, limiter: lim, bus: bus, opt: o, now: o.Now, log: o.Log,
		verify: token.NewVerifier(keys, o.Issuer, o.Now, 0),
		derive: token.NewDeriver(o.RefreshKey),
		tokens: newTokenCache(tokenCacheSize),
		live:   newLiveCache(liveTTL, o.Now),
	}
	if o.AdminToken != "" {
		s.admin = token.Hash(o.AdminToken)
	}
	return s
}

// limit counts one attempt against rule for key. Over the limit it
// returns a rate_limited error; if the limiter itself fails it fails
// closed (refuses) and logs loudly, since an open failure would let a
// login flood through unchecked.
func (s *Service) limit(ctx context.Context, rule, key string) error {
	r, ok := s.opt.Limits[rule]
	if !ok || s.limiter == nil {
		return nil
	}
	d, err := s.limiter.Allow(ctx, rule+":"+key, r)
	if err != nil {
		s.log.ErrorContext(ctx, "rate limiter unavailable; refusing request", "rule", rule, "err", err)
		return ErrUnavailable
	}
	if !d.Allowed {
		return &Error{Code: CodeRateLimited, Detail: "too many requests; retry later", RetryAfter: d.RetryAfter}
	}
	return nil
}

// observe reports an authentication outcome to metrics.
func (s *Service) observe(method string, err error) {
	if s.opt.OnAuth == nil {
		return
	}
	outcome := "success"
	if err != nil {
		outcome = "failure"
		if e, ok := err.(*Error); ok {
			outcome = string(e.Code)
		}
	}
	s.opt.OnAuth(method, outcome)
}

var idEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// newID returns prefix_ followed by 128 random bits in lower-case base32.
func newID(prefix string) string {
	b := make([]byte, 16)
	rand.Read(b)
	return prefix + "_" + strings.ToLower(idEncoding.EncodeToString(b))
}

// ipKey is the rate-limit key of a client address. IPv6 clients are keyed
// by their /64, since one client can rotate freely through it.
func ipKey(ip netip.Addr) string {
	if ip.Is6() && !ip.Is4In6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}
