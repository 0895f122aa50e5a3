//go:build linux

package integrations

import (
	"testing"
)

// TestNginx runs the gateway matrix through the Debian nginx with the
// published config (nginx/nginx.conf.tmpl).
func TestNginx(t *testing.T) {
	f := newFixture(t)
	up := newUpstream(t)
	gw := startNginx(t, hostPort(f.sigil.URL), hostPort(up.URL))
	testGateway(t, f, up, gw.URL, nil)
}

// TestNginxSigilDown: when Sigil cannot be reached nginx fails closed
// with 503 and Sigil's error shape.
func TestNginxSigilDown(t *testing.T) {
	up := newUpstream(t)
	gw := startNginx(t, "127.0.0.1:"+freePort(t), hostPort(up.URL))
	refusal(t, up, send(t, "GET", gw.URL+"/read/a", nil, "X-API-KEY: sk_whatever"), 0, 503, "unavailable")
}

// TestNginxAAL: a location that sets $sigil_aal 2 lets only a credential
// with a second factor through (API.md §13), as testAAL checks.
func TestNginxAAL(t *testing.T) {
	f := newFixture(t)
	up := newUpstream(t)
	testAAL(t, f, up, startNginx(t, hostPort(f.sigil.URL), hostPort(up.URL)).URL)
}
