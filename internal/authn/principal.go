package authn

import "slices"

// Kinds of principal (the "kind" of /v1/whoami).
const (
	KindUser   = "user"
	KindAPIKey = "api_key"
	KindJWTKey = "jwt_key"
	KindAdmin  = "admin"
)

// Principal is who a request acts as: the result of Authenticate.
type Principal struct {
	Subject     string   `json:"subject"`
	Kind        string   `json:"kind"`
	WorkspaceID string   `json:"workspace_id"`
	Scopes      []string `json:"scopes"`
	SessionID   string   `json:"session_id,omitempty"`
	AuthMethod  string   `json:"auth_method"`
	// AAL is the assurance level of a session's sign-in ("aal1", "aal2";
	// API.md §13); "" for credentials without a sign-in (API keys, JWT
	// keys, the admin token), which count as aal1.
	AAL string `json:"aal,omitempty"`
	// InstanceAdmin is set only by BrowserPrincipal, for a browser session
	// of an account the operator made an instance admin: it opens the
	// instance's own operations (the workspace list, creating a
	// workspace), which check the account again in the store. It never
	// comes from a bearer credential and does not make IsAdmin true, so
	// on the JSON API the admin token stays the one instance admin, and
	// in its own workspace the account acts with its role like anyone.
	InstanceAdmin bool `json:"-"`
}

// IsAdmin reports whether p is the instance admin (the admin token).
func (p Principal) IsAdmin() bool { return p.Kind == KindAdmin }

// HasScope reports whether p carries scope s. The admin has every scope.
func (p Principal) HasScope(s string) bool {
	return p.IsAdmin() || slices.Contains(p.Scopes, s)
}
