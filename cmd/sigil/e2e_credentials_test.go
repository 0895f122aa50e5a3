package main

// End-to-end tests of the credential flows (API.md §4, §5, §10): password
// signup and login, API keys and JWT keys through the CLI, and the API-key
// exchange through the client package, against the real binary.

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/pquerna/otp/totp"

	"github.com/sigil-auth/sigil/client"
)

var (
	idLine     = regexp.MustCompile(`(?m)^ID: (\S+)$`)
	keyLine    = regexp.MustCompile(`(?m)^Key: (sk_\S+)$`)
	secretLine = regexp.MustCompile(`(?m)^Secret: (\S+)$`)
	uuidShape  = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

const e2ePassword = "correct horse battery staple"

func TestCredentialsEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the sigil binary; skipped with -short")
	}
	bin := buildSigil(t)
	srv := startServer(t, bin)
	dir := t.TempDir()
	w := &cliWalk{t: t, bin: bin, dir: dir, srv: srv, env: map[string]string{
		"SIGIL_URL":          srv.url,
		"SIGIL_SESSION_FILE": filepath.Join(dir, "state", "session.json"),
		"SIGIL_JOIN_CODE":    newWorkspace(t, srv, "e2e-credentials"),
	}}
	srv.remember(e2ePassword)

	s := testPasswordCLI(w)
	t.Run("APIKeys", func(t *testing.T) { testAPIKeyCLI(w.with(t), s) })
	t.Run("JWTKeys", func(t *testing.T) { testJWTKeyCLI(w.with(t)) })
	t.Run("Exchange", func(t *testing.T) { testAPIKeyExchange(w.with(t)) })
	t.Run("SecondFactor", func(t *testing.T) { testSecondFactorCLI(w.with(t)) })

	for _, e := range w.stderrs {
		for _, secret := range srv.secrets() {
			if strings.Contains(e, secret) {
				t.Errorf("stderr %q contains a secret", e)
			}
		}
	}
	logs := srv.logs.String()
	for _, secret := range srv.secrets() {
		if strings.Contains(logs, secret) {
			t.Errorf("the server log contains a secret (%.12s…)", secret)
		}
	}
}

// with is w for a subtest: same user, directory and stderr log.
func (w *cliWalk) with(t *testing.T) *cliWalk {
	w.t = t
	return w
}

// runStdin runs the CLI like runCLI, with stdin as its standard input.
func runStdin(t *testing.T, bin, dir string, env map[string]string, stdin string, argv ...string) cliResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, argv...)
	cmd.Dir = dir
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "XDG_CONFIG_HOME=" + filepath.Join(dir, "xdg")}
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	res := cliResult{stdout: stdout.String(), stderr: stderr.String()}
	if ee, ok := err.(*exec.ExitError); ok {
		res.code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("sigil %v: %v", argv, err)
	}
	return res
}

