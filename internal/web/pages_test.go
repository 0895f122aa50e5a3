package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sigil-auth/sigil/internal/ratelimit"
	"github.com/sigil-auth/sigil/internal/testenv"
)

// TestPageHeaders: every page forbids framing and inline script, and
// does not leak its URL (tokens) as a referrer.
func TestPageHeaders(t *testing.T) {
	e := newEnv(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{})
	for _, p := range []string{"/login", "/signup", "/forgot-password", "/reset-password?token=x", "/verify-email?token=x",
		"/logout", "/oauth2/authorize?client_id=nope"} {
		res, body := get(t, browser(t), e.s.URL+p)
		h := res.Header
		csp := h.Get("Content-Security-Policy")
		switch {
		case !strings.Contains(csp, "frame-ancestors 'none'"), !strings.Contains(csp, "script-src 'self'"),
			strings.Contains(csp, "unsafe-inline"), strings.Contains(csp, "unsafe-eval"):
			t.Errorf("%s: CSP %q", p, csp)
		case h.Get("X-Content-Type-Options") != "nosniff", h.Get("Referrer-Policy") != "no-referrer",
			h.Get("X-Frame-Options") != "DENY", h.Get("Cache-Control") != "no-store":
			t.Errorf("%s: headers %v", p, h)
		case strings.Contains(body, "<script>"), regexp.MustCompile(`\son[a-z]+=`).MatchString(body), strings.Contains(body, "style="):
			t.Errorf("%s: inline script or style in the page", p)
		}
	}
}

// TestAnswerHeaders: the answers that are not rendered pages — redirects
// (to the sign-in page, to an IdP, back to the app with a code or an
// error, after a form post), assets and JSON — carry the pages' security
// headers too (API.md §11: every HTML response, and a GET redirect has an
// HTML body).
func TestAnswerHeaders(t *testing.T) {
	e := newEnv(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{})
	_, cid := e.idp(t, nil)
	conf, _ := e.oauth(t)
	request := func(extra ...oauth2.AuthCodeOption) string {
		return conf.AuthCodeURL("st", append(extra, oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))...)
	}
	signedIn := e.signInBrowser(t, userEmail, userPass)
	tests := []struct {
		name   string
		c      *http.Client
		method string // GET, or POST with form
		url    string
		form   url.Values
		status int
		to     string // a prefix of Location, for a redirect
	}{
		{"authorize to the sign-in page", browser(t), "GET", request(), nil, 302, "/login?"},
		{"authorize to the connection", browser(t), "GET", request(oauth2.SetAuthURLParam("connection", cid)), nil, 302, "/sso/" + cid + "/start?"},
		{"authorize error to the app", browser(t), "GET", request(oauth2.SetAuthURLParam("prompt", "none")), nil, 302, appRedirect + "?error=login_required"},
		{"authorize code to the app", signedIn, "GET", request(), nil, 302, appRedirect + "?code="},
		{"sso start to the IdP", browser(t), "GET", e.s.URL + "/sso/" + cid + "/start", nil, 302, "http://127.0.0.1:"},
		{"sign-in post to the account", browser(t), "POST", e.s.URL + "/login", url.Values{"email": {userEmail}, "password": {userPass}}, 303, "/account"},
		// Passkeys need an https issuer: a JSON refusal here.
		{"passkey begin (JSON)", browser(t), "POST", e.s.URL + "/login/passkey/begin", url.Values{}, 400, ""},
		{"asset", browser(t), "GET", e.s.URL + "/assets/sigil.css", nil, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var res *http.Response
			if tt.method == "POST" {
				res, _ = post(t, tt.c, tt.url, tt.form)
			} else {
				res, _ = get(t, tt.c, tt.url)
			}
			h := res.Header
			if res.StatusCode != tt.status || !strings.HasPrefix(h.Get("Location"), tt.to) {
				t.Fatalf("%d to %q, want %d to %s…", res.StatusCode, h.Get("Location"), tt.status, tt.to)
			}
			csp := h.Get("Content-Security-Policy")
			if !strings.Contains(csp, "frame-ancestors 'none'") || !strings.Contains(csp, "script-src 'self'") ||
				strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
				t.Errorf("CSP %q", csp)
			}
			if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" || h.Get("X-Frame-Options") != "DENY" {
				t.Errorf("headers %v", h)
			}
			if tt.to != "" && h.Get("Cache-Control") != "no-store" {
				t.Errorf("a redirect with Cache-Control %q, want no-store", h.Get("Cache-Control"))
			}
		})
	}
}

