package httpapi_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/ratelimit"
	"github.com/sigil-auth/sigil/internal/testenv"
)

// TestReplicas runs two servers on one PostgreSQL database, first with
// revocations announced by LISTEN/NOTIFY, then through Redis with shared
// rate limits.
func TestReplicas(t *testing.T) {
	for _, viaRedis := range []bool{false, true} {
		t.Run(fmt.Sprintf("redis=%v", viaRedis), func(t *testing.T) {
			db := testenv.NewDatabase(t, "postgres")
			clock := testenv.NewClock()
			o := testenv.Options{Clock: clock, Limits: ratelimit.DefaultRules(), TrustProxy: true, Redis: viaRedis}
			if viaRedis {
				_, o.Prefix = testenv.Redis(t)
			}
			a, b := testenv.Start(t, db, o), testenv.Start(t, db, o)
			_, join := workspace(t, a.URL)
			alice := newUser("alice")
			tok := register(t, a.URL, join, alice)
			at := bearer(tok.Str("access_token"))

			// Both replicas accept the token (and cache it as live).
			want(t, call(t, "GET", a.URL+"/", nil, at), 200, "")
			want(t, call(t, "GET", b.URL+"/", nil, at), 200, "")
			// Logout on A; B refuses within 1 s (real time: the announcement).
			want(t, call(t, "POST", a.URL+"/v1/auth/logout", nil, at), 204, "")
			deadline := time.Now().Add(time.Second)
			for call(t, "GET", b.URL+"/", nil, at).Status != 401 {
				if time.Now().After(deadline) {
					t.Fatal("replica B still accepts the token 1 s after logout on A")
				}
				time.Sleep(10 * time.Millisecond)
			}
			// A refresh made on A continues on B.
			s2 := login(t, a.URL, alice)
			want(t, call(t, "POST", b.URL+"/v1/auth/refresh", map[string]string{"refresh_token": s2.Str("refresh_token")}), 200, "")
			if !viaRedis {
				return
			}
			// 16 logins for one user id across both replicas: the 16th is 429
			// (one was already made above).
			for i := range 14 {
				srv := []*testenv.Server{a, b}[i%2]
				want(t, call(t, "POST", srv.URL+"/v1/auth/token", alice.proof(t, srv.URL), xff(fmt.Sprintf("10.9.0.%d", i))), 200, "")
			}
			want(t, call(t, "POST", b.URL+"/v1/auth/token", alice.proof(t, b.URL), xff("10.9.1.1")), 429, "rate_limited")
			want(t, call(t, "POST", a.URL+"/v1/auth/token", alice.proof(t, a.URL), xff("10.9.1.2")), 429, "rate_limited")
		})
	}
}

// TestReplicasCredentials: with Redis, the 16th wrong password for one
// email across two replicas is 429, and an API key revoked on one is
// refused by the other within 1 s.
func TestReplicasCredentials(t *testing.T) {
	db := testenv.NewDatabase(t, "postgres")
	clock := testenv.NewClock()
	o := testenv.Options{Clock: clock, Limits: ratelimit.DefaultRules(), TrustProxy: true, Redis: true, Passwords: fastPasswords}
	_, o.Prefix = testenv.Redis(t)
	a, b := testenv.Start(t, db, o), testenv.Start(t, db, o)
	_, join := workspace(t, a.URL)
	signup(t, a.URL, join, "ada@example.com", "correct horse battery")
	for i := range 15 {
		srv := []*testenv.Server{a, b}[i%2]
		r := call(t, "POST", srv.URL+"/v1/auth/login", map[string]string{"email": "ada@example.com", "password": "wrong password"},
			xff(fmt.Sprintf("10.8.0.%d", i)))
		want(t, r, 401, "invalid_credentials")
	}
	r := call(t, "POST", b.URL+"/v1/auth/login", map[string]string{"email": "ada@example.com", "password": "correct horse battery"}, xff("10.8.1.1"))
	want(t, r, 429, "rate_limited")
	if r.Header.Get("RateLimit-Limit") != "15" || r.Header.Get("Retry-After") == "" {
		t.Errorf("headers: %v", r.Header)
	}

	u := userToken(t, a.URL, join, "olivia")
	key := "X-API-KEY: " + createKey(t, a.URL, u, map[string]any{"name": "svc"}).Str("key")
	want(t, call(t, "GET", b.URL+"/", nil, key), 200, "") // B caches it
	id := call(t, "GET", a.URL+"/v1/whoami", nil, key).Str("subject")
	want(t, call(t, "DELETE", a.URL+"/v1/api-keys/"+id, nil, u), 204, "")
	deadline := time.Now().Add(time.Second)
	for call(t, "GET", b.URL+"/", nil, key).Status != 401 {
		if time.Now().After(deadline) {
			t.Fatal("replica B still accepts the revoked API key after 1 s")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
