package browser

// The browser tests: for each store backend, a real `sigil serve`, a test
// SMTP mailbox and the harness (the SPA's origin, see harness_test.go),
// then `node --test tests/`, whose output becomes this test's log.

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// nodeTimeout bounds one run of the Node tests (SQLite's whole browser
// run, set-up included, takes about 3 minutes on a quiet 2-core machine);
// testTimeout bounds each Node test.
const (
	nodeTimeout = 420 * time.Second
	testTimeout = 90 * time.Second
)

// postgresFiles are the Node tests run again on PostgreSQL: every page
// runs on SQLite, and what the store backend changes for a browser — the
// sign-in flows, SSO, passkeys and second factors, the app's round trip —
// runs on both. (Every HTTP behaviour is tested on both backends by the
// Go tests; the whole browser suite twice would take the CI's time.)
var postgresFiles = []string{"tests/spa.test.mjs", "tests/pages.test.mjs", "tests/sso.test.mjs",
	"tests/mfa.test.mjs", "tests/passkeys.test.mjs", "tests/stepup.test.mjs"}

func TestHostedSignIn(t *testing.T) {
	if testing.Short() {
		t.Skip("drives Chromium against the sigil binary; skipped with -short")
	}
	tl := findTools(t)
	bin := buildSigil(t, tl.root)
	backends := []struct {
		name  string
		files []string // nil: every test
		db    func(t *testing.T) map[string]string
	}{
		{"sqlite", nil, func(t *testing.T) map[string]string {
			return map[string]string{"SIGIL_DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "sigil.db")}
		}},
		{"postgres", postgresFiles, func(t *testing.T) map[string]string {
			return map[string]string{
				"SIGIL_DATABASE_URL": testenv.PostgresSchema(t),
				"SIGIL_MASTER_KEY":   base64.StdEncoding.EncodeToString(randomBytes(32)),
			}
		}},
	}
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			runBackend(t, tl, bin, b.name, b.files, b.db(t))
		})
	}
}

// runBackend runs every Node test against one sigil on database db.
func runBackend(t *testing.T, tl tools, bin, backend string, files []string, db map[string]string) {
	box := testenv.NewMailbox(t)
	h := newHarness(t)
	srv := startSigil(t, bin, db, box.URL)
	app := setUpApp(t, srv.url, h.url)
	grantInstanceAdmin(t, bin, db, adminEmail)
	h.start(t, tl.dir, spaConfig{Authority: srv.url, ClientID: app.clientID}, box, newVerifier(t, srv.url))

	shots := filepath.Join(tl.dir, "screenshots", backend)
	if err := os.RemoveAll(shots); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{
		"SIGIL_URL":   srv.url,
		"SPA_URL":     h.url,
		"JOIN_CODE":   app.joinCode,
		"OWNER_EMAIL": ownerEmail,
		"ADMIN_EMAIL": adminEmail,
		"CHROMIUM":    tl.chromium,
		"SCREENSHOTS": shots,
	}
	for k, v := range setUpSSO(t, srv.url, app.ws) {
		env[k] = v
	}
	if f := os.Getenv("SIGIL_BROWSER_TESTS"); f != "" {
		files = strings.Fields(f) // while working on some, e.g. tests/dashboard.test.mjs
	}
	runNode(t, tl, files, env)
}

// tools are what the Node tests need besides Go.
type tools struct {
	node, chromium string
	dir, root      string // e2e/browser and the repository, absolute
}

// findTools finds node (≥ 20), Chromium and this folder's node_modules.
// Without one the test skips with how to install it, or fails when CI is
// set (.ci/run sets CI=true), so CI cannot pass by skipping.
func findTools(t *testing.T) tools {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	tl := tools{dir: dir, root: filepath.Join(dir, "..", "..")}
	var missing []string
	if tl.node, err = exec.LookPath("node"); err != nil || nodeMajor(tl.node) < 20 {
		missing = append(missing, "Node.js ≥ 20 on PATH")
	}
	for _, p := range []string{"/usr/bin/chromium", "chromium"} {
		if tl.chromium, err = exec.LookPath(p); err == nil {
			break
		}
	}
	if tl.chromium == "" {
		missing = append(missing, "chromium (apt-get install chromium)")
	}
	for _, pkg := range []string{"playwright-core", "oidc-client-ts"} {
		if _, err := os.Stat(filepath.Join(dir, "node_modules", pkg, "package.json")); err != nil {
			missing = append(missing, "node_modules/"+pkg+" (run `npm ci` in e2e/browser)")
		}
	}
	if len(missing) > 0 {
		msg := "browser tests need " + strings.Join(missing, ", ") + "; `bash e2e/browser/install.sh` installs them"
		if ciSet() {
			t.Fatal(msg + " (CI is set, so this fails instead of skipping)")
		}
		t.Skip(msg)
	}
	return tl
}

// ciSet reports whether CI is set, as integrations/ reads it.
func ciSet() bool {
	ci := os.Getenv("CI")
	return ci != "" && ci != "false" && ci != "0"
}

// nodeMajor is node's major version, or 0 if it cannot be read.
func nodeMajor(node string) int {
	out, err := exec.Command(node, "--version").Output()
	if err != nil {
		return 0
	}
	major, _, _ := strings.Cut(strings.TrimPrefix(strings.TrimSpace(string(out)), "v"), ".")
	n, _ := strconv.Atoi(major)
	return n
}

// runNode runs `node --test files` (none: tests/) in e2e/browser with env
// added, its output streamed
// into t's log, and fails t if it fails or overruns. Node and the
// Chromium it starts share a process group, killed whole on a timeout and
// when the run ends.
func runNode(t *testing.T, tl tools, files []string, env map[string]string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), nodeTimeout)
	defer cancel()
	if len(files) == 0 {
		files = []string{"tests/"}
	}
	args := []string{"--test", "--test-reporter=spec", "--test-timeout=" + strconv.Itoa(int(testTimeout.Milliseconds()))}
	cmd := exec.CommandContext(ctx, tl.node, append(args, files...)...)
	cmd.Dir = tl.dir
	cmd.Env = os.Environ()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out := &lineLog{t: t}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if cmd.Process != nil {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // a browser left behind by a crashed test
	}
	out.close()
	switch {
	case ctx.Err() != nil:
		t.Fatalf("the Node tests did not finish within %v", nodeTimeout)
	case err != nil:
		t.Fatalf("node --test: %v (its output is above)", err)
	}
}

// lineLog writes what a process prints to t's log, line by line, until
// closed.
type lineLog struct {
	t      *testing.T
	mu     sync.Mutex
	buf    bytes.Buffer
	closed bool
}

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return 0, errors.New("log closed")
	}
	l.buf.Write(p)
	for {
		line, err := l.buf.ReadString('\n')
		if err != nil { // no whole line left: keep the rest
			l.buf.WriteString(line)
			return len(p), nil
		}
		l.t.Log(strings.TrimRight(line, "\r\n"))
	}
}

// close logs a last unfinished line and refuses further writes.
func (l *lineLog) close() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if rest := l.buf.String(); rest != "" {
		l.t.Log(rest)
	}
	l.closed = true
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}
