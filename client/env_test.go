package client_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"net/http"
	"sync"
	"testing"

	"github.com/sigil-auth/sigil/client"
	"github.com/sigil-auth/sigil/internal/testenv"
)

// The token-source and Transport tests run against the real server
// (internal/testenv: the whole production stack on SQLite, with a
// settable clock). Only this test package imports internal/; the client
// package itself must stay free of it.

// env is one running server and a Client whose requests are counted.
type env struct {
	srv   *testenv.Server
	c     *client.Client
	calls *counter
	ws    string // a fresh workspace
	join  string // and its join code
}

func newEnv(t *testing.T, o testenv.Options) *env {
	t.Helper()
	s := testenv.Start(t, testenv.NewDatabase(t, "sqlite"), o)
	calls := &counter{}
	e := &env{srv: s, calls: calls, c: client.New(s.URL, client.WithHTTPClient(&http.Client{Transport: calls}))}
	e.ws, e.join = createWorkspace(t, s.URL)
	return e
}

// createWorkspace makes a workspace with the admin token and returns its
// id and join code.
func createWorkspace(t *testing.T, base string) (id, join string) {
	t.Helper()
	var out struct {
		ID       string `json:"id"`
		JoinCode string `json:"join_code"`
	}
	adminCall(t, http.MethodPost, base+"/v1/workspaces", `{"name":"Acme"}`, http.StatusCreated, &out)
	return out.ID, out.JoinCode
}

// adminCall sends body as JSON with the admin token and decodes the
// answer into out, failing t unless the status is want.
func adminCall(t *testing.T, method, url, body string, want int, out any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader([]byte(body)))
	req.Header.Set("Authorization", "Bearer "+testenv.AdminToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil || resp.StatusCode != want {
		t.Fatalf("%s %s: %d %v, want %d", method, url, resp.StatusCode, err, want)
	}
}

// register creates a key-pair user and returns its key and first tokens.
// The requests it makes are not counted.
func (e *env) register(t *testing.T, id string) (client.Tokens, ed25519.PrivateKey) {
	t.Helper()
	key, err := client.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := client.New(e.srv.URL).Register(context.Background(), id, e.join, key)
	if err != nil {
		t.Fatalf("register %s: %v", id, err)
	}
	return *tok, key
}

// counter is an http.RoundTripper over http.DefaultTransport that counts
// requests by "METHOD /path". hook, when set, runs before each request
// is sent (to hold one back).
type counter struct {
	mu   sync.Mutex
	n    map[string]int
	hook func(*http.Request)
}

func (c *counter) RoundTrip(req *http.Request) (*http.Response, error) {
	c.mu.Lock()
	if c.n == nil {
		c.n = map[string]int{}
	}
	c.n[req.Method+" "+req.URL.Path]++
	hook := c.hook
	c.mu.Unlock()
	if hook != nil {
		hook(req)
	}
	return http.DefaultTransport.RoundTrip(req)
}

// take returns the counts so far and starts again from zero.
func (c *counter) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = nil
	if n == nil {
		n = map[string]int{}
	}
	return n
}

func (c *counter) setHook(f func(*http.Request)) {
	c.mu.Lock()
	c.hook = f
	c.mu.Unlock()
}

// Routes the tests count.
const (
	routeRefresh  = "POST /v1/auth/refresh"
	routeLogin    = "POST /v1/auth/login"
	routeCode     = "POST /v1/auth/code"
	routeKeyLogin = "POST /v1/auth/token"
	routeHello    = "GET /"
)
