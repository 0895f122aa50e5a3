package main

import (
	"crypto/ed25519"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sigil-auth/sigil/client"
	"github.com/sigil-auth/sigil/internal/testenv"
)

var (
	envKeyLines  = regexp.MustCompile(`^SIGIL_PRIVATE_KEY=([A-Za-z0-9+/]{43}=)\nSIGIL_PUBLIC_KEY=([A-Za-z0-9+/]{43}=)\n$`)
	humanKeys    = regexp.MustCompile(`^Private Key \(Base64\): ([A-Za-z0-9+/]{43}=)\nPublic Key \(Base64\): ([A-Za-z0-9+/]{43}=)\n$`)
	accessLine   = regexp.MustCompile(`^Access token: (\S+)\n$`)
	addedKeyLine = regexp.MustCompile(`(?m)^Added key (\S+)$`)
)

// checkKeyPair checks that priv (keygen's output) derives pub.
func checkKeyPair(t *testing.T, priv, pub string) {
	t.Helper()
	k, err := client.ParsePrivateKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	if got := client.EncodePublicKey(k.Public().(ed25519.PublicKey)); got != pub {
		t.Errorf("public key %s is not derived from the private key (want %s)", pub, got)
	}
}

// cliWalk is one user's walk-through: a working directory with its .env,
// a session file, and every stderr seen (checked for secrets at the end).
type cliWalk struct {
	t       *testing.T
	bin     string
	dir     string
	env     map[string]string
	srv     *e2eServer
	stderrs []string
}

func (w *cliWalk) run(argv ...string) cliResult {
	w.t.Helper()
	r := mustRun(w.t, w.bin, w.dir, w.env, argv...)
	w.stderrs = append(w.stderrs, r.stderr)
	return r
}

func (w *cliWalk) session() *session {
	w.t.Helper()
	s := readSession(w.t, w.env["SIGIL_SESSION_FILE"])
	w.srv.remember(s.AccessToken, s.RefreshToken)
	return s
}

// testCLIWalkthrough is the §10 walk-through: keygen → register → whoami →
// refresh → keys → logout, each a separate process reading .env.
func testCLIWalkthrough(t *testing.T, bin string, srv *e2eServer) {
	dir := t.TempDir()
	sessionFile := filepath.Join(dir, "state", "sigil", "session.json")
	w := &cliWalk{t: t, bin: bin, dir: dir, env: map[string]string{"SIGIL_SESSION_FILE": sessionFile}, srv: srv}

	priv, pub := w.keygen()
	first := w.register()
	testCLIMFA(w)
	current := w.refresh()
	w.stderrs = append(w.stderrs, testCLIKeys(t, bin, dir, w.env, pub)...)
	testCLIExitCodes(t, bin, dir, w.env)
	w.logout(first, current)

	for _, e := range w.stderrs {
		for _, secret := range append(srv.secrets(), priv) {
			if strings.Contains(e, secret) {
				t.Errorf("stderr %q contains a secret", e)
			}
		}
	}
}

// keygen checks both output formats and writes .env from the --env one,
// as a user would paste it. It returns the key pair in use.
func (w *cliWalk) keygen() (priv, pub string) {
	t := w.t
	r := w.run("keygen")
	m := humanKeys.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("keygen output %q does not match %v", r.stdout, humanKeys)
	}
	checkKeyPair(t, m[1], m[2])

	r = w.run("keygen", "--env")
	m = envKeyLines.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("keygen --env output %q does not match %v", r.stdout, envKeyLines)
	}
	checkKeyPair(t, m[1], m[2])
	w.srv.remember(m[1])
	dotenv := r.stdout + "SIGIL_URL=" + w.srv.url + "\nSIGIL_JOIN_CODE=" + newWorkspace(t, w.srv, "e2e-cli") + "\n"
	if err := os.WriteFile(filepath.Join(w.dir, ".env"), []byte(dotenv), 0o600); err != nil {
		t.Fatal(err)
	}
	return m[1], m[2]
}

