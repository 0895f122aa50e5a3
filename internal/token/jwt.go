package token

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Claims are the claims of a Sigil access token (API.md §6).
type Claims struct {
	jwt.RegisteredClaims
	SessionID string   `json:"sid,omitempty"`
	Workspace string   `json:"ws,omitempty"`
	Scope     string   `json:"scope,omitempty"`
	AMR       []string `json:"amr,omitempty"`
}

// Scopes splits the space-separated scope claim.
func (c *Claims) Scopes() []string { return strings.Fields(c.Scope) }

// Errors of Verify. Every failure is one of these; callers map them all
// to "invalid token" and may log which.
var (
	ErrMalformed     = errors.New("token: malformed")
	ErrUnknownKey    = errors.New("token: unknown signing key")
	ErrBadSignature  = errors.New("token: bad signature or algorithm")
	ErrExpired       = errors.New("token: expired")
	ErrWrongIssuer   = errors.New("token: wrong issuer")
	errNoActiveKey   = errors.New("token: no active signing key")
	errUnexpectedAlg = errors.New("token: algorithm does not match key")
)

// Mint signs c with the current signing key; kid and alg go in the
// header.
func (k *Keyring) Mint(ctx context.Context, c *Claims) (string, error) {
	kk, err := k.current(ctx)
	if err != nil {
		return "", errNoActiveKey
	}
	t := jwt.NewWithClaims(method(kk.rec.Algorithm), c)
	t.Header["kid"] = kk.rec.ID
	return t.SignedString(kk.priv)
}

// Verifier checks Sigil access tokens against a Keyring.
type Verifier struct {
	keys   *Keyring
	issuer string
	now    func() time.Time
	leeway time.Duration
}

// NewVerifier returns a Verifier accepting tokens of issuer, with the
// given clock and exp leeway (0 on the server, which minted them itself).
func NewVerifier(k *Keyring, issuer string, now func() time.Time, leeway time.Duration) *Verifier {
	return &Verifier{keys: k, issuer: issuer, now: now, leeway: leeway}
}

// Verify parses tok, checks that its header names a published key, that
// alg is exactly that key's algorithm (no "none", no HS256 with a public
// key as secret), the signature, issuer and expiry, and returns its
// claims.
func (v *Verifier) Verify(ctx context.Context, tok string) (*Claims, error) {
	var c Claims
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{AlgEdDSA, AlgES256}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(v.issuer),
		jwt.WithLeeway(v.leeway),
		jwt.WithTimeFunc(v.now),
	)
	_, err := p.ParseWithClaims(tok, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		if kid == "" {
			return nil, ErrUnknownKey
		}
		kk := v.keys.lookup(ctx, kid)
		if kk == nil {
			return nil, ErrUnknownKey
		}
		if t.Method.Alg() != kk.rec.Algorithm {
			return nil, errUnexpectedAlg
		}
		return kk.pub, nil
	})
	switch {
	case err == nil:
		return &c, nil
	case errors.Is(err, ErrUnknownKey):
		return nil, ErrUnknownKey
	case errors.Is(err, jwt.ErrTokenExpired), errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return nil, ErrExpired
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return nil, ErrWrongIssuer
	case errors.Is(err, jwt.ErrTokenMalformed):
		return nil, ErrMalformed
	default:
		return nil, ErrBadSignature
	}
}

// KeyID returns the kid of tok's header without verifying anything, or ""
// if tok is not a JWT. Callers use it to route a bearer token to the
// right verifier.
func KeyID(tok string) string {
	p := jwt.NewParser()
	t, _, err := p.ParseUnverified(tok, jwt.MapClaims{})
	if err != nil {
		return ""
	}
	kid, _ := t.Header["kid"].(string)
	return kid
}

// method maps an algorithm name to its jwt signing method.
func method(alg string) jwt.SigningMethod {
	if alg == AlgES256 {
		return jwt.SigningMethodES256
	}
	return jwt.SigningMethodEdDSA
}