// TestCrossOriginPosts: a form posted from another site is refused with
// 403 before it reaches the domain (no login attempt is counted).
func TestCrossOriginPosts(t *testing.T) {
	e := newEnv(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{})
	form := url.Values{"email": {userEmail}, "password": {userPass}}
	for _, p := range []string{"/login", "/signup", "/forgot-password", "/reset-password", "/verify-email", "/logout"} {
		for _, hdr := range [][]string{
			{"Origin: https://evil.test", "Sec-Fetch-Site: cross-site"},
			{"Origin: https://evil.test", "Sec-Fetch-Site: "},
			{"Origin: null", "Sec-Fetch-Site: cross-site"},
		} {
			res, body := post(t, browser(t), e.s.URL+p, form, hdr...)
			if res.StatusCode != http.StatusForbidden || res.Header.Get("Set-Cookie") != "" {
				t.Errorf("%s with %v: %d, want 403 and no cookie", p, hdr, res.StatusCode)
			}
			if !strings.Contains(body, "another site") {
				t.Errorf("%s: the refusal page does not say why:\n%s", p, body)
			}
		}
	}
	// The same post from our own origin signs in.
	res, _ := post(t, browser(t), e.s.URL+"/login", form)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/account" {
		t.Fatalf("same-origin sign-in: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
}

// TestSignInForm: wrong passwords are told apart from nothing, the
// cookie is HttpOnly and SameSite=Lax, and the form counts against the
// login limits like the JSON login.
func TestSignInForm(t *testing.T) {
	rules, err := ratelimit.ParseRules("login_ip=100/m,login_account=3/m")
	if err != nil {
		t.Fatal(err)
	}
	e := newEnv(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{Limits: rules})
	c := browser(t)
	for _, tc := range []struct {
		email, pass string
		status      int
		says        string
	}{
		{userEmail, "wrong password", 401, "don&#39;t match an account"},
		{"nobody@example.com", "wrong password", 401, "don&#39;t match an account"},
		{"not an email", "x", 400, "Email is not a valid address."},
	} {
		res, body := post(t, c, e.s.URL+"/login", url.Values{"email": {tc.email}, "password": {tc.pass}})
		if res.StatusCode != tc.status || !strings.Contains(body, `role="alert"`) || !strings.Contains(body, tc.says) {
			t.Errorf("%s: %d, want %d with an alert saying %q", tc.email, res.StatusCode, tc.status, tc.says)
		}
		if !strings.Contains(body, `value="`+tc.email+`"`) {
			t.Errorf("%s: the email is not kept in the form", tc.email)
		}
	}
	res, _ := post(t, c, e.s.URL+"/login", url.Values{"email": {userEmail}, "password": {userPass}})
	cookie := res.Header.Get("Set-Cookie")
	if res.StatusCode != 303 || !strings.Contains(cookie, "HttpOnly") || !strings.Contains(cookie, "SameSite=Lax") {
		t.Fatalf("sign-in: %d, cookie %q", res.StatusCode, cookie)
	}
	res, body := get(t, c, e.s.URL+"/account")
	if res.StatusCode != 200 || !strings.Contains(body, userEmail) {
		t.Fatalf("account page: %d\n%s", res.StatusCode, body)
	}
	// Two attempts for the account so far: the third is let through, the
	// fourth is refused even with the right password.
	if res, _ = post(t, browser(t), e.s.URL+"/login", url.Values{"email": {userEmail}, "password": {userPass}}); res.StatusCode != 303 {
		t.Fatalf("third attempt: %d", res.StatusCode)
	}
	res, body = post(t, browser(t), e.s.URL+"/login", url.Values{"email": {userEmail}, "password": {userPass}})
	if res.StatusCode != 429 || res.Header.Get("Retry-After") == "" || !strings.Contains(body, "Too many attempts") {
		t.Fatalf("over the account limit: %d (Retry-After %q)", res.StatusCode, res.Header.Get("Retry-After"))
	}
	// Signing out ends the browser session.
	res, _ = post(t, c, e.s.URL+"/logout", url.Values{})
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Set-Cookie"), "Max-Age=0") {
		t.Fatalf("sign out: %d %q", res.StatusCode, res.Header.Get("Set-Cookie"))
	}
	if res, _ := get(t, c, e.s.URL+"/account"); res.StatusCode != http.StatusFound {
		t.Errorf("account page after sign-out: %d, want a redirect to sign in", res.StatusCode)
	}
}

