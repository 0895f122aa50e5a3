package verify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Config configures a Verifier. Issuer and Credential are required.
type Config struct {
	// Issuer is the Sigil server's base URL, exactly as it puts it in the
	// iss claim (SIGIL_ISSUER), e.g. "https://auth.example.com". Discovery,
	// introspection and the revocation feed are reached under it.
	Issuer string
	// Credential authenticates this service to the server for
	// introspection and the revocation feed: an API key (sk_…) with the
	// scope tokens:introspect, which confines the Verifier to that key's
	// workspace, or the admin token (every workspace).
	Credential string
	// Audience must be among a Sigil JWT's aud values; it defaults to
	// Issuer, which Sigil sets as the aud of every access token, so an
	// OpenID ID token (whose aud is an app) is never taken for one. API
	// keys and customer JWTs carry none and are not checked against it.
	Audience string
	// Leeway is the clock skew allowed on exp and nbf: 0 (the default)
	// to 60 s.
	Leeway time.Duration
	// FeedGrace is how long sessions already confirmed stay trusted while
	// the revocation feed reconnects; revocations made meanwhile apply
	// when it resumes. After it, sessions are checked with the server
	// (each answer reused for at most 1 s), so a revocation is never
	// missed for longer than about max(FeedGrace, 1 s). Default 1 s.
	FeedGrace time.Duration
	// HTTPClient makes every call to the server (default: a new client).
	// Its Timeout should be 0: the feed is a long-lived response. Each
	// other call gets its own timeout.
	HTTPClient *http.Client
	// Logger receives feed outages and refusals' reasons (at debug
	// level); never credentials. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock (default time.Now); tests set it.
	Now func() time.Time
}

// requestTimeout bounds every call to the server but the feed.
const requestTimeout = 5 * time.Second

// Verifier checks the credentials of incoming requests against one Sigil
// server. Create it with New, share it, and Close it when done. Safe for
// concurrent use.
type Verifier struct {
	cfg    Config
	http   *http.Client
	log    *slog.Logger
	now    func() time.Time
	parser *jwt.Parser
	// workspace confines accepted credentials when Credential is an API
	// key; "" (the admin token) accepts every workspace.
	workspace string

	keys     *keySet
	tokens   *tokenCache
	intro    *introspector
	sessions *sessionTable
	feed     *feed

	stop context.CancelFunc
	done chan struct{}
}

// New reads the server's discovery document and JWKS and connects the
// revocation feed, so a Verifier that is returned is ready; ctx bounds
// this start only. It fails on a bad Config, an unreachable server or a
// credential the server refuses.
func New(ctx context.Context, cfg Config) (*Verifier, error) {
	if err := cfg.normalize(); err != nil {
		return nil, err
	}
	v := &Verifier{cfg: cfg, http: cfg.HTTPClient, log: cfg.Logger, now: cfg.Now,
		parser: newParser(cfg.Issuer, cmp.Or(cfg.Audience, cfg.Issuer), cfg.Leeway, cfg.Now),
		tokens: &tokenCache{leeway: cfg.Leeway, m: map[string]verified{}},
		done:   make(chan struct{}),
	}
	meta, err := v.discover(ctx)
	if err != nil {
		return nil, err
	}
	if v.workspace, err = v.whoami(ctx); err != nil {
		return nil, err
	}
	v.keys = &keySet{url: meta.JWKSURI, get: v.getJSON, now: v.now, onDel: v.tokens.flush}
	if err := v.keys.refresh(ctx); err != nil {
		return nil, fmt.Errorf("verify: %w", err)
	}
	v.intro = newIntrospector(meta.IntrospectionEndpoint, v.postForm, v.now)
	v.sessions = newSessionTable(v.now, cfg.FeedGrace)
	v.feed = &feed{url: cfg.Issuer + feedPath, credential: cfg.Credential, http: v.http, log: v.log,
		on: v.revoked, setUp: v.sessions.setUp}
	bg, stop, body, err := v.feed.start(ctx)
	if err != nil {
		return nil, err
	}
	v.stop = stop
	go v.background(bg, body)
	return v, nil
}

// revoked applies a feed event to the session table and the
// introspection cache.
func (v *Verifier) revoked(r Revocation) {
	if r.Reset {
		v.sessions.gap()
		v.intro.flush()
		return
	}
	if r.SessionID != "" {
		v.sessions.ended(r.SessionID)
	}
	if r.APIKeyID != "" {
		v.intro.forgetKey(r.APIKeyID)
	}
}

// normalize checks cfg and fills in defaults.
func (c *Config) normalize() error {
	var errs []error
	c.Issuer = strings.TrimRight(c.Issuer, "/")
	if !strings.HasPrefix(c.Issuer, "https://") && !strings.HasPrefix(c.Issuer, "http://") {
		errs = append(errs, errors.New("Issuer must be an http(s) URL"))
	}
	if c.Credential == "" {
		errs = append(errs, errors.New("Credential is required (an API key or the admin token)"))
	}
	if c.Leeway < 0 || c.Leeway > time.Minute {
		errs = append(errs, errors.New("Leeway must be from 0 to 60s"))
	}
	if c.FeedGrace < 0 {
		errs = append(errs, errors.New("FeedGrace must not be negative"))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("verify: bad Config: %w", err)
	}
	if c.FeedGrace == 0 {
		c.FeedGrace = time.Second
	}
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return nil
}

