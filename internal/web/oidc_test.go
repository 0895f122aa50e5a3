package web_test

import (
	"context"
	"encoding/base64"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// TestStockClients: golang.org/x/oauth2 with PKCE and go-oidc, unchanged,
// sign a person in through the hosted page, verify the ID token from
// discovery, call the API and userinfo, refresh, pass through again on
// the browser session, and sign out through end_session_endpoint.
func TestStockClients(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		e := newEnv(t, db, testenv.Options{})
		ctx := context.Background()
		conf, provider := e.oauth(t)
		c := browser(t)

		verifier, state, nonce := oauth2.GenerateVerifier(), "st-"+oauth2.GenerateVerifier()[:8], "n-"+oauth2.GenerateVerifier()[:8]
		authURL := conf.AuthCodeURL(state, oauth2.S256ChallengeOption(verifier), oidc.Nonce(nonce))
		back := e.signIn(t, c, authURL, userEmail, userPass)
		if got := back.Scheme + "://" + back.Host + back.Path; got != appRedirect {
			t.Fatalf("redirected to %s, want %s", got, appRedirect)
		}
		q := back.Query()
		if q.Get("state") != state || q.Get("iss") != e.s.Issuer || q.Get("code") == "" {
			t.Fatalf("callback query %v: want state %q, iss %q and a code", q, state, e.s.Issuer)
		}

		tok, raw, idt := e.redeem(t, conf, provider, q.Get("code"), verifier)
		var claims struct {
			Email    string `json:"email"`
			Verified bool   `json:"email_verified"`
			Nonce    string `json:"nonce"`
			AuthTime int64  `json:"auth_time"`
			SID      string `json:"sid"`
		}
		if err := idt.Claims(&claims); err != nil {
			t.Fatal(err)
		}
		if claims.Email != userEmail || claims.Nonce != nonce || claims.AuthTime == 0 || claims.SID == "" {
			t.Errorf("ID token claims %+v", claims)
		}
		if err := idt.VerifyAccessToken(tok.AccessToken); err != nil {
			t.Errorf("at_hash: %v", err)
		}
		if tok.RefreshToken == "" || tok.Expiry.IsZero() {
			t.Errorf("token response lacks a refresh token or expiry: %+v", tok)
		}

		// The access token works on the API and at userinfo.
		who := testenv.Do(t, nil, "GET", e.s.URL+"/v1/whoami", nil, "Authorization: Bearer "+tok.AccessToken)
		if who.Status != 200 || who.Str("subject") != idt.Subject {
			t.Fatalf("whoami: %d %s", who.Status, who.Raw)
		}
		if scopes, _ := who.Body["scopes"].([]any); !containsAny(scopes, "read") || containsAny(scopes, "write") {
			t.Errorf("scopes %v: want read (asked) and not write (not asked)", scopes)
		}
		ui, err := provider.UserInfo(ctx, oauth2.StaticTokenSource(tok))
		if err != nil || ui.Email != userEmail || ui.Subject != idt.Subject {
			t.Fatalf("userinfo: %+v %v", ui, err)
		}

		// Refresh: a new pair, the same session.
		expired := *tok
		expired.Expiry = time.Now().Add(-time.Minute)
		fresh, err := conf.TokenSource(ctx, &expired).Token()
		if err != nil || fresh.AccessToken == tok.AccessToken || fresh.RefreshToken == tok.RefreshToken {
			t.Fatalf("refresh: %v (same tokens back?)", err)
		}

		// Signed in on this browser: a second authorization needs no form.
		v2 := oauth2.GenerateVerifier()
		res, _ := get(t, c, conf.AuthCodeURL("s2", oauth2.S256ChallengeOption(v2)))
		if loc := location(t, res); res.StatusCode != http.StatusFound || !strings.HasPrefix(loc.String(), appRedirect) {
			t.Fatalf("second authorize: %d to %s, want straight back to the app", res.StatusCode, loc)
		}
		// prompt=login forces the form all the same.
		res, _ = get(t, c, conf.AuthCodeURL("s3", oauth2.S256ChallengeOption(v2), oauth2.SetAuthURLParam("prompt", "login")))
		if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, "/login?") {
			t.Fatalf("prompt=login went to %q, want the sign-in page", loc)
		}

		// RP-initiated logout: back to the registered URI with the state;
		// the session's tokens die and the browser is signed out.
		var d struct {
			EndSession string `json:"end_session_endpoint"`
		}
		if err := provider.Claims(&d); err != nil || d.EndSession == "" {
			t.Fatalf("discovery has no end_session_endpoint: %v", err)
		}
		lo := d.EndSession + "?" + url.Values{"id_token_hint": {raw}, "post_logout_redirect_uri": {appLogout}, "state": {"bye"}}.Encode()
		res, _ = get(t, c, lo)
		if loc := res.Header.Get("Location"); res.StatusCode != http.StatusFound || loc != appLogout+"?state=bye" {
			t.Fatalf("logout: %d to %q", res.StatusCode, loc)
		}
		if r := testenv.Do(t, nil, "GET", e.s.URL+"/v1/whoami", nil, "Authorization: Bearer "+fresh.AccessToken); r.Status != 401 {
			t.Errorf("access token after logout: %d, want 401", r.Status)
		}
		if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: fresh.RefreshToken}).Token(); err == nil {
			t.Error("refresh token still works after logout")
		}
		res, _ = get(t, c, conf.AuthCodeURL("s4", oauth2.S256ChallengeOption(v2)))
		if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, "/login?") {
			t.Errorf("after logout authorize went to %q, want the sign-in page", loc)
		}
		e.wantAudit(t, "login.success", "oauth2.authorize", "oauth2.code_exchange", "oauth2.logout", "session.logout")
	})
}

