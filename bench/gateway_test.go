package bench

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/gateway"
	"github.com/sigil-auth/sigil/internal/ratelimit"
	"github.com/sigil-auth/sigil/internal/testenv"
)

// gatewayEnv is `sigil proxy` in-process: a real Sigil server over HTTP
// (SQLite, testenv's stopped clock), a tiny upstream, and the gateway
// between them served over loopback.
type gatewayEnv struct {
	gw       *gateway.Gateway
	proxy    *httptest.Server
	upstream *httptest.Server
	key      string // an API key with scope "read"
}

// gatewayRoutes: /public/ needs no credential, everything else "read".
var gatewayRoutes = []gateway.Route{
	{Pattern: "/public/", Public: true},
	{Pattern: "/", Scopes: []string{"read"}},
}

// newGatewayEnv starts Sigil, creates a workspace and an API key with the
// admin token, and builds the gateway; mutate adjusts its Options. The
// gateway's clock is the server's stopped clock, so a cached answer
// never expires, and no tier applies (the key has no tier:<name> scope).
func newGatewayEnv(b *testing.B, mutate func(*gateway.Options)) *gatewayEnv {
	b.Helper()
	clk := testenv.NewClock()
	s := testenv.Start(b, testenv.NewDatabase(b, "sqlite"), testenv.Options{Clock: clk})
	admin := "Authorization: Bearer " + testenv.AdminToken
	ws := testenv.Do(b, nil, "POST", s.URL+"/v1/workspaces", map[string]string{"name": "bench"}, admin)
	if ws.Status != http.StatusCreated {
		b.Fatalf("create workspace: %d %s", ws.Status, ws.Raw)
	}
	k := testenv.Do(b, nil, "POST", s.URL+"/v1/api-keys",
		map[string]any{"name": "bench", "scopes": []string{"read"}, "workspace_id": ws.Str("id")}, admin)
	if k.Status != http.StatusCreated {
		b.Fatalf("create API key: %d %s", k.Status, k.Raw)
	}
	body := []byte(`{"ok":true}`)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Write(body)
	}))
	b.Cleanup(up.Close)
	upURL, _ := url.Parse(up.URL)
	sigilURL, _ := url.Parse(s.URL)
	o := gateway.Options{
		Upstream: upURL, SigilURL: sigilURL, Routes: gatewayRoutes,
		Now: clk.Now, Limiter: ratelimit.NewMemory(clk.Now),
	}
	if mutate != nil {
		mutate(&o)
	}
	gw, err := gateway.New(o)
	if err != nil {
		b.Fatal(err)
	}
	proxy := httptest.NewServer(gw)
	b.Cleanup(proxy.Close)
	return &gatewayEnv{gw: gw, proxy: proxy, upstream: up, key: k.Str("key")}
}

// BenchmarkProxy is one GET through `sigil proxy` as a client sees it, on
// keep-alive loopback connections: straight to the upstream ("direct",
// the floor), through the proxy with a warm auth cache, through a public
// route (no auth at all), and with the cache off (one forward-auth round
// trip to Sigil per request). Sequential cases add p50/p99 latency;
// "parallel" ones run 4 clients per GOMAXPROCS and add req/s. The CPU
// figures are the whole process's: client, proxy, upstream and Sigil.
func BenchmarkProxy(b *testing.B) {
	warm := newGatewayEnv(b, nil)
	cold := newGatewayEnv(b, func(o *gateway.Options) { o.CacheTTL = -1 })
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	b.Cleanup(client.CloseIdleConnections)
	get := func(b *testing.B, url, key string) bool {
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if key != "" {
			req.Header.Set("X-API-KEY", key)
		}
		res, err := client.Do(req)
		if err != nil {
			b.Error(err)
			return false
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Errorf("GET %s → %d", url, res.StatusCode)
			return false
		}
		return true
	}
	cases := []struct{ name, url, key string }{
		{"direct", warm.upstream.URL + "/x", ""},
		{"proxied_warm_cache", warm.proxy.URL + "/x", warm.key},
		{"proxied_public", warm.proxy.URL + "/public/x", ""},
		{"proxied_no_cache", cold.proxy.URL + "/x", cold.key},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			if !get(b, c.url, c.key) { // warm the connection and the cache
				b.FailNow()
			}
			var lat []time.Duration
			done := meter(b)
			for b.Loop() {
				start := time.Now()
				if !get(b, c.url, c.key) {
					b.FailNow()
				}
				lat = append(lat, time.Since(start))
			}
			done()
			reportPercentiles(b, lat)
		})
		b.Run(c.name+"/parallel", func(b *testing.B) {
			if !get(b, c.url, c.key) {
				b.FailNow()
			}
			b.SetParallelism(4)
			done := meter(b)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if !get(b, c.url, c.key) {
						return
					}
				}
			})
			done()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

// reportPercentiles adds the p50 and p99 of lat (µs) to the benchmark
// line.
func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	at := func(q float64) float64 {
		return float64(lat[int(q*float64(len(lat)-1))].Nanoseconds()) / 1e3
	}
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}

// BenchmarkGatewayHandler is the gateway handler alone, via
// httptest.NewRecorder (no client or proxy-side sockets), with a warm
// auth cache: routing, cache lookup, header rewrite and the upstream
// round trip over loopback.
func BenchmarkGatewayHandler(b *testing.B) {
	e := newGatewayEnv(b, nil)
	req := httptest.NewRequest(http.MethodGet, "/x", nil)
	req.Header.Set("X-API-KEY", e.key)
	serve := func() {
		rec := httptest.NewRecorder()
		e.gw.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			b.Fatalf("GET /x → %d %s", rec.Code, rec.Body)
		}
	}
	serve() // warm the cache and the upstream connection
	done := meter(b)
	for b.Loop() {
		serve()
	}
	done()
}