// Close stops the revocation feed and the background refresh. Verify
// must not be called after Close.
func (v *Verifier) Close() error {
	v.stop()
	<-v.done
	return nil
}

// Verify checks the credential r presents (API.md §2: "Authorization:
// Bearer …", a bare Authorization value, or X-API-KEY) and returns its
// principal, or an *Error (see the Err… values).
func (v *Verifier) Verify(ctx context.Context, r *http.Request) (*Principal, error) {
	raw := credential(r)
	if raw == "" {
		return nil, ErrMissingCredential
	}
	return v.VerifyToken(ctx, raw)
}

// VerifyToken checks a raw credential: a Sigil access token locally
// (JWKS, then the session against the revocation feed), an API key or an
// HS256 customer JWT by asking the server. Anything else, including
// refresh tokens and the admin token, is refused.
func (v *Verifier) VerifyToken(ctx context.Context, raw string) (*Principal, error) {
	switch {
	case len(raw) > maxCredential:
		return nil, ErrInvalidToken
	case strings.HasPrefix(raw, apiKeyPrefix):
		if !validAPIKey(raw) {
			return nil, ErrInvalidToken
		}
		return v.ask(ctx, raw, "api_key")
	case strings.Count(raw, ".") != 2:
		return nil, ErrInvalidToken
	}
	if p, ok := v.tokens.get(raw, v.now()); ok {
		return v.checkSession(ctx, raw, p)
	}
	switch jwtAlg(raw) {
	case algEdDSA, algES256:
		p, err := v.verifyJWT(ctx, raw)
		if err != nil {
			v.log.DebugContext(ctx, "verify: token refused", "reason", err)
			return nil, ErrInvalidToken
		}
		if v.workspace != "" && p.Workspace != v.workspace {
			v.log.DebugContext(ctx, "verify: token refused", "reason", "another workspace")
			return nil, ErrInvalidToken
		}
		v.tokens.put(raw, p)
		return v.checkSession(ctx, raw, p)
	case "HS256":
		return v.ask(ctx, raw, "jwt")
	}
	return nil, ErrInvalidToken
}

// ask returns the server's verdict on a credential only it can judge.
func (v *Verifier) ask(ctx context.Context, raw, tokenType string) (*Principal, error) {
	a, err := v.intro.lookup(ctx, raw)
	if err != nil {
		v.log.WarnContext(ctx, "verify: introspection failed", "err", err)
		return nil, ErrUnavailable
	}
	return a.principal(tokenType)
}

// checkSession lets a verified Sigil token through only if its session
// is live: known live (no I/O), known ended (from the feed), or else
// asked of the server and remembered while the feed keeps the answer
// true.
func (v *Verifier) checkSession(ctx context.Context, raw string, vt verified) (*Principal, error) {
	p := vt.Principal
	if p.SessionID == "" {
		return p.clone(), nil
	}
	var born time.Time // see sessionTable.status
	if p.Kind == KindAPIKey {
		born = vt.issued
	}
	switch v.sessions.status(p.SessionID, p.Expires, born) {
	case sessionLive:
		return p.clone(), nil
	case sessionDead:
		return nil, ErrInvalidToken
	}
	snap := v.sessions.snapshot()
	a, err := v.intro.lookup(ctx, raw)
	if err != nil {
		v.log.WarnContext(ctx, "verify: cannot confirm session", "err", err)
		return nil, ErrUnavailable
	}
	if !a.Active {
		// Not a reason to mark the session ended: the server may only
		// think this token expired (our leeway), while newer tokens of the
		// session are fine. The negative answer is cached for 1 s.
		return nil, ErrInvalidToken
	}
	v.sessions.confirm(p.SessionID, p.Expires, born, snap)
	return p.clone(), nil
}

// sweepEvery paces the background housekeeping.
const sweepEvery = 30 * time.Second

// background runs the feed and, beside it, drops expired cache entries
// and keeps the JWKS fresh, until Close.
func (v *Verifier) background(ctx context.Context, body feedBody) {
	defer close(v.done)
	feedDone := make(chan struct{})
	go func() { defer close(feedDone); v.feed.run(ctx, body) }()
	t := time.NewTicker(sweepEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			<-feedDone
			return
		case <-t.C:
			v.tokens.sweep(v.now())
			v.intro.sweep()
			v.sessions.sweep(v.cfg.Leeway)
			if err := v.keys.refresh(ctx); err != nil {
				v.log.Warn("verify: JWKS refresh failed; keeping the old keys", "err", err)
			}
		}
	}
}
