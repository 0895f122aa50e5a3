package gateway_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/gateway"
	"github.com/sigil-auth/sigil/internal/ratelimit"
	"github.com/sigil-auth/sigil/internal/testenv"
)

// env is a real Sigil server, a real upstream and the gateway between.
type env struct {
	sigil *testenv.Server
	clk   *testenv.Clock
	ws    string // workspace id
	join  string // its join code
	up    *upstream
	proxy *httptest.Server
	gw    *gateway.Gateway
}

// testRoutes is the rule set every end-to-end test runs behind.
var testRoutes = []gateway.Route{
	{Pattern: "/public/", Public: true},
	{Pattern: "/admin/", Scopes: []string{"admin"}},
	{Pattern: "/", Scopes: []string{"read"}},
}

// newEnv starts Sigil (tiers free=60/m, tiny=1/m), the upstream, and a
// gateway whose own tiers are free=3/m; mutate adjusts its Options.
func newEnv(t testing.TB, mutate func(*gateway.Options)) *env {
	t.Helper()
	e := &env{clk: testenv.NewClock(), up: newUpstream(t)}
	e.sigil = testenv.Start(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{Clock: e.clk,
		Tiers: map[string]ratelimit.Rule{"free": {Limit: 60, Window: time.Minute}, "tiny": {Limit: 1, Window: time.Minute}}})
	r := call(t, "POST", e.sigil.URL+"/v1/workspaces", map[string]string{"name": "Acme"}, admin)
	wantStatus(t, r, 201)
	e.ws, e.join = r.Str("id"), r.Str("join_code")
	up, _ := url.Parse(e.up.srv.URL)
	sigil, _ := url.Parse(e.sigil.URL)
	o := gateway.Options{
		Upstream: up, SigilURL: sigil, Routes: testRoutes,
		Tiers: map[string]ratelimit.Rule{"free": {Limit: 3, Window: time.Minute}},
		Now:   e.clk.Now, Limiter: ratelimit.NewMemory(e.clk.Now),
	}
	if mutate != nil {
		mutate(&o)
	}
	gw, err := gateway.New(o)
	if err != nil {
		t.Fatal(err)
	}
	e.gw = gw
	e.proxy = httptest.NewServer(gw)
	t.Cleanup(e.proxy.Close)
	return e
}

// apiKey creates an API key with scopes (admin token) and returns its
// secret and id.
func (e *env) apiKey(t testing.TB, scopes ...string) (string, string) {
	t.Helper()
	r := call(t, "POST", e.sigil.URL+"/v1/api-keys",
		map[string]any{"name": "k", "scopes": scopes, "workspace_id": e.ws}, admin)
	wantStatus(t, r, 201)
	return r.Str("key"), r.Str("id")
}

// userToken registers a key-pair user and returns its access token.
func (e *env) userToken(t testing.TB, id string) string {
	t.Helper()
	_, priv, _ := ed25519.GenerateKey(nil)
	c := call(t, "POST", e.sigil.URL+"/v1/auth/code", map[string]string{"user_id": id})
	wantStatus(t, c, 200)
	code := c.Str("auth_code")
	r := call(t, "POST", e.sigil.URL+"/v1/auth/register", map[string]string{
		"user_id": id, "auth_code": code, "join_code": e.join, "scheme": "ed25519",
		"public_key": base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey)),
		"signature":  base64.StdEncoding.EncodeToString(ed25519.Sign(priv, []byte(code))),
	})
	wantStatus(t, r, 201)
	return r.Str("access_token")
}

var admin = "Authorization: " + testenv.AdminToken

// resp is a decoded answer.
type resp = testenv.Response

// seen is the request the upstream received, as it echoes it.
func seen(r resp) echoed {
	var e echoed
	json.Unmarshal(r.Raw, &e)
	return e
}

// call sends a request (see testenv.Do). 5xx answers are legitimate
// here (an unreachable Sigil or upstream), so they are not flagged.
func call(t testing.TB, method, u string, body any, hdr ...string) resp {
	t.Helper()
	return testenv.Do(t, nil, method, u, body, hdr...)
}

func wantStatus(t testing.TB, r resp, status int) {
	t.Helper()
	if r.Status != status {
		t.Fatalf("status %d, want %d; body %s", r.Status, status, r.Raw)
	}
}

// wantError checks a §1 error answer.
func wantError(t testing.TB, r resp, status int, code string) {
	t.Helper()
	wantStatus(t, r, status)
	if r.Str("error") != code || r.Str("detail") == "" {
		t.Fatalf("error body %s, want error %q with a detail", r.Raw, code)
	}
}

// upstream is the protected API: it echoes what it received, streams,
// and speaks WebSocket. hits counts requests that reached it.
type upstream struct {
	srv     *httptest.Server
	hits    atomic.Int64
	release chan struct{} // /stream waits on it between its two chunks
	gotPart chan string   // /upload reports each part of the body it read
}

// echoed is the upstream's JSON description of a request.
type echoed struct {
	Method string              `json:"method"`
	Path   string              `json:"path"`
	Header map[string][]string `json:"header"`
	Body   string              `json:"body"`
}

func newUpstream(t testing.TB) *upstream {
	u := &upstream{release: make(chan struct{}), gotPart: make(chan string, 8)}
	mux := http.NewServeMux()
	mux.HandleFunc("/stream", u.stream)
	mux.HandleFunc("/upload", u.upload)
	mux.HandleFunc("/ws", wsEcho)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(echoed{r.Method, r.URL.Path, r.Header, string(body)})
	})
	u.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(u.srv.Close)
	return u
}

// stream writes "first", flushes, waits for the test, writes "last".
func (u *upstream) stream(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/event-stream")
	io.WriteString(w, "data: first\n\n")
	w.(http.Flusher).Flush()
	select {
	case <-u.release:
	case <-r.Context().Done():
		return
	}
	io.WriteString(w, "data: last\n\n")
}

// upload reads the body line by line, reporting each line as it arrives.
func (u *upstream) upload(w http.ResponseWriter, r *http.Request) {
	buf := make([]byte, 64)
	var all strings.Builder
	for {
		n, err := r.Body.Read(buf)
		if n > 0 {
			all.Write(buf[:n])
			u.gotPart <- string(buf[:n])
		}
		if err != nil {
			break
		}
	}
	io.WriteString(w, "received "+all.String())
}

// countingProxy forwards to target and counts forward-auth calls.
func countingProxy(target string, calls *atomic.Int64) http.Handler {
	rp := httputil.NewSingleHostReverseProxy(mustURL(target))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/authorize" {
			calls.Add(1)
		}
		rp.ServeHTTP(w, r)
	})
}