var linkRE = regexp.MustCompile(`https?://\S+/(reset-password|verify-email)\?token=[A-Za-z0-9_%-]+`)

// mailLink waits for a mail to to with a link to path and returns it.
func mailLink(t *testing.T, s *testenv.Server, to, path string) string {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		for _, m := range s.Outbox.Messages() {
			if m.To != to {
				continue
			}
			for _, l := range linkRE.FindAllString(m.Text, -1) {
				if strings.Contains(l, path) {
					return l
				}
			}
		}
	}
	t.Fatalf("no mail to %s with a %s link", to, path)
	return ""
}

// TestMailLinks: the reset and verification links of real mail (through
// SMTP) are completed on the hosted pages, once.
func TestMailLinks(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		e := newEnv(t, db, testenv.Options{})
		c := browser(t)
		verify := mailLink(t, e.s, userEmail, "/verify-email")
		u, _ := url.Parse(verify)
		res, body := get(t, c, e.s.URL+"/verify-email?"+u.RawQuery)
		if res.StatusCode != 200 || !strings.Contains(body, "Verify email") {
			t.Fatalf("verify page: %d", res.StatusCode)
		}
		form := url.Values{"token": {u.Query().Get("token")}}
		if res, body = post(t, c, e.s.URL+"/verify-email", form); res.StatusCode != 200 || !strings.Contains(body, "verified") {
			t.Fatalf("verify: %d\n%s", res.StatusCode, body)
		}
		if res, body = post(t, c, e.s.URL+"/verify-email", form); res.StatusCode != 400 || !strings.Contains(body, "no longer works") {
			t.Errorf("verify link used twice: %d", res.StatusCode)
		}

		if res, body = post(t, c, e.s.URL+"/forgot-password", url.Values{"email": {userEmail}}); res.StatusCode != 200 || !strings.Contains(body, "Check your email") {
			t.Fatalf("forgot: %d\n%s", res.StatusCode, body)
		}
		if res, body = post(t, c, e.s.URL+"/forgot-password", url.Values{"email": {"nobody@example.com"}}); res.StatusCode != 200 || !strings.Contains(body, "Check your email") {
			t.Errorf("forgot for an unknown email answers differently: %d", res.StatusCode)
		}
		reset := mailLink(t, e.s, userEmail, "/reset-password")
		u, _ = url.Parse(reset)
		if res, _ = get(t, c, e.s.URL+"/reset-password?"+u.RawQuery); res.StatusCode != 200 {
			t.Fatalf("reset page: %d", res.StatusCode)
		}
		tok := u.Query().Get("token")
		if res, body = post(t, c, e.s.URL+"/reset-password", url.Values{"token": {tok}, "password": {"short"}}); res.StatusCode != 400 || !strings.Contains(body, "8 to 256") {
			t.Errorf("short password: %d", res.StatusCode)
		}
		if res, body = post(t, c, e.s.URL+"/reset-password", url.Values{"token": {tok}, "password": {"a brand new password"}}); res.StatusCode != 200 || !strings.Contains(body, "password is changed") {
			t.Fatalf("reset: %d\n%s", res.StatusCode, body)
		}
		res, _ = post(t, c, e.s.URL+"/login", url.Values{"email": {userEmail}, "password": {"a brand new password"}})
		if res.StatusCode != 303 {
			t.Errorf("sign in with the new password: %d", res.StatusCode)
		}
	})
}

