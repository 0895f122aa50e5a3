package gateway_test

import (
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"

	"github.com/sigil-auth/sigil/internal/gateway"
	"github.com/sigil-auth/sigil/internal/ratelimit"
	"github.com/sigil-auth/sigil/internal/testenv"
)

// sigilHeaders are the X-Sigil-* headers the upstream received.
func sigilHeaders(e echoed) map[string]string {
	out := map[string]string{}
	for k, v := range e.Header {
		if strings.HasPrefix(strings.ToLower(strings.ReplaceAll(k, "_", "-")), "x-sigil-") {
			out[k] = strings.Join(v, "|")
		}
	}
	return out
}

// TestMatrix is the matrix through a real Sigil and a real upstream.
func TestMatrix(t *testing.T) {
	e := newEnv(t, nil)
	reader, readerID := e.apiKey(t, "read")
	adminKey, _ := e.apiKey(t, "read", "admin")
	p := e.proxy.URL

	t.Run("no credential is 401 and never reaches the upstream", func(t *testing.T) {
		before := e.up.hits.Load()
		r := call(t, "GET", p+"/things", nil)
		wantError(t, r, 401, "missing_credential")
		if r.Header.Get("WWW-Authenticate") != "Bearer" {
			t.Errorf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
		}
		wantError(t, call(t, "GET", p+"/things", nil, "X-API-KEY: sk_not_a_real_key"), 401, "invalid_token")
		wantError(t, call(t, "GET", p+"/admin/x", nil, "Authorization: Bearer nonsense"), 401, "invalid_token")
		if n := e.up.hits.Load() - before; n != 0 {
			t.Errorf("the upstream saw %d refused requests", n)
		}
	})

	t.Run("API key is 200 with the identity at the upstream", func(t *testing.T) {
		for _, h := range []string{"X-API-KEY: " + reader, "Authorization: " + reader, "Authorization: Bearer " + reader} {
			r := call(t, "GET", p+"/things?x=1", nil, h)
			wantStatus(t, r, 200)
			got := seen(r)
			want := map[string]string{
				"X-Sigil-Subject": readerID, "X-Sigil-Workspace": e.ws, "X-Sigil-Scopes": "read", "X-Sigil-Kind": "api_key",
			}
			if d := cmp.Diff(want, sigilHeaders(got)); d != "" {
				t.Errorf("%s: upstream X-Sigil-* (-want +got):\n%s", h, d)
			}
			host := strings.TrimPrefix(p, "http://")
			if got.Path != "/things" || got.Header["X-Forwarded-For"][0] != "127.0.0.1" ||
				got.Header["X-Forwarded-Host"][0] != host || got.Header["X-Forwarded-Proto"][0] != "http" {
				t.Errorf("%s: forwarded as %+v", h, got)
			}
		}
	})

	t.Run("user token carries its session", func(t *testing.T) {
		r := call(t, "GET", p+"/me", nil, "Authorization: Bearer "+e.userToken(t, "alice"))
		wantStatus(t, r, 200)
		h := sigilHeaders(seen(r))
		if h["X-Sigil-Subject"] != "alice" || h["X-Sigil-Kind"] != "user" || !strings.HasPrefix(h["X-Sigil-Session"], "ses_") {
			t.Errorf("user identity at the upstream: %v", h)
		}
	})

	t.Run("missing scope is 403", func(t *testing.T) {
		wantError(t, call(t, "GET", p+"/admin/users", nil, "X-API-KEY: "+reader), 403, "insufficient_scope")
		r := call(t, "GET", p+"/admin/users", nil, "X-API-KEY: "+adminKey)
		wantStatus(t, r, 200)
		if got := sigilHeaders(seen(r))["X-Sigil-Scopes"]; got != "read admin" {
			t.Errorf("scopes at the upstream %q", got)
		}
	})

	t.Run("public route needs nothing", func(t *testing.T) {
		r := call(t, "GET", p+"/public/doc", nil, "X-Sigil-Subject: mallory")
		wantStatus(t, r, 200)
		if h := sigilHeaders(seen(r)); len(h) != 0 {
			t.Errorf("a public request reached the upstream with %v", h)
		}
	})

	t.Run("POST body passes through", func(t *testing.T) {
		r := call(t, "POST", p+"/items", `{"name":"widget"}`, "X-API-KEY: "+reader, "Content-Type: application/json")
		wantStatus(t, r, 200)
		if got := seen(r); got.Method != "POST" || got.Body != `{"name":"widget"}` {
			t.Errorf("upstream saw %+v", got)
		}
	})
}

