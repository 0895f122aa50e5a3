package main

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/sigil-auth/sigil/bench/internal/loadkit"
)

// Browser sign-in scenarios (issue 8). Each worker is a person already
// signed in on a browser (the session cookie from the hosted sign-in
// form) and an app of its own: what a returning user costs each time an
// app sends them through /oauth2/authorize.

// benchRedirect is the app's redirect URI; nothing listens there, the
// driver reads the code from the Location header.
const benchRedirect = "http://127.0.0.1:9/callback"

// oidcClient is a worker's app and browser.
type oidcClient struct {
	clientID  string
	cookie    string // "name=value" of the browser session
	verifier  string
	authQuery string // a ready authorization request
}

// withBrowserSession signs a password user in through POST /login, keeps
// the cookie, registers a public app whose ID tokens use alg and warms
// the server with one op.
func withBrowserSession(alg string, op func(context.Context, *loadkit.API, *worker) error) func(context.Context, *loadkit.API, *worker) error {
	return func(ctx context.Context, sigil *loadkit.API, w *worker) error {
		if err := signInBrowser(ctx, sigil, w); err != nil {
			return err
		}
		var app struct {
			ClientID string `json:"client_id"`
		}
		body := map[string]any{"name": "bench", "redirect_uris": []string{benchRedirect}, "id_token_signed_response_alg": alg}
		if err := sigil.Do(ctx, http.MethodPost, "/v1/workspaces/"+w.WorkspaceID+"/apps", body, w.Admin, http.StatusCreated, &app); err != nil {
			return err
		}
		w.oidc.clientID = app.ClientID
		b := make([]byte, 32)
		rand.Read(b)
		w.oidc.verifier = base64.RawURLEncoding.EncodeToString(b)
		sum := sha256.Sum256([]byte(w.oidc.verifier))
		w.oidc.authQuery = url.Values{"response_type": {"code"}, "client_id": {app.ClientID}, "redirect_uri": {benchRedirect},
			"scope": {"openid email"}, "state": {"bench"}, "nonce": {"n"},
			"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}}.Encode()
		return op(ctx, sigil, w)
	}
}

// signInBrowser signs a new password user up and in through POST
// /login and keeps the browser's cookie.
func signInBrowser(ctx context.Context, sigil *loadkit.API, w *worker) error {
	if err := signupWorker(ctx, sigil, w); err != nil {
		return err
	}
	req, err := sigil.FormRequest(ctx, "/login", url.Values{"email": {w.email}, "password": {w.password}})
	if err != nil {
		return err
	}
	res, err := sigil.NoFollow(req)
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusSeeOther || len(res.Cookies()) == 0 {
		return fmt.Errorf("sign-in form → %d without a cookie", res.StatusCode)
	}
	w.oidc.cookie = res.Cookies()[0].Name + "=" + res.Cookies()[0].Value
	return nil
}

// withKeysPage signs a browser in for a person holding 100 API keys
// (created through the API with their own token) and warms the page.
func withKeysPage(ctx context.Context, sigil *loadkit.API, w *worker) error {
	if err := signInBrowser(ctx, sigil, w); err != nil {
		return err
	}
	var t loadkit.Tokens
	if err := sigil.Do(ctx, http.MethodPost, "/v1/auth/login", map[string]string{"email": w.email, "password": w.password},
		"", http.StatusOK, &t); err != nil {
		return err
	}
	for i := range 100 {
		body := map[string]any{"name": fmt.Sprintf("deploy-%03d", i), "scopes": []string{"read"}}
		if err := sigil.Do(ctx, http.MethodPost, "/v1/api-keys", body, "Bearer "+t.AccessToken, http.StatusCreated, nil); err != nil {
			return err
		}
	}
	return dashboardKeys(ctx, sigil, w)
}

// dashboardKeys is GET /dashboard/api-keys: the dashboard's longest
// list, rendered for a signed-in browser (issue 10's target: under 5 ms of
// server CPU per page with 100 keys).
func dashboardKeys(ctx context.Context, a *loadkit.API, w *worker) error {
	return a.Get(ctx, "/dashboard/api-keys", "Cookie", w.oidc.cookie)
}

// authorizeCode is GET /oauth2/authorize with the browser's cookie: a
// code straight back (302), no page.
func authorizeCode(a *loadkit.API, ctx context.Context, c oidcClient) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.Base+"/oauth2/authorize?"+c.authQuery, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Cookie", c.cookie)
	res, err := a.NoFollow(req)
	if err != nil {
		return "", err
	}
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusFound || !strings.HasPrefix(loc, benchRedirect+"?code=") {
		return "", fmt.Errorf("authorize → %d to %.120q", res.StatusCode, loc)
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "", err
	}
	return u.Query().Get("code"), nil
}

func oidcAuthorize(ctx context.Context, a *loadkit.API, w *worker) error {
	_, err := authorizeCode(a, ctx, w.oidc)
	return err
}

// oidcCodeFlow is the whole round trip of a returning user: authorize,
// then the app's code exchange (tokens and an RS256 ID token).
func oidcCodeFlow(ctx context.Context, a *loadkit.API, w *worker) error {
	code, err := authorizeCode(a, ctx, w.oidc)
	if err != nil {
		return err
	}
	req, err := a.FormRequest(ctx, "/oauth2/token", url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {benchRedirect}, "client_id": {w.oidc.clientID}, "code_verifier": {w.oidc.verifier}})
	if err != nil {
		return err
	}
	var t struct {
		IDToken string `json:"id_token"`
	}
	if err := a.Send(req, http.StatusOK, &t); err != nil {
		return err
	}
	if t.IDToken == "" {
		return fmt.Errorf("token answer has no id_token")
	}
	return nil
}
