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
			at := bearer(tok.str("access_token"))

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
			want(t, call(t, "POST", b.URL+"/v1/auth/refresh", map[string]string{"refresh_token": s2.str("refresh_token")}), 200, "")
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
