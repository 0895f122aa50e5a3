package web_test

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"

	"github.com/sigil-auth/sigil/internal/ssotest"
	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/testenv"
)

const admin = "Authorization: Bearer " + testenv.AdminToken

// idp starts a test OpenID provider on the server's clock and a
// connection to it in the env's workspace.
func (e *env) idp(t *testing.T, extra map[string]any) (*ssotest.Provider, string) {
	t.Helper()
	p := ssotest.Start("sigil-client", "idp-secret")
	t.Cleanup(p.Close)
	p.Now = e.s.Clock.Now
	p.Next = ssotest.User{Subject: "idp-ada", Email: "ada.sso@acme.test", EmailVerified: true, Name: "Ada Lovelace"}
	body := map[string]any{"kind": "oidc", "name": "Acme IdP", "issuer": p.URL, "client_id": "sigil-client",
		"client_secret": "idp-secret", "domains": []string{"acme.test"}}
	for k, v := range extra {
		body[k] = v
	}
	r := testenv.Do(t, nil, "POST", e.s.URL+"/v1/workspaces/"+e.ws+"/connections", body, admin)
	if r.Status != 201 {
		t.Fatalf("create connection: %d %s", r.Status, r.Raw)
	}
	return p, r.Str("id")
}

// ssoSignIn follows an authorization request that names the connection
// through the IdP (which signs p.Next in) back to the app, and returns
// the last response: the redirect to the app, or the refusal page.
func (e *env) ssoSignIn(t *testing.T, c *http.Client, authURL string) (*http.Response, string) {
	t.Helper()
	res, body := get(t, c, authURL)
	for i := 0; i < 8 && res.StatusCode == http.StatusFound || res.StatusCode == http.StatusSeeOther; i++ {
		to := location(t, res)
		if !to.IsAbs() {
			to = mustURL(t, e.s.URL).ResolveReference(to)
		}
		if strings.HasPrefix(to.String(), appRedirect) {
			return res, body
		}
		res, body = get(t, c, to.String())
	}
	return res, body
}

// TestSSOOIDC: a person signs in to an app through an OIDC connection
// (authorization request → IdP → callback → code), with a stock client on
// the app's side; the account is made just in time, keyed by the IdP's
// subject, so an email change at the IdP keeps it; the tokens say sso.
func TestSSOOIDC(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		e := newEnv(t, db, testenv.Options{})
		p, cid := e.idp(t, map[string]any{"default_role": "admin"})
		conf, provider := e.oauth(t)
		withoutProfile := conf.Scopes
		conf.Scopes = append(withoutProfile, oidc.ScopeProfile) // the first round: the IdP's name comes back
		first := ""
		for round := range 2 {
			if round == 1 {
				p.Lock()
				p.Next.Email = "ada.renamed@acme.test"
				p.Next.Name = "" // as Apple after the first sign-in
				p.Unlock()
				conf.Scopes = withoutProfile
				// An account made before names were kept gets the one kept
				// with its identity at its next sign-in.
				if _, err := e.s.Store.UpdateUser(context.Background(), first, func(u *store.User) error { u.Name = ""; return nil }); err != nil {
					t.Fatal(err)
				}
			}
			verifier := oauth2.GenerateVerifier()
			authURL := conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oidc.Nonce("n1"),
				oauth2.SetAuthURLParam("connection", cid))
			res, body := e.ssoSignIn(t, browser(t), authURL)
			back := location(t, res)
			if !strings.HasPrefix(back.String(), appRedirect) || back.Query().Get("code") == "" {
				t.Fatalf("round %d: ended at %d %s:\n%s", round, res.StatusCode, back, body)
			}
			tok, _, idt := e.redeem(t, conf, provider, back.Query().Get("code"), verifier)
			var idc struct {
				AMR  []string `json:"amr"`
				SSO  string   `json:"sso"`
				Name *string  `json:"name"`
			}
			idt.Claims(&idc)
			ui := testenv.Do(t, nil, "GET", e.s.URL+"/oauth2/userinfo", nil, "Authorization: Bearer "+tok.AccessToken)
			_, uiName := ui.Body["name"]
			if wantName := round == 0; ui.Status != 200 || (idc.Name != nil) != wantName || uiName != wantName ||
				(wantName && (*idc.Name != "Ada Lovelace" || ui.Str("name") != "Ada Lovelace")) {
				t.Fatalf("round %d (profile %v): ID token name %v, userinfo %d %s: want the IdP's name with profile only",
					round, wantName, idc.Name, ui.Status, ui.Raw)
			}
			var at jwt.MapClaims
			jwt.NewParser().ParseUnverified(tok.AccessToken, &at)
			if len(idc.AMR) != 1 || idc.AMR[0] != "sso" || idc.SSO != cid || at["sso"] != cid || at["aal"] != "aal1" {
				t.Fatalf("round %d: ID token amr %v sso %q, access token %v: want [sso] and %s", round, idc.AMR, idc.SSO, at, cid)
			}
			if round == 0 {
				first = idt.Subject
			} else if idt.Subject != first {
				t.Fatalf("the second sign-in (new email at the IdP) made another account: %s then %s", first, idt.Subject)
			}
		}
		u, err := e.s.Store.GetUser(context.Background(), first)
		if err != nil || u.Role != "admin" || u.Email != "ada.sso@acme.test" || !u.EmailVerified || u.Name != "Ada Lovelace" {
			t.Fatalf("provisioned user %+v (%v): want the default role admin and the verified email of the first sign-in", u, err)
		}
		e.wantAudit(t, "sso.connection_create", "sso.provision", "sso.login", "oauth2.authorize")
	})
}

