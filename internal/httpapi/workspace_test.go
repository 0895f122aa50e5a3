package httpapi_test

import (
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/testenv"
)

func TestWorkspaces(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{})
		ws, join := workspace(t, s.URL)
		owner := register(t, s.URL, join, newUser("olivia"))
		member := register(t, s.URL, join, newUser("mike"))
		other, otherJoin := workspace(t, s.URL)
		outsider := register(t, s.URL, otherJoin, newUser("oscar"))

		g := call(t, "GET", s.URL+"/v1/workspaces/"+ws, nil, bearer(member.Str("access_token")))
		want(t, g, 200, "")
		if g.Str("join_code") != "" {
			t.Error("join code must be shown only when created")
		}
		eff := g.Body["effective_lifetimes"].(map[string]any)["pubkey"].(map[string]any)
		if eff["access_token_ttl"] != float64(1500) || eff["session_max_age"] != float64(86400) || eff["refresh_grace"] != float64(10) {
			t.Errorf("pubkey defaults: %v", eff)
		}
		want(t, call(t, "GET", s.URL+"/v1/workspaces/"+ws, nil, bearer(outsider.Str("access_token"))), 404, "not_found")
		want(t, call(t, "GET", s.URL+"/v1/workspaces/"+other, nil, admin), 200, "")
		want(t, call(t, "GET", s.URL+"/v1/workspaces/ws_nope", nil, admin), 404, "not_found")

		// Only the admin token creates workspaces.
		want(t, call(t, "POST", s.URL+"/v1/workspaces", map[string]string{"name": "x"}, bearer(owner.Str("access_token"))), 403, "forbidden")
		want(t, call(t, "POST", s.URL+"/v1/workspaces", map[string]string{"name": " "}, admin), 400, "invalid_request")

		// Members may not change settings; owners and the admin may.
		patch := map[string]string{"access_token_ttl": "1h", "refresh_token_ttl": "2h", "session_max_age": "3h", "refresh_grace": "0s"}
		want(t, call(t, "PATCH", s.URL+"/v1/workspaces/"+ws, patch, bearer(member.Str("access_token"))), 403, "forbidden")
		p := call(t, "PATCH", s.URL+"/v1/workspaces/"+ws, patch, bearer(owner.Str("access_token")))
		want(t, p, 200, "")
		set := p.Body["settings"].(map[string]any)
		if set["access_token_ttl"] != "1h0m0s" || set["refresh_grace"] != "0s" {
			t.Errorf("settings: %v", set)
		}
		// New sessions of every method use them.
		tok := login(t, s.URL, newUserFromRegister(t, s, join, "nina"))
		if tok.Body["expires_in"] != float64(3600) || tok.Body["refresh_expires_in"] != float64(7200) {
			t.Errorf("lifetimes after PATCH: %s", tok.Raw)
		}
		s.Clock.Add(3 * time.Hour)
		want(t, call(t, "POST", s.URL+"/v1/auth/refresh", map[string]string{"refresh_token": tok.Str("refresh_token")}), 401, "invalid_token")

		bad := []map[string]any{
			{"access_token_ttl": "forever"}, {"access_token_ttl": "-1h"}, {"access_token_ttl": "48h"},
			{"refresh_grace": "5m"}, {"session_max_age": 5}, {"default_scopes": []string{"has space"}},
		}
		for _, b := range bad {
			want(t, call(t, "PATCH", s.URL+"/v1/workspaces/"+ws, b, admin), 400, "invalid_request")
		}
		// "" resets to the defaults.
		r := call(t, "PATCH", s.URL+"/v1/workspaces/"+ws, map[string]string{"access_token_ttl": ""}, admin)
		want(t, r, 200, "")
		if r.Body["settings"].(map[string]any)["access_token_ttl"] != nil {
			t.Errorf("reset: %s", r.Raw)
		}
	})
}

func TestJoinCodeRotation(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{})
		ws, oldCode := workspace(t, s.URL)
		owner := register(t, s.URL, oldCode, newUser("olivia"))
		member := register(t, s.URL, oldCode, newUser("mike"))
		want(t, call(t, "POST", s.URL+"/v1/workspaces/"+ws+"/join-code", nil, bearer(member.Str("access_token"))), 403, "forbidden")
		r := call(t, "POST", s.URL+"/v1/workspaces/"+ws+"/join-code", nil, bearer(owner.Str("access_token")))
		want(t, r, 201, "")
		newCode := r.Str("join_code")
		if newCode == "" || newCode == oldCode {
			t.Fatalf("rotation: %s", r.Raw)
		}
		p := newUser("nina").proof(t, s.URL)
		p["join_code"] = oldCode
		want(t, call(t, "POST", s.URL+"/v1/auth/register", p), 401, "invalid_join_code")
		register(t, s.URL, newCode, newUser("nina"))
	})
}

// newUserFromRegister registers a fresh user id and returns it.
func newUserFromRegister(t *testing.T, s *testenv.Server, join, id string) user {
	u := newUser(id)
	register(t, s.URL, join, u)
	return u
}