// testPasswordCLI: signup (password from SIGIL_PASSWORD), a taken email,
// login --email with the password piped on stdin, a wrong password.
// It returns the logged-in session.
func testPasswordCLI(w *cliWalk) *session {
	t := w.t
	env := copyEnv(w.env, "SIGIL_PASSWORD", e2ePassword)
	r := mustRun(t, w.bin, w.dir, env, "signup", "--email", "carol@example.com")
	w.stderrs = append(w.stderrs, r.stderr)
	if !strings.HasPrefix(r.stdout, "Signed up as carol@example.com (user ") {
		t.Fatalf("signup printed %q", r.stdout)
	}
	signed := w.session()
	if signed.Email != "carol@example.com" || signed.UserID == "" || signed.UserID == signed.Email {
		t.Errorf("session after signup: user %q email %q; want the server's user id", signed.UserID, signed.Email)
	}
	checkSessionFile(t, w.env["SIGIL_SESSION_FILE"])

	r = runCLI(t, w.bin, w.dir, env, "signup", "--email", "carol@example.com")
	if r.code != 1 || !strings.Contains(r.stderr, "email_exists") {
		t.Errorf("second signup: exit %d, stderr %q; want 1 and email_exists", r.code, r.stderr)
	}
	r = runStdin(t, w.bin, w.dir, w.env, "not the password\n", "login", "--email", "carol@example.com")
	if r.code != 1 || !strings.Contains(r.stderr, "invalid_credentials") || strings.Contains(r.stderr, "run `sigil login`") {
		t.Errorf("login with a wrong password: exit %d, stderr %q", r.code, r.stderr)
	}
	r = runStdin(t, w.bin, w.dir, w.env, e2ePassword+"\n", "login", "--email", "carol@example.com")
	w.stderrs = append(w.stderrs, r.stderr)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "Logged in as carol@example.com") {
		t.Fatalf("login --email: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	s := w.session()
	if s.SessionID == signed.SessionID || s.UserID != signed.UserID {
		t.Errorf("login: session %s (signup's %s), user %s (signup's %s)", s.SessionID, signed.SessionID, s.UserID, signed.UserID)
	}
	id, err := client.New(w.srv.url).Whoami(context.Background(), s.AccessToken)
	if err != nil || id.Subject != s.UserID || id.Kind != "user" || id.WorkspaceID == "" {
		t.Errorf("whoami after login --email: %+v, %v", id, err)
	}
	return s
}

// getRoot is GET / with one credential header; it returns the status.
func getRoot(t *testing.T, srv *e2eServer, header, value string) int {
	t.Helper()
	req, err := http.NewRequest("GET", srv.url+"/", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set(header, value)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// eventuallyStatus polls GET / until it answers want, allowing the 1 s
// that API.md §4 gives a revocation to reach every verifier.
func eventuallyStatus(t *testing.T, srv *e2eServer, header, value string, want int) {
	t.Helper()
	deadline := time.Now().Add(1500 * time.Millisecond)
	for {
		st := getRoot(t, srv, header, value)
		if st == want {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("GET / with %s = %d, want %d", header, st, want)
			return
		}
		time.Sleep(50 * time.Millisecond) // bounded poll for propagation, not for expiry
	}
}

func copyEnv(env map[string]string, kv ...string) map[string]string {
	out := map[string]string{}
	for k, v := range env {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i]] = kv[i+1]
	}
	return out
}

// newKeyOf reads the id and secret that a create or rotate printed, and
// checks the shown-once warning.
func newKeyOf(t *testing.T, r cliResult, secret *regexp.Regexp) (id, key string) {
	t.Helper()
	m, k := idLine.FindStringSubmatch(r.stdout), secret.FindStringSubmatch(r.stdout)
	if m == nil || k == nil {
		t.Fatalf("no ID/secret lines in %q", r.stdout)
	}
	if !strings.Contains(r.stderr, "will not be shown again") {
		t.Errorf("stderr %q has no shown-once warning", r.stderr)
	}
	return m[1], k[1]
}

// table runs a list command and returns its rows by id (first column),
// each row split on whitespace.
func (w *cliWalk) table(env map[string]string, argv ...string) map[string][]string {
	w.t.Helper()
	r := mustRun(w.t, w.bin, w.dir, env, argv...)
	w.stderrs = append(w.stderrs, r.stderr)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if !strings.HasPrefix(lines[0], "ID") {
		w.t.Fatalf("%v printed no header: %q", argv, r.stdout)
	}
	rows := map[string][]string{}
	for _, l := range lines[1:] {
		f := strings.Fields(l)
		rows[f[0]] = f
	}
	return rows
}

// testAPIKeyCLI: create, use, list, rotate (both keys work in the grace
// period), revoke (refused), and the credentials the commands accept.
func testAPIKeyCLI(w *cliWalk, s *session) {
	t, srv := w.t, w.srv
	r := w.run("apikey", "create", "--name", "ci", "--scope", "read", "--scope", "write", "--expires-in", "720h")
	id1, key1 := newKeyOf(t, r, keyLine)
	srv.remember(key1)
	if !strings.Contains(r.stdout, "\nScopes: read write\n") || strings.Contains(r.stdout, "Expires: never") {
		t.Errorf("apikey create printed %q", r.stdout)
	}
	for _, h := range [][2]string{{"X-API-KEY", key1}, {"Authorization", key1}, {"Authorization", "Bearer " + key1}} {
		if st := getRoot(t, srv, h[0], h[1]); st != 200 {
			t.Errorf("GET / with the new key in %s = %d, want 200", h[0], st)
		}
	}
	rows := w.table(w.env, "apikey", "list")
	if row := rows[id1]; len(row) != 8 || !strings.HasPrefix(key1, row[2]) || row[3] != "read,write" || row[7] != "active" {
		t.Errorf("apikey list row for %s = %v", id1, row)
	}

	r = w.run("apikey", "rotate", id1, "--grace", "1h")
	id2, key2 := newKeyOf(t, r, keyLine)
	srv.remember(key2)
	if id2 == id1 || key2 == key1 {
		t.Fatalf("rotate returned the same id or key")
	}
	for _, k := range []string{key1, key2} {
		if st := getRoot(t, srv, "X-API-KEY", k); st != 200 {
			t.Errorf("GET / with a key in the grace period = %d, want 200", st)
		}
	}
	w.run("apikey", "revoke", id1)
	eventuallyStatus(t, srv, "X-API-KEY", key1, 401)
	if st := getRoot(t, srv, "X-API-KEY", key2); st != 200 {
		t.Errorf("GET / with the rotated key after revoking the old = %d, want 200", st)
	}
	rows = w.table(w.env, "apikey", "list")
	if rows[id1][7] != "revoked" || rows[id2][7] != "active" {
		t.Errorf("apikey list after revoke: %v / %v", rows[id1], rows[id2])
	}
	testAPIKeyCredentials(w, s, id1, id2, key2)
}

// testAPIKeyCredentials: the admin token (with a workspace), an API key
// (refused by this server: managing keys acts for a person), failures.
func testAPIKeyCredentials(w *cliWalk, s *session, id1, id2, key2 string) {
	t := w.t
	id, err := client.New(w.srv.url).Whoami(context.Background(), s.AccessToken)
	if err != nil {
		t.Fatal(err)
	}
	w.srv.remember(e2eAdminToken)
	admin := copyEnv(w.env, "SIGIL_ADMIN_TOKEN", e2eAdminToken, "SIGIL_WORKSPACE_ID", id.WorkspaceID)
	if rows := w.table(admin, "apikey", "list"); len(rows[id1]) == 0 || len(rows[id2]) == 0 {
		t.Errorf("apikey list with the admin token: %v, want %s and %s", rows, id1, id2)
	}
	tests := []struct {
		name     string
		env      map[string]string
		argv     []string
		want     string // in stderr
		wantHint string // and this too
	}{
		{"scope the user lacks", w.env, []string{"apikey", "create", "--name", "x", "--scope", "admin"}, "insufficient_scope", ""},
		{"admin token without a workspace", copyEnv(w.env, "SIGIL_ADMIN_TOKEN", e2eAdminToken), []string{"apikey", "list"}, "workspace_id", ""},
		{"api key as the credential", copyEnv(w.env, "SIGIL_API_KEY", key2), []string{"apikey", "list"}, "insufficient_scope", ""},
		{"unknown key as the credential", copyEnv(w.env, "SIGIL_API_KEY", "sk_not_a_real_key"), []string{"jwtkey", "list"}, "401", "check SIGIL_API_KEY"},
		{"unknown key", w.env, []string{"apikey", "revoke", "ak_nope"}, "not_found", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runCLI(t, w.bin, w.dir, tt.env, tt.argv...)
			w.stderrs = append(w.stderrs, r.stderr)
			if r.code != 1 || !strings.Contains(r.stderr, tt.want) || !strings.Contains(r.stderr, tt.wantHint) {
				t.Errorf("exit %d, stderr %q; want 1 and %q %q", r.code, r.stderr, tt.want, tt.wantHint)
			}
			if strings.Count(r.stderr, "\n") != 1 {
				t.Errorf("stderr %q is not one line", r.stderr)
			}
		})
	}
}

