package client

import (
	"context"
	"crypto/ed25519"
	"errors"
	"sync"
	"time"

	"golang.org/x/oauth2"
)

// DefaultExpirySkew is how long before its expiry a TokenSource replaces
// an access token, so that a token is not sent just as it dies and a
// modest clock difference with the server does not matter.
const DefaultExpirySkew = 60 * time.Second

// refreshTimeout bounds one refresh or login made by a TokenSource. The
// refresh runs detached from the caller that started it (see get), so it
// needs a bound of its own even when the Client's *http.Client has none.
const refreshTimeout = time.Minute

// ErrSessionEnded is returned (wrapped) by a TokenSource that holds no
// usable refresh token and has no way to log in again: the server refused
// the refresh token (the session was revoked, expired or reused), or there
// never was one. When the server's refusal is known it is wrapped too, so
// errors.As(err, &*Error) finds it. Log in again and build a new source.
var ErrSessionEnded = errors.New("sigil client: session ended, log in again")

// TokenSource hands out a valid Sigil access token, refreshing or
// re-acquiring it before it expires. It implements oauth2.TokenSource, so
// oauth2.NewClient(ctx, ts) works, and feeds Transport.
//
// It is safe for concurrent use: at most one refresh runs at a time and
// every caller that needs a new token while it runs shares its result.
// Build one with Client.TokenSource (from a login's tokens),
// Client.KeyPairTokenSource, Client.PasswordTokenSource or
// Client.APIKeyTokenSource.
//
// The oauth2.Token it returns carries the access token, type and expiry
// only; the refresh token stays inside (read it with Tokens, persist it
// with WithOnRefresh), because a refresh made by anyone else would rotate
// it away from this source and make the server see a reuse.
type TokenSource struct {
	c     *Client
	cfg   sourceConfig
	login func(context.Context) (*Tokens, error) // nil: refresh only

	mu        sync.Mutex
	tok       *Tokens   // current tokens; nil before the first, or after the session ended
	expiry    time.Time // when tok's access token dies
	refreshAt time.Time // when to replace it (expiry minus the margin)
	cause     error     // why the session ended, for ErrSessionEnded
	flight    *flight   // the refresh in progress, nil when none
}

// flight is one refresh or login; done is closed once tok/err are set.
type flight struct {
	done chan struct{}
	tok  *oauth2.Token
	err  error
}

var _ oauth2.TokenSource = (*TokenSource)(nil)

// sourceConfig is what SourceOptions set.
type sourceConfig struct {
	now       func() time.Time
	skew      time.Duration
	onRefresh func(*Tokens)
	initial   *Tokens
}

// SourceOption configures a TokenSource.
type SourceOption func(*sourceConfig)

// WithClock makes the source read time from now instead of time.Now (for
// tests, or a clock corrected against the server's).
func WithClock(now func() time.Time) SourceOption {
	return func(c *sourceConfig) {
		if now != nil {
			c.now = now
		}
	}
}

// WithExpirySkew replaces DefaultExpirySkew. A token whose lifetime is
// shorter than twice the skew is replaced at half its lifetime instead. A
// negative d is ignored.
func WithExpirySkew(d time.Duration) SourceOption {
	return func(c *sourceConfig) {
		if d >= 0 {
			c.skew = d
		}
	}
}

// WithOnRefresh makes the source call f with a copy of every new set of
// tokens it obtains (refresh, login or API-key exchange), before any
// caller gets to use them: persist them there, since a rotated refresh
// token replaces the old one for good. f runs while the refresh is still
// in progress, so it must not call the source's Token methods (that
// would wait for itself).
func WithOnRefresh(f func(*Tokens)) SourceOption {
	return func(c *sourceConfig) { c.onRefresh = f }
}

// WithTokens starts a KeyPairTokenSource, PasswordTokenSource or
// APIKeyTokenSource from tokens saved earlier, so it logs in only when
// they cannot be refreshed.
func WithTokens(t *Tokens) SourceOption {
	return func(c *sourceConfig) { c.initial = t }
}

