package httpapi_test

import (
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// TestRequireMFA: a workspace's require_mfa policy (API.md §13). People
// it covers who have no second factor sign in with the password during
// the 7-day grace; after it the JSON login refuses them with
// mfa_enrolment_required, until they add a factor.
func TestRequireMFA(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{Passwords: fastPasswords})
		ws, join := workspace(t, s.URL)
		const pw = "correct horse battery"
		first := signup(t, s.URL, join, "owner@example.com", pw) // the first is the owner
		owner := bearer(first.Str("access_token"))
		signup(t, s.URL, join, "member@example.com", pw)
		admin := bearer(testenv.AdminToken)
		patch := func(policy string) resp {
			return call(t, "PATCH", s.URL+"/v1/workspaces/"+ws, map[string]any{"require_mfa": policy}, admin)
		}
		want(t, patch("sometimes"), 400, "invalid_request")
		got := call(t, "GET", s.URL+"/v1/workspaces/"+ws, nil, admin)
		if got.Str("require_mfa") != "none" || got.Body["require_mfa_since"] != nil {
			t.Fatalf("default policy: %s", got.Raw)
		}
		want(t, call(t, "PATCH", s.URL+"/v1/workspaces/"+ws, map[string]any{"require_mfa": "all"},
			bearer(pwLogin(t, s.URL, "member@example.com", pw).Str("access_token"))), 403, "forbidden")
		p := call(t, "PATCH", s.URL+"/v1/workspaces/"+ws, map[string]any{"require_mfa": "admins"}, owner)
		want(t, p, 200, "")
		if p.Str("require_mfa") != "admins" || p.Str("require_mfa_since") == "" {
			t.Fatalf("after PATCH admins: %s", p.Raw)
		}

		// The grace: both still sign in with the password alone.
		want(t, pwLogin(t, s.URL, "owner@example.com", pw), 200, "")
		s.Clock.Add(7*24*time.Hour - time.Minute)
		want(t, pwLogin(t, s.URL, "owner@example.com", pw), 200, "")
		s.Clock.Add(2 * time.Minute)
		want(t, pwLogin(t, s.URL, "owner@example.com", pw), 403, "mfa_enrolment_required")
		want(t, pwLogin(t, s.URL, "member@example.com", pw), 200, "") // "admins" does not cover members

		// Stricter: everyone, with a new grace from now (for the owner too).
		want(t, patch("all"), 200, "")
		want(t, pwLogin(t, s.URL, "member@example.com", pw), 200, "")
		s.Clock.Add(7*24*time.Hour + time.Minute)
		want(t, pwLogin(t, s.URL, "member@example.com", pw), 403, "mfa_enrolment_required")
		// Loosening keeps the grace's start; "none" lets everyone in.
		want(t, patch("admins"), 200, "")
		want(t, pwLogin(t, s.URL, "member@example.com", pw), 200, "")
		want(t, pwLogin(t, s.URL, "owner@example.com", pw), 403, "mfa_enrolment_required")

		// A session started before goes on (refresh is not a sign-in); a
		// person who adds a factor is asked for it instead.
		ref := call(t, "POST", s.URL+"/v1/auth/refresh", map[string]string{"refresh_token": first.Str("refresh_token")})
		want(t, ref, 200, "")
		a := testenv.NewAuthenticator(t, passkeyOrigin)
		enrolPasskey(t, s.URL, bearer(ref.Str("access_token")), a, "Key")
		tok, opts := mfaOptions(t, s.URL, "owner@example.com", pw)
		want(t, passkeyVerify(t, s.URL, tok, a.Get(t, opts)), 200, "")
		want(t, patch("none"), 200, "")
		if r := call(t, "GET", s.URL+"/v1/workspaces/"+ws, nil, admin); r.Body["require_mfa_since"] != nil {
			t.Errorf("since after none: %s", r.Raw)
		}
	})
}
