package httpapi_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/testenv"
	"github.com/sigil-auth/sigil/internal/testenv/faultproxy"
)

// While PostgreSQL cannot be reached, requests that need it answer 503
// unavailable with Retry-After (not 500), /readyz says so, and the same
// server recovers when the database is back.
func TestDatabaseOutageIs503(t *testing.T) {
	db := testenv.NewDatabase(t, "postgres")
	u, err := url.Parse(db.DSN)
	if err != nil {
		t.Fatal(err)
	}
	proxy := faultproxy.New(t, u.Host)
	t.Cleanup(proxy.Close) // last: the server has closed its connections by then
	u.Host = proxy.Addr()
	db.DSN = u.String()
	s := testenv.Start(t, db, testenv.Options{})
	_, join := workspace(t, s.URL)
	alice := newUser("alice")
	refresh := register(t, s.URL, join, alice).Str("refresh_token")

	proof := alice.proof(t, s.URL) // codes are signed, not stored
	proxy.Set(faultproxy.Refuse)   // the database goes down: open connections reset, new ones closed at once
	proxy.Cut()
	// Twice: whether a request meets a cut connection or dials a new one
	// (the pool checks idle connections before use), the proxy accepts and
	// closes it at once, and every request must answer 503.
	for round := range 2 {
		outage503(t, s.URL, round, proof, refresh)
	}
	if r := testenv.Do(t, nil, "GET", s.URL+"/readyz", nil); r.Status != 503 {
		t.Errorf("/readyz during the outage: %d, want 503", r.Status)
	}

	proxy.Set(faultproxy.Forward)
	deadline := time.Now().Add(10 * time.Second)
	for {
		r := testenv.Do(t, nil, "POST", s.URL+"/v1/auth/token", alice.proof(t, s.URL))
		if r.Status == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the database came back: %d %s", r.Status, r.Raw)
		}
		time.Sleep(100 * time.Millisecond)
	}
	want(t, call(t, "GET", s.URL+"/readyz", nil), 200, "")
}

// outage503 asks for what needs the database and wants 503 unavailable
// with Retry-After for each.
func outage503(t *testing.T, base string, round int, proof map[string]any, refresh string) {
	t.Helper()
	for _, c := range []struct {
		name, method, path string
		body               any
	}{
		{"key-pair login", "POST", "/v1/auth/token", proof},
		{"refresh", "POST", "/v1/auth/refresh", map[string]string{"refresh_token": refresh}},
		{"password login", "POST", "/v1/auth/login", map[string]string{"email": "a@example.com", "password": "correct horse battery staple"}},
	} {
		r := testenv.Do(t, nil, c.method, base+c.path, c.body)
		if r.Status != 503 || r.Str("error") != "unavailable" || r.Header.Get("Retry-After") == "" {
			t.Errorf("round %d, %s during the outage: %d %s (Retry-After %q), want 503 unavailable with Retry-After",
				round+1, c.name, r.Status, r.Raw, r.Header.Get("Retry-After"))
		}
	}
}
