package httpapi_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2/clientcredentials"

	"github.com/sigil-auth/sigil/internal/testenv"
)

func postForm(t *testing.T, u string, v url.Values, hdr ...string) resp {
	t.Helper()
	return call(t, "POST", u, v.Encode(), append(hdr, "Content-Type: application/x-www-form-urlencoded")...)
}

// TestOAuth2StockClients: golang.org/x/oauth2/clientcredentials gets a
// token with an API key as client secret and calls a protected route;
// go-oidc verifies Sigil access tokens from the discovery document.
func TestOAuth2StockClients(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{})
		_, join := workspace(t, s.URL)
		u := userToken(t, s.URL, join, "olivia")
		k := createKey(t, s.URL, u, map[string]any{"name": "svc", "scopes": []string{"read", "write"}})
		ctx := context.Background()

		cc := clientcredentials.Config{ClientID: k.Str("id"), ClientSecret: k.Str("key"), TokenURL: s.URL + "/oauth2/token",
			Scopes: []string{"read"}}
		tok, err := cc.Token(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if tok.TokenType != "Bearer" || tok.Extra("scope") != "read" {
			t.Errorf("token %+v scope %v", tok, tok.Extra("scope"))
		}
		res, err := cc.Client(ctx).Get(s.URL + "/v1/whoami")
		if err != nil || res.StatusCode != 200 {
			t.Fatalf("protected route with the stock client: %v %v", res, err)
		}
		res.Body.Close()
		// Client secret in the form (client_secret_post) works too; a wrong one does not.
		cc.AuthStyle = 1 // oauth2.AuthStyleInParams
		if _, err := cc.Token(ctx); err != nil {
			t.Errorf("client_secret_post: %v", err)
		}
		cc.ClientSecret = createKey(t, s.URL, u, map[string]any{"name": "other"}).Str("key")
		if _, err := cc.Token(ctx); err == nil {
			t.Error("another key's secret accepted for this client_id")
		}

		// go-oidc: discovery, JWKS, EdDSA verification of the access token.
		pctx := oidc.InsecureIssuerURLContext(ctx, "http://sigil.test")
		pctx = oidc.ClientContext(pctx, &http.Client{Transport: rewriteHost{s.URL}})
		prov, err := oidc.NewProvider(pctx, "http://sigil.test")
		if err != nil {
			t.Fatal(err)
		}
		v := prov.Verifier(&oidc.Config{SkipClientIDCheck: true, SupportedSigningAlgs: []string{"EdDSA"}, Now: s.Clock.Now})
		idt, err := v.Verify(pctx, tok.AccessToken)
		if err != nil || idt.Subject != k.Str("id") {
			t.Fatalf("go-oidc verify: %v %+v", err, idt)
		}
		if _, err := v.Verify(pctx, tok.AccessToken[:len(tok.AccessToken)-4]+"AAAA"); err == nil {
			t.Error("go-oidc accepted a tampered token")
		}
	})
}

// basic is an HTTP Basic credential as RFC 6749 §2.3.1 builds it.
func basic(id, secret string) string {
	return base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(id) + ":" + url.QueryEscape(secret)))
}

// rewriteHost sends the issuer's requests to the test server.
type rewriteHost struct{ base string }

func (h rewriteHost) RoundTrip(r *http.Request) (*http.Response, error) {
	u, _ := url.Parse(h.base + r.URL.Path)
	r = r.Clone(r.Context())
	r.URL, r.Host = u, u.Host
	return http.DefaultTransport.RoundTrip(r)
}

