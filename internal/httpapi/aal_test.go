package httpapi_test

import (
	"testing"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// TestAuthorizeAAL: GET /v1/authorize?aal=2 lets through only credentials
// of a sign-in with two factors (API.md §13).
func TestAuthorizeAAL(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{Passwords: fastPasswords})
		ws, join := workspace(t, s.URL)
		const email, pw = "ada@example.com", "correct horse battery"
		pwOnly := bearer(signup(t, s.URL, join, email, pw).Str("access_token"))
		a := testenv.NewAuthenticator(t, passkeyOrigin)
		enrolPasskey(t, s.URL, pwOnly, a, "Phone")
		tok, opts := mfaOptions(t, s.URL, email, pw)
		twoStep := passkeyVerify(t, s.URL, tok, a.Get(t, opts))
		want(t, twoStep, 200, "")
		begin := call(t, "POST", s.URL+"/v1/auth/webauthn/begin", nil)
		passwordless := call(t, "POST", s.URL+"/v1/auth/webauthn/finish", map[string]any{"credential": a.Get(t, begin.Raw)})
		want(t, passwordless, 200, "")
		key := call(t, "POST", s.URL+"/v1/api-keys", map[string]any{"name": "k", "scopes": []string{"read"}, "workspace_id": ws},
			bearer(testenv.AdminToken))
		want(t, key, 201, "")

		tests := []struct {
			name, cred, query string
			status            int
			code, aal         string
		}{
			{"password only, no aal asked", pwOnly, "", 200, "", "aal1"},
			{"password only, aal=1", pwOnly, "?aal=1", 200, "", "aal1"},
			{"password only, aal=2", pwOnly, "?aal=2", 403, "insufficient_aal", ""},
			{"password only, aal=aal2", pwOnly, "?aal=aal2", 403, "insufficient_aal", ""},
			{"password and passkey", bearer(twoStep.Str("access_token")), "?aal=2", 200, "", "aal2"},
			{"passwordless passkey", bearer(passwordless.Str("access_token")), "?aal=2&scope=read", 200, "", "aal2"},
			{"an API key has no second factor", "X-API-KEY: " + key.Str("key"), "?aal=2", 403, "insufficient_aal", ""},
			{"a bad aal", pwOnly, "?aal=3", 400, "invalid_request", ""},
			{"no credential is 401 first", "", "?aal=2", 401, "missing_credential", ""},
		}
		for _, tt := range tests {
			var hdr []string
			if tt.cred != "" {
				hdr = append(hdr, tt.cred)
			}
			r := call(t, "GET", s.URL+"/v1/authorize"+tt.query, nil, hdr...)
			if r.Status != tt.status || (tt.code != "" && r.Str("error") != tt.code) || (tt.status == 200 && r.Str("aal") != tt.aal) {
				t.Errorf("%s: %d %s, want %d %s (aal %s)", tt.name, r.Status, r.Raw, tt.status, tt.code, tt.aal)
			}
		}
	})
}
