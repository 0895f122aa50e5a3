//go:build linux

package integrations

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// caddyConf is the Caddyfile the docs publish and TestCaddy runs.
const caddyConf = "caddy/Caddyfile"

// caddyBin finds the Debian caddy binary (/usr/bin/caddy, on PATH;
// .ci/run installs it).
func caddyBin(t *testing.T) string {
	return findBin(t, "caddy", "apt-get install caddy")
}

// startCaddy runs Caddy with caddyConf on a free loopback port, in front
// of sigil and app (host:port), until t ends. The published file is
// imported unchanged by a Caddyfile that only adds global options: the
// admin API on a second free loopback port and every listener bound to
// loopback (Caddy listens on all interfaces otherwise). The site is
// http://127.0.0.1:port, so no automatic HTTPS; the addresses are the
// environment variables the file reads. HOME and XDG_* point into the
// test's directory, where Caddy keeps its data and autosaved config.
func startCaddy(t *testing.T, sigil, app string) *gateway {
	t.Helper()
	bin := caddyBin(t)
	conf, err := filepath.Abs(caddyConf)
	if err != nil {
		t.Fatal(err)
	}
	return startOnFreePort(t, func(dir, listen string) (*gateway, error) {
		main := filepath.Join(dir, "Caddyfile")
		global := fmt.Sprintf("{\n\tadmin 127.0.0.1:%s\n\tdefault_bind 127.0.0.1\n}\n\nimport %s\n", freePort(t), conf)
		if err := os.WriteFile(main, []byte(global), 0o600); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command(bin, "run", "--adapter", "caddyfile", "--config", main)
		cmd.Env = append(os.Environ(),
			"HOME="+dir, "XDG_DATA_HOME="+dir+"/data", "XDG_CONFIG_HOME="+dir+"/config",
			"SITE_ADDRESS=http://"+listen, "SIGIL_UPSTREAM="+sigil, "APP_UPSTREAM="+app)
		g := &gateway{URL: "http://" + listen}
		return g, runGateway(t, "caddy", cmd, g, func(*http.Response) bool { return true })
	})
}

// TestCaddy runs the gateway matrix through the Debian caddy with the
// published Caddyfile.
func TestCaddy(t *testing.T) {
	f := newFixture(t)
	up := newUpstream(t)
	gw := startCaddy(t, hostPort(f.sigil.URL), hostPort(up.URL))
	testGateway(t, f, up, gw.URL, nil)
}

// TestCaddyAAL: the Caddyfile's /mfa/ route (vars sigil_aal 2) needs a
// second factor (testAAL).
func TestCaddyAAL(t *testing.T) {
	f := newFixture(t)
	up := newUpstream(t)
	testAAL(t, f, up, startCaddy(t, hostPort(f.sigil.URL), hostPort(up.URL)).URL)
}

// TestCaddySigilDown: when Sigil cannot be reached Caddy fails closed
// with 503 and Sigil's error shape (the Caddyfile's handle_errors).
func TestCaddySigilDown(t *testing.T) {
	up := newUpstream(t)
	gw := startCaddy(t, "127.0.0.1:"+freePort(t), hostPort(up.URL))
	refusal(t, up, send(t, "GET", gw.URL+"/read/a", nil, "X-API-KEY: sk_whatever"), 0, 503, "unavailable")
}

// TestCaddyAPIDown: when the API cannot be reached after Sigil allowed
// the request, Caddy answers its own 502, not Sigil's "unavailable".
func TestCaddyAPIDown(t *testing.T) {
	f := newFixture(t)
	gw := startCaddy(t, hostPort(f.sigil.URL), "127.0.0.1:"+freePort(t))
	k := f.newKey(t, "reader", "read")
	r := send(t, "GET", gw.URL+"/read/a", nil, "X-API-KEY: "+k.secret)
	if r.Status != http.StatusBadGateway || len(r.Raw) != 0 {
		t.Fatalf("got %d %q, want 502 with no body", r.Status, r.Raw)
	}
}
