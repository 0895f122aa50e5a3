package verify

import (
	"context"
	"slices"
	"time"
)

// Kinds of principal, as in Sigil's /v1/whoami.
const (
	KindUser   = "user"    // a person's session (key pair, password, SSO)
	KindAPIKey = "api_key" // an API key, or a token exchanged for one
	KindJWTKey = "jwt_key" // an HS256 JWT minted by the customer (API.md §5.2)
)

// Principal is who a verified request acts as.
type Principal struct {
	Subject    string    // user id, API key id (ak_…) or JWT key's subject
	Kind       string    // KindUser, KindAPIKey or KindJWTKey
	Workspace  string    // workspace id
	Scopes     []string  // what the credential may do
	SessionID  string    // the Sigil session, when there is one
	AuthMethod string    // how it was proven: "pubkey", "pwd", "apikey", "jwt", "sso"…
	Expires    time.Time // when the credential stops being valid; zero if it does not say
}

// HasScope reports whether p carries scope s.
func (p *Principal) HasScope(s string) bool { return slices.Contains(p.Scopes, s) }

// clone copies p so callers can never alter a cached principal.
func (p Principal) clone() *Principal {
	p.Scopes = slices.Clone(p.Scopes)
	return &p
}

type ctxKey struct{}

// NewContext returns ctx carrying p; Middleware does this for every
// request it lets through. Handy for testing handlers alone.
func NewContext(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// FromContext returns the principal Middleware verified for this
// request, if any.
func FromContext(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(ctxKey{}).(*Principal)
	return p, ok && p != nil
}
