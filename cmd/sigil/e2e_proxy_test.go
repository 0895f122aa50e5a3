package main

// End-to-end test of `sigil proxy`: the real binary's proxy command in
// front of a real `sigil serve` and an upstream in this process that
// echoes the headers it received.

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/sigil-auth/sigil/internal/testenv"
)

func TestProxyEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the sigil binary; skipped with -short")
	}
	bin := buildSigil(t)
	srv := startServer(t, bin)
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(r.Header)
	}))
	t.Cleanup(up.Close)
	cfg := filepath.Join(t.TempDir(), "proxy.yaml")
	os.WriteFile(cfg, []byte(`
upstream: `+up.URL+`
listen: 127.0.0.1:1        # overridden by --listen
tiers: {free: 2/m}
routes:
  - {pattern: "/public/", public: true}
  - {pattern: "/admin/", scopes: [admin]}
  - {pattern: "/", scopes: [read]}
`), 0o600)
	addr := testenv.FreeAddr(t)
	proxy := startProxy(t, bin, addr, "proxy", "--config", cfg, "--listen", addr, "--sigil-url", srv.url)

	var ws struct{ ID string }
	if st := apiJSON(t, "POST", srv.url+"/v1/workspaces", e2eAdminToken, map[string]string{"name": "proxied"}, &ws); st != 201 {
		t.Fatalf("POST /v1/workspaces = %d", st)
	}
	key := keyMaker(t, srv, ws.ID)
	reader, readerID := key("read")
	free, _ := key("read", "tier:free")
	base := "http://" + addr

	if st, _, _ := proxyGet(t, base+"/things"); st != 401 {
		t.Errorf("no credential → %d, want 401", st)
	}
	// The identity reaches the upstream; the client's spoofed headers,
	// even when named in Connection, do not.
	st, _, seen := proxyGet(t, base+"/things", "X-API-KEY: "+reader, "X-Sigil-Subject: mallory",
		"x-sigil-scopes: admin", "Connection: X-Sigil-Subject")
	want := map[string]string{"X-Sigil-Subject": readerID, "X-Sigil-Workspace": ws.ID, "X-Sigil-Scopes": "read", "X-Sigil-Kind": "api_key"}
	if d := cmp.Diff(want, sigilOnly(seen)); st != 200 || d != "" {
		t.Errorf("API key → %d; X-Sigil-* at the upstream (-want +got):\n%s", st, d)
	}
	if st, _, _ := proxyGet(t, base+"/admin/x", "X-API-KEY: "+reader); st != 403 {
		t.Errorf("missing scope → %d, want 403", st)
	}
	for i := range 2 {
		if st, _, _ := proxyGet(t, base+"/x", "X-API-KEY: "+free); st != 200 {
			t.Fatalf("free request %d → %d", i, st)
		}
	}
	if st, h, _ := proxyGet(t, base+"/x", "X-API-KEY: "+free); st != 429 || h.Get("Retry-After") == "" {
		t.Errorf("over the tier → %d Retry-After %q, want 429 with Retry-After", st, h.Get("Retry-After"))
	}
	if st, _, _ := proxyGet(t, base+"/x", "X-API-KEY: "+reader, "Connection: Upgrade", "Upgrade: h2c"); st != 400 {
		t.Errorf("h2c → %d, want 400", st)
	}
	t.Run("RevokedWithinOneSecond", func(t *testing.T) { testProxyRevocation(t, srv, base, key) })
	if logs := proxy.String(); strings.Contains(logs, reader) || strings.Contains(logs, free) {
		t.Error("the proxy log contains an API key")
	}
}

// testProxyRevocation: with the proxy's cache warm, a revoked key is
// refused within 1 s of the revocation (real clock: this is the binary).
func testProxyRevocation(t *testing.T, srv *e2eServer, base string, key func(...string) (string, string)) {
	secret, id := key("read")
	if st, _, _ := proxyGet(t, base+"/x", "X-API-KEY: "+secret); st != 200 {
		t.Fatalf("before revocation → %d", st)
	}
	if st := apiJSON(t, "DELETE", srv.url+"/v1/api-keys/"+id, e2eAdminToken, nil, nil); st != 204 {
		t.Fatalf("DELETE /v1/api-keys = %d", st)
	}
	revoked := time.Now()
	for {
		st, _, _ := proxyGet(t, base+"/x", "X-API-KEY: "+secret)
		if st == 401 {
			t.Logf("refused %v after the revocation", time.Since(revoked).Round(time.Millisecond))
			return
		}
		// 1 s is the cache bound; the rest is slack for a loaded machine.
		if time.Since(revoked) > 1500*time.Millisecond {
			t.Fatalf("still %d 1.5 s after the revocation", st)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// sigilOnly picks the X-Sigil-* headers (any spelling) of an echoed header map.
func sigilOnly(h http.Header) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		if strings.HasPrefix(strings.ToLower(strings.ReplaceAll(k, "_", "-")), "x-sigil-") {
			out[k] = strings.Join(v, "|")
		}
	}
	return out
}

// proxyGet sends a GET with "Name: value" headers; it returns the status,
// the answer's headers and, for a 200, the headers the upstream echoed.
func proxyGet(t *testing.T, url string, hdr ...string) (int, http.Header, http.Header) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Add(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	var seen http.Header
	if res.StatusCode == 200 {
		json.Unmarshal(body, &seen)
	}
	return res.StatusCode, res.Header, seen
}

// startProxy runs `sigil <argv…>` and waits until its public route
// answers on listen; it returns the process's log.
func startProxy(t *testing.T, bin, listen string, argv ...string) *testenv.Output {
	t.Helper()
	cmd := exec.Command(bin, argv...)
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + cmd.Dir}
	logs, exited := testenv.RunProcess(t, "sigil proxy", cmd)
	testenv.WaitOK(t, "sigil proxy", "http://"+listen+"/public/ping", logs, exited)
	return logs
}
