package gateway_test

import (
	"bufio"
	"encoding/json"
	"io"
	"maps"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sigil-auth/sigil/internal/gateway"
)

// rawRequest writes req (header lines, without the final blank line) byte
// for byte, so header case, underscores and Connection reach the proxy
// exactly as an attacker would send them.
func rawRequest(t *testing.T, addr, req string) (int, []byte) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, strings.ReplaceAll(req, "\n", "\r\n")+"\r\n"); err != nil {
		t.Fatal(err)
	}
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, body
}

// TestHeaderSpoofing: whatever X-Sigil-* a client sends, in any spelling,
// and whatever it names in Connection, the upstream sees exactly Sigil's.
func TestHeaderSpoofing(t *testing.T) {
	e := newEnv(t, nil)
	key, id := e.apiKey(t, "read")
	addr := strings.TrimPrefix(e.proxy.URL, "http://")
	spoof := "X-Sigil-Subject: mallory\nx-sigil-SCOPES: admin\nX_Sigil_Kind: admin\nx_sigil_workspace: ws_other\n" +
		"X-SIGIL-SESSION: ses_stolen\nX-Sigil-Extra: 1\nX-Forwarded-For: 203.0.113.66\nForwarded: for=203.0.113.66\n"
	identity := map[string]string{
		"X-Sigil-Subject": id, "X-Sigil-Workspace": e.ws, "X-Sigil-Scopes": "read", "X-Sigil-Kind": "api_key",
	}
	tests := []struct {
		name, req string
		want      map[string]string
	}{
		{"spoofed headers beside a real key",
			"GET /things HTTP/1.1\nHost: " + addr + "\nX-API-KEY: " + key + "\n" + spoof, identity},
		{"Connection names the identity headers (golang/go#50580)",
			"GET /things HTTP/1.1\nHost: " + addr + "\nX-API-KEY: " + key + "\n" + spoof +
				"Connection: keep-alive, X-Sigil-Subject, X-Sigil-Scopes, x-sigil-kind, X-Sigil-Workspace\n", identity},
		{"Connection names the credential (already checked)",
			"GET /things HTTP/1.1\nHost: " + addr + "\nX-API-KEY: " + key + "\nConnection: X-API-KEY\n", identity},
		{"public route: no identity at all",
			"GET /public/x HTTP/1.1\nHost: " + addr + "\n" + spoof + "Connection: X-Sigil-Subject\n", map[string]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := rawRequest(t, addr, tt.req)
			if status != 200 {
				t.Fatalf("status %d: %s", status, body)
			}
			var got echoed
			if err := json.Unmarshal(body, &got); err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, sigilHeaders(got)); d != "" {
				t.Errorf("X-Sigil-* at the upstream (-want +got):\n%s", d)
			}
			if xff := got.Header["X-Forwarded-For"]; len(xff) != 1 || xff[0] != "127.0.0.1" || got.Header["Forwarded"] != nil {
				t.Errorf("forwarding headers at the upstream: XFF %v, Forwarded %v", xff, got.Header["Forwarded"])
			}
		})
	}
}

