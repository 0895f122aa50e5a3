package httpapi_test

import (
	"io"
	"net"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// cutProxy forwards TCP connections to a database; Cut closes the
// listener and every connection (the database is gone: resets, then
// refused dials), Restore listens again on the same address.
type cutProxy struct {
	t      *testing.T
	addr   string
	target string
	mu     sync.Mutex
	ln     net.Listener
	conns  []net.Conn
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	p := &cutProxy{t: t, target: target}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(p.Cut)
	return p
}

func (p *cutProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			d, err := net.Dial("tcp", p.target)
			if err != nil {
				c.Close()
				continue
			}
			p.mu.Lock()
			p.conns = append(p.conns, c, d)
			p.mu.Unlock()
			go func() { io.Copy(d, c); d.Close() }()
			go func() { io.Copy(c, d); c.Close() }()
		}
	}()
}

func (p *cutProxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for _, c := range p.conns {
		c.Close()
	}
	p.conns = nil
}

func (p *cutProxy) Restore() {
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("listen again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

// While PostgreSQL cannot be reached, requests that need it answer 503
// unavailable with Retry-After (not 500), /readyz says so, and the same
// server recovers when the database is back.
func TestDatabaseOutageIs503(t *testing.T) {
	db := testenv.NewDatabase(t, "postgres")
	u, err := url.Parse(db.DSN)
	if err != nil {
		t.Fatal(err)
	}
	proxy := newCutProxy(t, u.Host)
	u.Host = proxy.addr
	db.DSN = u.String()
	s := testenv.Start(t, db, testenv.Options{})
	_, join := workspace(t, s.URL)
	alice := newUser("alice")
	refresh := register(t, s.URL, join, alice).Str("refresh_token")

	proof := alice.proof(t, s.URL) // codes are signed, not stored
	proxy.Cut()
	for _, c := range []struct {
		name, method, path string
		body               any
	}{
		{"key-pair login", "POST", "/v1/auth/token", proof},
		{"refresh", "POST", "/v1/auth/refresh", map[string]string{"refresh_token": refresh}},
		{"password login", "POST", "/v1/auth/login", map[string]string{"email": "a@example.com", "password": "correct horse battery staple"}},
	} {
		r := testenv.Do(t, nil, c.method, s.URL+c.path, c.body)
		if r.Status != 503 || r.Str("error") != "unavailable" || r.Header.Get("Retry-After") == "" {
			t.Errorf("%s during the outage: %d %s (Retry-After %q), want 503 unavailable with Retry-After", c.name, r.Status, r.Raw, r.Header.Get("Retry-After"))
		}
	}
	if r := testenv.Do(t, nil, "GET", s.URL+"/readyz", nil); r.Status != 503 {
		t.Errorf("/readyz during the outage: %d, want 503", r.Status)
	}

	proxy.Restore()
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
