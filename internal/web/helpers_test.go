package web_test

import (
	"context"
	"html"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/sigil-auth/sigil/internal/password"
	"github.com/sigil-auth/sigil/internal/testenv"
)

// fastPasswords keeps the suite quick.
var fastPasswords = password.New(password.Params{Memory: 256, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 0)

const (
	appRedirect = "http://127.0.0.1:7777/callback"
	appLogout   = "http://127.0.0.1:7777/"
	userEmail   = "ada@example.com"
	userPass    = "correct horse battery"
)

func eachBackend(t *testing.T, f func(t *testing.T, db testenv.Database)) {
	for _, b := range testenv.Backends {
		t.Run(b, func(t *testing.T) { f(t, testenv.NewDatabase(t, b)) })
	}
}

// env is a running server with a workspace, a public app and a password
// user in it.
type env struct {
	s        *testenv.Server
	ws, join string
	clientID string
}

func newEnv(t testing.TB, db testenv.Database, o testenv.Options) *env {
	t.Helper()
	o.IssuerIsURL, o.Passwords = true, fastPasswords
	s := testenv.Start(t, db, o)
	admin := "Authorization: Bearer " + testenv.AdminToken
	ws := testenv.Do(t, nil, "POST", s.URL+"/v1/workspaces", map[string]any{"name": "Acme"}, admin)
	if ws.Status != 201 {
		t.Fatalf("create workspace: %d %s", ws.Status, ws.Raw)
	}
	e := &env{s: s, ws: ws.Str("id"), join: ws.Str("join_code")}
	e.clientID = e.app(t, map[string]any{"name": "Demo", "redirect_uris": []string{appRedirect},
		"post_logout_redirect_uris": []string{appLogout}}).Str("client_id")
	if r := testenv.Do(t, nil, "POST", s.URL+"/v1/auth/signup", map[string]any{"email": userEmail,
		"password": userPass, "join_code": e.join}); r.Status != 201 {
		t.Fatalf("signup: %d %s", r.Status, r.Raw)
	}
	return e
}

// app registers an app in the env's workspace.
func (e *env) app(t testing.TB, body map[string]any) testenv.Response {
	t.Helper()
	r := testenv.Do(t, nil, "POST", e.s.URL+"/v1/workspaces/"+e.ws+"/apps", body, "Authorization: Bearer "+testenv.AdminToken)
	if r.Status != 201 {
		t.Fatalf("create app: %d %s", r.Status, r.Raw)
	}
	return r
}

// oauth is a stock golang.org/x/oauth2 config for the env's app, with
// go-oidc's provider found by discovery.
func (e *env) oauth(t *testing.T) (*oauth2.Config, *oidc.Provider) {
	t.Helper()
	p, err := oidc.NewProvider(context.Background(), e.s.URL)
	if err != nil {
		t.Fatalf("discovery: %v", err)
	}
	return &oauth2.Config{ClientID: e.clientID, Endpoint: p.Endpoint(), RedirectURL: appRedirect,
		Scopes: []string{oidc.ScopeOpenID, "email", "read"}}, p
}

// redeem redeems a code with the stock client conf and has go-oidc
// verify its ID token; it returns the tokens, the raw ID token and the
// verified one.
func (e *env) redeem(t *testing.T, conf *oauth2.Config, p *oidc.Provider, code, verifier string) (*oauth2.Token, string, *oidc.IDToken) {
	t.Helper()
	ctx := context.Background()
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
	if err != nil {
		t.Fatalf("exchange: %v", err)
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&oidc.Config{ClientID: e.clientID, Now: e.s.Clock.Now}).Verify(ctx, raw)
	if err != nil {
		t.Fatalf("go-oidc refused the ID token: %v", err)
	}
	return tok, raw, idt
}

// browser is an HTTP client that keeps cookies and stops at redirects,
// so a test sees every step a browser takes.
func browser(t testing.TB) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// get fetches u with c and returns the response (body read and closed).
func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	res, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return res, readBody(res)
}

// post sends a same-origin form post (as a browser does, with Origin)
// carrying the CSRF proof of c's browser session, as a form of a page
// served to it would; a form that has a "csrf" field is sent as it is.
func post(t *testing.T, c *http.Client, u string, form url.Values, hdr ...string) (*http.Response, string) {
	t.Helper()
	pu, _ := url.Parse(u)
	origin := pu.Scheme + "://" + pu.Host
	if !form.Has("csrf") {
		with := url.Values{"csrf": {csrfOf(t, c, origin)}}
		for k, v := range form {
			with[k] = v
		}
		form = with
	}
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", origin)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for _, h := range hdr {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", u, err)
	}
	return res, readBody(res)
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]*)"`)

// csrfOf is the CSRF proof of c's browser session, read from its account
// page ("" when c is not signed in).
func csrfOf(t *testing.T, c *http.Client, origin string) string {
	t.Helper()
	_, body := get(t, c, origin+"/account")
	if m := csrfRE.FindStringSubmatch(body); m != nil {
		return m[1]
	}
	return ""
}

func readBody(res *http.Response) string {
	defer res.Body.Close()
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := res.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String()
		}
	}
}

var returnField = regexp.MustCompile(`name="return" value="([^"]*)"`)

// signIn follows an authorization URL through the hosted sign-in page
// and returns the redirect to the app (its Location).
func (e *env) signIn(t *testing.T, c *http.Client, authURL, email, pass string) *url.URL {
	t.Helper()
	res, _ := get(t, c, authURL)
	if res.StatusCode != http.StatusFound {
		t.Fatalf("authorize: %d, want 302 to the sign-in page", res.StatusCode)
	}
	loc := res.Header.Get("Location")
	if !strings.HasPrefix(loc, "/login?") {
		return location(t, res) // already signed in
	}
	res, body := get(t, c, e.s.URL+loc)
	m := returnField.FindStringSubmatch(body)
	if res.StatusCode != 200 || m == nil {
		t.Fatalf("sign-in page: %d without the return field:\n%s", res.StatusCode, body)
	}
	ret := html.UnescapeString(m[1])
	res, body = post(t, c, e.s.URL+"/login", url.Values{"email": {email}, "password": {pass}, "return": {ret}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d, want 303 back to the app:\n%s", res.StatusCode, body)
	}
	return location(t, res)
}

func location(t *testing.T, res *http.Response) *url.URL {
	t.Helper()
	u, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// wantAudit waits (the audit log is written in batches) until the
// workspace's audit log holds every one of actions.
func (e *env) wantAudit(t *testing.T, actions ...string) {
	t.Helper()
	testenv.WantAudit(t, e.s.URL+"/v1/audit?limit=200&workspace_id="+e.ws, "Authorization: Bearer "+testenv.AdminToken, actions...)
}
