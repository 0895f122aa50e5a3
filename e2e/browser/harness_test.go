package browser

// The processes and servers the Node tests talk to: the sigil binary, the
// set-up done through its admin API, and the harness server that is the
// single-page app's origin.

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/testenv"
	"github.com/sigil-auth/sigil/verify"
)

// adminToken is SIGIL_ADMIN_TOKEN for every server these tests start.
const adminToken = "browser-e2e-admin-token-0123456789abcdefghij"

// client never waits long: a hung server fails the test, not stalls it.
var client = &http.Client{Timeout: 10 * time.Second}

// buildSigil compiles ./cmd/sigil of the repository at root.
func buildSigil(t *testing.T, root string) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "sigil")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/sigil")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/sigil: %v\n%s", err, out)
	}
	return bin
}

// sigil is a running `sigil serve` and what it has printed so far.
type sigil struct {
	url  string
	logs *testenv.Output
}

// startSigil serves database db (SIGIL_* settings) on a free loopback
// port, with mail to smtpURL and no rate limits, until t ends.
func startSigil(t *testing.T, bin string, db map[string]string, smtpURL string) *sigil {
	t.Helper()
	dir := t.TempDir()
	addr := testenv.FreeAddr(t)
	// localhost, not the loopback address: the issuer is the WebAuthn
	// relying party, and browsers take no IP address as an RP ID (and
	// treat http://localhost as a secure context).
	_, port, _ := strings.Cut(addr, ":")
	url := "http://localhost:" + port
	cmd := exec.Command(bin, "serve")
	cmd.Dir = dir // no stray .env
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"SIGIL_ADDR=" + addr,
		"SIGIL_ISSUER=" + url,
		"SIGIL_ADMIN_TOKEN=" + adminToken,
		"SIGIL_SMTP_URL=" + smtpURL,
		"SIGIL_RATE_LIMITS=off",
	}
	for k, v := range db {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	logs, exited := testenv.RunProcess(t, "sigil serve", cmd)
	testenv.WaitOK(t, "sigil serve", url+"/readyz", logs, exited)
	return &sigil{url: url, logs: logs}
}

// app is what the set-up made: the workspace's join code and the SPA's
// OAuth2 client.
type app struct{ joinCode, clientID, ws string }

// ownerEmail is the workspace's first account, so its owner: the Node
// tests sign in with it (password ownerPassword) for the admin pages.
// adminEmail is a member of the workspace that the operator made an
// instance admin (`sigil admin grant`), for the instance pages.
const (
	ownerEmail    = "owner@acme.test"
	adminEmail    = "root@acme.test"
	ownerPassword = "correct horse battery staple"
)

// setUpApp creates the workspace "Acme" with its owner's account (then
// adminEmail's) and registers the SPA at spa as a public client (API.md
// §9, §11), with the admin token.
func setUpApp(t *testing.T, sigilURL, spa string) app {
	t.Helper()
	admin := "Authorization: Bearer " + adminToken
	ws := testenv.Do(t, client, "POST", sigilURL+"/v1/workspaces", map[string]string{"name": "Acme"}, admin)
	if ws.Status != http.StatusCreated || ws.Str("id") == "" || ws.Str("join_code") == "" {
		t.Fatalf("POST /v1/workspaces = %d %s, want 201 with id and join_code", ws.Status, ws.Raw)
	}
	for _, email := range []string{ownerEmail, adminEmail} {
		acct := testenv.Do(t, client, "POST", sigilURL+"/v1/auth/signup", map[string]string{
			"email": email, "password": ownerPassword, "join_code": ws.Str("join_code")})
		if acct.Status != http.StatusCreated {
			t.Fatalf("signup of %s = %d %s", email, acct.Status, acct.Raw)
		}
	}
	reg := testenv.Do(t, client, "POST", sigilURL+"/v1/workspaces/"+ws.Str("id")+"/apps", map[string]any{
		"name":                       "Demo SPA",
		"redirect_uris":              []string{spa + "/callback.html"},
		"post_logout_redirect_uris":  []string{spa + "/"},
		"token_endpoint_auth_method": "none",
	}, admin)
	if reg.Status != http.StatusCreated || reg.Str("client_id") == "" {
		t.Fatalf("POST /v1/workspaces/{id}/apps = %d %s, want 201 with client_id", reg.Status, reg.Raw)
	}
	return app{joinCode: ws.Str("join_code"), clientID: reg.Str("client_id"), ws: ws.Str("id")}
}

// grantInstanceAdmin makes email an instance admin as an operator does:
// `sigil admin grant` on the server's database (db, its SIGIL_* settings).
func grantInstanceAdmin(t *testing.T, bin string, db map[string]string, email string) {
	t.Helper()
	dir := t.TempDir()
	cmd := exec.Command(bin, "admin", "grant", email)
	cmd.Dir = dir // no stray .env
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	for k, v := range db {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sigil admin grant %s: %v\n%s", email, err, out)
	}
}

// newVerifier is the verify middleware of the SPA's API, as a Go service
// would set it up (docs/integrations/go-middleware.md), closed when t ends.
func newVerifier(t *testing.T, sigilURL string) *verify.Verifier {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	v, err := verify.New(ctx, verify.Config{
		Issuer:     sigilURL,
		Credential: adminToken,
		Logger:     slog.New(slog.DiscardHandler),
	})
	if err != nil {
		t.Fatalf("verify.New: %v", err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

// harness is the SPA's origin: a loopback server whose address is known
// before it serves, so the app can be registered with it first.
type harness struct {
	srv *httptest.Server
	url string
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	s := httptest.NewUnstartedServer(http.NotFoundHandler())
	h := &harness{srv: s, url: "http://" + s.Listener.Addr().String()}
	t.Cleanup(s.Close)
	return h
}

// spaConfig is GET /config.json: what app.js hands to UserManager.
type spaConfig struct {
	Authority string `json:"authority"`
	ClientID  string `json:"client_id"`
}

// mailJSON is one message of GET /mail.
type mailJSON struct {
	To      string `json:"to"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
}

// start serves, from e2e/browser at dir:
//
//	GET /            spa/ (index.html, app.js, callback.html, …)
//	GET /vendor/     oidc-client-ts's self-contained browser build
//	GET /config.json cfg
//	GET /mail        every message box received, oldest first
//	GET /api/hello   {"hello": <subject>} behind v's middleware (401 without a good token)
func (h *harness) start(t *testing.T, dir string, cfg spaConfig, box *testenv.Mailbox, v *verify.Verifier) {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("GET /", http.FileServer(http.Dir(filepath.Join(dir, "spa"))))
	mux.Handle("GET /vendor/", http.StripPrefix("/vendor/",
		http.FileServer(http.Dir(filepath.Join(dir, "node_modules", "oidc-client-ts", "dist", "browser")))))
	mux.HandleFunc("GET /config.json", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, cfg) })
	mux.HandleFunc("GET /mail", func(w http.ResponseWriter, r *http.Request) {
		out := []mailJSON{}
		for _, m := range box.Messages() {
			out = append(out, mailJSON{To: m.To, Subject: m.Subject, Text: m.Text})
		}
		writeJSON(w, out)
	})
	mux.Handle("GET /api/hello", v.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, _ := verify.FromContext(r.Context())
		writeJSON(w, map[string]string{"hello": p.Subject})
	})))
	h.srv.Config.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		mux.ServeHTTP(w, r)
	})
	h.srv.Start()
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}