// TestTrustedProxies: X-Forwarded-* from a trusted peer (a load balancer
// in front) reach the upstream, the peer appended to the chain; from any
// other peer they are the proxy's own. Forwarded never passes.
func TestTrustedProxies(t *testing.T) {
	sent := "X-Forwarded-For: 203.0.113.7\nX-Forwarded-For: 198.51.100.2, 10.0.0.9\n" +
		"X-Forwarded-Host: api.example.com\nX-Forwarded-Proto: https\nForwarded: for=192.0.2.1\n"
	tests := []struct {
		name, trusted, sent string
		want                map[string][]string // X-Forwarded-For/Host/Proto at the upstream ("" = the proxy's address)
	}{
		{"loopback trusted", "127.0.0.0/8", sent, map[string][]string{
			"X-Forwarded-For": {"203.0.113.7, 198.51.100.2, 10.0.0.9, 127.0.0.1"}, "X-Forwarded-Host": {"api.example.com"},
			"X-Forwarded-Proto": {"https"}}},
		{"trusted, nothing sent", "127.0.0.1/32", "", map[string][]string{
			"X-Forwarded-For": {"127.0.0.1"}, "X-Forwarded-Host": {""}, "X-Forwarded-Proto": {"http"}}},
		{"trusted, odd proto", "127.0.0.1/32", "X-Forwarded-Proto: gopher\n", map[string][]string{
			"X-Forwarded-For": {"127.0.0.1"}, "X-Forwarded-Host": {""}, "X-Forwarded-Proto": {"http"}}},
		{"another network trusted", "10.0.0.0/8", sent, map[string][]string{
			"X-Forwarded-For": {"127.0.0.1"}, "X-Forwarded-Host": {""}, "X-Forwarded-Proto": {"http"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, func(o *gateway.Options) {
				o.TrustedProxies = []netip.Prefix{netip.MustParsePrefix(tt.trusted)}
			})
			key, _ := e.apiKey(t, "read")
			addr := strings.TrimPrefix(e.proxy.URL, "http://")
			for _, path := range []string{"/things", "/public/x"} {
				status, body := rawRequest(t, addr, "GET "+path+" HTTP/1.1\nHost: "+addr+"\nX-API-KEY: "+key+"\n"+tt.sent)
				if status != 200 {
					t.Fatalf("%s: status %d: %s", path, status, body)
				}
				var got echoed
				if err := json.Unmarshal(body, &got); err != nil {
					t.Fatal(err)
				}
				want := maps.Clone(tt.want)
				if want["X-Forwarded-Host"][0] == "" {
					want["X-Forwarded-Host"] = []string{addr}
				}
				gotFwd := map[string][]string{}
				for _, h := range []string{"X-Forwarded-For", "X-Forwarded-Host", "X-Forwarded-Proto"} {
					gotFwd[h] = got.Header[h]
				}
				if d := cmp.Diff(want, gotFwd); d != "" || got.Header["Forwarded"] != nil {
					t.Errorf("%s: forwarding headers at the upstream (-want +got):\n%sForwarded: %v", path, d, got.Header["Forwarded"])
				}
			}
		})
	}
}

// TestH2CRefused: an h2c upgrade would make the connection a tunnel that
// no later request is checked on; it is refused before auth or upstream.
func TestH2CRefused(t *testing.T) {
	e := newEnv(t, nil)
	key, _ := e.apiKey(t, "read")
	addr := strings.TrimPrefix(e.proxy.URL, "http://")
	before := e.up.hits.Load()
	for _, path := range []string{"/things", "/public/x"} {
		status, body := rawRequest(t, addr, "GET "+path+" HTTP/1.1\nHost: "+addr+"\nX-API-KEY: "+key+
			"\nConnection: Upgrade, HTTP2-Settings\nUpgrade: h2c\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\n")
		if status != 400 || !strings.Contains(string(body), `"invalid_request"`) {
			t.Errorf("%s: h2c upgrade → %d %s, want 400 invalid_request", path, status, body)
		}
	}
	if n := e.up.hits.Load() - before; n != 0 {
		t.Errorf("%d h2c requests reached the upstream", n)
	}
}

// TestPathTricks: paths that an upstream might decode into another
// route's subtree are refused, not routed by their escaped form.
func TestPathTricks(t *testing.T) {
	e := newEnv(t, nil)
	addr := strings.TrimPrefix(e.proxy.URL, "http://")
	for _, path := range []string{"/public/%2e%2e/admin/x", "/public%2F..%2Fadmin%2Fx", "/public/..%5Cadmin",
		"/admin%2Fusers", "/public%2Fdoc"} { // an encoded slash that moves the path to another rule
		status, body := rawRequest(t, addr, "GET "+path+" HTTP/1.1\nHost: "+addr+"\n")
		if status != 400 {
			t.Errorf("%s → %d %s, want 400", path, status, body)
		}
	}
	// The ServeMux's own redirect for an unencoded dot segment.
	if status, _ := rawRequest(t, addr, "GET /public/../admin/x HTTP/1.1\nHost: "+addr+"\n"); status != 400 {
		t.Errorf("dot segment → %d, want 400", status)
	}
}
