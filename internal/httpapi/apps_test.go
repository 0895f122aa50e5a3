package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// TestApps: owners and admins register OAuth2 clients; redirect URIs are
// exact, https (http on loopback only), without wildcards, fragments or
// user info; a confidential app's secret is shown once.
func TestApps(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{})
		ws, join := workspace(t, s.URL)
		owner := register(t, s.URL, join, newUser("owner")).Str("access_token")
		member := register(t, s.URL, join, newUser("member")).Str("access_token")
		base := s.URL + "/v1/workspaces/" + ws + "/apps"

		good := map[string]any{"name": "Web", "redirect_uris": []string{"https://app.example/cb", "http://127.0.0.1:3000/cb"},
			"post_logout_redirect_uris": []string{"https://app.example/"}}
		r := call(t, "POST", base, good, bearer(owner))
		want(t, r, 201, "")
		id := r.Str("client_id")
		if !strings.HasPrefix(id, "app_") || r.Str("token_endpoint_auth_method") != "none" ||
			r.Str("id_token_signed_response_alg") != "RS256" || r.Str("client_secret") != "" {
			t.Fatalf("public app defaults: %s", r.Raw)
		}
		// Creating an app publishes an RS256 key for its ID tokens.
		if jwks := call(t, "GET", s.URL+"/.well-known/jwks.json", nil); !strings.Contains(string(jwks.Raw), `"RS256"`) {
			t.Errorf("JWKS without an RS256 key: %s", jwks.Raw)
		}

		bad := []struct {
			name string
			body map[string]any
		}{
			{"no name", map[string]any{"redirect_uris": []string{"https://a.example/cb"}}},
			{"no redirect URI", map[string]any{"name": "x", "redirect_uris": []string{}}},
			{"plain http", map[string]any{"name": "x", "redirect_uris": []string{"http://app.example/cb"}}},
			{"wildcard", map[string]any{"name": "x", "redirect_uris": []string{"https://*.example/cb"}}},
			{"fragment", map[string]any{"name": "x", "redirect_uris": []string{"https://a.example/cb#x"}}},
			{"user info", map[string]any{"name": "x", "redirect_uris": []string{"https://u@a.example/cb"}}},
			{"relative", map[string]any{"name": "x", "redirect_uris": []string{"/cb"}}},
			{"javascript", map[string]any{"name": "x", "redirect_uris": []string{"javascript:alert(1)"}}},
			{"bad logout URI", map[string]any{"name": "x", "redirect_uris": []string{"https://a.example/cb"}, "post_logout_redirect_uris": []string{"ftp://a.example/"}}},
			{"auth method", map[string]any{"name": "x", "redirect_uris": []string{"https://a.example/cb"}, "token_endpoint_auth_method": "private_key_jwt"}},
			{"alg", map[string]any{"name": "x", "redirect_uris": []string{"https://a.example/cb"}, "id_token_signed_response_alg": "none"}},
			{"login method", map[string]any{"name": "x", "redirect_uris": []string{"https://a.example/cb"}, "login_methods": []string{"magic"}}},
			{"wrong type", map[string]any{"name": "x", "redirect_uris": "https://a.example/cb"}},
		}
		for _, tt := range bad {
			want(t, call(t, "POST", base, tt.body, bearer(owner)), 400, "")
		}

		want(t, call(t, "POST", base, good, bearer(member)), 403, "forbidden")
		want(t, call(t, "GET", base, nil, bearer(member)), 403, "forbidden")
		want(t, call(t, "POST", base, good), 401, "")
		otherWS, _ := workspace(t, s.URL)
		want(t, call(t, "GET", s.URL+"/v1/workspaces/"+otherWS+"/apps/"+id, nil, admin), 404, "not_found")
		want(t, call(t, "GET", s.URL+"/v1/workspaces/"+otherWS+"/apps", nil, bearer(owner)), 404, "not_found")

		list := call(t, "GET", base, nil, bearer(owner))
		want(t, list, 200, "")
		if items, _ := list.Body["items"].([]any); len(items) != 1 {
			t.Fatalf("list: %s", list.Raw)
		}

		// Becoming confidential issues the secret, once; back to public drops it.
		r = call(t, "PATCH", base+"/"+id, map[string]any{"token_endpoint_auth_method": "client_secret_post", "name": "Web 2"}, bearer(owner))
		want(t, r, 200, "")
		if !strings.HasPrefix(r.Str("client_secret"), "cs_") || r.Str("name") != "Web 2" {
			t.Fatalf("patch to confidential: %s", r.Raw)
		}
		r = call(t, "GET", base+"/"+id, nil, bearer(owner))
		if r.Str("client_secret") != "" || r.Str("token_endpoint_auth_method") != "client_secret_post" {
			t.Fatalf("get after patch: %s", r.Raw)
		}
		r = call(t, "PATCH", base+"/"+id, map[string]any{"id_token_signed_response_alg": "EdDSA", "redirect_uris": []string{"https://new.example/cb"}}, bearer(owner))
		want(t, r, 200, "")
		if r.Str("id_token_signed_response_alg") != "EdDSA" {
			t.Fatalf("patch alg: %s", r.Raw)
		}
		want(t, call(t, "PATCH", base+"/"+id, map[string]any{"redirect_uris": []string{}}, bearer(owner)), 400, "invalid_request")

		want(t, call(t, "DELETE", base+"/"+id, nil, bearer(owner)), 204, "")
		want(t, call(t, "DELETE", base+"/"+id, nil, bearer(owner)), 404, "not_found")
		want(t, call(t, "GET", base+"/"+id, nil, bearer(owner)), 404, "not_found")

		var audit resp
		for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(20 * time.Millisecond) { // batched every 50 ms
			audit = call(t, "GET", s.URL+"/v1/audit?action=app.", nil, bearer(owner))
			if strings.Contains(string(audit.Raw), `"app.delete"`) || time.Now().After(deadline) {
				break
			}
		}
		for _, a := range []string{"app.create", "app.update", "app.delete"} {
			if !strings.Contains(string(audit.Raw), `"`+a+`"`) {
				t.Errorf("audit lacks %s: %s", a, audit.Raw)
			}
		}
	})
}

