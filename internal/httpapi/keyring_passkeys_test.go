package httpapi_test

import (
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// TestKeyringPasskeys: a person's passkeys are on their keyring beside
// the Ed25519 keys (GET /v1/users/me/keys, newest first, kind and name),
// DELETE /v1/users/me/keys/{id} removes either kind, and whichever is a
// key-pair account's last key stays (on the factors endpoint too). A
// password account's last passkey may go; its last Ed25519 key stays.
func TestKeyringPasskeys(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{Passwords: fastPasswords})
		_, join := workspace(t, s.URL)
		u := newUser("kp-user")
		at := bearer(register(t, s.URL, join, u).Str("access_token"))
		s.Clock.Add(time.Minute)
		pk := enrolPasskey(t, s.URL, at, testenv.NewAuthenticator(t, passkeyOrigin), "Laptop")

		keys := call(t, "GET", s.URL+"/v1/users/me/keys", nil, at)
		want(t, keys, 200, "")
		items, _ := keys.Body["items"].([]any)
		if len(items) != 2 {
			t.Fatalf("keyring: %s", keys.Raw)
		}
		first, second := items[0].(map[string]any), items[1].(map[string]any)
		if first["id"] != pk.Str("id") || first["kind"] != "passkey" || first["name"] != "Laptop" || first["public_key"] != nil ||
			second["kind"] != "ed25519" || second["public_key"] != u.pub() || second["created_at"] == nil {
			t.Fatalf("keyring, newest first: %s", keys.Raw)
		}
		keyID, _ := second["id"].(string)

		// The Ed25519 key may go: the passkey is a key too.
		want(t, call(t, "DELETE", s.URL+"/v1/users/me/keys/"+keyID, nil, at), 204, "")
		// The passkey is now the last key, by either endpoint.
		want(t, call(t, "DELETE", s.URL+"/v1/users/me/keys/"+pk.Str("id"), nil, at), 409, "last_key")
		want(t, call(t, "DELETE", s.URL+"/v1/users/me/factors/"+pk.Str("id"), nil, at), 409, "last_key")
		// The keyring removes passkeys only, not other factors.
		totp := call(t, "POST", s.URL+"/v1/users/me/factors/totp", nil, at)
		want(t, totp, 201, "")
		want(t, call(t, "DELETE", s.URL+"/v1/users/me/keys/"+totp.Str("id"), nil, at), 404, "not_found")
		want(t, call(t, "DELETE", s.URL+"/v1/users/me/keys/fac_nope", nil, at), 404, "not_found")

		// A second passkey: the first may go through the keyring.
		enrolPasskey(t, s.URL, at, testenv.NewAuthenticator(t, passkeyOrigin), "Phone")
		want(t, call(t, "DELETE", s.URL+"/v1/users/me/keys/"+pk.Str("id"), nil, at), 204, "")

		// A password account: its last passkey may go, not its last key.
		pw := bearer(signup(t, s.URL, join, "pat@example.com", "correct horse battery").Str("access_token"))
		p1 := enrolPasskey(t, s.URL, pw, testenv.NewAuthenticator(t, passkeyOrigin), "Laptop")
		want(t, call(t, "DELETE", s.URL+"/v1/users/me/keys/"+p1.Str("id"), nil, pw), 204, "")
		p2 := enrolPasskey(t, s.URL, pw, testenv.NewAuthenticator(t, passkeyOrigin), "Key")
		want(t, call(t, "DELETE", s.URL+"/v1/users/me/factors/"+p2.Str("id"), nil, pw), 204, "")
		if r := call(t, "GET", s.URL+"/v1/users/me/keys", nil, pw); len(r.Body["items"].([]any)) != 0 {
			t.Errorf("password account's keyring after removing its passkeys: %s", r.Raw)
		}
	})
}
