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
)

// echo is what the upstream saw of a request that got through.
type echo struct {
	Method string              `json:"method"`
	Path   string              `json:"path"`
	Body   string              `json:"body"`
	Sigil  map[string][]string `json:"sigil"` // every X-Sigil-* header, all values
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
			if strings.HasPrefix(k, "X-Sigil-") {
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

// nginxBin finds the nginx binary. Without one the test skips, unless CI
// is set: .ci/run installs nginx, so there a missing binary is a failure.
func nginxBin(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("nginx"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
		t.Fatal("nginx is not installed and CI is set: install it (apt-get install nginx-light)")
	}
	t.Skip("nginx integration skipped: nginx is not installed (apt-get install nginx-light)")
	return ""
}

// confValues fill confTemplate's placeholders.
type confValues struct{ Dir, Listen, Sigil, Upstream string }

// gateway is a running nginx.
type gateway struct {
	URL string
	dir string
}

// startNginx runs nginx with confTemplate on a free loopback port, in
// front of sigil and app (both host:port), until t ends. The only change
// to the published config is -g "master_process off": one process, which
// Pdeathsig kills even if the test binary dies without cleaning up.
func startNginx(t *testing.T, sigil, app string) *gateway {
	t.Helper()
	bin := nginxBin(t)
	tmpl := template.Must(template.ParseFiles(confTemplate))
	for attempt := 1; ; attempt++ {
		dir := t.TempDir()
		v := confValues{Dir: dir, Listen: "127.0.0.1:" + freePort(t), Sigil: sigil, Upstream: app}
		var conf bytes.Buffer
		if err := tmpl.Execute(&conf, v); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, "nginx.conf")
		if err := os.WriteFile(path, conf.Bytes(), 0o600); err != nil {
			t.Fatal(err)
		}
		g, err := runNginx(t, bin, path, dir, "http://"+v.Listen)
		if err == nil {
			return g
		}
		// Another process may have taken the port between freePort and
		// nginx's bind: try a new one.
		if attempt < 3 && strings.Contains(err.Error(), "Address already in use") {
			continue
		}
		t.Fatal(err)
	}
}

// runNginx starts nginx and waits until it answers HTTP.
func runNginx(t *testing.T, bin, conf, dir, url string) (*gateway, error) {
	var out bytes.Buffer
	cmd := exec.Command(bin, "-p", dir+"/", "-c", conf, "-g", "master_process off;")
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	g := &gateway{URL: url, dir: dir}
	if err := waitHTTP(url, exited); err != nil {
		cmd.Process.Kill()
		return nil, fmt.Errorf("nginx did not start: %v\n%s%s", err, out.String(), g.errorLog())
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
			t.Logf("nginx error log:\n%s", g.errorLog())
		}
	})
	return g, nil
}

// waitHTTP polls url until anything answers, nginx exits, or 10 s pass.
func waitHTTP(url string, exited <-chan error) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			return fmt.Errorf("nginx exited: %v", err)
		default:
		}
		if res, err := http.Get(url + "/"); err == nil {
			res.Body.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("no answer within 10 s")
}

func (g *gateway) errorLog() string {
	b, _ := os.ReadFile(filepath.Join(g.dir, "error.log"))
	return string(b)
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
