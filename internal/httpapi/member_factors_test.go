package httpapi_test

import (
	"testing"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// TestMemberFactors: admins see who has a second factor and can reset a
// member's (audited, mailed); only an owner resets an owner's.
func TestMemberFactors(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{Passwords: fastPasswords})
		ws, join := workspace(t, s.URL)
		const pw = "correct horse battery"
		owner := signup(t, s.URL, join, "owner@example.com", pw)
		adminUser := signup(t, s.URL, join, "admin@example.com", pw)
		member := signup(t, s.URL, join, "member@example.com", pw)
		ownerAt, adminAt := bearer(owner.Str("access_token")), bearer(adminUser.Str("access_token"))
		adminID := tokenClaims(t, adminUser.Str("access_token"))["sub"].(string)
		want(t, call(t, "PATCH", s.URL+"/v1/workspaces/"+ws+"/members/"+adminID, map[string]any{"role": "admin"}, ownerAt), 200, "")
		memberID := tokenClaims(t, member.Str("access_token"))["sub"].(string)
		ownerID := tokenClaims(t, owner.Str("access_token"))["sub"].(string)
		enrolPasskey(t, s.URL, bearer(member.Str("access_token")), testenv.NewAuthenticator(t, passkeyOrigin), "Key")
		enrolTOTP(t, s, ownerAt)

		factorsOf := func() map[string]any {
			r := call(t, "GET", s.URL+"/v1/workspaces/"+ws+"/members", nil, adminAt)
			want(t, r, 200, "")
			out := map[string]any{}
			for _, it := range r.Body["items"].([]any) {
				m := it.(map[string]any)
				out[m["user_id"].(string)] = m["factors"]
			}
			return out
		}
		got := factorsOf()
		if len(got[memberID].([]any)) != 1 || got[memberID].([]any)[0] != "webauthn" || got[ownerID].([]any)[0] != "totp" ||
			len(got[adminID].([]any)) != 0 {
			t.Fatalf("members' factors: %v", got)
		}
		reset := func(user, at string) resp {
			return call(t, "DELETE", s.URL+"/v1/workspaces/"+ws+"/members/"+user+"/factors", nil, at)
		}
		want(t, reset(memberID, bearer(member.Str("access_token"))), 403, "forbidden") // a member may not
		want(t, reset(ownerID, adminAt), 403, "forbidden")                             // an admin may not reset an owner
		want(t, reset("usr_nobody", adminAt), 404, "not_found")
		want(t, reset(memberID, adminAt), 204, "")
		if got := factorsOf(); len(got[memberID].([]any)) != 0 || len(got[ownerID].([]any)) != 1 {
			t.Errorf("after the reset: %v", got)
		}
		// The member signs in with the password alone again, was told, and it is audited.
		plain := pwLogin(t, s.URL, "member@example.com", pw)
		want(t, plain, 200, "")
		wantAssurance(t, plain, []any{"pwd"}, "aal1")
		testenv.WantAudit(t, s.URL+"/v1/audit", bearer(testenv.AdminToken), "factor.reset")
		if !mailed(s, "member@example.com", "two-step verification was reset") {
			t.Errorf("no reset mail in %v", s.Outbox.Messages())
		}
		want(t, reset(ownerID, ownerAt), 204, "")
	})
}