// testJWTKeyCLI: create, list, a customer-minted HS256 JWT accepted, one
// without kid or with another secret refused, delete → refused.
func testJWTKeyCLI(w *cliWalk) {
	t, srv := w.t, w.srv
	r := w.run("jwtkey", "create", "--name", "backend")
	id, secret := newKeyOf(t, r, secretLine)
	srv.remember(secret)
	if !uuidShape.MatchString(id) || len(secret) < 43 || !strings.Contains(r.stdout, "\nAlgorithm: HS256\n") {
		t.Errorf("jwtkey create printed id %q, a %d-character secret: %q", id, len(secret), r.stdout)
	}
	if rows := w.table(w.env, "jwtkey", "list"); len(rows[id]) == 0 || rows[id][2] != "HS256" {
		t.Errorf("jwtkey list = %v, want %s", rows, id)
	}
	mint := func(kid, key string) string {
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
			"sub": "backend-service", "iat": time.Now().Unix(), "exp": time.Now().Add(5 * time.Minute).Unix()})
		if kid != "" {
			tok.Header["kid"] = kid
		}
		s, err := tok.SignedString([]byte(key))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	good := mint(id, secret)
	if st := getRoot(t, srv, "Authorization", "Bearer "+good); st != 200 {
		t.Errorf("GET / with a customer JWT = %d, want 200", st)
	}
	_, err := client.New(srv.url).Whoami(context.Background(), mint("", secret))
	wantAPIError(t, "a JWT without kid", err, 401, "missing_kid")
	if st := getRoot(t, srv, "Authorization", "Bearer "+mint(id, secret+"x")); st != 401 {
		t.Errorf("GET / with a JWT signed by another secret = %d, want 401", st)
	}
	w.run("jwtkey", "delete", id)
	eventuallyStatus(t, srv, "Authorization", "Bearer "+good, 401)
	if rows := w.table(w.env, "jwtkey", "list"); len(rows[id]) != 0 {
		t.Errorf("jwtkey list after delete still shows %s", id)
	}
}

