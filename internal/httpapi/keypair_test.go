package httpapi_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/testenv"
)

func TestKeyPairRegisterAndLogin(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{})
		wsID, join := workspace(t, s.URL)
		alice := newUser("alice.dev-1")

		r := call(t, "GET", s.URL+"/v1/auth/idexists/"+alice.id, nil)
		want(t, r, 200, "")
		if r.Body["exists"] != false {
			t.Fatalf("exists before register: %s", r.Raw)
		}
		tok := register(t, s.URL, join, alice)
		for _, k := range []string{"access_token", "refresh_token", "session_id"} {
			if tok.Str(k) == "" {
				t.Fatalf("token response lacks %s: %s", k, tok.Raw)
			}
		}
		if tok.Str("token_type") != "Bearer" || tok.Body["expires_in"] != float64(25*60) ||
			tok.Body["refresh_expires_in"] != float64(30*60) {
			t.Errorf("lifetimes: %s", tok.Raw)
		}
		now := s.Clock.Now()
		if tok.Body["access_token_expires"] != float64(now.Add(25*time.Minute).UnixMilli()) {
			t.Errorf("access_token_expires = %v, want ms of now+25m", tok.Body["access_token_expires"])
		}
		r = call(t, "GET", s.URL+"/v1/auth/idexists/"+alice.id, nil)
		if r.Body["exists"] != true {
			t.Fatalf("exists after register: %s", r.Raw)
		}

		who := call(t, "GET", s.URL+"/v1/whoami", nil, bearer(tok.Str("access_token")))
		want(t, who, 200, "")
		if who.Str("subject") != alice.id || who.Str("kind") != "user" || who.Str("workspace_id") != wsID ||
			who.Str("session_id") != tok.Str("session_id") || who.Str("auth_method") != "pubkey" {
			t.Errorf("whoami: %s", who.Raw)
		}
		if sc, _ := who.Body["scopes"].([]any); len(sc) != 2 {
			t.Errorf("scopes = %v, want workspace defaults", who.Body["scopes"])
		}
		hello := call(t, "GET", s.URL+"/", nil, bearer(tok.Str("access_token")))
		want(t, hello, 200, "")
		if hello.Str("message") != "Oh, Hello" {
			t.Errorf("hello: %s", hello.Raw)
		}
		if _, err := time.Parse(time.RFC3339, hello.Str("time")); err != nil || !strings.HasSuffix(hello.Str("time"), "Z") {
			t.Errorf("hello time %q not RFC 3339 UTC", hello.Str("time"))
		}

		second := login(t, s.URL, alice)
		if second.Str("session_id") == tok.Str("session_id") {
			t.Error("a new login must start a new session")
		}
		// The first user of a workspace is its owner.
		r = call(t, "PATCH", s.URL+"/v1/workspaces/"+wsID, map[string]string{"access_token_ttl": "1h"},
			bearer(tok.Str("access_token")))
		want(t, r, 200, "")
	})
}