// TestSSORefusals: each thing an IdP or an attacker can get wrong ends on
// the refusal page, with no session and no code for the app.
func TestSSORefusals(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		e := newEnv(t, db, testenv.Options{})
		p, cid := e.idp(t, nil)
		tests := []struct {
			name   string
			set    func()
			reason string
		}{
			{"wrong nonce", func() { p.Tweak = func(c map[string]any) { c["nonce"] = "someone-else" } }, "nonce"},
			{"expired ID token", func() {
				p.Tweak = func(c map[string]any) {
					c["iat"] = e.s.Clock.Now().Add(-2 * time.Hour).Unix()
					c["exp"] = e.s.Clock.Now().Add(-time.Hour).Unix()
				}
			}, "expired"},
			{"wrong audience", func() { p.Tweak = func(c map[string]any) { c["aud"] = "another-client" } }, "audience"},
			{"second audience without azp", func() { p.Tweak = func(c map[string]any) { c["aud"] = []string{"sigil-client", "x"} } }, "azp"},
			{"wrong issuer", func() { p.Tweak = func(c map[string]any) { c["iss"] = "https://evil.example" } }, "issuer"},
			{"key not in the JWKS", func() { p.Rogue = true }, "signature"},
			{"issued in the future", func() { p.Tweak = func(c map[string]any) { c["iat"] = e.s.Clock.Now().Add(time.Hour).Unix() } }, "issue time"},
			{"unverified email of an existing account", func() {
				p.Next = ssotest.User{Subject: "mallory", Email: userEmail, EmailVerified: false}
			}, "already exists"},
			{"absent email_verified on an existing account's email", func() {
				p.Next = ssotest.User{Subject: "mallory2", Email: userEmail}
			}, "already exists"},
			{"error from the IdP", func() {}, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				p.Lock()
				p.Tweak, p.Rogue = nil, false
				p.Next = ssotest.User{Subject: "idp-ada", Email: "ada.sso@acme.test", EmailVerified: true}
				tt.set()
				p.Unlock()
				c := browser(t)
				start := e.s.URL + "/sso/" + cid + "/start"
				if tt.reason == "" {
					// The IdP answers with an error instead of a code.
					res, _ := get(t, c, start)
					st := location(t, res).Query().Get("state")
					res, body := get(t, c, e.s.URL+"/sso/"+cid+"/callback?error=access_denied&state="+url.QueryEscape(st))
					wantRefused(t, res, body, "access_denied")
					return
				}
				res, body := e.ssoSignIn(t, c, start)
				wantRefused(t, res, body, tt.reason)
			})
		}
		t.Run("tampered state", func(t *testing.T) {
			c := browser(t)
			res, _ := get(t, c, e.s.URL+"/sso/"+cid+"/start")
			st := location(t, res).Query().Get("state")
			bad := st[:len(st)-2] + "AA"
			res, body := get(t, c, e.s.URL+"/sso/"+cid+"/callback?code=x&state="+url.QueryEscape(bad))
			wantRefused(t, res, body, "state")
		})
		e.wantAudit(t, "sso.refused")
	})
}

// wantRefused checks a refusal page that explains what went wrong.
func wantRefused(t *testing.T, res *http.Response, body, explains string) {
	t.Helper()
	if res.StatusCode < 400 || res.StatusCode >= 500 || !strings.Contains(body, "Single sign-on did not work") ||
		!strings.Contains(body, explains) {
		t.Fatalf("got %d, want the refusal page explaining %q:\n%s", res.StatusCode, explains, body)
	}
	if c := res.Header.Values("Set-Cookie"); strings.Contains(strings.Join(c, ";"), "sigil=bs_") {
		t.Fatalf("a refused sign-in set a browser session: %v", c)
	}
}