// testAPIKeyExchange drives the client package: a key made with the
// session, exchanged per session id, and the exchanged tokens refused
// once the key is revoked.
func testAPIKeyExchange(w *cliWalk) {
	t, srv := w.t, w.srv
	ctx := context.Background()
	c := client.New(srv.url)
	s := w.session()
	k, err := c.CreateAPIKey(ctx, s.AccessToken, client.APIKeyRequest{Name: "exchanger", Scopes: []string{"read"}})
	if err != nil {
		t.Fatalf("CreateAPIKey: %v", err)
	}
	srv.remember(k.Key)
	a1, err := c.ExchangeAPIKey(ctx, k.Key, "job-1")
	if err != nil {
		t.Fatalf("ExchangeAPIKey: %v", err)
	}
	srv.remember(a1.AccessToken)
	if a1.TokenType != "Bearer" || a1.ExpiresIn <= 0 || a1.ExpiresIn > 7200 || a1.RefreshToken != "" {
		t.Errorf("exchange answer: type %q, expires_in %d, refresh token %v", a1.TokenType, a1.ExpiresIn, a1.RefreshToken != "")
	}
	again, err := c.ExchangeAPIKey(ctx, k.Key, "job-1")
	if err != nil || again.AccessToken != a1.AccessToken {
		t.Errorf("same session id: err %v, same token %v", err, err == nil && again.AccessToken == a1.AccessToken)
	}
	other, err := c.ExchangeAPIKey(ctx, k.Key, "job-2")
	if err != nil || other.AccessToken == a1.AccessToken {
		t.Errorf("new session id: err %v, new token %v", err, err == nil && other.AccessToken != a1.AccessToken)
	} else {
		srv.remember(other.AccessToken)
	}
	id, err := c.Whoami(ctx, a1.AccessToken)
	if err != nil || id.Subject != k.ID || len(id.Scopes) != 1 || id.Scopes[0] != "read" {
		t.Errorf("whoami with an exchanged token: %+v, %v; want subject %s, scopes [read]", id, err, k.ID)
	}
	if err := c.RevokeAPIKey(ctx, s.AccessToken, k.ID); err != nil {
		t.Fatalf("RevokeAPIKey: %v", err)
	}
	eventuallyStatus(t, srv, "Authorization", "Bearer "+a1.AccessToken, 401)
	_, err = c.ExchangeAPIKey(ctx, k.Key, "job-1")
	wantAPIError(t, "exchanging a revoked key", err, 401, "invalid_credentials")
}

// testSecondFactorCLI: dora enrols an authenticator app; `login --email`
// then says a second factor is needed (exit 1, naming SIGIL_MFA_CODE), a
// wrong code is refused, and the next step's code logs in.
func testSecondFactorCLI(w *cliWalk) {
	t := w.t
	env := copyEnv(w.env, "SIGIL_PASSWORD", e2ePassword)
	mustRun(t, w.bin, w.dir, env, "signup", "--email", "dora@example.com")
	s := w.session()
	var f struct{ ID, Secret string }
	if st := apiJSON(t, "POST", w.srv.url+"/v1/users/me/factors/totp", s.AccessToken, map[string]any{}, &f); st != 201 {
		t.Fatalf("enrol TOTP: %d", st)
	}
	now := time.Now()
	code, _ := totp.GenerateCode(f.Secret, now)
	if st := apiJSON(t, "POST", w.srv.url+"/v1/users/me/factors/"+f.ID+"/verify", s.AccessToken, map[string]string{"code": code}, nil); st != 200 {
		t.Fatalf("confirm TOTP: %d", st)
	}
	r := runCLI(t, w.bin, w.dir, env, "login", "--email", "dora@example.com")
	if r.code != 1 || !strings.Contains(r.stderr, "SIGIL_MFA_CODE") {
		t.Errorf("login without a code: exit %d, stderr %q", r.code, r.stderr)
	}
	r = runCLI(t, w.bin, w.dir, copyEnv(env, "SIGIL_MFA_CODE", "000000"), "login", "--email", "dora@example.com")
	if r.code != 1 || !strings.Contains(r.stderr, "invalid_code") {
		t.Errorf("login with a wrong code: exit %d, stderr %q", r.code, r.stderr)
	}
	next, _ := totp.GenerateCode(f.Secret, now.Add(30*time.Second)) // confirming used this step's
	r = runCLI(t, w.bin, w.dir, copyEnv(env, "SIGIL_MFA_CODE", next), "login", "--email", "dora@example.com")
	w.stderrs = append(w.stderrs, r.stderr)
	if r.code != 0 || !strings.HasPrefix(r.stdout, "Logged in as dora@example.com") {
		t.Fatalf("login with the code: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}