func TestKeyPairRefusals(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{})
		_, join := workspace(t, s.URL)
		alice, mallory := newUser("alice"), newUser("mallory")
		register(t, s.URL, join, alice)

		sign := func(p map[string]any, k ed25519.PrivateKey) {
			p["signature"] = base64.StdEncoding.EncodeToString(ed25519.Sign(k, []byte(p["auth_code"].(string))))
		}
		tests := []struct {
			name   string
			mutate func(p map[string]any)
			path   string
			status int
			code   string
		}{
			{"wrong signer", func(p map[string]any) { sign(p, mallory.priv) }, "token", 401, "invalid_credentials"},
			{"key not on keyring", func(p map[string]any) { p["public_key"] = mallory.pub(); sign(p, mallory.priv) }, "token", 401, "invalid_credentials"},
			{"code of another user", func(p map[string]any) { p["user_id"] = "mallory" }, "token", 401, "invalid_credentials"},
			{"tampered code", func(p map[string]any) { p["auth_code"] = p["auth_code"].(string) + " " }, "token", 401, "invalid_credentials"},
			{"short signature", func(p map[string]any) { p["signature"] = "AAAA" }, "token", 400, "invalid_request"},
			{"bad public key", func(p map[string]any) { p["public_key"] = "!!notbase64" }, "token", 400, "invalid_request"},
			{"wrong scheme", func(p map[string]any) { p["scheme"] = "secp256k1" }, "token", 400, "invalid_request"},
			{"bad user id", func(p map[string]any) { p["user_id"] = "a b" }, "token", 400, "invalid_request"},
			{"missing code", func(p map[string]any) { delete(p, "auth_code") }, "token", 400, "invalid_request"},
			{"taken user id", func(p map[string]any) { p["join_code"] = join }, "register", 409, "user_exists"},
			{"bad join code", func(p map[string]any) { p["join_code"] = "jc_nope" }, "register", 401, "invalid_join_code"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				p := alice.proof(t, s.URL)
				tt.mutate(p)
				want(t, call(t, "POST", s.URL+"/v1/auth/"+tt.path, p), tt.status, tt.code)
			})
		}

		t.Run("code is single use", func(t *testing.T) {
			p := alice.proof(t, s.URL)
			want(t, call(t, "POST", s.URL+"/v1/auth/token", p), 200, "")
			want(t, call(t, "POST", s.URL+"/v1/auth/token", p), 401, "invalid_credentials")
		})
		t.Run("code dies after 30 s", func(t *testing.T) {
			p := alice.proof(t, s.URL)
			s.Clock.Add(30 * time.Second)
			want(t, call(t, "POST", s.URL+"/v1/auth/token", p), 401, "invalid_credentials")
			p = alice.proof(t, s.URL)
			s.Clock.Add(29 * time.Second)
			want(t, call(t, "POST", s.URL+"/v1/auth/token", p), 200, "")
		})
		t.Run("code text names issuer, user, nonce, expiry", func(t *testing.T) {
			r := call(t, "POST", s.URL+"/v1/auth/code", map[string]string{"user_id": "alice"})
			want(t, r, 200, "")
			code := r.Str("auth_code")
			for _, part := range []string{"sigil.test", "\nalice\n", "Nonce: ", "Expiration Time: "} {
				if !strings.Contains(code, part) {
					t.Errorf("auth_code lacks %q:\n%s", part, code)
				}
			}
			if r.Body["expires_in"] != float64(30) {
				t.Errorf("expires_in = %v", r.Body["expires_in"])
			}
		})
		t.Run("base64url keys and signatures", func(t *testing.T) {
			p := alice.proof(t, s.URL)
			pub := alice.priv.Public().(ed25519.PublicKey)
			p["public_key"] = base64.RawURLEncoding.EncodeToString(pub)
			p["signature"] = base64.RawURLEncoding.EncodeToString(ed25519.Sign(alice.priv, []byte(p["auth_code"].(string))))
			want(t, call(t, "POST", s.URL+"/v1/auth/token", p), 200, "")
		})
	})
}

func TestKeyring(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{})
		_, join := workspace(t, s.URL)
		alice := newUser("alice")
		at := bearer(register(t, s.URL, join, alice).Str("access_token"))

		list := call(t, "GET", s.URL+"/v1/users/me/keys", nil, at)
		want(t, list, 200, "")
		items := list.Body["items"].([]any)
		if len(items) != 1 || list.Body["next_cursor"] != nil {
			t.Fatalf("keyring: %s", list.Raw)
		}
		firstID := items[0].(map[string]any)["id"].(string)

		backup := newUser("alice")
		p := backup.proof(t, s.URL)
		add := call(t, "POST", s.URL+"/v1/users/me/keys", p, at)
		want(t, add, 201, "")
		if add.Str("public_key") != backup.pub() {
			t.Errorf("added key %s, want %s", add.Str("public_key"), backup.pub())
		}
		want(t, call(t, "POST", s.URL+"/v1/users/me/keys", backup.proof(t, s.URL), at), 409, "key_exists")
		// The new key must prove possession: a code signed by another key fails.
		bad := newUser("alice").proof(t, s.URL)
		bad["public_key"] = newUser("x").pub()
		want(t, call(t, "POST", s.URL+"/v1/users/me/keys", bad, at), 401, "invalid_credentials")

		// The backup key logs in.
		login(t, s.URL, backup)
		want(t, call(t, "DELETE", s.URL+"/v1/users/me/keys/"+firstID, nil, at), 204, "")
		want(t, call(t, "POST", s.URL+"/v1/auth/token", alice.proof(t, s.URL)), 401, "invalid_credentials")
		want(t, call(t, "DELETE", s.URL+"/v1/users/me/keys/"+firstID, nil, at), 404, "not_found")
		last := call(t, "GET", s.URL+"/v1/users/me/keys", nil, at).Body["items"].([]any)[0].(map[string]any)["id"].(string)
		want(t, call(t, "DELETE", s.URL+"/v1/users/me/keys/"+last, nil, at), 409, "last_key")
		want(t, call(t, "GET", s.URL+"/v1/users/me/keys", nil, admin), 403, "forbidden")
		want(t, call(t, "GET", s.URL+"/v1/users/me/keys", nil), 401, "missing_credential")
	})
}
