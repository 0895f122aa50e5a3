package authn

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/sigil-auth/sigil/internal/fanout"
	"github.com/sigil-auth/sigil/internal/mail"
	"github.com/sigil-auth/sigil/internal/password"
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
	// Tiers are forward-auth's per-credential request rates by tier name.
	Tiers map[string]ratelimit.Rule
	// RefreshKey keys the derivation of child refresh tokens (derived from
	// the master key, so every replica derives the same child).
	RefreshKey []byte
	// Sealer encrypts JWT-key secrets (under the master key).
	Sealer *token.Sealer
	// Passwords hashes passwords; nil uses argon2id at OWASP parameters.
	Passwords *password.Hasher
	// Mailer sends reset and verification mail; nil logs them (dev).
	Mailer mail.Mailer
	// LinkBase is where emailed links point (default: the issuer); the
	// token is appended as "?token=…" to LinkBase+"/reset-password" or
	// "/verify-email".
	LinkBase string
	Now      func() time.Time
	Log      *slog.Logger
	// OnAuth, if set, is told every authentication outcome, for metrics.
	OnAuth func(method, outcome string)
	// SSOClient calls identity providers (discovery, JWKS, code
	// exchanges, SAML metadata); nil uses a client with a 10 s timeout.
	SSOClient *http.Client
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

	tokens  *tokenCache
	live    *liveCache
	apiKeys *recordCache[store.APIKey]
	jwtKeys *recordCache[jwtKeyEntry]
	wsCache *recordCache[store.Workspace]
	// browsers caches resolved browser-session cookies (by hash).
	browsers *recordCache[BrowserSession]
	apps     *recordCache[store.App]
	sso      *ssoCache
	conns    *recordCache[connection] // decoded SSO connections
	touched  *touchSet
	revoked  *feed
	audits   *auditor
	usage    *usageCounter
	origins  originSet
	pw       *password.Hasher
	codeKey  []byte // authenticates issued auth codes
	csrfKey  []byte // derives browser sessions' CSRF proofs
	rp       *relyingParty
	admin    []byte // SHA-256 of the admin token, for constant-time compares
	skew     skewLog
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
	if o.Passwords == nil {
		o.Passwords = password.New(password.OWASP, 0)
	}
	if o.Mailer == nil {
		o.Mailer = mail.NewLog(o.Log, false) // never log live reset tokens by default
	}
	if o.SSOClient == nil {
		o.SSOClient = &http.Client{Timeout: idpTimeout}
	}
	if o.LinkBase == "" {
		o.LinkBase = o.Issuer
	}
	s := &Service{
		store: st, keys: keys, limiter: lim, bus: bus, opt: o, now: o.Now, log: o.Log,
		verify:   token.NewVerifier(keys, o.Issuer, o.Now, 0),
		derive:   token.NewDeriver(o.RefreshKey),
		tokens:   newTokenCache(tokenCacheSize),
		live:     newLiveCache(liveTTL, o.Now),
		apiKeys:  newRecordCache[store.APIKey](liveTTL, o.Now),
		jwtKeys:  newRecordCache[jwtKeyEntry](liveTTL, o.Now),
		wsCache:  newRecordCache[store.Workspace](liveTTL, o.Now),
		browsers: newRecordCache[BrowserSession](liveTTL, o.Now),
		apps:     newRecordCache[store.App](liveTTL, o.Now),
		sso:      newSSOCache(),
		conns:    newRecordCache[connection](liveTTL, o.Now),
		touched:  newTouchSet(),
		revoked:  newFeed(o.Now),
		audits:   newAuditor(st, o.Log, o.Now),
		usage:    newUsageCounter(st, o.Log, o.Now),
		pw:       o.Passwords,
		codeKey:  token.DeriveKey(o.RefreshKey, "auth codes"),
		csrfKey:  token.DeriveKey(o.RefreshKey, "browser csrf proofs"),
		rp:       newRelyingParty(o.Issuer, o.RefreshKey),
	}
	go s.audits.run()
	go s.usage.run()
	if o.AdminToken != "" {
		s.admin = token.Hash(o.AdminToken)
	}
	return s
}

// Close writes the audit events and usage counts still queued. Call it
// at shutdown, after the HTTP server has stopped.
func (s *Service) Close() {
	s.audits.close()
	s.usage.close()
}

// limit counts one attempt against rule for key. Over the limit it
// returns a rate_limited error; if the limiter itself fails it fails
// closed (refuses) and logs loudly, since an open failure would let a
// login flood through unchecked.
func (s *Service) limit(ctx context.Context, rule, key string) error {
	r, ok := s.opt.Limits[rule]
	if !ok {
		return nil
	}
	return s.limitRule(ctx, rule, key, r)
}

// limitRule counts one attempt for key under rule r, named name.
func (s *Service) limitRule(ctx context.Context, name, key string, r ratelimit.Rule) error {
	if s.limiter == nil {
		return nil
	}
	rule := name
	d, err := s.limiter.Allow(ctx, rule+":"+key, r)
	if err != nil {
		s.log.ErrorContext(ctx, "rate limiter unavailable; refusing request", "rule", rule, "err", err)
		return ErrUnavailable
	}
	if !d.Allowed {
		return &Error{Code: CodeRateLimited, Detail: "too many requests; retry later", RetryAfter: d.RetryAfter, Limit: d.Limit}
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

// workspace reads a workspace through a cache of liveTTL; changes are
// announced (UpdateWorkspace), so other replicas see them at once.
func (s *Service) workspace(ctx context.Context, id string) (store.Workspace, error) {
	if w, ok := s.wsCache.get(id); ok {
		return w, nil
	}
	epoch := s.wsCache.epoch.Load()
	w, err := s.store.GetWorkspace(ctx, id)
	if err != nil {
		return w, err
	}
	s.wsCache.put(id, id, w, epoch)
	return w, nil
}
