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
}

// IsAdmin reports whether p is the instance admin.
func (p Principal) IsAdmin() bool { return p.Kind == KindAdmin }

// HasScope reports whether p carries scope s. The admin has every scope.
func (p Principal) HasScope(s string) bool {
	return p.IsAdmin() || slices.Contains(p.Scopes, s)
}