func TestTierLimit(t *testing.T) {
	e := newEnv(t, nil)
	free, _ := e.apiKey(t, "read", "tier:free")
	other, _ := e.apiKey(t, "read", "tier:free")
	for range 3 {
		wantStatus(t, call(t, "GET", e.proxy.URL+"/x", nil, "X-API-KEY: "+free), 200)
		e.clk.Add(time.Second) // each request asks Sigil again, whose own free tier is 60/m
	}
	r := call(t, "GET", e.proxy.URL+"/x", nil, "X-API-KEY: "+free)
	wantError(t, r, 429, "rate_limited")
	if got := r.Header.Get("Retry-After"); got != "57" {
		t.Errorf("Retry-After %q, want 57 (the first request leaves the 60 s window 57 s from now)", got)
	}
	// The limit is per credential: another free key is not affected.
	wantStatus(t, call(t, "GET", e.proxy.URL+"/x", nil, "X-API-KEY: "+other), 200)
	e.clk.Add(57 * time.Second)
	wantStatus(t, call(t, "GET", e.proxy.URL+"/x", nil, "X-API-KEY: "+free), 200)
}

// TestTierLimitPerWorkspace: customers pick their JWTs' subjects, so
// "alice" in one workspace must not spend "alice"'s quota in another.
func TestTierLimitPerWorkspace(t *testing.T) {
	e := newEnv(t, nil)
	other := call(t, "POST", e.sigil.URL+"/v1/workspaces", map[string]string{"name": "Other"}, admin)
	wantStatus(t, other, 201)
	alice := map[string]string{}
	for _, ws := range []string{e.ws, other.Str("id")} {
		k := call(t, "POST", e.sigil.URL+"/v1/jwt-keys",
			map[string]any{"name": "web", "workspace_id": ws, "scopes": []string{"read", "tier:free"}}, admin)
		wantStatus(t, k, 201)
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "alice", "exp": e.clk.Now().Add(time.Hour).Unix()})
		tok.Header["kid"] = k.Str("id")
		signed, err := tok.SignedString([]byte(k.Str("secret")))
		if err != nil {
			t.Fatal(err)
		}
		alice[ws] = "Authorization: Bearer " + signed
	}
	for range 3 {
		wantStatus(t, call(t, "GET", e.proxy.URL+"/x", nil, alice[e.ws]), 200)
		e.clk.Add(time.Second)
	}
	wantError(t, call(t, "GET", e.proxy.URL+"/x", nil, alice[e.ws]), 429, "rate_limited")
	r := call(t, "GET", e.proxy.URL+"/x", nil, alice[other.Str("id")])
	wantStatus(t, r, 200)
	if got := sigilHeaders(seen(r))["X-Sigil-Workspace"]; got != other.Str("id") {
		t.Errorf("upstream saw workspace %q, want %s", got, other.Str("id"))
	}
}

// TestSigilRefusalRelayed: Sigil's own 429 (its tier "tiny" is 1/m, which
// the proxy does not know) comes back with its body and Retry-After.
func TestSigilRefusalRelayed(t *testing.T) {
	e := newEnv(t, nil)
	tiny, _ := e.apiKey(t, "read", "tier:tiny")
	wantStatus(t, call(t, "GET", e.proxy.URL+"/x", nil, "X-API-KEY: "+tiny), 200)
	e.clk.Add(time.Second) // the cached answer has expired
	r := call(t, "GET", e.proxy.URL+"/x", nil, "X-API-KEY: "+tiny)
	wantError(t, r, 429, "rate_limited")
	if r.Header.Get("Retry-After") != "59" || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("relayed headers %v", r.Header)
	}
}

func TestRevokedKeyRefusedWithinOneSecond(t *testing.T) {
	e := newEnv(t, nil)
	key, id := e.apiKey(t, "read")
	wantStatus(t, call(t, "GET", e.proxy.URL+"/x", nil, "X-API-KEY: "+key), 200) // cache warm
	wantStatus(t, call(t, "DELETE", e.sigil.URL+"/v1/api-keys/"+id, nil, admin), 204)
	e.clk.Add(gateway.MaxCacheTTL)
	wantError(t, call(t, "GET", e.proxy.URL+"/x", nil, "X-API-KEY: "+key), 401, "invalid_token")
}

