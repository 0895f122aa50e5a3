//go:build linux

package integrations

import (
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// testAAL: through the gateway at gw, /mfa/ needs a second factor: a
// password-only session gets 403 insufficient_aal (the upstream never
// sees it), the same person after the TOTP step gets through, and routes
// without the requirement are unchanged.
func testAAL(t *testing.T, f *fixture, up *upstream, gw string) {
	t.Helper()
	admin := "Authorization: " + testenv.AdminToken
	jc := must(t, send(t, "POST", f.sigil.URL+"/v1/workspaces/"+f.workspace+"/join-code", nil, admin), 201).Str("join_code")
	login := map[string]any{"email": "grace@example.com", "password": "correct horse battery"}
	must(t, send(t, "POST", f.sigil.URL+"/v1/auth/signup", map[string]any{"email": login["email"],
		"password": login["password"], "join_code": jc}), 201)
	aal1 := "Authorization: Bearer " + must(t, send(t, "POST", f.sigil.URL+"/v1/auth/login", login), 200).Str("access_token")
	enrol := must(t, send(t, "POST", f.sigil.URL+"/v1/users/me/factors/totp", nil, aal1), 201)
	code := func() string {
		c, err := totp.GenerateCode(enrol.Str("secret"), f.sigil.Clock.Now())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	must(t, send(t, "POST", f.sigil.URL+"/v1/users/me/factors/"+enrol.Str("id")+"/verify", map[string]any{"code": code()}, aal1), 200)

	hits := up.hits.Load()
	refusal(t, up, send(t, "GET", gw+"/mfa/a", nil, aal1), hits, 403, "insufficient_aal")
	passed(t, send(t, "GET", gw+"/other", nil, aal1))

	f.sigil.Clock.Add(30 * time.Second) // a new time step: a code is good once
	step := must(t, send(t, "POST", f.sigil.URL+"/v1/auth/login", login), 200)
	tok := must(t, send(t, "POST", f.sigil.URL+"/v1/auth/mfa/verify",
		map[string]any{"mfa_token": step.Str("mfa_token"), "code": code()}), 200)
	passed(t, send(t, "GET", gw+"/mfa/a", nil, "Authorization: Bearer "+tok.Str("access_token")))
}
