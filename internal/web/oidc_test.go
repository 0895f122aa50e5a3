package web_test

import (
	"context"
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

		tok, err := conf.Exchange(ctx, q.Get("code"), oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		raw, _ := tok.Extra("id_token").(string)
		idt, err := provider.Verifier(&oidc.Config{ClientID: e.clientID, Now: e.s.Clock.Now}).Verify(ctx, raw)
		if err != nil {
			t.Fatalf("go-oidc refused the ID token: %v", err)
		}
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
