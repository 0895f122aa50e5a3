package httpapi_test

import (
	"testing"

	"github.com/sigil-auth/sigil/internal/testenv"
)

func TestLogout(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{})
		_, join := workspace(t, s.URL)
		alice := newUser("alice")
		a := register(t, s.URL, join, alice)
		b := login(t, s.URL, alice)
		c := login(t, s.URL, alice)

		// Warm the caches, so the refusals below prove revocation is seen at once.
		for _, x := range []resp{a, b, c} {
			want(t, call(t, "GET", s.URL+"/", nil, bearer(x.Str("access_token"))), 200, "")
		}
		// With the refresh token.
		want(t, call(t, "POST", s.URL+"/v1/auth/logout", map[string]string{"refresh_token": a.Str("refresh_token")}), 204, "")
		want(t, call(t, "GET", s.URL+"/", nil, bearer(a.Str("access_token"))), 401, "invalid_token")
		want(t, call(t, "POST", s.URL+"/v1/auth/refresh", map[string]string{"refresh_token": a.Str("refresh_token")}), 401, "invalid_token")
		want(t, call(t, "GET", s.URL+"/", nil, bearer(b.Str("access_token"))), 200, "")

		// Sessions list shows the two live ones, the caller's marked current.
		list := call(t, "GET", s.URL+"/v1/sessions", nil, bearer(b.Str("access_token")))
		want(t, list, 200, "")
		items := list.Body["items"].([]any)
		if len(items) != 2 {
			t.Fatalf("sessions: %s", list.Raw)
		}
		for _, it := range items {
			m := it.(map[string]any)
			if (m["id"] == b.Str("session_id")) != (m["current"] == true) {
				t.Errorf("current flag wrong: %v", m)
			}
		}
		// With the access token, one session.
		want(t, call(t, "POST", s.URL+"/v1/auth/logout", nil, bearer(b.Str("access_token"))), 204, "")
		want(t, call(t, "GET", s.URL+"/", nil, bearer(b.Str("access_token"))), 401, "invalid_token")
		want(t, call(t, "GET", s.URL+"/", nil, bearer(c.Str("access_token"))), 200, "")

		// All sessions.
		d := login(t, s.URL, alice)
		want(t, call(t, "POST", s.URL+"/v1/auth/logout", map[string]bool{"all": true}, bearer(d.Str("access_token"))), 204, "")
		for _, x := range []resp{c, d} {
			want(t, call(t, "GET", s.URL+"/", nil, bearer(x.Str("access_token"))), 401, "invalid_token")
		}

		// Refusals.
		want(t, call(t, "POST", s.URL+"/v1/auth/logout", nil), 401, "missing_credential")
		want(t, call(t, "POST", s.URL+"/v1/auth/logout", map[string]string{"refresh_token": "rt_nope"}), 401, "invalid_token")
		// Logging out an ended session again is a no-op, even with all.
		want(t, call(t, "POST", s.URL+"/v1/auth/logout", map[string]any{"refresh_token": d.Str("refresh_token"), "all": true}), 204, "")
		want(t, call(t, "POST", s.URL+"/v1/auth/logout", nil, admin), 400, "invalid_request")
	})
}

func TestDeleteSession(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{})
		_, join := workspace(t, s.URL)
		alice, bob := newUser("alice"), newUser("bob")
		a1 := register(t, s.URL, join, alice)
		a2 := login(t, s.URL, alice)
		b1 := register(t, s.URL, join, bob)

		// Bob cannot end (or learn of) Alice's session.
		want(t, call(t, "DELETE", s.URL+"/v1/sessions/"+a2.Str("session_id"), nil, bearer(b1.Str("access_token"))), 404, "not_found")
		want(t, call(t, "DELETE", s.URL+"/v1/sessions/ses_nope", nil, bearer(a1.Str("access_token"))), 404, "not_found")
		want(t, call(t, "DELETE", s.URL+"/v1/sessions/"+a2.Str("session_id"), nil, bearer(a1.Str("access_token"))), 204, "")
		want(t, call(t, "GET", s.URL+"/", nil, bearer(a2.Str("access_token"))), 401, "invalid_token")
		want(t, call(t, "GET", s.URL+"/", nil, bearer(a1.Str("access_token"))), 200, "")
	})
}

func TestSessionsPaging(t *testing.T) {
	s := testenv.Start(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{})
	_, join := workspace(t, s.URL)
	alice := newUser("alice")
	at := bearer(register(t, s.URL, join, alice).Str("access_token"))
	for range 4 {
		login(t, s.URL, alice)
	}
	seen := map[string]bool{}
	url := s.URL + "/v1/sessions?limit=2"
	for pages := 0; ; pages++ {
		r := call(t, "GET", url, nil, at)
		want(t, r, 200, "")
		for _, it := range r.Body["items"].([]any) {
			seen[it.(map[string]any)["id"].(string)] = true
		}
		next, _ := r.Body["next_cursor"].(string)
		if next == "" {
			if pages != 2 {
				t.Errorf("%d pages, want 3", pages+1)
			}
			break
		}
		url = s.URL + "/v1/sessions?limit=2&cursor=" + next
	}
	if len(seen) != 5 {
		t.Errorf("saw %d distinct sessions, want 5", len(seen))
	}
}