// TestSSOBinding: a sign-in finished in a browser that did not start it
// (login CSRF: an attacker's own sign-in result planted in a victim's
// browser) is refused, and a result is good once.
func TestSSOBinding(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		e := newEnv(t, db, testenv.Options{})
		_, cid := e.idp(t, nil)
		attacker, victim := browser(t), browser(t)
		res, _ := get(t, attacker, e.s.URL+"/sso/"+cid+"/start")
		res, _ = get(t, attacker, location(t, res).String()) // the IdP sends the code back
		answer := location(t, res).Query()
		// Posted as a form_post would be (cross-site: no Origin check, no
		// cookie needed): the answer is checked, the result handed on.
		req, _ := http.NewRequest("POST", e.s.URL+"/sso/"+cid+"/callback", strings.NewReader(answer.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://idp.example")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		res, err := attacker.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		readBody(res)
		result := location(t, res)
		if res.StatusCode != http.StatusSeeOther || result.Query().Get("result") == "" {
			t.Fatalf("form_post callback: %d %v, want 303 to the result", res.StatusCode, result)
		}
		resultURL := mustURL(t, e.s.URL).ResolveReference(result).String()
		flow := ""
		for _, ck := range attacker.Jar.Cookies(mustURL(t, e.s.URL+"/sso/")) {
			if ck.Name == "sigil_sso" {
				flow = ck.Value
			}
		}
		res, body := get(t, victim, resultURL)
		wantRefused(t, res, body, "another browser")
		res, _ = get(t, attacker, resultURL)
		if res.StatusCode != http.StatusFound || location(t, res).Path != "/account" {
			t.Fatalf("own browser: %d %v, want 302 to /account", res.StatusCode, res.Header)
		}
		// The same result with the same flow cookie, again: refused.
		replay := browser(t)
		replay.Jar.SetCookies(mustURL(t, e.s.URL+"/sso/"), []*http.Cookie{{Name: "sigil_sso", Value: flow, Path: "/sso/"}})
		res, body = get(t, replay, resultURL)
		wantRefused(t, res, body, "already finished")
	})
}

// TestSSOHomeRealm: the sign-in page's "single sign-on" asks for an email
// and sends the person to the connection routing its domain; a domain
// without one is told to use the password.
func TestSSOHomeRealm(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		e := newEnv(t, db, testenv.Options{})
		_, cid := e.idp(t, nil)
		c := browser(t)
		if res, body := get(t, c, e.s.URL+"/login"); !strings.Contains(body, `href="/login/sso"`) {
			t.Fatalf("the sign-in page offers no SSO: %d", res.StatusCode)
		}
		res, body := post(t, c, e.s.URL+"/login/sso", url.Values{"email": {"Grace@ACME.test"}})
		start := "/sso/" + cid + "/start?login_hint=Grace%40ACME.test"
		if res.StatusCode != http.StatusOK || !strings.Contains(body, `content="0;url=`+start+`"`) ||
			!strings.Contains(body, `href="`+start+`">Continue to Acme IdP`) {
			t.Fatalf("home realm discovery: %d, want a page that goes on to %s:\n%s", res.StatusCode, start, body)
		}
		res, body = post(t, c, e.s.URL+"/login/sso", url.Values{"email": {"grace@elsewhere.test"}})
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "sign in with your password") {
			t.Fatalf("unknown domain: %d\n%s", res.StatusCode, body)
		}
		// An app's sign-in page shows the workspace's connections.
		conf, _ := e.oauth(t)
		res, _ = get(t, c, conf.AuthCodeURL("s", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		_, body = get(t, c, e.s.URL+res.Header.Get("Location"))
		if !strings.Contains(body, "Continue with Acme IdP") || !strings.Contains(body, "/sso/"+cid+"/start?return=") {
			t.Fatalf("the app's sign-in page lists no connection button:\n%s", body)
		}
		// Another workspace's connection: TestAuthorizeConnection.
	})
}

// TestSSOSecondFactor: a person with an authenticator app who signs in
// through SSO gets the second step too, and the app's tokens then say
// [sso otp] and aal2, with the connection.
func TestSSOSecondFactor(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		e := newEnv(t, db, testenv.Options{})
		_, cid := e.idp(t, nil)
		c := browser(t)
		if res, _ := e.ssoSignIn(t, c, e.s.URL+"/sso/"+cid+"/start"); res.Request.URL.Path != "/account" {
			t.Fatalf("first SSO sign-in ended at %v", res.Request.URL)
		}
		secret := enrolOnDashboard(t, e, c)
		e.s.Clock.Add(30 * time.Second) // the next code is a new time step

		conf, _ := e.oauth(t)
		verifier := oauth2.GenerateVerifier()
		authURL := conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("connection", cid))
		c2 := browser(t)
		res, body := e.ssoSignIn(t, c2, authURL)
		m, ret := mfaTokenRE.FindStringSubmatch(body), returnField.FindStringSubmatch(body)
		if res.StatusCode != 200 || m == nil || ret == nil {
			t.Fatalf("after the IdP: %d, want the second step with the request\n%s", res.StatusCode, body)
		}
		res, body = post(t, c2, e.s.URL+"/login/mfa", url.Values{"mfa_token": {m[1]}, "code": {code(t, secret, e.s.Clock)},
			"return": {html.UnescapeString(ret[1])}})
		back := location(t, res)
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(back.String(), appRedirect) {
			t.Fatalf("second step: %d %v\n%s", res.StatusCode, back, body)
		}
		tok, err := conf.Exchange(context.Background(), back.Query().Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatal(err)
		}
		var at jwt.MapClaims
		jwt.NewParser().ParseUnverified(tok.AccessToken, &at)
		if amr, _ := at["amr"].([]any); len(amr) != 2 || amr[0] != "sso" || amr[1] != "otp" || at["aal"] != "aal2" || at["sso"] != cid {
			t.Fatalf("access token claims %v: want amr [sso otp], aal2 and sso %s", at, cid)
		}
	})
}
