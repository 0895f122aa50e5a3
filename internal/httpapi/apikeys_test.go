package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// userToken registers a key-pair user and returns its access header.
func userToken(t *testing.T, base, join, id string) string {
	t.Helper()
	return bearer(register(t, base, join, newUser(id)).Str("access_token"))
}

func createKey(t *testing.T, base, cred string, body map[string]any) resp {
	t.Helper()
	r := call(t, "POST", base+"/v1/api-keys", body, cred)
	want(t, r, 201, "")
	return r
}

func TestAPIKeys(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{})
		ws, join := workspace(t, s.URL)
		owner := userToken(t, s.URL, join, "olivia")
		member := userToken(t, s.URL, join, "mike")

		k := createKey(t, s.URL, member, map[string]any{"name": "ci", "scopes": []string{"read"}})
		key := k.Str("key")
		if !strings.HasPrefix(key, "sk_") || len(key) != 52 || !strings.HasPrefix(key, k.Str("prefix")) || k.Body["expires_at"] != nil {
			t.Fatalf("created key: %s", k.Raw)
		}
		// Every way of presenting it.
		for _, h := range []string{"X-API-KEY: " + key, "Authorization: " + key, "Authorization: Bearer " + key} {
			want(t, call(t, "GET", s.URL+"/", nil, h), 200, "")
		}
		who := call(t, "GET", s.URL+"/v1/whoami", nil, "X-API-KEY: "+key)
		if who.Str("kind") != "api_key" || who.Str("subject") != k.Str("id") || who.Str("workspace_id") != ws ||
			who.Str("auth_method") != "apikey" || len(who.Body["scopes"].([]any)) != 1 {
			t.Errorf("whoami: %s", who.Raw)
		}
		// A mistyped key fails its checksum.
		swap := "A"
		if key[10] == 'A' {
			swap = "B"
		}
		bad := key[:10] + swap + key[11:]
		want(t, call(t, "GET", s.URL+"/", nil, "X-API-KEY: "+bad), 401, "invalid_token")

		// Never more scopes than the creator holds.
		want(t, call(t, "POST", s.URL+"/v1/api-keys", map[string]any{"name": "x", "scopes": []string{"admin"}}, member), 403, "insufficient_scope")
		want(t, call(t, "POST", s.URL+"/v1/api-keys", map[string]any{"name": ""}, member), 400, "invalid_request")
		want(t, call(t, "POST", s.URL+"/v1/api-keys", map[string]any{"name": "x", "expires_in": -5}, member), 400, "invalid_request")
		// API keys cannot manage credentials.
		want(t, call(t, "POST", s.URL+"/v1/api-keys", map[string]any{"name": "x"}, "X-API-KEY: "+key), 403, "insufficient_scope")

		// Lists: members see their own, admins all; never the secret.
		createKey(t, s.URL, owner, map[string]any{"name": "owner's"})
		mine := call(t, "GET", s.URL+"/v1/api-keys", nil, member)
		all := call(t, "GET", s.URL+"/v1/api-keys", nil, owner)
		if len(mine.Body["items"].([]any)) != 1 || len(all.Body["items"].([]any)) != 2 || strings.Contains(string(all.Raw), key) {
			t.Fatalf("lists: %s / %s", mine.Raw, all.Raw)
		}
		viaAdmin := call(t, "GET", s.URL+"/v1/api-keys?workspace_id="+ws, nil, admin)
		want(t, viaAdmin, 200, "")
		if len(viaAdmin.Body["items"].([]any)) != 2 {
			t.Errorf("admin list: %s", viaAdmin.Raw)
		}

		// Expiry.
		short := createKey(t, s.URL, member, map[string]any{"name": "short", "expires_in": 60}).Str("key")
		want(t, call(t, "GET", s.URL+"/", nil, "X-API-KEY: "+short), 200, "")
		s.Clock.Add(61 * time.Second)
		want(t, call(t, "GET", s.URL+"/", nil, "X-API-KEY: "+short), 401, "invalid_token")

		// Revocation is seen at once (the cache was warm), also by exchanged tokens.
		ex := call(t, "POST", s.URL+"/v1/auth/login", map[string]string{"api_key": key})
		want(t, ex, 200, "")
		want(t, call(t, "GET", s.URL+"/", nil, bearer(ex.Str("access_token"))), 200, "")
		want(t, call(t, "DELETE", s.URL+"/v1/api-keys/"+k.Str("id"), nil, "Authorization: Bearer ak_nope"), 401, "invalid_token")
		other := userToken(t, s.URL, join, "nina")
		want(t, call(t, "DELETE", s.URL+"/v1/api-keys/"+k.Str("id"), nil, other), 404, "not_found")
		want(t, call(t, "DELETE", s.URL+"/v1/api-keys/"+k.Str("id"), nil, member), 204, "")
		want(t, call(t, "GET", s.URL+"/", nil, "X-API-KEY: "+key), 401, "invalid_token")
		want(t, call(t, "GET", s.URL+"/", nil, bearer(ex.Str("access_token"))), 401, "invalid_token")
		listed := call(t, "GET", s.URL+"/v1/api-keys", nil, member).Body["items"].([]any)
		for _, it := range listed {
			m := it.(map[string]any)
			if m["id"] == k.Str("id") && (m["revoked_at"] == nil || m["last_used_at"] == nil) {
				t.Errorf("revoked key listed as %v", m)
			}
		}
	})
}

