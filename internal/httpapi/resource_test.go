package httpapi_test

import (
	"net/url"
	"testing"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// resourceKey is an API key of workspace ws with scopes, made by the
// admin token (which may grant any scope).
func resourceKey(t *testing.T, base, ws string, scopes ...string) resp {
	t.Helper()
	return createKey(t, base, admin, map[string]any{"name": "resource server", "workspace_id": ws, "scopes": scopes})
}

// TestResourceServerScopes: introspection and the revocation feed need
// tokens:introspect, revoking another's token needs tokens:revoke; a key
// without them gets 403 whatever the token, and the token stays live. A
// key revokes itself and its own tokens without the scope, and the admin
// token needs none.
func TestResourceServerScopes(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{})
		ws, join := workspace(t, s.URL)
		alice := register(t, s.URL, join, newUser("alice"))
		keys := map[string]resp{
			"read":       resourceKey(t, s.URL, ws, "read"),
			"introspect": resourceKey(t, s.URL, ws, "tokens:introspect"),
			"revoke":     resourceKey(t, s.URL, ws, "tokens:revoke"),
		}
		tests := []struct {
			key, endpoint string
			status        int
		}{
			{"read", "/oauth2/introspect", 403},
			{"revoke", "/oauth2/introspect", 403},
			{"introspect", "/oauth2/introspect", 200},
			{"read", "/oauth2/revoke", 403},
			{"introspect", "/oauth2/revoke", 403},
			{"read", "/v1/revocations", 403},
			{"revoke", "/v1/revocations", 403},
		}
		for _, tt := range tests {
			k := keys[tt.key]
			hdrs := []string{"X-API-KEY: " + k.Str("key")}
			if tt.endpoint != "/v1/revocations" { // OAuth2 clients authenticate with HTTP Basic too
				hdrs = append(hdrs, "Authorization: Basic "+basic(k.Str("id"), k.Str("key")))
			}
			for _, hdr := range hdrs {
				var r resp
				if tt.endpoint == "/v1/revocations" {
					r = call(t, "GET", s.URL+tt.endpoint, nil, hdr)
				} else {
					r = postForm(t, s.URL+tt.endpoint, url.Values{"token": {alice.Str("access_token")}}, hdr)
				}
				if r.Status != tt.status || (tt.status == 403 && r.Str("error") != "insufficient_scope") {
					t.Errorf("key %s, %s (%.14s…): %d %s, want %d", tt.key, tt.endpoint, hdr, r.Status, r.Raw, tt.status)
				}
			}
		}
		openFeed(t, s.URL, "X-API-KEY: "+keys["introspect"].Str("key"), "") // 200
		want(t, call(t, "GET", s.URL+"/", nil, bearer(alice.Str("access_token"))), 200, "")

		// Without tokens:revoke a key ends its own token and itself only.
		self := keys["read"]
		selfHdr := "Authorization: Basic " + basic(self.Str("id"), self.Str("key"))
		cc := postForm(t, s.URL+"/oauth2/token", url.Values{"grant_type": {"client_credentials"}}, selfHdr)
		want(t, cc, 200, "")
		want(t, postForm(t, s.URL+"/oauth2/revoke", url.Values{"token": {cc.Str("access_token")}}, selfHdr), 200, "")
		want(t, call(t, "GET", s.URL+"/", nil, bearer(cc.Str("access_token"))), 401, "invalid_token")
		want(t, postForm(t, s.URL+"/oauth2/revoke", url.Values{"token": {"unknown"}}, selfHdr), 403, "insufficient_scope")
		want(t, postForm(t, s.URL+"/oauth2/revoke", url.Values{"token": {self.Str("key")}}, "X-API-KEY: "+self.Str("key")), 200, "")
		want(t, call(t, "GET", s.URL+"/", nil, "X-API-KEY: "+self.Str("key")), 401, "invalid_token")

		// With it, and with the admin token, any token of the workspace.
		rev := "X-API-KEY: " + keys["revoke"].Str("key")
		want(t, postForm(t, s.URL+"/oauth2/revoke", url.Values{"token": {alice.Str("access_token")}}, rev), 200, "")
		want(t, call(t, "GET", s.URL+"/", nil, bearer(alice.Str("access_token"))), 401, "invalid_token")
		bob := register(t, s.URL, join, newUser("bob"))
		in := postForm(t, s.URL+"/oauth2/introspect", url.Values{"token": {bob.Str("access_token")}}, admin)
		want(t, in, 200, "")
		if in.Body["active"] != true {
			t.Errorf("admin introspection: %s", in.Raw)
		}
		want(t, postForm(t, s.URL+"/oauth2/revoke", url.Values{"token": {bob.Str("refresh_token")}}, admin), 200, "")
		want(t, call(t, "GET", s.URL+"/", nil, bearer(bob.Str("access_token"))), 401, "invalid_token")
	})
}
