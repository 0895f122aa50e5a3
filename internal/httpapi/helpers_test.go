package httpapi_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"testing"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// eachBackend runs f as a subtest on SQLite and on PostgreSQL.
func eachBackend(t *testing.T, f func(t *testing.T, db testenv.Database)) {
	for _, b := range testenv.Backends {
		t.Run(b, func(t *testing.T) { f(t, testenv.NewDatabase(t, b)) })
	}
}

// resp is a decoded response.
type resp = testenv.Response

// call sends a request (see testenv.Do); no request of the API's own
// tests may get a 5xx.
func call(t testing.TB, method, url string, body any, hdr ...string) resp {
	t.Helper()
	r := testenv.Do(t, nil, method, url, body, hdr...)
	if r.Status >= 500 {
		t.Errorf("%s %s → %d %s", method, url, r.Status, r.Raw)
	}
	return r
}

// want fails unless r has status (and, for errors, the §1 body with code).
func want(t testing.TB, r resp, status int, code string) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body %s", r.Status, status, r.Raw)
	}
	if status >= 400 {
		if r.Str("error") == "" || r.Str("detail") == "" {
			t.Fatalf("error body lacks error/detail: %s", r.Raw)
		}
		if code != "" && r.Str("error") != code {
			t.Fatalf("error %q, want %q (%s)", r.Str("error"), code, r.Raw)
		}
	}
}

func bearer(tok string) string { return "Authorization: Bearer " + tok }

var admin = "Authorization: " + testenv.AdminToken

// user is a key-pair identity.
type user struct {
	id   string
	priv ed25519.PrivateKey
}

func newUser(id string) user {
	_, priv, _ := ed25519.GenerateKey(nil)
	return user{id: id, priv: priv}
}

func (u user) pub() string {
	return base64.StdEncoding.EncodeToString(u.priv.Public().(ed25519.PublicKey))
}

// proof fetches a code for u and signs it.
func (u user) proof(t testing.TB, base string) map[string]any {
	t.Helper()
	r := call(t, "POST", base+"/v1/auth/code", map[string]string{"user_id": u.id})
	want(t, r, 200, "")
	code := r.Str("auth_code")
	return map[string]any{
		"user_id": u.id, "auth_code": code, "public_key": u.pub(), "scheme": "ed25519",
		"signature": base64.StdEncoding.EncodeToString(ed25519.Sign(u.priv, []byte(code))),
	}
}

// workspace creates a workspace and returns its id and join code.
func workspace(t testing.TB, base string) (string, string) {
	t.Helper()
	r := call(t, "POST", base+"/v1/workspaces", map[string]string{"name": "Acme"}, admin)
	want(t, r, 201, "")
	return r.Str("id"), r.Str("join_code")
}

// register registers u with joinCode and returns the token response.
func register(t testing.TB, base, joinCode string, u user) resp {
	t.Helper()
	p := u.proof(t, base)
	p["join_code"] = joinCode
	r := call(t, "POST", base+"/v1/auth/register", p)
	want(t, r, 201, "")
	return r
}

// login authenticates u by key pair.
func login(t testing.TB, base string, u user) resp {
	t.Helper()
	r := call(t, "POST", base+"/v1/auth/token", u.proof(t, base))
	want(t, r, 200, "")
	return r
}