func containsAny(list []any, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// TestAuthorizeOptions: prompt=none answers from a live browser session,
// max_age asks again once exceeded, login_hint fills the form, and a
// second sign-in on one browser ends the first browser session.
func TestAuthorizeOptions(t *testing.T) {
	e := newEnv(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{})
	v := oauth2.GenerateVerifier()
	c := browser(t)
	e.signIn(t, c, e.s.URL+"/oauth2/authorize?"+e.authParams(v).Encode(), userEmail, userPass)
	first := c.Jar.Cookies(mustURL(t, e.s.URL))

	q := e.authParams(v)
	q.Set("prompt", "none")
	res, _ := get(t, c, e.s.URL+"/oauth2/authorize?"+q.Encode())
	if loc := location(t, res); loc.Query().Get("code") == "" {
		t.Fatalf("prompt=none with a session: %s, want a code", loc)
	}
	e.s.Clock.Add(2 * time.Minute)
	q = e.authParams(v)
	q.Set("max_age", "60")
	q.Set("login_hint", "ada@example.com")
	res, _ = get(t, c, e.s.URL+"/oauth2/authorize?"+q.Encode())
	loc := res.Header.Get("Location")
	if !strings.HasPrefix(loc, "/login?") {
		t.Fatalf("max_age exceeded went to %q, want the sign-in page", loc)
	}
	if _, body := get(t, c, e.s.URL+loc); !strings.Contains(body, `value="ada@example.com"`) {
		t.Error("login_hint does not fill the email field")
	}
	q.Set("max_age", "600")
	if res, _ = get(t, c, e.s.URL+"/oauth2/authorize?"+q.Encode()); location(t, res).Query().Get("code") == "" {
		t.Error("max_age not exceeded: want a code")
	}

	// Signing in again on this browser (prompt=login) ends the first
	// browser session.
	q = e.authParams(v)
	q.Set("prompt", "login")
	e.signIn(t, c, e.s.URL+"/oauth2/authorize?"+q.Encode(), userEmail, userPass)
	old := browser(t)
	old.Jar.SetCookies(mustURL(t, e.s.URL), first)
	if res, _ := get(t, old, e.s.URL+"/account"); res.StatusCode != http.StatusFound {
		t.Errorf("the first browser session still works after a second sign-in: %d", res.StatusCode)
	}
}

// TestRPLogoutChecks: a post-logout URI must be registered; without an
// id_token_hint the person confirms first.
func TestRPLogoutChecks(t *testing.T) {
	e := newEnv(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{})
	c := browser(t)
	e.signIn(t, c, e.s.URL+"/oauth2/authorize?"+e.authParams(oauth2.GenerateVerifier()).Encode(), userEmail, userPass)
	for _, bad := range []string{"https://evil.test/", appLogout + "x", "//evil.test"} {
		res, body := get(t, c, e.s.URL+"/oauth2/logout?"+url.Values{"client_id": {e.clientID}, "post_logout_redirect_uri": {bad}}.Encode())
		if res.StatusCode != 400 || res.Header.Get("Location") != "" || !strings.Contains(body, "not one registered") {
			t.Errorf("post_logout_redirect_uri %s: %d to %q", bad, res.StatusCode, res.Header.Get("Location"))
		}
	}
	// No hint: a confirmation page, nothing ended yet.
	q := url.Values{"client_id": {e.clientID}, "post_logout_redirect_uri": {appLogout}, "state": {"s1"}}
	res, body := get(t, c, e.s.URL+"/oauth2/logout?"+q.Encode())
	if res.StatusCode != 200 || !strings.Contains(body, "Sign out") {
		t.Fatalf("logout without a hint: %d", res.StatusCode)
	}
	if res, _ := get(t, c, e.s.URL+"/account"); res.StatusCode != 200 {
		t.Fatalf("signed out before confirming: %d", res.StatusCode)
	}
	m := returnField.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("the confirmation form carries no return field")
	}
	res, _ = post(t, c, e.s.URL+"/logout", url.Values{"return": {html.UnescapeString(m[1])}})
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusSeeOther || loc != appLogout+"?state=s1" {
		t.Fatalf("confirmed logout: %d to %q", res.StatusCode, loc)
	}
	if res, _ := get(t, c, e.s.URL+"/account"); res.StatusCode != http.StatusFound {
		t.Errorf("still signed in after logout: %d", res.StatusCode)
	}
	// A forged return on the confirmation post cannot redirect elsewhere.
	res, _ = post(t, c, e.s.URL+"/logout", url.Values{"return": {"client_id=" + e.clientID + "&post_logout_redirect_uri=https%3A%2F%2Fevil.test%2F"}})
	if res.Header.Get("Location") != "" {
		t.Errorf("forged logout return redirected to %q", res.Header.Get("Location"))
	}
}

// TestEdDSAIDToken: an app may choose EdDSA ID tokens; go-oidc verifies
// them from the same discovery.
func TestEdDSAIDToken(t *testing.T) {
	e := newEnv(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{})
	e.clientID = e.app(t, map[string]any{"name": "Ed", "redirect_uris": []string{appRedirect},
		"id_token_signed_response_alg": "EdDSA"}).Str("client_id")
	conf, provider := e.oauth(t)
	v := oauth2.GenerateVerifier()
	back := e.signIn(t, browser(t), conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v)), userEmail, userPass)
	tok, err := conf.Exchange(context.Background(), back.Query().Get("code"), oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := tok.Extra("id_token").(string)
	if _, err := provider.Verifier(&oidc.Config{ClientID: e.clientID, Now: e.s.Clock.Now, SupportedSigningAlgs: []string{"EdDSA"}}).Verify(context.Background(), raw); err != nil {
		t.Fatalf("EdDSA ID token: %v", err)
	}
	hdr, _ := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[0])
	if !strings.Contains(string(hdr), `"alg":"EdDSA"`) {
		t.Errorf("ID token header %s, want EdDSA", hdr)
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}
