package verify

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/client"
	"github.com/sigil-auth/sigil/internal/testenv"
)

// issuer is the iss of every testenv server; the network below routes
// it to the server's real address.
const issuer = "http://sigil.test"

// network routes every dial of a Verifier to one test server and lets a
// test count requests, cut connections and refuse new ones.
type network struct {
	addr string
	mu   sync.Mutex
	conn []net.Conn
	down bool          // refuse dials
	gate chan struct{} // when set, dials wait until it is closed

	hits sync.Map // path → *atomic.Int64
}

func (n *network) dial(ctx context.Context, netw, _ string) (net.Conn, error) {
	n.mu.Lock()
	down, gate := n.down, n.gate
	n.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if down {
		return nil, &net.OpError{Op: "dial", Net: netw, Err: io.ErrClosedPipe}
	}
	c, err := (&net.Dialer{}).DialContext(ctx, netw, n.addr)
	if err == nil {
		n.mu.Lock()
		n.conn = append(n.conn, c)
		n.mu.Unlock()
	}
	return c, err
}

// cut closes every open connection (the feed's included).
func (n *network) cut() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, c := range n.conn {
		c.Close()
	}
	n.conn = nil
}

func (n *network) setDown(down bool) { n.mu.Lock(); n.down = down; n.mu.Unlock() }

// hold makes new dials wait until the returned func is called.
func (n *network) hold() (release func()) {
	g := make(chan struct{})
	n.mu.Lock()
	n.gate = g
	n.mu.Unlock()
	return func() { n.mu.Lock(); n.gate = nil; n.mu.Unlock(); close(g) }
}

// count returns how many requests went to path.
func (n *network) count(path string) int64 {
	c, _ := n.hits.LoadOrStore(path, new(atomic.Int64))
	return c.(*atomic.Int64).Load()
}

type counting struct {
	n    *network
	next http.RoundTripper
}

func (c counting) RoundTrip(r *http.Request) (*http.Response, error) {
	v, _ := c.n.hits.LoadOrStore(r.URL.Path, new(atomic.Int64))
	v.(*atomic.Int64).Add(1)
	return c.next.RoundTrip(r)
}

// env is a real Sigil server, a workspace with an owner, an API key for
// the Verifier, and the Verifier.
type env struct {
	s      *testenv.Server
	net    *network
	c      *client.Client // talks to the server directly
	ws     string
	join   string
	owner  *client.Tokens
	apiKey string // the Verifier's credential
	keyID  string // its id (ak_…)
	v      *Verifier

	users map[string]ed25519.PrivateKey
}

// newEnv starts everything on SQLite; cfg may adjust the Verifier's
// Config (Issuer, Credential, HTTPClient and Now are filled in).
func newEnv(t testing.TB, cfg Config) *env {
	t.Helper()
	return newEnvOn(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{}, cfg)
}

// newEnvOn is newEnv with the server on db, started with o.
func newEnvOn(t testing.TB, db testenv.Database, o testenv.Options, cfg Config) *env {
	t.Helper()
	s := testenv.Start(t, db, o)
	e := &env{s: s, net: &network{addr: strings.TrimPrefix(s.URL, "http://")}, c: client.New(s.URL),
		users: map[string]ed25519.PrivateKey{}}
	e.ws, e.join = e.workspace(t)
	e.owner = e.register(t, "owner")
	// A resource server's key: tokens:introspect for introspection and
	// the feed, tokens:revoke for the tests that revoke with it. Only the
	// admin token can grant them (the owner does not hold them).
	k, err := e.c.CreateAPIKey(context.Background(), testenv.AdminToken, client.APIKeyRequest{Name: "resource-server",
		Scopes: []string{"read", "tokens:introspect", "tokens:revoke"}, WorkspaceID: e.ws})
	if err != nil {
		t.Fatal(err)
	}
	e.apiKey, e.keyID = k.Key, k.ID
	if cfg.Credential == "" {
		cfg.Credential = e.apiKey
	}
	e.v = e.verifier(t, cfg)
	return e
}

// verifier starts a Verifier on e's network, closed when t ends.
func (e *env) verifier(t testing.TB, cfg Config) *Verifier {
	t.Helper()
	cfg.Issuer = issuer
	cfg.HTTPClient = &http.Client{Transport: counting{e.net, &http.Transport{DialContext: e.net.dial}}}
	cfg.Now = e.s.Clock.Now
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	v, err := New(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// workspace creates a workspace with the admin token.
func (e *env) workspace(t testing.TB) (id, join string) {
	t.Helper()
	var out struct {
		ID       string `json:"id"`
		JoinCode string `json:"join_code"`
	}
	e.call(t, "POST", "/v1/workspaces", testenv.AdminToken, map[string]string{"name": "Acme"}, 201, &out)
	return out.ID, out.JoinCode
}

// register makes a key-pair user in e's workspace and logs it in.
func (e *env) register(t testing.TB, id string) *client.Tokens {
	t.Helper()
	key, _ := client.GenerateKey()
	e.users[id] = key
	tok, err := e.c.Register(context.Background(), id, e.join, key)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// login starts another session of a registered user.
func (e *env) login(t testing.TB, id string) *client.Tokens {
	t.Helper()
	tok, err := e.c.LoginKeyPair(context.Background(), id, e.users[id])
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// mustVerify fails t unless v accepts tok.
func mustVerify(t testing.TB, v *Verifier, tok string) *Principal {
	t.Helper()
	p, err := v.VerifyToken(context.Background(), tok)
	if err != nil {
		t.Fatalf("refused: %v", err)
	}
	return p
}

// call sends a JSON request to the server and decodes a want answer.
func (e *env) call(t testing.TB, method, path, bearer string, in any, want int, out any) {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.s.URL+path, body)
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("%s %s: %d %s, want %d", method, path, res.StatusCode, raw, want)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatal(err)
		}
	}
}

// refusedWithin polls until v refuses tok, failing after limit. Waiting
// is the point here: the property is a latency.
func refusedWithin(t *testing.T, v *Verifier, tok string, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		_, err := v.VerifyToken(context.Background(), tok)
		if err != nil {
			if err != ErrInvalidToken {
				t.Fatalf("refused with %v, want invalid_token", err)
			}
			return time.Since(start)
		}
		if time.Since(start) > limit {
			t.Fatalf("still accepted %v after the revocation", limit)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