func TestAPIKeyRotation(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{})
		_, join := workspace(t, s.URL)
		u := userToken(t, s.URL, join, "olivia")
		old := createKey(t, s.URL, u, map[string]any{"name": "svc", "scopes": []string{"read", "write"}})
		rot := call(t, "POST", s.URL+"/v1/api-keys/"+old.Str("id")+"/rotate", map[string]string{"grace_period": "1h"}, u)
		want(t, rot, 201, "")
		if rot.Str("key") == old.Str("key") || rot.Str("name") != "svc" || len(rot.Body["scopes"].([]any)) != 2 {
			t.Fatalf("rotated: %s", rot.Raw)
		}
		for _, k := range []string{old.Str("key"), rot.Str("key")} {
			want(t, call(t, "GET", s.URL+"/", nil, "X-API-KEY: "+k), 200, "")
		}
		s.Clock.Add(time.Hour)
		want(t, call(t, "GET", s.URL+"/", nil, "X-API-KEY: "+old.Str("key")), 401, "invalid_token")
		want(t, call(t, "GET", s.URL+"/", nil, "X-API-KEY: "+rot.Str("key")), 200, "")
		// (An hour on, the user's access token has expired: the admin acts.)
		want(t, call(t, "POST", s.URL+"/v1/api-keys/"+old.Str("id")+"/rotate", nil, admin), 409, "conflict")
		want(t, call(t, "POST", s.URL+"/v1/api-keys/"+rot.Str("id")+"/rotate", map[string]string{"grace_period": "forever"}, admin), 400, "invalid_request")
	})
}

// keyServer starts a server on db with a user's API key (scope read).
func keyServer(t *testing.T, db testenv.Database) (*testenv.Server, string) {
	s := testenv.Start(t, db, testenv.Options{})
	_, join := workspace(t, s.URL)
	u := userToken(t, s.URL, join, "olivia")
	return s, createKey(t, s.URL, u, map[string]any{"name": "svc", "scopes": []string{"read"}}).Str("key")
}

func TestAPIKeyExchange(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s, key := keyServer(t, db)

		ex := func(sid string) resp {
			body := map[string]string{"api_key": key}
			if sid != "" {
				body["session_id"] = sid
			}
			r := call(t, "POST", s.URL+"/v1/auth/login", body)
			want(t, r, 200, "")
			return r
		}
		a := ex("worker-1")
		if a.Body["expires_in"] != float64(7200) || a.Str("token_type") != "Bearer" || a.Body["refresh_token"] != nil {
			t.Fatalf("exchange: %s", a.Raw)
		}
		wantAssurance(t, a, []any{"apikey"}, "aal1") // §13: every access token carries amr and aal
		s.Clock.Add(10 * time.Minute)
		if again := ex("worker-1"); again.Str("access_token") != a.Str("access_token") {
			t.Error("same (key, session_id) while valid must return the same token")
		}
		b := ex("worker-2")
		if b.Str("access_token") == a.Str("access_token") || ex("").Str("access_token") == a.Str("access_token") {
			t.Error("a new session_id must get a new token")
		}
		who := call(t, "GET", s.URL+"/v1/whoami", nil, bearer(a.Str("access_token")))
		if who.Str("kind") != "api_key" || who.Str("auth_method") != "apikey" || who.Str("session_id") == "" {
			t.Errorf("whoami: %s", who.Raw)
		}
		// After 2 h the token is dead and the same session_id starts afresh.
		s.Clock.Add(2 * time.Hour)
		want(t, call(t, "GET", s.URL+"/", nil, bearer(a.Str("access_token"))), 401, "invalid_token")
		if c := ex("worker-1"); c.Str("access_token") == a.Str("access_token") {
			t.Error("an expired exchange must mint a new token")
		} else {
			want(t, call(t, "GET", s.URL+"/", nil, bearer(c.Str("access_token"))), 200, "")
		}
		want(t, call(t, "POST", s.URL+"/v1/auth/login", map[string]string{"api_key": "sk_bad"}), 401, "invalid_credentials")
	})
}

// An exchange session ended by logout stays ended for its tokens: the same
// (key, session_id) exchanging again gets a new token, and the old one
// stays refused — also when both happen within one second.
func TestAPIKeyExchangeAfterLogout(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s, key := keyServer(t, db)
		ex := func() string {
			r := call(t, "POST", s.URL+"/v1/auth/login", map[string]string{"api_key": key, "session_id": "worker-1"})
			want(t, r, 200, "")
			return r.Str("access_token")
		}
		for _, wait := range []time.Duration{0, 3 * time.Second} {
			old := ex()
			want(t, call(t, "POST", s.URL+"/v1/auth/logout", nil, bearer(old)), 204, "")
			want(t, call(t, "GET", s.URL+"/", nil, bearer(old)), 401, "invalid_token")
			s.Clock.Add(wait)
			fresh := ex()
			if fresh == old {
				t.Fatalf("after %v: the exchange after logout returned the ended token again", wait)
			}
			want(t, call(t, "GET", s.URL+"/", nil, bearer(fresh)), 200, "")
			want(t, call(t, "GET", s.URL+"/", nil, bearer(old)), 401, "invalid_token")
			want(t, call(t, "POST", s.URL+"/v1/auth/logout", nil, bearer(fresh)), 204, "")
			s.Clock.Add(time.Second)
		}
	})
}
