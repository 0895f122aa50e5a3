package verify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// claims are the claims of a Sigil access token (API.md §6).
type claims struct {
	jwt.RegisteredClaims
	SessionID string   `json:"sid"`
	Workspace string   `json:"ws"`
	Scope     string   `json:"scope"`
	AMR       []string `json:"amr"`
}

// errUnknownKey: the token names no key of the (refetched) JWKS.
var errUnknownKey = errors.New("unknown signing key")

// errWrongAlg: alg is not the named key's own algorithm.
var errWrongAlg = errors.New("algorithm does not match the key")

// newParser checks, besides the signature: alg is EdDSA or ES256 (never
// "none", never HS256 with a public key as the secret), exp is present
// and not past (with leeway), iss is the issuer and, when set, aud holds
// audience.
func newParser(issuer, audience string, leeway time.Duration, now func() time.Time) *jwt.Parser {
	opts := []jwt.ParserOption{
		jwt.WithValidMethods([]string{algEdDSA, algES256}),
		jwt.WithExpirationRequired(),
		jwt.WithIssuer(issuer),
		jwt.WithLeeway(leeway),
		jwt.WithTimeFunc(now),
	}
	if audience != "" {
		opts = append(opts, jwt.WithAudience(audience))
	}
	return jwt.NewParser(opts...)
}

// verifyJWT checks a Sigil access token locally and returns its
// principal. The error says why, for logs only.
func (v *Verifier) verifyJWT(ctx context.Context, raw string) (verified, error) {
	var c claims
	_, err := v.parser.ParseWithClaims(raw, &c, func(t *jwt.Token) (any, error) {
		kid, _ := t.Header["kid"].(string)
		pk, ok := v.keys.lookup(ctx, kid)
		if !ok {
			return nil, errUnknownKey
		}
		if t.Method.Alg() != pk.alg {
			return nil, errWrongAlg
		}
		return pk.key, nil
	})
	if err != nil {
		return verified{}, err
	}
	p := Principal{
		Subject: c.Subject, Kind: KindUser, Workspace: c.Workspace, Scopes: strings.Fields(c.Scope),
		SessionID: c.SessionID, Expires: c.ExpiresAt.Time,
	}
	if len(c.AMR) > 0 {
		p.AuthMethod = c.AMR[0]
	}
	if p.AuthMethod == "apikey" {
		p.Kind = KindAPIKey
	}
	vt := verified{Principal: p}
	if c.IssuedAt != nil {
		vt.issued = c.IssuedAt.Time
	}
	return vt, nil
}

// verified is a token's principal with its issue time, which tells a
// token of a session that ended from one of a session begun again under
// the same id (an API-key exchange after a logout).
type verified struct {
	Principal
	issued time.Time
}

// jwtAlg reads alg from a JWT's header without verifying anything; it
// only routes the token to the check that will.
func jwtAlg(raw string) string {
	seg, _, _ := strings.Cut(raw, ".")
	if len(seg) > 1024 {
		return ""
	}
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return ""
	}
	var h struct {
		Alg string `json:"alg"`
	}
	if json.Unmarshal(b, &h) != nil {
		return ""
	}
	return h.Alg
}

// tokenCacheSize bounds the verified-token cache; when full it is
// emptied (crude, bounded, and a miss only costs one verification).
const tokenCacheSize = 1 << 14

// tokenCache maps a verified token's text to its principal until the
// token expires: a signature cannot change, so repeat requests skip the
// Ed25519/ECDSA check. Whether its session is still live is NOT cached
// here; that is asked of the session table on every request.
type tokenCache struct {
	leeway time.Duration
	mu     sync.RWMutex
	m      map[string]verified
}

func (c *tokenCache) get(raw string, now time.Time) (verified, bool) {
	c.mu.RLock()
	p, ok := c.m[raw]
	c.mu.RUnlock()
	if !ok || !now.Before(p.Expires.Add(c.leeway)) {
		return verified{}, false
	}
	return p, true
}

func (c *tokenCache) put(raw string, p verified) {
	c.mu.Lock()
	if len(c.m) >= tokenCacheSize {
		clear(c.m)
	}
	c.m[raw] = p
	c.mu.Unlock()
}

// flush forgets every verified token (a signing key was withdrawn).
func (c *tokenCache) flush() {
	c.mu.Lock()
	clear(c.m)
	c.mu.Unlock()
}

// sweep drops expired entries, so a quiet cache does not hold dead
// tokens until it fills.
func (c *tokenCache) sweep(now time.Time) {
	c.mu.Lock()
	for k, p := range c.m {
		if !now.Before(p.Expires.Add(c.leeway)) {
			delete(c.m, k)
		}
	}
	c.mu.Unlock()
}
