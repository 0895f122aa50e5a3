package main

// End-to-end tests of issue 12's loose ends with the real binary: `sigil
// proxy` follows the revocation feed, and /metrics lives on its own
// listener.

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// TestProxyFollowsFeed: with feed_credential, a proxy whose cache is warm
// refuses a revoked API key and a logged-out session within a fraction of
// its 1 s cache lifetime: the feed's event, not the expiry, drops them.
func TestProxyFollowsFeed(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the sigil binary; skipped with -short")
	}
	bin := buildSigil(t)
	srv := startServer(t, bin)
	var ws struct {
		ID       string `json:"id"`
		JoinCode string `json:"join_code"`
	}
	if st := apiJSON(t, "POST", srv.url+"/v1/workspaces", e2eAdminToken, map[string]string{"name": "fed"}, &ws); st != 201 {
		t.Fatalf("POST /v1/workspaces = %d", st)
	}
	key := keyMaker(t, srv, ws.ID)
	feedKey, _ := key("tokens:introspect")
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(up.Close)
	cfg := filepath.Join(t.TempDir(), "proxy.yaml")
	os.WriteFile(cfg, []byte("upstream: "+up.URL+"\nfeed_credential: "+feedKey+"\nroutes:\n"+
		"  - {pattern: \"/public/\", public: true}\n  - {pattern: \"/\"}\n"), 0o600)
	addr := testenv.FreeAddr(t)
	logs := startProxy(t, bin, addr, "proxy", "--config", cfg, "--listen", addr, "--sigil-url", srv.url)
	base := "http://" + addr

	var signup struct {
		AccessToken string `json:"access_token"`
	}
	in := map[string]string{"email": "ada@example.com", "password": "correct horse battery", "join_code": ws.JoinCode}
	if st := apiJSON(t, "POST", srv.url+"/v1/auth/signup", "", in, &signup); st != 201 {
		t.Fatalf("signup = %d", st)
	}
	apiKey, apiKeyID := key("read")
	tests := []struct {
		name, cred string
		revoke     func()
	}{
		{"API key revoked", "X-API-KEY: " + apiKey, func() {
			if st := apiJSON(t, "DELETE", srv.url+"/v1/api-keys/"+apiKeyID, e2eAdminToken, nil, nil); st != 204 {
				t.Fatalf("DELETE /v1/api-keys = %d", st)
			}
		}},
		{"session logged out", "Authorization: Bearer " + signup.AccessToken, func() {
			if st := apiJSON(t, "POST", srv.url+"/v1/auth/logout", signup.AccessToken, nil, nil); st != 204 {
				t.Fatalf("logout = %d", st)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if st, _, _ := proxyGet(t, base+"/x", tt.cred); st != 200 { // the answer is cached now
				t.Fatalf("before → %d", st)
			}
			tt.revoke()
			revoked := time.Now()
			for {
				st, _, _ := proxyGet(t, base+"/x", tt.cred)
				if st == 401 {
					t.Logf("refused %v after the revocation", time.Since(revoked).Round(time.Millisecond))
					break
				}
				// The cache alone would serve it for up to 1 s; the feed
				// takes milliseconds, and the rest is slack.
				if time.Since(revoked) > 500*time.Millisecond {
					t.Fatalf("still %d 500 ms after the revocation: the feed was not followed", st)
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
	if !strings.Contains(logs.String(), "following the revocation feed") || strings.Contains(logs.String(), feedKey) {
		t.Errorf("proxy log: want the feed announced and no key in it:\n%s", logs.String())
	}
}

// keyMaker returns a func that creates an API key of workspace ws with
// the admin token and returns its secret and id.
func keyMaker(t *testing.T, srv *e2eServer, ws string) func(scopes ...string) (string, string) {
	return func(scopes ...string) (string, string) {
		t.Helper()
		var k struct{ ID, Key string }
		in := map[string]any{"name": "k", "scopes": scopes, "workspace_id": ws}
		if st := apiJSON(t, "POST", srv.url+"/v1/api-keys", e2eAdminToken, in, &k); st != 201 {
			t.Fatalf("POST /v1/api-keys = %d", st)
		}
		srv.remember(k.Key)
		return k.Key, k.ID
	}
}

// TestMetricsListener: /metrics is served on SIGIL_METRICS_ADDR only,
// never on the public listener.
func TestMetricsListener(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the sigil binary; skipped with -short")
	}
	bin := buildSigil(t)
	maddr := testenv.FreeAddr(t)
	srv := startServerEnv(t, bin, map[string]string{"SIGIL_METRICS_ADDR": maddr})
	if st := apiJSON(t, "GET", srv.url+"/metrics", "", nil, nil); st != 404 {
		t.Errorf("public /metrics = %d, want 404", st)
	}
	res, err := http.Get("http://" + maddr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(body), `sigil_http_requests_total{route="GET /readyz",status="200"}`) {
		t.Errorf("admin listener /metrics = %d:\n%.300s", res.StatusCode, body)
	}
}