// TestSignUpThroughApp: a new person follows an app's sign-in, creates an
// account on the hosted page and lands back in the app with a code; an
// account of another workspace cannot get a code for this app.
func TestSignUpThroughApp(t *testing.T) {
	e := newEnv(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{})
	v := oauth2.GenerateVerifier()
	c := browser(t)
	res, _ := get(t, c, e.s.URL+"/oauth2/authorize?"+e.authParams(v).Encode())
	ret, _ := url.ParseQuery(strings.TrimPrefix(res.Header.Get("Location"), "/login?"))
	form := url.Values{"email": {"grace@example.com"}, "password": {"another good password"}, "join_code": {e.join}, "return": {ret.Get("return")}}
	res, body := post(t, c, e.s.URL+"/signup", form)
	if res.StatusCode != 303 || !strings.HasPrefix(res.Header.Get("Location"), appRedirect+"?code=") {
		t.Fatalf("sign-up through the app: %d to %q\n%s", res.StatusCode, res.Header.Get("Location"), body)
	}
	form.Set("join_code", "jc_wrong")
	form.Set("email", "other@example.com")
	res, body = post(t, browser(t), e.s.URL+"/signup", form)
	if res.StatusCode != 401 || !strings.Contains(body, "join code is not valid") {
		t.Errorf("wrong join code: %d", res.StatusCode)
	}

	admin := "Authorization: Bearer " + testenv.AdminToken
	other := testenv.Do(t, nil, "POST", e.s.URL+"/v1/workspaces", map[string]any{"name": "Other"}, admin)
	form = url.Values{"email": {"mallory@example.com"}, "password": {"mallory's password"}, "join_code": {other.Str("join_code")}, "return": {ret.Get("return")}}
	res, body = post(t, browser(t), e.s.URL+"/signup", form)
	if res.StatusCode != 403 || strings.Contains(res.Header.Get("Location"), "code=") || !strings.Contains(body, "another workspace") {
		t.Errorf("account of another workspace: %d to %q", res.StatusCode, res.Header.Get("Location"))
	}
}

// TestBranding: a workspace's name, logo and accent colour appear on the
// sign-in page an app sends its users to; bad values are refused.
func TestBranding(t *testing.T) {
	e := newEnv(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{})
	admin := "Authorization: Bearer " + testenv.AdminToken
	ws := e.s.URL + "/v1/workspaces/" + e.ws
	for _, bad := range []map[string]any{
		{"accent_color": "red"}, {"accent_color": "#12345"}, {"accent_color": "#123456;}"},
		{"logo_url": "http://acme.example/logo.png"}, {"logo_url": "javascript:alert(1)"},
		{"display_name": strings.Repeat("x", 101)},
	} {
		if r := testenv.Do(t, nil, "PATCH", ws, bad, admin); r.Status != 400 {
			t.Errorf("PATCH %v: %d, want 400", bad, r.Status)
		}
	}
	r := testenv.Do(t, nil, "PATCH", ws, map[string]any{"display_name": "Acme Cloud",
		"logo_url": "https://acme.example/logo.png", "accent_color": "#0F766E"}, admin)
	if r.Status != 200 || !strings.Contains(string(r.Raw), `"accent_color":"#0f766e"`) {
		t.Fatalf("PATCH branding: %d %s", r.Status, r.Raw)
	}
	c := browser(t)
	res, _ := get(t, c, e.s.URL+"/oauth2/authorize?"+e.authParams(oauth2.GenerateVerifier()).Encode())
	res, body := get(t, c, e.s.URL+res.Header.Get("Location"))
	for _, want := range []string{"Acme Cloud", `src="https://acme.example/logo.png"`, `href="/assets/brand/` + e.ws + `.css"`} {
		if !strings.Contains(body, want) {
			t.Errorf("sign-in page lacks %s", want)
		}
	}
	res, css := get(t, c, e.s.URL+"/assets/brand/"+e.ws+".css")
	if res.StatusCode != 200 || !strings.Contains(css, "--accent:#0f766e") || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") {
		t.Errorf("brand stylesheet: %d %q %s", res.StatusCode, res.Header.Get("Content-Type"), css)
	}
	if res, _ := get(t, c, e.s.URL+"/assets/brand/ws_nope.css"); res.StatusCode != 404 {
		t.Errorf("unknown workspace's stylesheet: %d", res.StatusCode)
	}
	// Without an app in view the page is Sigil's own.
	if _, body := get(t, browser(t), e.s.URL+"/login"); strings.Contains(body, "Acme Cloud") {
		t.Error("the plain sign-in page shows a workspace's branding")
	}
}