// register registers alice, then "registers" again (a login: a second
// session), and checks whoami. It returns the first session.
func (w *cliWalk) register() *session {
	t := w.t
	r := w.run("register", "alice")
	m := accessLine.FindStringSubmatch(r.stdout)
	if m == nil || !strings.Contains(r.stderr, "registering") {
		t.Fatalf("register alice: stdout %q stderr %q", r.stdout, r.stderr)
	}
	checkSessionFile(t, w.env["SIGIL_SESSION_FILE"])
	first := w.session()
	if first.AccessToken != m[1] || first.UserID != "alice" || first.BaseURL != w.srv.url {
		t.Errorf("saved session (user %q, server %q) does not match the printed token/user/server", first.UserID, first.BaseURL)
	}

	r = w.run("register", "alice")
	if m = accessLine.FindStringSubmatch(r.stdout); m == nil || !strings.Contains(r.stderr, "exists") {
		t.Fatalf("register alice again: stdout %q stderr %q", r.stdout, r.stderr)
	}
	s := w.session()
	if s.SessionID == first.SessionID || s.AccessToken != m[1] {
		t.Errorf("second register: session %s (first %s)", s.SessionID, first.SessionID)
	}

	r = w.run("whoami")
	var id client.Identity
	if err := json.Unmarshal([]byte(r.stdout), &id); err != nil {
		t.Fatalf("whoami printed %q: %v", r.stdout, err)
	}
	want := client.Identity{Subject: "alice", Kind: "user", SessionID: s.SessionID}
	got := client.Identity{Subject: id.Subject, Kind: id.Kind, SessionID: id.SessionID}
	if diff := cmp.Diff(want, got); diff != "" || id.WorkspaceID == "" {
		t.Errorf("whoami (-want +got):\n%s (workspace %q)", diff, id.WorkspaceID)
	}
	return first
}

// refresh rotates by hand, then lets whoami rotate a session whose
// access token expires within 60 s. It returns the session in use.
func (w *cliWalk) refresh() *session {
	t := w.t
	before := w.session()
	w.run("refresh")
	after := w.session()
	if after.RefreshToken == before.RefreshToken || after.SessionID != before.SessionID {
		t.Errorf("refresh: rotated=%v, same session=%v", after.RefreshToken != before.RefreshToken, after.SessionID == before.SessionID)
	}
	checkSessionFile(t, w.env["SIGIL_SESSION_FILE"])

	after.AccessTokenExpires = time.Now().Add(10 * time.Second).UnixMilli()
	if err := saveSession(w.env["SIGIL_SESSION_FILE"], after); err != nil {
		t.Fatal(err)
	}
	w.run("whoami")
	auto := w.session()
	if auto.RefreshToken == after.RefreshToken || !auto.AccessExpiry().After(time.Now().Add(time.Minute)) {
		t.Errorf("whoami did not refresh a session about to expire")
	}
	return auto
}

// logout ends the current session, then logs in again and ends every
// session with --all, including first, whose tokens the CLI no longer holds.
func (w *cliWalk) logout(first, current *session) {
	t := w.t
	sessionFile := w.env["SIGIL_SESSION_FILE"]
	w.run("logout")
	if _, err := os.Stat(sessionFile); !os.IsNotExist(err) {
		t.Errorf("session file after logout: %v, want it gone", err)
	}
	eventuallyRefused(t, w.srv, current.AccessToken)
	if r := runCLI(t, w.bin, w.dir, w.env, "whoami"); r.code != 1 || !strings.Contains(r.stderr, "not logged in") {
		t.Errorf("whoami after logout: exit %d, stderr %q", r.code, r.stderr)
	}

	if r := w.run("login", "alice"); !strings.HasPrefix(r.stdout, "Logged in as alice") {
		t.Errorf("login stdout %q", r.stdout)
	}
	last := w.session()
	w.run("logout", "--all")
	eventuallyRefused(t, w.srv, first.AccessToken)
	eventuallyRefused(t, w.srv, last.AccessToken)
}

