package token

import (
	"context"
	"errors"
	"fmt"
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
	// AAL is the authenticator assurance level: "aal1" for one factor,
	// "aal2" for two (API.md §13).
	AAL string `json:"aal,omitempty"`
	// SSO is the SSO connection the person signed in through (API.md §12).
	SSO string `json:"sso,omitempty"`
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
	ErrWrongAudience = errors.New("token: not meant for this issuer (an ID token?)")
	errNoActiveKey   = errors.New("token: no active signing key")
	errUnexpectedAlg = errors.New("token: algorithm does not match key")
)

// Mint signs access-token claims c with the current access-token key;
// kid and alg go in the header.
func (k *Keyring) Mint(ctx context.Context, c *Claims) (string, error) {
	return k.sign(ctx, k.alg, c)
}

// MintID signs OpenID Connect ID-token claims with the current key of
// alg (RS256 or the access-token algorithm), with "typ":"JWT". An ID
// token is never an access token: its aud is the client, not the issuer,
// and the Verifier demands the issuer as audience.
func (k *Keyring) MintID(ctx context.Context, alg string, c jwt.Claims) (string, error) {
	if alg != AlgRS256 && alg != k.alg {
		return "", fmt.Errorf("token: no ID-token signing algorithm %q", alg)
	}
	return k.sign(ctx, alg, c)
}

func (k *Keyring) sign(ctx context.Context, alg string, c jwt.Claims) (string, error) {
	kk, err := k.current(ctx, alg)
	if err != nil {
		return "", errNoActiveKey
	}
	t := jwt.NewWithClaims(method(kk.rec.Algorithm), c)
	t.Header["kid"] = kk.rec.ID
	return t.SignedString(kk.priv)
}

// IDTokenAlgs are the algorithms ID tokens can be signed with.
func (k *Keyring) IDTokenAlgs() []string { return []string{AlgRS256, k.alg} }

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
		jwt.WithAudience(v.issuer), // an ID token (aud: a client) is no access token
		jwt.WithLeeway(v.leeway),
		jwt.WithTimeFunc(v.now),
	)
	_, err := p.ParseWithClaims(tok, &c, v.keyFunc(ctx))
	switch {
	case err == nil:
		return &c, nil
	case errors.Is(err, ErrUnknownKey):
		return nil, ErrUnknownKey
	case errors.Is(err, jwt.ErrTokenExpired), errors.Is(err, jwt.ErrTokenRequiredClaimMissing):
		return nil, ErrExpired
	case errors.Is(err, jwt.ErrTokenInvalidIssuer):
		return nil, ErrWrongIssuer
	case errors.Is(err, jwt.ErrTokenInvalidAudience):
		return nil, ErrWrongAudience
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
	switch alg {
	case AlgES256:
		return jwt.SigningMethodES256
	case AlgRS256:
		return jwt.SigningMethodRS256
	}
	return jwt.SigningMethodEdDSA
}

// VerifyHint checks an ID token Sigil issued, as an OpenID logout's
// id_token_hint: a published key of the token's exact algorithm signed
// it and the issuer is ours. Expiry is not checked (OIDC RP-Initiated
// Logout §2 allows an expired hint); c receives the claims.
func (v *Verifier) VerifyHint(ctx context.Context, tok string, c jwt.Claims) error {
	p := jwt.NewParser(
		jwt.WithValidMethods([]string{AlgRS256, AlgEdDSA, AlgES256}),
		jwt.WithoutClaimsValidation(),
	)
	_, err := p.ParseWithClaims(tok, c, v.keyFunc(ctx))
	if err != nil {
		return ErrBadSignature
	}
	if iss, _ := c.GetIssuer(); iss != v.issuer {
		return ErrWrongIssuer
	}
	return nil
}

// keyFunc finds the published key a token's kid names and insists on
// that key's own algorithm.
func (v *Verifier) keyFunc(ctx context.Context) jwt.Keyfunc {
	return func(t *jwt.Token) (any, error) {
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
	}
}
