package httpapi_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// TestBadInput: malformed bodies, wrong types, missing fields, oversized
// bodies, junk credentials and unknown routes all get the right 4xx with
// the §1 error body, never a 5xx.
func TestBadInput(t *testing.T) {
	s := testenv.Start(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{})
	_, join := workspace(t, s.URL)
	tok := register(t, s.URL, join, newUser("alice")).Str("access_token")
	big := `{"user_id":"` + strings.Repeat("a", 100<<10) + `"}`
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"alice","exp":9999999999}`)) + "."
	hs := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"HS256","kid":"x"}`)) + "." +
		base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"alice","exp":9999999999}`)) + ".c2ln"
	parts := strings.Split(tok, ".")

	tests := []struct {
		name, method, path string
		body               any
		hdr                []string
		status             int
		code               string
	}{
		{"not json", "POST", "/v1/auth/code", "user_id=alice", nil, 400, "invalid_request"},
		{"json with form content type", "POST", "/v1/auth/code", "{", []string{"Content-Type: application/x-www-form-urlencoded"}, 400, "invalid_request"},
		{"empty body", "POST", "/v1/auth/code", "", nil, 400, "invalid_request"},
		{"array body", "POST", "/v1/auth/code", "[]", nil, 400, "invalid_request"},
		{"wrong type", "POST", "/v1/auth/code", `{"user_id":42}`, nil, 400, "invalid_request"},
		{"null field", "POST", "/v1/auth/code", `{"user_id":null}`, nil, 400, "invalid_request"},
		{"trailing data", "POST", "/v1/auth/code", `{"user_id":"alice"} {}`, nil, 400, "invalid_request"},
		{"missing field", "POST", "/v1/auth/token", `{"user_id":"alice"}`, nil, 400, "invalid_request"},
		{"unknown fields ignored", "POST", "/v1/auth/code", `{"user_id":"alice","x":1}`, nil, 200, ""},
		{"100 KiB body", "POST", "/v1/auth/code", big, nil, 413, "request_too_large"},
		{"100 KiB register", "POST", "/v1/auth/register", big, nil, 413, "request_too_large"},
		{"100 KiB not json", "POST", "/v1/auth/code", strings.Repeat("x", 100<<10), nil, 413, "request_too_large"},
		{"bad limit", "GET", "/v1/sessions?limit=0", nil, []string{bearer(tok)}, 400, "invalid_request"},
		{"huge limit", "GET", "/v1/sessions?limit=201", nil, []string{bearer(tok)}, 400, "invalid_request"},
		{"bad cursor", "GET", "/v1/users/me/keys?cursor=bm9wZQ", nil, []string{bearer(tok)}, 400, "invalid_request"},
		{"register wrong types", "POST", "/v1/auth/register", `{"user_id":["a"],"join_code":1}`, nil, 400, "invalid_request"},
		{"refresh no token", "POST", "/v1/auth/refresh", `{}`, nil, 400, "invalid_request"},
		{"refresh junk", "POST", "/v1/auth/refresh", `{"refresh_token":"junk"}`, nil, 401, "invalid_token"},
		{"refresh huge", "POST", "/v1/auth/refresh", `{"refresh_token":"rt_` + strings.Repeat("x", 5000) + `"}`, nil, 401, "invalid_token"},
		{"no credential", "GET", "/", nil, nil, 401, "missing_credential"},
		{"garbage bearer", "GET", "/", nil, []string{"Authorization: Bearer ~~!!garbage{}"}, 401, "invalid_token"},
		{"bearer only", "GET", "/", nil, []string{"Authorization: Bearer"}, 401, ""},
		{"basic auth", "GET", "/", nil, []string{"Authorization: Basic YWxpY2U6cHc="}, 401, "invalid_token"},
		{"alg none", "GET", "/", nil, []string{bearer(none)}, 401, "invalid_token"},
		{"alg confusion", "GET", "/", nil, []string{bearer(hs)}, 401, "invalid_token"},
		{"tampered payload", "GET", "/", nil, []string{bearer(parts[0] + "." + parts[1] + "x." + parts[2])}, 401, "invalid_token"},
		{"three dots junk", "GET", "/v1/whoami", nil, []string{bearer("a.b.c")}, 401, "invalid_token"},
		{"huge credential", "GET", "/", nil, []string{bearer(strings.Repeat("a.", 10000))}, 401, "invalid_token"},
		{"bad idexists", "GET", "/v1/auth/idexists/a%20b", nil, nil, 400, "invalid_request"},
		{"unknown route", "GET", "/v2/nothing", nil, nil, 404, "not_found"},
		{"wrong method", "DELETE", "/v1/auth/token", nil, nil, 405, "method_not_allowed"},
		{"patch bad json", "PATCH", "/v1/workspaces/x", "{", []string{admin}, 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := call(t, tt.method, s.URL+tt.path, tt.body, tt.hdr...)
			want(t, r, tt.status, tt.code)
			if tt.status == 401 && tt.code == "invalid_token" && !strings.Contains(r.Header.Get("WWW-Authenticate"), `error="invalid_token"`) {
				t.Errorf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
			}
		})
	}
	r := call(t, "DELETE", s.URL+"/v1/auth/token", nil)
	if r.Header.Get("Allow") != "POST" {
		t.Errorf("Allow = %q", r.Header.Get("Allow"))
	}
}

func TestMetaEndpoints(t *testing.T) {
	s := testenv.Start(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{})
	want(t, call(t, "GET", s.URL+"/healthz", nil), 200, "")
	want(t, call(t, "GET", s.URL+"/readyz", nil), 200, "")
	j := call(t, "GET", s.URL+"/.well-known/jwks.json", nil)
	want(t, j, 200, "")
	keys, _ := j.Body["keys"].([]any)
	if len(keys) != 1 || keys[0].(map[string]any)["kid"] != s.Keys.KeyIDs()[0] || keys[0].(map[string]any)["crv"] != "Ed25519" {
		t.Errorf("jwks: %s", j.Raw)
	}
	if strings.Contains(string(j.Raw), `"d"`) {
		t.Fatal("JWKS leaks private key material")
	}
	d := call(t, "GET", s.URL+"/.well-known/openid-configuration", nil)
	want(t, d, 200, "")
	if d.Str("issuer") != "http://sigil.test" || d.Str("jwks_uri") != "http://sigil.test/.well-known/jwks.json" {
		t.Errorf("discovery: %s", d.Raw)
	}
	o := call(t, "GET", s.URL+"/openapi.yaml", nil)
	if o.Status != 200 || !strings.Contains(string(o.Raw), "openapi: 3.1") {
		t.Errorf("openapi: %d", o.Status)
	}
	// Metrics count requests by route pattern and auth outcomes by method,
	// on their own listener: the public one has no /metrics.
	_, join := workspace(t, s.URL)
	register(t, s.URL, join, newUser("alice"))
	want(t, call(t, "GET", s.URL+"/metrics", nil), 404, "not_found")
	m := call(t, "GET", s.MetricsURL+"/metrics", nil)
	for _, line := range []string{
		`sigil_http_requests_total{route="GET /healthz",status="200"} 1`,
		`sigil_auth_attempts_total{method="pubkey",outcome="success"} 1`,
	} {
		if !strings.Contains(string(m.Raw), line) {
			t.Errorf("metrics lack %q", line)
		}
	}
	if id := call(t, "GET", s.URL+"/healthz", nil).Header.Get("X-Request-Id"); len(id) != 16 {
		t.Errorf("X-Request-Id = %q", id)
	}
}