// TokenSource returns a source that starts from initial (the answer of a
// login, register or signup, or tokens saved earlier) and keeps it fresh
// through POST /v1/auth/refresh, keeping each rotated refresh token. Once
// the server refuses the refresh token, Token returns ErrSessionEnded.
//
// Do not give c an *http.Client whose Transport uses this source: the
// refresh itself would then wait for the refresh.
func (c *Client) TokenSource(initial *Tokens, opts ...SourceOption) *TokenSource {
	return c.newSource(nil, append([]SourceOption{WithTokens(initial)}, opts...))
}

// KeyPairTokenSource returns a source for userID that logs in with key
// (LoginKeyPair) whenever it holds no usable refresh token: at first use
// (unless WithTokens gave it some), and after the server refuses a
// refresh (session revoked, or past its maximum age).
func (c *Client) KeyPairTokenSource(userID string, key ed25519.PrivateKey, opts ...SourceOption) *TokenSource {
	return c.newSource(func(ctx context.Context) (*Tokens, error) {
		return c.LoginKeyPair(ctx, userID, key)
	}, opts)
}

// PasswordTokenSource returns a source for a password user that logs in
// with email and password (LoginPassword) whenever it holds no usable
// refresh token, as KeyPairTokenSource does. It keeps the password in
// memory for as long as the source lives: prefer TokenSource with the
// tokens of one login where a person types the password.
func (c *Client) PasswordTokenSource(email, password string, opts ...SourceOption) *TokenSource {
	return c.newSource(func(ctx context.Context) (*Tokens, error) {
		return c.LoginPassword(ctx, email, password)
	}, opts)
}

// APIKeyTokenSource returns a source of access tokens exchanged for
// apiKey under sessionID (ExchangeAPIKey), exchanging again when the
// token nears its expiry. The server hands back the same token while it
// is valid, so the source then keeps that token until it has expired and
// only then gets a new one.
func (c *Client) APIKeyTokenSource(apiKey, sessionID string, opts ...SourceOption) *TokenSource {
	return c.newSource(func(ctx context.Context) (*Tokens, error) {
		return c.ExchangeAPIKey(ctx, apiKey, sessionID)
	}, opts)
}

func (c *Client) newSource(login func(context.Context) (*Tokens, error), opts []SourceOption) *TokenSource {
	s := &TokenSource{c: c, login: login, cfg: sourceConfig{now: time.Now, skew: DefaultExpirySkew}}
	for _, o := range opts {
		o(&s.cfg)
	}
	if t := s.cfg.initial; t != nil {
		cp := *t
		s.tok = &cp
		// Saved tokens: when they were issued is unknown, so only the
		// absolute expiry can be trusted. Zero means unknown: refresh first.
		s.expiry = t.AccessExpiry()
		s.refreshAt = s.expiry.Add(-s.margin(t.ExpiresIn))
	}
	return s
}

// Token returns a valid access token, refreshing it first if it expires
// within the skew. It implements oauth2.TokenSource.
func (s *TokenSource) Token() (*oauth2.Token, error) {
	return s.get(context.Background(), "")
}

// TokenContext is Token bounded by ctx: when ctx ends first it returns
// ctx.Err(), while a refresh already sent still completes and is kept.
func (s *TokenSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	return s.get(ctx, "")
}

// Tokens returns a copy of the tokens the source holds now (to persist
// them, or to log out with the refresh token), or nil if it holds none.
func (s *TokenSource) Tokens() *Tokens {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tok == nil {
		return nil
	}
	cp := *s.tok
	return &cp
}

// margin is how long before expiry a token of lifetime seconds is
// replaced: the skew, or half the lifetime when that is shorter.
func (s *TokenSource) margin(lifetime int64) time.Duration {
	if lifetime <= 0 {
		return s.cfg.skew
	}
	return min(s.cfg.skew, time.Duration(lifetime)*time.Second/2)
}
