package httpapi_test

import (
	"sync"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/testenv"
)

func TestRefreshRotationAndGrace(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{})
		_, join := workspace(t, s.URL)
		first := register(t, s.URL, join, newUser("alice"))
		s.Clock.Add(time.Minute)

		child := call(t, "POST", s.URL+"/v1/auth/refresh", map[string]string{"refresh_token": first.Str("refresh_token")})
		want(t, child, 200, "")
		if child.Str("refresh_token") == first.Str("refresh_token") || child.Str("access_token") == first.Str("access_token") {
			t.Fatal("refresh must rotate both tokens")
		}
		if child.Str("session_id") != first.Str("session_id") {
			t.Fatal("refresh must keep the session id")
		}
		// Within the grace window the parent gets the same child pair back.
		s.Clock.Add(5 * time.Second)
		again := call(t, "POST", s.URL+"/v1/auth/refresh", nil, bearer(first.Str("refresh_token")))
		want(t, again, 200, "")
		if again.Str("refresh_token") != child.Str("refresh_token") || again.Str("access_token") != child.Str("access_token") {
			t.Fatal("grace replay must return the same child pair")
		}
		// Past the window the parent is reuse: the session ends.
		s.Clock.Add(6 * time.Second)
		want(t, call(t, "POST", s.URL+"/v1/auth/refresh", map[string]string{"refresh_token": first.Str("refresh_token")}),
			401, "refresh_token_reused")
		want(t, call(t, "GET", s.URL+"/v1/whoami", nil, bearer(child.Str("access_token"))), 401, "invalid_token")
		want(t, call(t, "POST", s.URL+"/v1/auth/refresh", map[string]string{"refresh_token": child.Str("refresh_token")}),
			401, "invalid_token")
	})
}

func TestRefreshReuseOfOlderGeneration(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{})
		_, join := workspace(t, s.URL)
		g0 := register(t, s.URL, join, newUser("alice")).Str("refresh_token")
		g1 := call(t, "POST", s.URL+"/v1/auth/refresh", map[string]string{"refresh_token": g0}).Str("refresh_token")
		g2 := call(t, "POST", s.URL+"/v1/auth/refresh", map[string]string{"refresh_token": g1})
		want(t, g2, 200, "")
		// g0 is two generations old: reuse even inside the grace window.
		want(t, call(t, "POST", s.URL+"/v1/auth/refresh", map[string]string{"refresh_token": g0}), 401, "refresh_token_reused")
		want(t, call(t, "GET", s.URL+"/", nil, bearer(g2.Str("access_token"))), 401, "invalid_token")
	})
}

func TestGraceOff(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{})
		ws, join := workspace(t, s.URL)
		want(t, call(t, "PATCH", s.URL+"/v1/workspaces/"+ws, map[string]string{"refresh_grace": "0s"}, admin), 200, "")
		g0 := register(t, s.URL, join, newUser("alice")).Str("refresh_token")
		want(t, call(t, "POST", s.URL+"/v1/auth/refresh", map[string]string{"refresh_token": g0}), 200, "")
		want(t, call(t, "POST", s.URL+"/v1/auth/refresh", map[string]string{"refresh_token": g0}), 401, "refresh_token_reused")
	})
}

// TestConcurrentRefresh: 50 refreshes of one token at once make exactly
// one rotation; every 200 carries the same child and none is a 5xx.
func TestConcurrentRefresh(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{})
		_, join := workspace(t, s.URL)
		parent := register(t, s.URL, join, newUser("alice")).Str("refresh_token")
		const n = 50
		var wg sync.WaitGroup
		results := make([]resp, n)
		for i := range n {
			wg.Go(func() {
				results[i] = call(t, "POST", s.URL+"/v1/auth/refresh", map[string]string{"refresh_token": parent})
			})
		}
		wg.Wait()
		children := map[string]bool{}
		for _, r := range results {
			if r.Status != 200 {
				t.Fatalf("concurrent refresh: %d %s", r.Status, r.Raw)
			}
			children[r.Str("refresh_token")] = true
		}
		if len(children) != 1 {
			t.Fatalf("%d different children, want 1", len(children))
		}
		var child string
		for c := range children {
			child = c
		}
		// The one child works; the parent after the grace window is reuse.
		next := call(t, "POST", s.URL+"/v1/auth/refresh", map[string]string{"refresh_token": child})
		want(t, next, 200, "")
		s.Clock.Add(11 * time.Second)
		want(t, call(t, "POST", s.URL+"/v1/auth/refresh", map[string]string{"refresh_token": parent}), 401, "refresh_token_reused")
		want(t, call(t, "GET", s.URL+"/v1/whoami", nil, bearer(next.Str("access_token"))), 401, "invalid_token")
	})
}

// TestKeyPairLifetimes: access 25 min, refresh 30 min, session capped at
// 24 h from the first authentication however often it is refreshed.
func TestKeyPairLifetimes(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{})
		_, join := workspace(t, s.URL)
		alice := newUser("alice")
		tok := register(t, s.URL, join, alice)

		s.Clock.Add(25*time.Minute - time.Second)
		want(t, call(t, "GET", s.URL+"/", nil, bearer(tok.Str("access_token"))), 200, "")
		s.Clock.Add(time.Second)
		want(t, call(t, "GET", s.URL+"/", nil, bearer(tok.Str("access_token"))), 401, "invalid_token")
		s.Clock.Add(5 * time.Minute) // refresh token is 30 min old now
		want(t, call(t, "POST", s.URL+"/v1/auth/refresh", map[string]string{"refresh_token": tok.Str("refresh_token")}),
			401, "invalid_token")

		tok = login(t, s.URL, alice)
		start := s.Clock.Now()
		for s.Clock.Now().Sub(start) < 24*time.Hour-20*time.Minute {
			s.Clock.Add(20 * time.Minute)
			tok = call(t, "POST", s.URL+"/v1/auth/refresh", map[string]string{"refresh_token": tok.Str("refresh_token")})
			want(t, tok, 200, "")
		}
		capAt := start.Add(24 * time.Hour).UnixMilli()
		if tok.Body["refresh_token_expires"].(float64) > float64(capAt) || tok.Body["access_token_expires"].(float64) > float64(capAt) {
			t.Fatalf("tokens outlive the 24 h cap: %s", tok.Raw)
		}
		s.Clock.Set(start.Add(24 * time.Hour))
		want(t, call(t, "GET", s.URL+"/", nil, bearer(tok.Str("access_token"))), 401, "invalid_token")
		want(t, call(t, "POST", s.URL+"/v1/auth/refresh", map[string]string{"refresh_token": tok.Str("refresh_token")}),
			401, "invalid_token")
	})
}
