package authn

import (
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

// Login methods, as they appear in the amr claim and auth_method.
const (
	MethodPubkey = "pubkey"
	MethodPwd    = "pwd"
	MethodAPIKey = "apikey"
	MethodJWT    = "jwt"
)

// Lifetimes of one session's tokens.
type Lifetimes struct {
	Access  time.Duration // access token
	Refresh time.Duration // each refresh token
	MaxAge  time.Duration // whole session from first authentication
	Grace   time.Duration // a rotated parent may be replayed this long
}

// defaultGrace is the refresh grace window when a workspace sets none.
const defaultGrace = 10 * time.Second

// methodDefaults are API.md §3/§4's per-method defaults.
var methodDefaults = map[string]Lifetimes{
	MethodPubkey: {Access: 25 * time.Minute, Refresh: 30 * time.Minute, MaxAge: 24 * time.Hour, Grace: defaultGrace},
	MethodPwd:    {Access: 4 * time.Hour, Refresh: 30 * 24 * time.Hour, MaxAge: 30 * 24 * time.Hour, Grace: defaultGrace},
	// SSO sign-ins are people in browsers, as password ones are.
	MethodSSO: {Access: 4 * time.Hour, Refresh: 30 * 24 * time.Hour, MaxAge: 30 * 24 * time.Hour, Grace: defaultGrace},
	// API-key exchange tokens: 2 h, no refresh.
	MethodAPIKey: {Access: 2 * time.Hour, Refresh: 2 * time.Hour, MaxAge: 2 * time.Hour},
}

// EffectiveLifetimes returns the lifetimes a session of method gets in w:
// each value the workspace sets replaces the method's default.
func EffectiveLifetimes(w store.Workspace, method string) Lifetimes {
	lt, ok := methodDefaults[firstFactor(method)]
	if !ok {
		lt = methodDefaults[MethodPubkey]
	}
	if w.AccessTTL > 0 {
		lt.Access = w.AccessTTL
	}
	if w.RefreshTTL > 0 {
		lt.Refresh = w.RefreshTTL
	}
	if w.SessionMaxAge > 0 {
		lt.MaxAge = w.SessionMaxAge
	}
	if w.RefreshGrace != nil {
		lt.Grace = *w.RefreshGrace
	}
	return lt
}

// Methods lists the login methods with their own defaults, for showing
// effective lifetimes.
func Methods() []string { return []string{MethodPubkey, MethodPwd, MethodAPIKey} }

// earlier returns the earlier of a and b.
func earlier(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}