// TestCORS: the token, userinfo and revocation endpoints answer browsers
// from the origins of registered redirect URIs, and only those.
func TestCORS(t *testing.T) {
	s := testenv.Start(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{})
	ws, _ := workspace(t, s.URL)
	want(t, call(t, "POST", s.URL+"/v1/workspaces/"+ws+"/apps", map[string]any{"name": "SPA",
		"redirect_uris": []string{"http://localhost:5173/callback"}}, admin), 201, "")
	for _, path := range []string{"/oauth2/token", "/oauth2/userinfo", "/oauth2/revoke"} {
		pre := call(t, "OPTIONS", s.URL+path, nil, "Origin: http://localhost:5173", "Access-Control-Request-Method: POST")
		if pre.Status != http.StatusNoContent || pre.Header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" ||
			!strings.Contains(pre.Header.Get("Access-Control-Allow-Headers"), "Authorization") {
			t.Errorf("%s preflight from the app: %d %v", path, pre.Status, pre.Header)
		}
		for _, origin := range []string{"https://evil.test", "http://localhost:5174", "null"} {
			pre = call(t, "OPTIONS", s.URL+path, nil, "Origin: "+origin, "Access-Control-Request-Method: POST")
			if pre.Status != http.StatusForbidden || pre.Header.Get("Access-Control-Allow-Origin") != "" {
				t.Errorf("%s preflight from %s: %d %v", path, origin, pre.Status, pre.Header)
			}
		}
	}
	r := call(t, "POST", s.URL+"/oauth2/token", "grant_type=refresh_token&refresh_token=rt_x",
		"Content-Type: application/x-www-form-urlencoded", "Origin: http://localhost:5173")
	if r.Header.Get("Access-Control-Allow-Origin") != "http://localhost:5173" || r.Str("error") != "invalid_grant" {
		t.Errorf("token error to the app's origin: %d %v %s", r.Status, r.Header, r.Raw)
	}
	r = call(t, "POST", s.URL+"/oauth2/token", "grant_type=refresh_token&refresh_token=rt_x",
		"Content-Type: application/x-www-form-urlencoded", "Origin: https://evil.test")
	if r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("token answer readable by another origin: %v", r.Header)
	}
	for _, p := range []string{"/.well-known/openid-configuration", "/.well-known/jwks.json"} {
		if r := call(t, "GET", s.URL+p, nil, "Origin: https://anyone.test"); r.Header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("%s is not readable by browser apps: %v", p, r.Header)
		}
	}
}

// TestDiscoveryOIDC: discovery names the browser endpoints and the values
// API.md §11 lists.
func TestDiscoveryOIDC(t *testing.T) {
	s := testenv.Start(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{})
	d := call(t, "GET", s.URL+"/.well-known/openid-configuration", nil)
	for k, v := range map[string]string{
		"authorization_endpoint": "http://sigil.test/oauth2/authorize",
		"userinfo_endpoint":      "http://sigil.test/oauth2/userinfo",
		"end_session_endpoint":   "http://sigil.test/oauth2/logout",
	} {
		if d.Str(k) != v {
			t.Errorf("%s = %q, want %q", k, d.Str(k), v)
		}
	}
	for k, v := range map[string]string{
		"code_challenge_methods_supported":      "S256",
		"response_types_supported":              "code",
		"id_token_signing_alg_values_supported": "RS256",
		"subject_types_supported":               "public",
		"scopes_supported":                      "openid",
		"claims_supported":                      "email",
		"grant_types_supported":                 "authorization_code",
	} {
		list, _ := d.Body[k].([]any)
		found := false
		for _, x := range list {
			found = found || x == v
		}
		if !found {
			t.Errorf("%s = %v, want it to hold %q", k, d.Body[k], v)
		}
	}
}

// TestUserinfoNeedsOpenID: userinfo answers user tokens with the openid
// scope only.
func TestUserinfoNeedsOpenID(t *testing.T) {
	s := testenv.Start(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{})
	_, join := workspace(t, s.URL)
	tok := register(t, s.URL, join, newUser("plain")).Str("access_token")
	want(t, call(t, "GET", s.URL+"/oauth2/userinfo", nil), 401, "")
	want(t, call(t, "GET", s.URL+"/oauth2/userinfo", nil, bearer(tok)), 403, "insufficient_scope")
	want(t, call(t, "POST", s.URL+"/oauth2/userinfo", nil, bearer(tok)), 403, "insufficient_scope")
	want(t, call(t, "GET", s.URL+"/oauth2/userinfo", nil, admin), 403, "insufficient_scope")
}
