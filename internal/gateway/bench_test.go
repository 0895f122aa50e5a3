package gateway_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/gateway"
)

// BenchmarkProxy measures the latency the proxy adds: the same GET sent
// straight to the upstream, through the proxy with a warm auth cache (the
// test clock stands still, so the cached answer never expires), through
// a public route (no auth at all), and with the cache off (one Sigil
// forward-auth round trip per request). Sequential requests on keep-alive
// connections over loopback; subtract "direct" to get the overhead.
func BenchmarkProxy(b *testing.B) {
	e := newEnv(b, nil)
	key, _ := e.apiKey(b, "read")
	cold := newEnv(b, func(o *gateway.Options) { o.CacheTTL = -1 })
	coldKey, _ := cold.apiKey(b, "read")
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	get := func(b *testing.B, url, key string) {
		req, _ := http.NewRequest("GET", url, nil)
		if key != "" {
			req.Header.Set("X-API-KEY", key)
		}
		res, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
	cases := []struct {
		name, url, key string
	}{
		{"direct", e.up.srv.URL + "/x", ""},
		{"proxied_warm_cache", e.proxy.URL + "/x", key},
		{"proxied_public", e.proxy.URL + "/public/x", ""},
		{"proxied_no_cache", cold.proxy.URL + "/x", coldKey},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			get(b, c.url, c.key) // warm the connection and the cache
			b.ReportAllocs()
			var lat []time.Duration
			for b.Loop() {
				start := time.Now()
				get(b, c.url, c.key)
				lat = append(lat, time.Since(start))
			}
			reportPercentiles(b, lat)
		})
		// Throughput with concurrent clients, as a proxy serves them.
		b.Run(c.name+"/parallel", func(b *testing.B) {
			get(b, c.url, c.key)
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					get(b, c.url, c.key)
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
		})
	}
}

// reportPercentiles adds p50 and p99 latency (µs) to the benchmark line.
func reportPercentiles(b *testing.B, lat []time.Duration) {
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	at := func(q float64) float64 { return float64(lat[int(q*float64(len(lat)-1))].Microseconds()) }
	b.ReportMetric(at(0.50), "p50-µs")
	b.ReportMetric(at(0.99), "p99-µs")
}

// BenchmarkGatewayHandler is the handler alone (no client or server
// sockets on the proxy side): routing, cache lookup, header rewrite and
// the upstream round trip.
func BenchmarkGatewayHandler(b *testing.B) {
	e := newEnv(b, nil)
	key, _ := e.apiKey(b, "read")
	req := httptest.NewRequest("GET", "/x", nil)
	req.Header.Set("X-API-KEY", key)
	serve := func() {
		w := httptest.NewRecorder()
		e.gw.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d", w.Code)
		}
	}
	serve()
	b.ReportAllocs()
	for b.Loop() {
		serve()
	}
}