// TestAuthSingleFlight: a burst of one credential's requests while its
// answer is not cached makes one forward-auth call, whose answer (a 200
// or a refusal) they all share.
func TestAuthSingleFlight(t *testing.T) {
	const burst = 20
	var calls atomic.Int64
	e := newEnv(t, nil)
	counted := countingProxy(e.sigil.URL, &calls)
	var release chan struct{} // closed once the whole burst is inside the proxy
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select { // Sigil answers only when every request of the burst is waiting for it
		case <-release:
		case <-time.After(5 * time.Second):
		}
		counted.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	gw, err := gateway.New(gateway.Options{Upstream: mustURL(e.up.srv.URL), SigilURL: mustURL(front.URL), Routes: testRoutes, Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	var active atomic.Int64
	proxy := httptest.NewUnstartedServer(gw)
	proxy.Config.ConnState = func(_ net.Conn, st http.ConnState) {
		if st == http.StateActive && active.Add(1) == burst {
			go func() {
				time.Sleep(50 * time.Millisecond) // from reading the request to joining the flight
				close(release)
			}()
		}
	}
	proxy.Start()
	t.Cleanup(proxy.Close)
	key, _ := e.apiKey(t, "read")
	for _, tt := range []struct {
		name, key string
		status    int
	}{{"valid key", key, 200}, {"unknown key", "sk_unknown", 401}} {
		t.Run(tt.name, func(t *testing.T) {
			release = make(chan struct{})
			active.Store(0)
			before := calls.Load()
			var wg sync.WaitGroup
			statuses := make([]int, burst)
			for i := range statuses {
				// A new connection each, so each request is one StateActive.
				c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
				wg.Go(func() { statuses[i] = testenv.Do(t, c, "GET", proxy.URL+"/x", nil, "X-API-KEY: "+tt.key).Status })
			}
			wg.Wait()
			for i, st := range statuses {
				if st != tt.status {
					t.Errorf("request %d: %d, want %d", i, st, tt.status)
				}
			}
			if n := calls.Load() - before; n != 1 {
				t.Errorf("%d forward-auth calls for a burst of %d, want 1", n, burst)
			}
		})
	}
}

// TestAuthCache counts Sigil's forward-auth calls through a counting
// front: one per (credential, scopes) per TTL.
func TestAuthCache(t *testing.T) {
	var calls atomic.Int64
	e := newEnv(t, nil)
	front := httptest.NewServer(countingProxy(e.sigil.URL, &calls))
	t.Cleanup(front.Close)
	u, _ := url.Parse(front.URL)
	gw, err := gateway.New(gateway.Options{Upstream: mustURL(e.up.srv.URL), SigilURL: u, Routes: testRoutes, Now: e.clk.Now})
	if err != nil {
		t.Fatal(err)
	}
	proxy := httptest.NewServer(gw)
	t.Cleanup(proxy.Close)
	key, _ := e.apiKey(t, "read", "admin")
	other, _ := e.apiKey(t, "read")
	steps := []struct {
		advance   time.Duration
		path, key string
		calls     int
	}{
		{0, "/a", key, 1},
		{0, "/b", key, 1},                      // same credential and scopes: cached
		{0, "/admin/x", key, 2},                // other scopes: asked
		{0, "/a", other, 3},                    // other credential: asked
		{999 * time.Millisecond, "/a", key, 3}, // still cached
		{time.Millisecond, "/a", key, 4},       // 1 s old: asked again
		{time.Millisecond, "/admin/x", key, 5}, // also fetched at +0: expired
		{0, "/a", key, 5},                      // refreshed at +1 s: cached
	}
	for i, s := range steps {
		e.clk.Add(s.advance)
		wantStatus(t, call(t, "GET", proxy.URL+s.path, nil, "X-API-KEY: "+s.key), 200)
		if got := calls.Load(); got != int64(s.calls) {
			t.Fatalf("step %d: %d forward-auth calls, want %d", i, got, s.calls)
		}
	}
}

// TestTierLimitSharedThroughRedis: two proxies on one Redis share the count.
func TestTierLimitSharedThroughRedis(t *testing.T) {
	rc, prefix := testenv.Redis(t)
	var gws [2]*httptest.Server
	e := newEnv(t, func(o *gateway.Options) { o.Limiter = ratelimit.NewRedis(rc, prefix, o.Now) })
	gws[0] = e.proxy
	gw, err := gateway.New(gateway.Options{
		Upstream: mustURL(e.up.srv.URL), SigilURL: mustURL(e.sigil.URL), Routes: testRoutes,
		Tiers: map[string]ratelimit.Rule{"free": {Limit: 3, Window: time.Minute}},
		Now:   e.clk.Now, Limiter: ratelimit.NewRedis(rc, prefix, e.clk.Now),
	})
	if err != nil {
		t.Fatal(err)
	}
	gws[1] = httptest.NewServer(gw)
	t.Cleanup(gws[1].Close)
	free, _ := e.apiKey(t, "read", "tier:free")
	for i := range 3 {
		wantStatus(t, call(t, "GET", gws[i%2].URL+"/x", nil, "X-API-KEY: "+free), 200)
	}
	wantError(t, call(t, "GET", gws[1].URL+"/x", nil, "X-API-KEY: "+free), 429, "rate_limited")
	wantError(t, call(t, "GET", gws[0].URL+"/x", nil, "X-API-KEY: "+free), 429, "rate_limited")
}

func TestUnavailableServices(t *testing.T) {
	e := newEnv(t, nil)
	key, _ := e.apiKey(t, "read")
	dead := httptest.NewServer(nil)
	dead.Close()
	tests := []struct {
		name            string
		upstream, sigil string
		status          int
		code            string
	}{
		{"sigil down fails closed", e.up.srv.URL, dead.URL, 503, "unavailable"},
		{"sigil_url not a Sigil", e.up.srv.URL, e.up.srv.URL, 503, "unavailable"}, // 200 without identity
		{"upstream down", dead.URL, e.sigil.URL, 502, "bad_gateway"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			gw, err := gateway.New(gateway.Options{Upstream: mustURL(tt.upstream), SigilURL: mustURL(tt.sigil),
				Routes: testRoutes, Now: e.clk.Now})
			if err != nil {
				t.Fatal(err)
			}
			srv := httptest.NewServer(gw)
			defer srv.Close()
			wantError(t, call(t, "GET", srv.URL+"/x", nil, "X-API-KEY: "+key), tt.status, tt.code)
		})
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// TestRequireAAL: a require_aal: aal2 route refuses a one-factor session
// with Sigil's 403 insufficient_aal and passes one that used a passkey
// after the password.
func TestRequireAAL(t *testing.T) {
	e := newEnv(t, func(o *gateway.Options) {
		o.Routes = append([]gateway.Route{{Pattern: "/secure/", RequireAAL: "aal2"}}, testRoutes...)
	})
	p := e.proxy.URL
	keyPair := e.userToken(t, "alice")
	reader, _ := e.apiKey(t, "read")
	const email, pw = "ada@example.com", "correct horse battery staple"
	r := call(t, "POST", e.sigil.URL+"/v1/auth/signup", map[string]string{"email": email, "password": pw, "join_code": e.join})
	wantStatus(t, r, 201)
	pwOnly := r.Str("access_token")
	a := testenv.NewAuthenticator(t, "http://sigil.test")
	begin := call(t, "POST", e.sigil.URL+"/v1/users/me/factors/webauthn/begin", nil, "Authorization: Bearer "+pwOnly)
	wantStatus(t, begin, 200)
	wantStatus(t, call(t, "POST", e.sigil.URL+"/v1/users/me/factors/webauthn/finish",
		map[string]any{"credential": a.Create(t, begin.Raw)}, "Authorization: Bearer "+pwOnly), 201)
	login := call(t, "POST", e.sigil.URL+"/v1/auth/login", map[string]string{"email": email, "password": pw})
	opts, _ := json.Marshal(login.Body["webauthn"])
	v := call(t, "POST", e.sigil.URL+"/v1/auth/mfa/verify", map[string]any{"mfa_token": login.Str("mfa_token"), "webauthn": a.Get(t, opts)})
	wantStatus(t, v, 200)

	for _, h := range []string{"Authorization: Bearer " + pwOnly, "Authorization: Bearer " + keyPair, "X-API-KEY: " + reader} {
		wantError(t, call(t, "GET", p+"/secure/x", nil, h), 403, "insufficient_aal")
		wantStatus(t, call(t, "GET", p+"/other", nil, h), 200) // a route without require_aal
	}
	wantStatus(t, call(t, "GET", p+"/secure/x", nil, "Authorization: Bearer "+v.Str("access_token")), 200)
}
