package main

// End-to-end tests: the real sigil binary serves a temporary SQLite
// database on a free loopback port, and the CLI (as separate processes)
// and the client package drive it through the flows of API.md §3, §4, §10.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/testenv"
)

const e2eAdminToken = "e2e-admin-token-0123456789abcdefghijklmnop"

func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the sigil binary; skipped with -short")
	}
	bin := buildSigil(t)
	srv := startServer(t, bin)
	t.Run("CLIWalkthrough", func(t *testing.T) { testCLIWalkthrough(t, bin, srv) })
	t.Run("ClientSDK", func(t *testing.T) { testClientSDK(t, srv) })
	t.Run("ServerLogHasNoSecrets", func(t *testing.T) {
		logs := srv.logs.String()
		for _, s := range srv.secrets() {
			if strings.Contains(logs, s) {
				t.Errorf("the server log contains a secret (%.12s…)", s)
			}
		}
	})
}

// buildSigil compiles this package into a temporary directory.
func buildSigil(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sigil")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// e2eServer is a running `sigil serve`.
type e2eServer struct {
	url  string
	logs *testenv.Output

	mu   sync.Mutex
	seen []string // every secret the tests handled, for the log check
}

// remember records secrets that must never appear in the server's log.
func (s *e2eServer) remember(secrets ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range secrets {
		if len(v) >= 16 {
			s.seen = append(s.seen, v)
		}
	}
}

func (s *e2eServer) secrets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.seen...)
}

func startServer(t *testing.T, bin string) *e2eServer {
	t.Helper()
	return startServerEnv(t, bin, nil)
}

// startServerEnv starts `sigil serve` with a temporary SQLite database and
// no rate limits, unless env (SIGIL_* settings) says otherwise.
func startServerEnv(t *testing.T, bin string, env map[string]string) *e2eServer {
	t.Helper()
	dir := t.TempDir()
	addr := testenv.FreeAddr(t)
	cmd := exec.Command(bin, "serve")
	cmd.Dir = dir // no stray .env
	settings := map[string]string{
		"SIGIL_DATABASE_URL": "sqlite://" + filepath.Join(dir, "sigil.db"),
		"SIGIL_RATE_LIMITS":  "off",
	}
	for k, v := range env {
		settings[k] = v
	}
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"SIGIL_ADDR=" + addr,
		"SIGIL_ADMIN_TOKEN=" + e2eAdminToken,
	}
	for k, v := range settings {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	logs, exited := testenv.RunProcess(t, "sigil serve", cmd)
	srv := &e2eServer{url: "http://" + addr, logs: logs}
	testenv.WaitOK(t, "sigil serve", srv.url+"/readyz", logs, exited)
	return srv
}

// apiJSON sends a JSON request with a bearer credential and decodes the
// answer into out (if not nil). It returns the status.
func apiJSON(t *testing.T, method, url, bearer string, in, out any) int {
	t.Helper()
	var body bytes.Buffer
	if in != nil {
		if err := json.NewEncoder(&body).Encode(in); err != nil {
			t.Fatal(err)
		}
	}
	req, err := http.NewRequest(method, url, &body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode < 300 {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: decoding: %v", method, url, err)
		}
	}
	return resp.StatusCode
}

// newWorkspace creates a workspace with the admin token; its join code.
func newWorkspace(t *testing.T, srv *e2eServer, name string) string {
	t.Helper()
	var ws struct {
		ID       string `json:"id"`
		JoinCode string `json:"join_code"`
	}
	if st := apiJSON(t, "POST", srv.url+"/v1/workspaces", e2eAdminToken, map[string]string{"name": name}, &ws); st != 201 {
		t.Fatalf("POST /v1/workspaces = %d, want 201", st)
	}
	if ws.JoinCode == "" {
		t.Fatal("workspace has no join_code")
	}
	srv.remember(ws.JoinCode)
	return ws.JoinCode
}

// eventuallyRefused checks that GET /v1/whoami refuses access with 401,
// allowing the 1 s that API.md §4 gives replicas to see a revocation.
func eventuallyRefused(t *testing.T, srv *e2eServer, access string) {
	t.Helper()
	deadline := time.Now().Add(1500 * time.Millisecond)
	for {
		st := apiJSON(t, "GET", srv.url+"/v1/whoami", access, nil, nil)
		if st == http.StatusUnauthorized {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /v1/whoami with an ended session's token = %d, want 401", st)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// cliResult is one finished CLI process.
type cliResult struct {
	stdout, stderr string
	code           int
}

// runCLI runs the binary in dir with only the given environment (plus
// PATH and a private HOME), like a user's shell would.
func runCLI(t *testing.T, bin, dir string, env map[string]string, argv ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, argv...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "XDG_CONFIG_HOME=" + filepath.Join(dir, "xdg")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := cliResult{stdout: stdout.String(), stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	case err != nil:
		t.Fatalf("sigil %v: %v", argv, err)
	}
	return res
}

// mustRun runs the CLI and fails the test unless it exits 0.
func mustRun(t *testing.T, bin, dir string, env map[string]string, argv ...string) cliResult {
	t.Helper()
	r := runCLI(t, bin, dir, env, argv...)
	if r.code != 0 {
		t.Fatalf("sigil %v exited %d\nstdout: %s\nstderr: %s", argv, r.code, r.stdout, r.stderr)
	}
	return r
}
