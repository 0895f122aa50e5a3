package integrations

import (
	"crypto/ed25519"
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/sigil-auth/sigil/internal/ratelimit"
	"github.com/sigil-auth/sigil/internal/testenv"
)

// reply is a response read whole.
type reply = testenv.Response

// client never follows redirects and never waits long: a hung gateway
// must fail the test, not stall it.
var client = &http.Client{
	Timeout:       10 * time.Second,
	CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
}

// send makes one request with client (see testenv.Do).
func send(t testing.TB, method, url string, body any, hdr ...string) reply {
	t.Helper()
	return testenv.Do(t, client, method, url, body, hdr...)
}

// must fails unless r has status.
func must(t testing.TB, r reply, status int) reply {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body %s", r.Status, status, r.Raw)
	}
	return r
}

// freeTier is the tier the tests exceed: 5 requests a minute. The test
// clock never moves, so the sixth request in a row is always over.
var freeTier = ratelimit.Rule{Limit: 5, Window: time.Minute}

// fixture is a running Sigil with one workspace, one user holding the
// scopes read, admin and tier:free, and that user's access token.
type fixture struct {
	sigil     *testenv.Server
	workspace string
	user      string // the user's Authorization header value
}

// newFixture starts Sigil (auth rate limits off, tiers {free: 5/m}) and
// sets up the workspace and user through the HTTP API.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	s := testenv.Start(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{
		Tiers: map[string]ratelimit.Rule{"free": freeTier},
	})
	admin := "Authorization: " + testenv.AdminToken
	ws := must(t, send(t, "POST", s.URL+"/v1/workspaces", map[string]string{"name": "Acme"}, admin), 201)
	_, priv, _ := ed25519.GenerateKey(nil)
	reg := proof(t, s.URL, "alice", priv)
	reg["join_code"] = ws.Str("join_code")
	must(t, send(t, "POST", s.URL+"/v1/auth/register", reg), 201)
	// A key never carries more scopes than its creator: give alice every
	// scope the keys below need, then log in again to hold them.
	must(t, send(t, "PATCH", s.URL+"/v1/workspaces/"+ws.Str("id")+"/members/alice",
		map[string]any{"scopes": []string{"read", "admin", "tier:free"}}, admin), 200)
	tok := must(t, send(t, "POST", s.URL+"/v1/auth/token", proof(t, s.URL, "alice", priv)), 200)
	return &fixture{sigil: s, workspace: ws.Str("id"), user: "Bearer " + tok.Str("access_token")}
}

// proof is a key-pair login body for user: a fresh auth code, signed.
func proof(t *testing.T, base, user string, priv ed25519.PrivateKey) map[string]any {
	t.Helper()
	code := must(t, send(t, "POST", base+"/v1/auth/code", map[string]string{"user_id": user}), 200).Str("auth_code")
	return map[string]any{
		"user_id": user, "auth_code": code, "scheme": "ed25519",
		"public_key": base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey)),
		"signature":  base64.StdEncoding.EncodeToString(ed25519.Sign(priv, []byte(code))),
	}
}

// apiKey is a created key: its id (the subject Sigil reports) and secret.
type apiKey struct{ id, secret string }

// newKey creates an API key with scopes as the fixture's user.
func (f *fixture) newKey(t *testing.T, name string, scopes ...string) apiKey {
	t.Helper()
	r := must(t, send(t, "POST", f.sigil.URL+"/v1/api-keys",
		map[string]any{"name": name, "scopes": scopes}, "Authorization: "+f.user), 201)
	return apiKey{id: r.Str("id"), secret: r.Str("key")}
}

// customerJWT is a customer-signed token for subject: a JWT key with
// scopes is registered for the workspace, and the token is signed (HS256)
// with its secret, valid for an hour on Sigil's clock.
func (f *fixture) customerJWT(t *testing.T, subject string, scopes ...string) string {
	t.Helper()
	k := must(t, send(t, "POST", f.sigil.URL+"/v1/jwt-keys", map[string]any{"name": "web",
		"workspace_id": f.workspace, "scopes": scopes}, "Authorization: "+testenv.AdminToken), 201)
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256,
		jwt.MapClaims{"sub": subject, "exp": f.sigil.Clock.Now().Add(time.Hour).Unix()})
	tok.Header["kid"] = k.Str("id")
	signed, err := tok.SignedString([]byte(k.Str("secret")))
	if err != nil {
		t.Fatal(err)
	}
	return signed
}

// revoke revokes k through the API.
func (f *fixture) revoke(t *testing.T, k apiKey) {
	t.Helper()
	must(t, send(t, "DELETE", f.sigil.URL+"/v1/api-keys/"+k.id, nil, "Authorization: "+f.user), 204)
}
