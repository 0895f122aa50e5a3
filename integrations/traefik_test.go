//go:build linux

package integrations

import (
	"go/build"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// traefikConf is the Traefik dynamic configuration the docs publish and
// TestTraefik runs.
const traefikConf = "traefik/dynamic.yml"

// traefikBin finds Traefik: on PATH or where traefik/install.sh puts it.
func traefikBin(t *testing.T) string {
	return findBin(t, "traefik", "run integrations/traefik/install.sh",
		filepath.Join(filepath.SplitList(build.Default.GOPATH)[0], "bin", "traefik"))
}

// startTraefik runs Traefik with traefikConf on a free loopback port, in
// front of sigil and app (base URLs), until t ends. The only changes to
// the published file are those two addresses, as the docs tell readers to
// make; the static configuration is the command line the docs show.
func startTraefik(t *testing.T, sigil, app string) *gateway {
	t.Helper()
	bin := traefikBin(t)
	conf := read(t, traefikConf)
	for _, r := range []struct{ from, to string }{{"http://sigil:8080", sigil}, {"http://app:8000", app}} {
		if !strings.Contains(conf, r.from) {
			t.Fatalf("%s does not mention %s", traefikConf, r.from)
		}
		conf = strings.ReplaceAll(conf, r.from, r.to)
	}
	return startOnFreePort(t, func(dir, listen string) (*gateway, error) {
		path := filepath.Join(dir, "dynamic.yml")
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		// Beyond the published options: the log level, and no 2 s wait
		// before the file provider's routes are applied (start-up only).
		args := append([]string{"--entryPoints.web.address=" + listen, "--providers.file.filename=" + path,
			"--log.level=WARN", "--providers.providersThrottleDuration=0s"}, traefikStatic...)
		cmd := exec.Command(bin, args...)
		g := &gateway{URL: "http://" + listen}
		// Traefik answers 404 until the file provider's routers are in.
		return g, runGateway(t, "traefik", cmd, g, func(r *http.Response) bool { return r.StatusCode != 404 })
	})
}

// TestTraefik runs the gateway matrix through a real Traefik with the
// published dynamic configuration.
func TestTraefik(t *testing.T) {
	f := newFixture(t)
	up := newUpstream(t)
	gw := startTraefik(t, f.sigil.URL, up.URL)
	// With the published entry point options Traefik itself refuses a
	// path with an encoded slash (400), which it would otherwise route by
	// its decoded dot segments but pass on still encoded.
	testGateway(t, f, up, gw.URL, map[string]int{"encoded dot segments": 400})
}

// TestTraefikAAL: the mfa router's sigil-aal2 middleware needs a second
// factor (testAAL).
func TestTraefikAAL(t *testing.T) {
	f := newFixture(t)
	up := newUpstream(t)
	testAAL(t, f, up, startTraefik(t, f.sigil.URL, up.URL).URL)
}

// TestTraefikSigilDown: when Sigil cannot be reached Traefik fails
// closed (forwardAuth answers 500 with an empty body).
func TestTraefikSigilDown(t *testing.T) {
	up := newUpstream(t)
	gw := startTraefik(t, "http://127.0.0.1:"+freePort(t), up.URL)
	r := send(t, "GET", gw.URL+"/read/a", nil, "X-API-KEY: sk_whatever")
	if r.Status != http.StatusInternalServerError || up.hits.Load() != 0 {
		t.Fatalf("got %d %q with %d upstream hits, want 500 and none", r.Status, r.Raw, up.hits.Load())
	}
}