func TestOAuth2TokenErrorsAndRefresh(t *testing.T) {
	s := testenv.Start(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{})
	_, join := workspace(t, s.URL)
	reg := register(t, s.URL, join, newUser("olivia"))
	tokURL := s.URL + "/oauth2/token"

	r := postForm(t, tokURL, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {reg.Str("refresh_token")}})
	want(t, r, 200, "")
	if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Pragma") != "no-cache" {
		t.Errorf("token response: Cache-Control %q, Pragma %q", r.Header.Get("Cache-Control"), r.Header.Get("Pragma"))
	}
	if r.Str("refresh_token") == "" || r.Str("refresh_token") == reg.Str("refresh_token") || r.Str("token_type") != "Bearer" {
		t.Fatalf("refresh grant: %s", r.Raw)
	}
	// §4's token response whole, as /v1/auth/refresh answers it.
	for _, f := range []string{"access_token", "refresh_token", "token_type", "expires_in", "refresh_expires_in",
		"access_token_expires", "refresh_token_expires", "session_id"} {
		if _, ok := r.Body[f]; !ok {
			t.Errorf("refresh grant: no %s in %s", f, r.Raw)
		}
	}
	if r.Str("session_id") != reg.Str("session_id") {
		t.Errorf("refresh grant: session %q, want %q", r.Str("session_id"), reg.Str("session_id"))
	}
	tests := []struct {
		name   string
		v      url.Values
		hdr    []string
		status int
		code   string
	}{
		{"no grant", url.Values{}, nil, 400, "invalid_request"},
		{"unknown grant", url.Values{"grant_type": {"password"}}, nil, 400, "unsupported_grant_type"},
		{"stale refresh", url.Values{"grant_type": {"refresh_token"}, "refresh_token": {"rt_nope"}}, nil, 400, "invalid_grant"},
		{"no client", url.Values{"grant_type": {"client_credentials"}}, nil, 401, "invalid_client"},
		{"bad client", url.Values{"grant_type": {"client_credentials"}}, []string{"Authorization: Basic YWtfeDpza194"}, 401, "invalid_client"},
		{"bad escape in Basic", url.Values{"grant_type": {"client_credentials"}}, []string{"Authorization: Basic " + basic("ak_%zz", "sk_x")}, 401, "invalid_client"},
		// RFC 6749 §3.2 and §2.3: no parameter twice, one client authentication.
		{"repeated grant_type", url.Values{"grant_type": {"client_credentials", "client_credentials"}}, nil, 400, "invalid_request"},
		{"Basic and client_secret", url.Values{"grant_type": {"client_credentials"}, "client_secret": {"sk_x"}},
			[]string{"Authorization: Basic " + basic("ak_x", "sk_x")}, 400, "invalid_request"},
		{"Basic and another client_id", url.Values{"grant_type": {"client_credentials"}, "client_id": {"ak_y"}},
			[]string{"Authorization: Basic " + basic("ak_x", "sk_x")}, 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := postForm(t, tokURL, tt.v, tt.hdr...)
			if r.Status != tt.status || r.Str("error") != tt.code || r.Str("error_description") == "" || r.Str("detail") == "" {
				t.Fatalf("%d %s", r.Status, r.Raw)
			}
			if tt.status == 401 && !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic") {
				t.Errorf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
			}
			if r.Header.Get("Cache-Control") != "no-store" || r.Header.Get("Pragma") != "no-cache" {
				t.Errorf("Cache-Control %q, Pragma %q", r.Header.Get("Cache-Control"), r.Header.Get("Pragma"))
			}
		})
	}
	// JSON bodies are not OAuth2 requests.
	r = call(t, "POST", tokURL, map[string]string{"grant_type": "client_credentials"})
	if r.Status != 400 || r.Str("error") != "invalid_request" {
		t.Errorf("JSON body: %d %s", r.Status, r.Raw)
	}
}

