//go:build linux

package integrations

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"text/template"
	"time"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// echo is what the upstream saw of a request that got through.
type echo struct {
	Method string              `json:"method"`
	Path   string              `json:"path"`
	Body   string              `json:"body"`
	Sigil  map[string][]string `json:"sigil"` // every X-Sigil-* (or X_Sigil_*) header, all values
}

// upstream is the protected API: it answers every request with an echo.
type upstream struct {
	URL  string
	hits atomic.Int64
}

func newUpstream(t *testing.T) *upstream {
	u := &upstream{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.hits.Add(1)
		body, _ := io.ReadAll(r.Body)
		e := echo{Method: r.Method, Path: r.URL.RequestURI(), Body: string(body), Sigil: map[string][]string{}}
		for k, v := range r.Header {
			// X_Sigil_Subject too: CGI-style servers read both as
			// HTTP_X_SIGIL_SUBJECT.
			if strings.HasPrefix(strings.ToLower(strings.ReplaceAll(k, "_", "-")), "x-sigil-") {
				e.Sigil[k] = v
			}
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(e)
	}))
	t.Cleanup(srv.Close)
	u.URL = srv.URL
	return u
}

// ciSet reports whether CI is set: there a gateway binary that .ci/run
// installs must be present, and its absence fails the test.
func ciSet() bool {
	ci := os.Getenv("CI")
	return ci != "" && ci != "false" && ci != "0"
}

// findBin is the first of name on PATH and paths that exists. Without
// one the test skips, or fails when CI is set; install says how to get it.
func findBin(t *testing.T, name, install string, paths ...string) string {
	t.Helper()
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if ciSet() {
		t.Fatalf("%s is not installed and CI is set: %s", name, install)
	}
	t.Skipf("%s integration skipped: %s is not installed (%s)", name, name, install)
	return ""
}

// nginxBin finds the nginx binary (.ci/run installs it).
func nginxBin(t *testing.T) string {
	return findBin(t, "nginx", "apt-get install nginx-light", "/usr/sbin/nginx", "/usr/local/sbin/nginx")
}

// confValues fill confTemplate's placeholders.
type confValues struct{ Dir, Listen, Sigil, Upstream string }

// gateway is a running nginx or Traefik.
type gateway struct {
	URL string
	log func() string // what the gateway logged, for failures
}

// startNginx runs nginx with confTemplate on a free loopback port, in
// front of sigil and app (both host:port), until t ends. The only change
// to the published config is -g "master_process off": one process, which
// Pdeathsig kills even if the test binary dies without cleaning up.
func startNginx(t *testing.T, sigil, app string) *gateway {
	t.Helper()
	bin := nginxBin(t)
	tmpl := template.Must(template.ParseFiles(confTemplate))
	return startOnFreePort(t, func(dir, listen string) (*gateway, error) {
		v := confValues{Dir: dir, Listen: listen, Sigil: sigil, Upstream: app}
		var conf bytes.Buffer
		if err := tmpl.Execute(&conf, v); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "nginx.conf")
		if err := os.WriteFile(path, conf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		g := &gateway{URL: "http://" + listen, log: func() string {
			b, _ := os.ReadFile(filepath.Join(dir, "error.log"))
			return string(b)
		}}
		cmd := exec.Command(bin, "-p", dir+"/", "-c", path, "-g", "master_process off;")
		return g, runGateway(t, "nginx", cmd, g, func(*http.Response) bool { return true })
	})
}

// startOnFreePort calls start with a new directory and a free loopback
// address until the gateway binds it: another process may take the port
// between freePort and the gateway's bind.
func startOnFreePort(t *testing.T, start func(dir, listen string) (*gateway, error)) *gateway {
	t.Helper()
	for attempt := 1; ; attempt++ {
		g, err := start(t.TempDir(), "127.0.0.1:"+freePort(t))
		if err == nil {
			return g
		}
		if attempt < 3 && strings.Contains(strings.ToLower(err.Error()), "address already in use") {
			continue
		}
		t.Fatal(err)
	}
}

// runGateway starts cmd, whose output is added to g's log, and waits
// until an answer from g.URL satisfies ready. The gateway stops when t
// ends (Pdeathsig kills it if the test binary dies first).
func runGateway(t *testing.T, name string, cmd *exec.Cmd, g *gateway, ready func(*http.Response) bool) error {
	var out testenv.Output
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return err
	}
	fileLog := g.log
	g.log = func() string {
		s := out.String()
		if fileLog != nil {
			s += fileLog()
		}
		return s
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	if err := waitHTTP(g.URL, exited, ready); err != nil {
		cmd.Process.Kill()
		<-exited
		return fmt.Errorf("%s did not start: %v\n%s", name, err, g.log())
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("%s log:\n%s", name, g.log())
		}
	})
	return nil
}

// waitHTTP polls url until an answer satisfies ready, the process exits,
// or 10 s pass.
func waitHTTP(url string, exited <-chan error, ready func(*http.Response) bool) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("exited: %v", err)
		default:
		}
		if res, err := http.Get(url + "/"); err == nil {
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if ready(res) {
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("not ready within 10 s")
}

// freePort is a loopback port that was free a moment ago.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// hostPort is the host:port of a base URL.
func hostPort(url string) string { return strings.TrimPrefix(url, "http://") }
