package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	setupURLRE = regexp.MustCompile(`"setup_url":"(http://[^"]+/setup\?token=st_[A-Za-z0-9_-]+)"`)
	joinCodeRE = regexp.MustCompile(`id="join-value" class="secret-value">(jc_[^<]+)<`)
)

// setupURL is the first-run link in a server's log, "" if none.
func setupURL(srv *e2eServer) string {
	m := setupURLRE.FindStringSubmatch(srv.logs.String())
	if m == nil {
		return ""
	}
	return m[1]
}

// waitSetupURL is setupURL once the link is logged: serve logs it just
// after it starts listening, so it can come a moment after readiness.
func waitSetupURL(srv *e2eServer) string {
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if u := setupURL(srv); u != "" || time.Now().After(deadline) {
			return u
		}
	}
}

// browserClient keeps cookies and stops at redirects, as a test of pages
// needs.
func browserClient(t *testing.T) *http.Client {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// page requests a page (a form post when form is not nil) and returns the
// status and body.
// csrfRE finds a page's CSRF proof (the hidden field of its forms).
var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

func page(t *testing.T, c *http.Client, method, u string, form url.Values) (int, string) {
	t.Helper()
	var res *http.Response
	var err error
	if form != nil {
		res, err = c.PostForm(u, form)
	} else {
		res, err = c.Get(u)
	}
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, u, err)
	}
	return res.StatusCode, string(body)
}

// TestFirstRunAndAdminGrant: `sigil serve` on an empty database logs a
// setup link; a second start replaces it (the first dies, the newest
// works on either process); the setup page makes the first workspace and
// an instance admin who lands on the dashboard; a restart logs no link;
// and `sigil admin grant` on the same database makes a second account an
// instance admin, with the exit codes of API.md §10.
func TestFirstRunAndAdminGrant(t *testing.T) {
	bin, dir, env := sharedDatabase(t, "http://sigil.first-run.test")
	a := startServerEnv(t, bin, env)
	first := waitSetupURL(a)
	if first == "" {
		t.Fatalf("no setup_url in the first start's log:\n%s", a.logs)
	}
	b := startServerEnv(t, bin, env)
	newest := waitSetupURL(b)
	if newest == "" || newest == first {
		t.Fatalf("the second start's setup_url %q (first %q)", newest, first)
	}
	local := func(srv *e2eServer, link string) string { // the link, sent to srv
		return srv.url + strings.TrimPrefix(link, "http://sigil.first-run.test")
	}
	c := browserClient(t)
	if st, body := page(t, c, "GET", local(a, first), nil); st != 404 || !strings.Contains(body, "restart sigil serve") {
		t.Fatalf("the replaced link: %d\n%s", st, body)
	}
	st, body := page(t, c, "GET", local(a, newest), nil)
	if st != 200 {
		t.Fatalf("the newest link on the other process: %d\n%s", st, body)
	}
	tok, _ := url.Parse(newest)
	st, _ = page(t, c, "POST", a.url+"/setup", url.Values{"token": {tok.Query().Get("token")},
		"workspace": {"Acme"}, "email": {"root@example.com"}, "password": {"correct horse battery"}})
	if st != http.StatusSeeOther {
		t.Fatalf("POST /setup: %d", st)
	}
	st, body = page(t, c, "GET", a.url+"/dashboard/workspaces?welcome=1", nil)
	if st != 200 || !strings.Contains(body, "Acme") || !strings.Contains(body, "Sigil is set up") {
		t.Fatalf("the dashboard after setup: %d\n%s", st, body)
	}
	// The page's forms carry the session's CSRF proof; a post needs it.
	proof := csrfRE.FindStringSubmatch(body)
	if proof == nil {
		t.Fatalf("the dashboard's forms carry no CSRF proof:\n%s", body)
	}
	if again := startServerEnv(t, bin, env); setupURL(again) != "" {
		t.Errorf("a start with an account logged a setup link:\n%s", again.logs)
	}

	// The admin makes a workspace; its first member becomes an instance
	// admin through the CLI.
	st, body = page(t, c, "POST", a.url+"/dashboard/workspaces", url.Values{"name": {"Globex"}, "csrf": {proof[1]}})
	code := joinCodeRE.FindStringSubmatch(body)
	if st != 201 || code == nil {
		t.Fatalf("create workspace: %d\n%s", st, body)
	}
	if st := apiJSON(t, "POST", a.url+"/v1/auth/signup", "", map[string]string{"email": "bob@example.com",
		"password": "correct horse battery", "join_code": code[1]}, nil); st != 201 {
		t.Fatalf("signup: %d", st)
	}
	bob := browserClient(t)
	signIn := func() int {
		if st, body := page(t, bob, "POST", a.url+"/login", url.Values{"email": {"bob@example.com"}, "password": {"correct horse battery"}}); st != 303 {
			t.Fatalf("bob signs in: %d\n%s", st, body)
		}
		st, _ := page(t, bob, "GET", a.url+"/dashboard/workspaces", nil)
		return st
	}
	if st := signIn(); st != 403 {
		t.Errorf("bob before the grant: %d, want 403", st)
	}
	r := mustRun(t, bin, dir, env, "admin", "grant", "bob@example.com")
	if !strings.Contains(r.stdout, "bob@example.com") || !strings.Contains(r.stdout, "is now an instance admin") {
		t.Errorf("grant said %q", r.stdout)
	}
	if st := signIn(); st != 200 {
		t.Errorf("bob after the grant: %d, want 200", st)
	}
	if r := mustRun(t, bin, dir, env, "admin", "grant", "bob@example.com"); !strings.Contains(r.stdout, "already") {
		t.Errorf("a second grant said %q", r.stdout)
	}
	for _, tt := range []struct {
		argv []string
		code int
	}{
		{[]string{"admin", "grant", "nobody@example.com"}, 1},
		{[]string{"admin", "grant"}, 2},
		{[]string{"admin", "grant", "a@example.com", "b@example.com"}, 2},
		{[]string{"admin", "promote", "bob@example.com"}, 2},
	} {
		if r := runCLI(t, bin, dir, env, tt.argv...); r.code != tt.code || (tt.code == 1 && !strings.HasPrefix(r.stderr, "sigil: no account uses")) {
			t.Errorf("sigil %v: exit %d, stderr %q; want exit %d", tt.argv, r.code, r.stderr, tt.code)
		}
	}
	if r := mustRun(t, bin, dir, env, "admin", "revoke", "bob@example.com"); !strings.Contains(r.stdout, "is no longer an instance admin") {
		t.Errorf("revoke said %q", r.stdout)
	}
}
