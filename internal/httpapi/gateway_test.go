package httpapi_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/ratelimit"
	"github.com/sigil-auth/sigil/internal/testenv"
)

// TestForwardAuth: the /v1/authorize matrix of API.md §7.
func TestForwardAuth(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{Tiers: map[string]ratelimit.Rule{"free": {Limit: 3, Window: time.Minute}}})
		ws, join := workspace(t, s.URL)
		u := newUser("olivia")
		register(t, s.URL, join, u)
		want(t, call(t, "PATCH", s.URL+"/v1/workspaces/"+ws+"/members/olivia",
			map[string]any{"scopes": []string{"read", "write", "tier:free"}}, admin), 200, "")
		at := bearer(login(t, s.URL, u).Str("access_token"))
		readKey := createKey(t, s.URL, at, map[string]any{"name": "r", "scopes": []string{"read"}})
		freeKey := createKey(t, s.URL, at, map[string]any{"name": "f", "scopes": []string{"read", "tier:free"}}).Str("key")

		want(t, call(t, "GET", s.URL+"/v1/authorize", nil), 401, "missing_credential")
		r := call(t, "GET", s.URL+"/v1/authorize?scope=read", nil, "X-API-KEY: "+readKey.Str("key"), "X-Original-URI: /read/x")
		want(t, r, 200, "")
		if r.Header.Get("X-Sigil-Subject") != readKey.Str("id") || r.Header.Get("X-Sigil-Workspace") != ws ||
			r.Header.Get("X-Sigil-Scopes") != "read" || r.Header.Get("X-Sigil-Kind") != "api_key" || r.Header.Get("X-Sigil-Session") != "" {
			t.Errorf("identity headers: %v", r.Header)
		}
		// Every method; access tokens carry their session.
		r = call(t, "POST", s.URL+"/v1/authorize?scope=read,write", nil, at)
		want(t, r, 200, "")
		if r.Header.Get("X-Sigil-Session") == "" || r.Header.Get("X-Sigil-Subject") != "olivia" {
			t.Errorf("user headers: %v", r.Header)
		}
		want(t, call(t, "DELETE", s.URL+"/v1/authorize?scope=read&scope=admin", nil, "X-API-KEY: "+readKey.Str("key")), 403, "insufficient_scope")
		// Envoy's ext_authz sends the original method, whatever it is.
		for _, m := range []string{"HEAD", "OPTIONS", "PUT", "PATCH"} {
			if r := call(t, m, s.URL+"/v1/authorize?scope=read", nil, "X-API-KEY: "+readKey.Str("key")); r.Status != 200 || r.Header.Get("X-Sigil-Subject") != readKey.Str("id") {
				t.Errorf("%s /v1/authorize: %d, subject %q", m, r.Status, r.Header.Get("X-Sigil-Subject"))
			}
		}
		want(t, call(t, "OPTIONS", s.URL+"/v1/authorize", nil), 401, "missing_credential")

		// Envoy's ext_authz appends the client's raw path and query to a
		// path_prefix ending in "uri=" (integrations/envoy): whatever the
		// client puts there may add required scopes, never drop the
		// prefix's. Each of these needs admin, which the key lacks.
		for _, suffix := range []string{
			"/admin/x", "/admin/x?scope=", "/admin/x?a=1&scope=", "/admin/x?a=1&scope=read",
			"/admin/x?a;scope=read", "/admin/x?a=1%26scope=read", "/admin/x&scope=%20,", "/admin/x?scope=read&scope=",
		} {
			want(t, call(t, "GET", s.URL+"/v1/authorize?scope=admin&uri="+suffix, nil, "X-API-KEY: "+readKey.Str("key")), 403, "insufficient_scope")
		}
		want(t, call(t, "GET", s.URL+"/v1/authorize?scope=read&uri=/read/x?a=1&b=2", nil, "X-API-KEY: "+readKey.Str("key")), 200, "")
		if r := call(t, "TRACE", s.URL+"/v1/authorize", nil, "X-API-KEY: "+readKey.Str("key")); r.Status != 405 {
			t.Errorf("TRACE /v1/authorize: %d, want 405", r.Status)
		}
		want(t, call(t, "GET", s.URL+"/v1/authorize", nil, bearer("garbage")), 401, "invalid_token")

		// Tier limits count per credential.
		for range 3 {
			want(t, call(t, "GET", s.URL+"/v1/authorize", nil, "X-API-KEY: "+freeKey), 200, "")
		}
		lim := call(t, "GET", s.URL+"/v1/authorize", nil, "X-API-KEY: "+freeKey)
		want(t, lim, 429, "rate_limited")
		if ra, err := strconv.Atoi(lim.Header.Get("Retry-After")); err != nil || ra < 1 {
			t.Errorf("Retry-After %q", lim.Header.Get("Retry-After"))
		}
		want(t, call(t, "GET", s.URL+"/v1/authorize", nil, "X-API-KEY: "+readKey.Str("key")), 200, "")
		s.Clock.Add(time.Minute)
		want(t, call(t, "GET", s.URL+"/v1/authorize", nil, "X-API-KEY: "+freeKey), 200, "")

		// Revocation is seen at once.
		want(t, call(t, "DELETE", s.URL+"/v1/api-keys/"+readKey.Str("id"), nil, at), 204, "")
		want(t, call(t, "GET", s.URL+"/v1/authorize", nil, "X-API-KEY: "+readKey.Str("key")), 401, "invalid_token")
	})
}
