package httpapi_test

import (
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/ratelimit"
	"github.com/sigil-auth/sigil/internal/testenv"
)

func xff(ip string) string { return "X-Forwarded-For: " + ip }

func TestLoginAccountLimit(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{Limits: ratelimit.DefaultRules(), TrustProxy: true})
		_, join := workspace(t, s.URL)
		alice := newUser("alice")
		register(t, s.URL, join, alice)
		// 15 attempts for one account, each from its own IP, half with a bad signature.
		for i := range 15 {
			p := alice.proof(t, s.URL)
			if i%2 == 1 {
				p["signature"] = p["signature"].(string)[:10] + "AAAA" + p["signature"].(string)[14:]
			}
			r := call(t, "POST", s.URL+"/v1/auth/token", p, xff(fmt.Sprintf("10.0.0.%d", i)))
			if r.Status == 429 {
				t.Fatalf("attempt %d limited early", i+1)
			}
		}
		// The 16th is refused even with the right key, so the limit confirms no guess.
		r := call(t, "POST", s.URL+"/v1/auth/token", alice.proof(t, s.URL), xff("10.0.1.1"))
		want(t, r, 429, "rate_limited")
		ra, err := strconv.Atoi(r.Header.Get("Retry-After"))
		if err != nil || ra < 1 || ra > 60 {
			t.Fatalf("Retry-After = %q", r.Header.Get("Retry-After"))
		}
		// Other accounts are unaffected; the window slides.
		bob := newUser("bob")
		register(t, s.URL, join, bob)
		login(t, s.URL, bob)
		s.Clock.Add(61 * time.Second)
		want(t, call(t, "POST", s.URL+"/v1/auth/token", alice.proof(t, s.URL), xff("10.0.1.2")), 200, "")
	})
}

func TestLoginIPLimitAndSpoofing(t *testing.T) {
	for _, trust := range []bool{false, true} {
		t.Run(fmt.Sprintf("trust_proxy=%v", trust), func(t *testing.T) {
			s := testenv.Start(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{Limits: ratelimit.DefaultRules(), TrustProxy: trust})
			for range 60 {
				want(t, call(t, "POST", s.URL+"/v1/auth/code", map[string]string{"user_id": "alice"}, xff("192.0.2.1")), 200, "")
			}
			want(t, call(t, "GET", s.URL+"/v1/auth/idexists/alice", nil, xff("192.0.2.1")), 429, "rate_limited")
			// A forged X-Forwarded-For only helps when the peer is a trusted proxy.
			other := call(t, "POST", s.URL+"/v1/auth/code", map[string]string{"user_id": "alice"}, xff("192.0.2.2"))
			if trust {
				want(t, other, 200, "")
			} else {
				want(t, other, 429, "rate_limited")
			}
		})
	}
}

// TestRefreshLimits: 30 refreshes a session a minute, 100 an IP. The
// refused 31st leaves its token current (the store had already rotated
// it and puts it back), so it works once the window allows: a minute on
// is past the grace window, and a rotated token would then be reuse.
func TestRefreshLimits(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{Limits: ratelimit.DefaultRules(), TrustProxy: true})
		_, join := workspace(t, s.URL)
		tok := register(t, s.URL, join, newUser("alice"))
		rt := tok.Str("refresh_token")
		for i := range 30 {
			r := call(t, "POST", s.URL+"/v1/auth/refresh", map[string]string{"refresh_token": rt}, xff(fmt.Sprintf("10.1.0.%d", i)))
			want(t, r, 200, "")
			rt = r.Str("refresh_token")
		}
		want(t, call(t, "POST", s.URL+"/v1/auth/refresh", map[string]string{"refresh_token": rt}, xff("10.1.1.1")), 429, "rate_limited")

		// Per IP: 100 a minute whatever the token (junk tokens count too).
		s.Clock.Add(time.Minute)
		for range 100 {
			want(t, call(t, "POST", s.URL+"/v1/auth/refresh", map[string]string{"refresh_token": "rt_junk"}, xff("10.2.0.1")), 401, "invalid_token")
		}
		want(t, call(t, "POST", s.URL+"/v1/auth/refresh", map[string]string{"refresh_token": rt}, xff("10.2.0.1")), 429, "rate_limited")
		next := call(t, "POST", s.URL+"/v1/auth/refresh", map[string]string{"refresh_token": rt}, xff("10.2.0.2"))
		want(t, next, 200, "")
		want(t, call(t, "GET", s.URL+"/v1/whoami", nil, bearer(next.Str("access_token"))), 200, "")
	})
}
