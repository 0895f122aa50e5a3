package authn_test

import (
	"context"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/authn"
	"github.com/sigil-auth/sigil/internal/testenv"
)

var admin = authn.Principal{Kind: authn.KindAdmin, Subject: "admin"}

// exchangeKey makes a workspace and an API key on s and returns the key.
func exchangeKey(t *testing.T, s *testenv.Server) string {
	t.Helper()
	ws, err := s.Auth.CreateWorkspace(t.Context(), admin, "exchange")
	if err != nil {
		t.Fatal(err)
	}
	k, err := s.Auth.CreateAPIKey(t.Context(), testenv.LocalIP, admin, authn.NewAPIKeyInput{Name: "svc", WorkspaceID: ws.ID})
	if err != nil {
		t.Fatal(err)
	}
	return k.Key
}

func exchange(t *testing.T, s *testenv.Server, key, sid string) string {
	t.Helper()
	r, err := s.Auth.ExchangeAPIKey(t.Context(), testenv.LocalIP, authn.APIKeyLogin{APIKey: key, SessionID: sid})
	if err != nil {
		t.Fatalf("exchange %q: %v", sid, err)
	}
	return r.AccessToken
}

func live(s *testenv.Server, tok string) bool {
	_, err := s.Auth.Authenticate(context.Background(), authn.Credential{Authorization: "Bearer " + tok})
	return err == nil
}

// TestExchangeCache: an exchange session is answered from the replica's
// cache while it lives, but never after it ends. The test clock stands
// still, so only a revocation or expiry can end a cached answer.
func TestExchangeCache(t *testing.T) {
	for _, backend := range testenv.Backends {
		t.Run(backend, func(t *testing.T) {
			s := testenv.Start(t, testenv.NewDatabase(t, backend), testenv.Options{})
			key := exchangeKey(t, s)
			a := exchange(t, s, key, "w1")
			if again := exchange(t, s, key, "w1"); again != a {
				t.Fatal("same (key, session_id) while valid must return the same token")
			}
			if b := exchange(t, s, key, "w2"); b == a {
				t.Fatal("another session_id must get another token")
			}
			if err := s.Auth.Revoke(t.Context(), testenv.LocalIP, admin, a); err != nil {
				t.Fatal(err)
			}
			if live(s, a) {
				t.Fatal("revoked token still accepted")
			}
			// A new session then: a stale cache entry would hand back the
			// revoked session's token. (Its text may be the same: the
			// token is a function of the session id and the second of its
			// creation, and this clock stands still.)
			c := exchange(t, s, key, "w1")
			if !live(s, c) {
				t.Fatal("exchange after revocation returned a dead token")
			}
			// Past the session's 2 h the same session_id starts afresh.
			s.Clock.Add(2*time.Hour + time.Second)
			if d := exchange(t, s, key, "w1"); d == c || !live(s, d) {
				t.Fatal("an expired exchange session must get a new, live token")
			}
		})
	}
}

// TestExchangeCacheReplicas: a session revoked on one replica is dropped
// from the other's exchange cache by the announcement, so within 1 s the
// other's exchange starts a new session and its token is accepted.
func TestExchangeCacheReplicas(t *testing.T) {
	db := testenv.NewDatabase(t, "postgres")
	o := testenv.Options{Clock: testenv.NewClock()}
	a, b := testenv.Start(t, db, o), testenv.Start(t, db, o)
	key := exchangeKey(t, a)
	tok := exchange(t, b, key, "w1")
	if exchange(t, b, key, "w1") != tok || exchange(t, a, key, "w1") != tok {
		t.Fatal("both replicas must return the session's token")
	}
	if err := a.Auth.Revoke(t.Context(), testenv.LocalIP, admin, tok); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for !live(b, exchange(t, b, key, "w1")) {
		if time.Now().After(deadline) {
			t.Fatal("replica B still returns the revoked session's token 1 s after its revocation on A")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