// testCLIKeys adds a generated key, lists, removes it, and fails to remove
// the last one. It returns the stderr of every command.
func testCLIKeys(t *testing.T, bin, dir string, env map[string]string, firstPub string) []string {
	r := mustRun(t, bin, dir, env, "keys", "add")
	stderrs := []string{r.stderr}
	m := addedKeyLine.FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("keys add printed %q", r.stdout)
	}
	k := humanKeys.FindStringSubmatch(strings.TrimPrefix(r.stdout, m[0]+"\n"))
	if k == nil {
		t.Fatalf("keys add printed %q", r.stdout)
	}
	newID := m[1]
	checkKeyPair(t, k[1], k[2])

	list := func() map[string]string { // public key → id
		t.Helper()
		r := mustRun(t, bin, dir, env, "keys", "list")
		stderrs = append(stderrs, r.stderr)
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		if !strings.HasPrefix(lines[0], "ID") {
			t.Fatalf("keys list has no header: %q", r.stdout)
		}
		out := map[string]string{}
		for _, l := range lines[1:] {
			f := strings.Fields(l)
			out[f[1]] = f[0]
		}
		return out
	}
	keys := list()
	if len(keys) != 2 || keys[k[2]] != newID || keys[firstPub] == "" {
		t.Fatalf("keys list after add = %v, want %s (%s) and %s", keys, k[2], newID, firstPub)
	}
	stderrs = append(stderrs, mustRun(t, bin, dir, env, "keys", "remove", newID).stderr)
	keys = list()
	if len(keys) != 1 || keys[firstPub] == "" {
		t.Fatalf("keys list after remove = %v, want only %s", keys, firstPub)
	}
	r = runCLI(t, bin, dir, env, "keys", "remove", keys[firstPub])
	if r.code != 1 || !strings.Contains(r.stderr, "last_key") {
		t.Errorf("removing the last key: exit %d, stderr %q; want 1 and last_key", r.code, r.stderr)
	}
	return append(stderrs, r.stderr)
}

// testCLIExitCodes checks usage errors (2) and failures (1), each with a
// one-line error on stderr.
func testCLIExitCodes(t *testing.T, bin, dir string, env map[string]string) {
	noServer := map[string]string{"SIGIL_SESSION_FILE": filepath.Join(dir, "other.json"), "SIGIL_URL": "http://" + testenv.FreeAddr(t)}
	tests := []struct {
		name string
		env  map[string]string
		argv []string
		code int
	}{
		{"register without id", env, []string{"register"}, 2},
		{"keys remove without id", env, []string{"keys", "remove"}, 2},
		{"whoami with an argument", env, []string{"whoami", "extra"}, 2},
		{"unknown command", env, []string{"bogus"}, 2},
		{"unknown keys subcommand", env, []string{"keys", "bogus"}, 2},
		{"unknown flag", env, []string{"keygen", "--nope"}, 2},
		{"login without user id", env, []string{"login"}, 2},
		{"bad --private-key", env, []string{"keys", "add", "--private-key", "AAAA"}, 2},
		{"login as an unknown user", env, []string{"login", "bob"}, 1},
		{"server down", noServer, []string{"login", "alice"}, 1},
		{"refresh without a session", noServer, []string{"refresh"}, 1},
		// The saved session (still live here) belongs to srv, not to SIGIL_URL.
		{"session for another server", map[string]string{"SIGIL_SESSION_FILE": env["SIGIL_SESSION_FILE"], "SIGIL_URL": noServer["SIGIL_URL"]}, []string{"whoami"}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, bin, dir, tt.env, tt.argv...)
			if r.code != tt.code {
				t.Errorf("exit %d, want %d (stderr %q)", r.code, tt.code, r.stderr)
			}
			if !strings.HasPrefix(r.stderr, "sigil: ") || strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("stderr %q, want one line starting with \"sigil: \"", r.stderr)
			}
		})
	}
}

func readSession(t *testing.T, path string) *session {
	t.Helper()
	s, err := loadSession(path)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// checkSessionFile checks the session file's and directory's modes.
func checkSessionFile(t *testing.T, path string) {
	t.Helper()
	for p, want := range map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != want {
			t.Errorf("%s mode %v, want %v", p, fi.Mode().Perm(), want)
		}
	}
}
