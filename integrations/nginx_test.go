//go:build linux

package integrations

import (
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// TestNginx runs the gateway matrix through the Debian nginx with the
// published config (nginx/nginx.conf.tmpl).
func TestNginx(t *testing.T) {
	f := newFixture(t)
	up := newUpstream(t)
	gw := startNginx(t, hostPort(f.sigil.URL), hostPort(up.URL))
	testGateway(t, f, up, gw.URL, nil)
}

// TestNginxSigilDown: when Sigil cannot be reached nginx fails closed
// with 503 and Sigil's error shape.
func TestNginxSigilDown(t *testing.T) {
	up := newUpstream(t)
	gw := startNginx(t, "127.0.0.1:"+freePort(t), hostPort(up.URL))
	refusal(t, up, send(t, "GET", gw.URL+"/read/a", nil, "X-API-KEY: sk_whatever"), 0, 503, "unavailable")
}

// TestNginxAAL: a location that sets $sigil_aal 2 lets only a credential
// with a second factor through (API.md §13): a password-only session gets
// 403 insufficient_aal from nginx, the same person after the second step
// gets through, and routes without it are unchanged.
func TestNginxAAL(t *testing.T) {
	f := newFixture(t)
	up := newUpstream(t)
	gw := startNginx(t, hostPort(f.sigil.URL), hostPort(up.URL))
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
	refusal(t, up, send(t, "GET", gw.URL+"/mfa/a", nil, aal1), hits, 403, "insufficient_aal")
	passed(t, send(t, "GET", gw.URL+"/other", nil, aal1))

	f.sigil.Clock.Add(30 * time.Second) // a new time step: a code is good once
	step := must(t, send(t, "POST", f.sigil.URL+"/v1/auth/login", login), 200)
	tok := must(t, send(t, "POST", f.sigil.URL+"/v1/auth/mfa/verify",
		map[string]any{"mfa_token": step.Str("mfa_token"), "code": code()}), 200)
	passed(t, send(t, "GET", gw.URL+"/mfa/a", nil, "Authorization: Bearer "+tok.Str("access_token")))
}