func TestIntrospectAndRevoke(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{})
		ws, join := workspace(t, s.URL)
		u := userToken(t, s.URL, join, "olivia")
		rsKey := resourceKey(t, s.URL, ws, "tokens:introspect", "tokens:revoke")
		rs := "X-API-KEY: " + rsKey.Str("key")
		alice := register(t, s.URL, join, newUser("alice"))
		other := createKey(t, s.URL, u, map[string]any{"name": "victim", "scopes": []string{"read"}})
		_, join2 := workspace(t, s.URL)
		foreign := register(t, s.URL, join2, newUser("mallory"))
		in := func(tok string, hdr string) resp {
			r := postForm(t, s.URL+"/oauth2/introspect", url.Values{"token": {tok}}, hdr)
			want(t, r, 200, "")
			return r
		}
		a := in(alice.Str("access_token"), rs)
		if a.Body["active"] != true || a.Str("sub") != "alice" || a.Str("ws") != ws || a.Str("token_type") != "access_token" ||
			a.Body["exp"] == nil || a.Str("sid") != alice.Str("session_id") {
			t.Errorf("access token: %s", a.Raw)
		}
		if r := in(alice.Str("refresh_token"), rs); r.Body["active"] != true || r.Str("token_type") != "refresh_token" {
			t.Errorf("refresh token: %s", r.Raw)
		}
		if r := in(other.Str("key"), rs); r.Body["active"] != true || r.Str("token_type") != "api_key" || r.Str("scope") != "read" {
			t.Errorf("api key: %s", r.Raw)
		}
		for _, tok := range []string{"garbage", foreign.Str("access_token"), "rt_nope"} {
			if r := in(tok, rs); string(r.Raw) != "{\"active\":false}\n" {
				t.Errorf("%.20s…: %s", tok, r.Raw)
			}
		}
		if r := in(foreign.Str("access_token"), admin); r.Body["active"] != true {
			t.Errorf("admin sees every workspace: %s", r.Raw)
		}
		// Callers: an API key or the admin token; not a user token.
		r := postForm(t, s.URL+"/oauth2/introspect", url.Values{"token": {"x"}}, u)
		if r.Status != 403 || r.Str("error_description") == "" {
			t.Errorf("user caller: %d %s", r.Status, r.Raw)
		}
		if r := postForm(t, s.URL+"/oauth2/introspect", url.Values{"token": {"x"}}); r.Status != 401 {
			t.Errorf("no caller: %d", r.Status)
		}
		// Stock RFC 7662 clients authenticate with HTTP Basic: API key id and key.
		rsBasic := "Authorization: Basic " + basic(rsKey.Str("id"), rsKey.Str("key"))
		if r := in(alice.Str("access_token"), rsBasic); r.Body["active"] != true || r.Str("sub") != "alice" {
			t.Errorf("Basic caller: %s", r.Raw)
		}
		for name, hdr := range map[string]string{
			"another key's id": "Authorization: Basic " + basic(other.Str("id"), rsKey.Str("key")),
			"wrong key":        "Authorization: Basic " + basic(rsKey.Str("id"), other.Str("key")+"x"),
			"no key":           "Authorization: Basic " + basic(rsKey.Str("id"), ""),
			"a user token":     "Authorization: Basic " + basic("olivia", strings.TrimPrefix(u, "Authorization: Bearer ")),
		} {
			for _, ep := range []string{"/oauth2/introspect", "/oauth2/revoke"} {
				r := postForm(t, s.URL+ep, url.Values{"token": {alice.Str("access_token")}}, hdr)
				if r.Status != 401 || r.Str("error") != "invalid_client" || !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Basic") {
					t.Errorf("%s %s: %d %s %v", name, ep, r.Status, r.Raw, r.Header.Values("WWW-Authenticate"))
				}
			}
		}
		if r := postForm(t, s.URL+"/oauth2/introspect", url.Values{"token": {"a", "b"}}, rs); r.Status != 400 || r.Str("error") != "invalid_request" {
			t.Errorf("token twice: %d %s", r.Status, r.Raw)
		}

		// Revocation: access token ends the session; API key is revoked; unknown is fine.
		want(t, postForm(t, s.URL+"/oauth2/revoke", url.Values{"token": {alice.Str("access_token")}}, rs), 200, "")
		want(t, call(t, "GET", s.URL+"/", nil, bearer(alice.Str("access_token"))), 401, "invalid_token")
		if r := in(alice.Str("refresh_token"), rs); r.Body["active"] != false {
			t.Errorf("refresh after revoke: %s", r.Raw)
		}
		want(t, postForm(t, s.URL+"/oauth2/revoke", url.Values{"token": {other.Str("key")}}, rs), 200, "")
		want(t, call(t, "GET", s.URL+"/", nil, "X-API-KEY: "+other.Str("key")), 401, "invalid_token")
		want(t, postForm(t, s.URL+"/oauth2/revoke", url.Values{"token": {"nope"}}, rs), 200, "")
		want(t, postForm(t, s.URL+"/oauth2/revoke", url.Values{"token": {alice.Str("refresh_token")}}, rsBasic), 200, "")
		// A foreign workspace's token is not revoked by this resource server.
		want(t, postForm(t, s.URL+"/oauth2/revoke", url.Values{"token": {foreign.Str("access_token")}}, rs), 200, "")
		want(t, call(t, "GET", s.URL+"/", nil, bearer(foreign.Str("access_token"))), 200, "")
	})
}
