package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// authParams is a valid authorization request of the env's app.
func (e *env) authParams(verifier string) url.Values {
	return url.Values{"response_type": {"code"}, "client_id": {e.clientID}, "redirect_uri": {appRedirect},
		"scope": {"openid email"}, "state": {"xyz"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(verifier)},
		"code_challenge_method": {"S256"}}
}

// code signs in on a fresh browser and returns a code for verifier.
func (e *env) code(t *testing.T, verifier string) string {
	t.Helper()
	back := e.signIn(t, browser(t), e.s.URL+"/oauth2/authorize?"+e.authParams(verifier).Encode(), userEmail, userPass)
	code := back.Query().Get("code")
	if code == "" {
		t.Fatalf("no code in %s", back)
	}
	return code
}

// exchange posts grant_type=authorization_code for a public client.
func (e *env) exchange(t *testing.T, form url.Values) testenv.Response {
	t.Helper()
	form.Set("grant_type", "authorization_code")
	if !form.Has("client_id") {
		form.Set("client_id", e.clientID)
	}
	if !form.Has("redirect_uri") {
		form.Set("redirect_uri", appRedirect)
	}
	return testenv.Do(t, nil, "POST", e.s.URL+"/oauth2/token", form.Encode(), "Content-Type: application/x-www-form-urlencoded")
}

// TestAuthorizeRefusals: requests that must come back to the app as an
// error (never a code), and requests that must never be redirected at all.
func TestAuthorizeRefusals(t *testing.T) {
	e := newEnv(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{})
	v := oauth2.GenerateVerifier()
	toApp := []struct {
		name, err string
		edit      func(url.Values)
	}{
		{"no PKCE", "invalid_request", func(q url.Values) { q.Del("code_challenge"); q.Del("code_challenge_method") }},
		{"plain PKCE", "invalid_request", func(q url.Values) { q.Set("code_challenge_method", "plain") }},
		{"PKCE method missing", "invalid_request", func(q url.Values) { q.Del("code_challenge_method") }},
		{"short challenge", "invalid_request", func(q url.Values) { q.Set("code_challenge", "abc") }},
		{"token response type", "unsupported_response_type", func(q url.Values) { q.Set("response_type", "token") }},
		{"unknown prompt", "invalid_request", func(q url.Values) { q.Set("prompt", "consent") }},
		{"bad max_age", "invalid_request", func(q url.Values) { q.Set("max_age", "-1") }},
		{"repeated state", "invalid_request", func(q url.Values) { q.Add("state", "again") }},
		{"prompt=none without a session", "login_required", func(q url.Values) { q.Set("prompt", "none") }},
	}
	for _, tt := range toApp {
		t.Run(tt.name, func(t *testing.T) {
			q := e.authParams(v)
			tt.edit(q)
			res, _ := get(t, browser(t), e.s.URL+"/oauth2/authorize?"+q.Encode())
			loc := location(t, res)
			if res.StatusCode != http.StatusFound || loc.Scheme+"://"+loc.Host+loc.Path != appRedirect {
				t.Fatalf("%d to %s, want a redirect to the app", res.StatusCode, loc)
			}
			if got := loc.Query(); got.Get("error") != tt.err || got.Get("code") != "" || got.Get("state") != "xyz" {
				t.Errorf("error redirect %v, want error=%s with state xyz and no code", got, tt.err)
			}
		})
	}
	e.wantAudit(t, "oauth2.authorize_refused")

	// Never redirected: an unknown client, and redirect URIs that are not
	// exactly registered ones (one character off, open-redirect tricks).
	neverRedirect := map[string]func(url.Values){
		"unknown client":      func(q url.Values) { q.Set("client_id", "app_nope") },
		"no client":           func(q url.Values) { q.Del("client_id") },
		"no redirect_uri":     func(q url.Values) { q.Del("redirect_uri") },
		"trailing slash":      func(q url.Values) { q.Set("redirect_uri", appRedirect+"/") },
		"one character off":   func(q url.Values) { q.Set("redirect_uri", strings.Replace(appRedirect, "callback", "callbacc", 1)) },
		"upper case":          func(q url.Values) { q.Set("redirect_uri", strings.ToUpper(appRedirect)) },
		"extra query":         func(q url.Values) { q.Set("redirect_uri", appRedirect+"?next=//evil.test") },
		"scheme-relative":     func(q url.Values) { q.Set("redirect_uri", "//evil.test/callback") },
		"user info":           func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:7777@evil.test/callback") },
		"encoded":             func(q url.Values) { q.Set("redirect_uri", url.QueryEscape(appRedirect)) },
		"encoded slash":       func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:7777%2F@evil.test/callback") },
		"dot segments":        func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:7777/callback/../evil") },
		"backslash":           func(q url.Values) { q.Set("redirect_uri", `http://127.0.0.1:7777\@evil.test/callback`) },
		"two redirect_uris":   func(q url.Values) { q.Add("redirect_uri", "https://evil.test/") },
		"another app's":       func(q url.Values) { q.Set("redirect_uri", "https://other.example/cb") },
		"fragment":            func(q url.Values) { q.Set("redirect_uri", appRedirect+"#x") },
		"javascript":          func(q url.Values) { q.Set("redirect_uri", "javascript:alert(1)") },
		"other port":          func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1:7778/callback") },
		"host without a port": func(q url.Values) { q.Set("redirect_uri", "http://127.0.0.1/callback") },
	}
	e.app(t, map[string]any{"name": "Other", "redirect_uris": []string{"https://other.example/cb"}})
	for name, edit := range neverRedirect {
		t.Run(name, func(t *testing.T) {
			q := e.authParams(v)
			edit(q)
			res, body := get(t, browser(t), e.s.URL+"/oauth2/authorize?"+q.Encode())
			if res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" {
				t.Fatalf("%d (Location %q), want 400 with no redirect", res.StatusCode, res.Header.Get("Location"))
			}
			if !strings.Contains(res.Header.Get("Content-Type"), "text/html") || !strings.Contains(body, "This sign-in link is not valid") {
				t.Errorf("want the HTML error page, got %q:\n%s", res.Header.Get("Content-Type"), body)
			}
		})
	}
}

// TestCodeExchangeRefusals: everything that must not turn a code into
// tokens, and that a code presented twice kills what it issued.
func TestCodeExchangeRefusals(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		e := newEnv(t, db, testenv.Options{})
		v := oauth2.GenerateVerifier()
		other := e.app(t, map[string]any{"name": "Other", "redirect_uris": []string{appRedirect}}).Str("client_id")
		refused := []struct {
			name, err string
			form      url.Values
		}{
			{"wrong verifier", "invalid_grant", url.Values{"code_verifier": {oauth2.GenerateVerifier()}}},
			{"no verifier", "invalid_request", url.Values{}},
			{"short verifier", "invalid_grant", url.Values{"code_verifier": {"abc"}}},
			{"another client", "invalid_grant", url.Values{"code_verifier": {v}, "client_id": {other}}},
			{"unknown client", "invalid_client", url.Values{"code_verifier": {v}, "client_id": {"app_nope"}}},
			{"other redirect_uri", "invalid_grant", url.Values{"code_verifier": {v}, "redirect_uri": {appRedirect + "/"}}},
			{"made-up code", "invalid_grant", url.Values{"code_verifier": {v}, "code": {"ac_nope"}}},
		}
		for _, tt := range refused {
			t.Run(tt.name, func(t *testing.T) {
				form := tt.form
				if !form.Has("code") {
					form.Set("code", e.code(t, v))
				}
				r := e.exchange(t, form)
				if r.Status/100 != 4 || r.Str("error") != tt.err || r.Str("access_token") != "" {
					t.Fatalf("%d %s, want %s", r.Status, r.Raw, tt.err)
				}
			})
		}

		t.Run("expired", func(t *testing.T) {
			code := e.code(t, v)
			e.s.Clock.Add(61 * time.Second)
			if r := e.exchange(t, url.Values{"code": {code}, "code_verifier": {v}}); r.Str("error") != "invalid_grant" {
				t.Fatalf("expired code: %d %s", r.Status, r.Raw)
			}
		})

		t.Run("reuse revokes", func(t *testing.T) {
			code := e.code(t, v)
			first := e.exchange(t, url.Values{"code": {code}, "code_verifier": {v}})
			if first.Status != 200 || first.Str("id_token") == "" {
				t.Fatalf("first exchange: %d %s", first.Status, first.Raw)
			}
			again := e.exchange(t, url.Values{"code": {code}, "code_verifier": {v}})
			if again.Status != 400 || again.Str("error") != "invalid_grant" {
				t.Fatalf("second exchange: %d %s", again.Status, again.Raw)
			}
			if r := testenv.Do(t, nil, "GET", e.s.URL+"/v1/whoami", nil, "Authorization: Bearer "+first.Str("access_token")); r.Status != 401 {
				t.Errorf("first code's access token after reuse: %d, want 401", r.Status)
			}
			ref := testenv.Do(t, nil, "POST", e.s.URL+"/v1/auth/refresh", map[string]any{"refresh_token": first.Str("refresh_token")})
			if ref.Status != 401 {
				t.Errorf("first code's refresh token after reuse: %d, want 401", ref.Status)
			}
		})

		t.Run("concurrent exchanges", func(t *testing.T) {
			code := e.code(t, v)
			const n = 8
			var wg sync.WaitGroup
			results := make([]testenv.Response, n)
			for i := range n {
				wg.Go(func() { results[i] = e.exchange(t, url.Values{"code": {code}, "code_verifier": {v}}) })
			}
			wg.Wait()
			ok := 0
			for _, r := range results {
				switch {
				case r.Status == 200:
					ok++
				case r.Status != 400 || r.Str("error") != "invalid_grant":
					t.Errorf("exchange: %d %s", r.Status, r.Raw)
				}
			}
			if ok != 1 {
				t.Fatalf("%d of %d concurrent exchanges of one code succeeded, want exactly 1", ok, n)
			}
		})

		e.wantAudit(t, "oauth2.code_refused", "oauth2.code_reuse")

		t.Run("ID token is no access token", func(t *testing.T) {
			r := e.exchange(t, url.Values{"code": {e.code(t, v)}, "code_verifier": {v}})
			if w := testenv.Do(t, nil, "GET", e.s.URL+"/v1/whoami", nil, "Authorization: Bearer "+r.Str("id_token")); w.Status != 401 {
				t.Fatalf("ID token as a bearer token: %d, want 401", w.Status)
			}
		})
	})
}

// TestConfidentialClient: a confidential app authenticates with its
// secret (shown once), by HTTP Basic or in the form.
func TestConfidentialClient(t *testing.T) {
	e := newEnv(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{})
	app := e.app(t, map[string]any{"name": "Server app", "redirect_uris": []string{appRedirect},
		"token_endpoint_auth_method": "client_secret_basic"})
	id, secret := app.Str("client_id"), app.Str("client_secret")
	if !strings.HasPrefix(secret, "cs_") {
		t.Fatalf("no client secret in the create answer: %s", app.Raw)
	}
	got := testenv.Do(t, nil, "GET", e.s.URL+"/v1/workspaces/"+e.ws+"/apps/"+id, nil, "Authorization: Bearer "+testenv.AdminToken)
	if got.Status != 200 || strings.Contains(string(got.Raw), "cs_") {
		t.Fatalf("GET shows the secret again: %s", got.Raw)
	}
	e.clientID = id
	v := oauth2.GenerateVerifier()
	// Stock x/oauth2 with its auto-detected auth style.
	conf := &oauth2.Config{ClientID: id, ClientSecret: secret, RedirectURL: appRedirect,
		Endpoint: oauth2.Endpoint{AuthURL: e.s.URL + "/oauth2/authorize", TokenURL: e.s.URL + "/oauth2/token"}}
	if _, err := conf.Exchange(context.Background(), e.code(t, v), oauth2.VerifierOption(v)); err != nil {
		t.Fatalf("exchange with the secret: %v", err)
	}
	for name, form := range map[string]url.Values{
		"no secret":    {"code_verifier": {v}},
		"wrong secret": {"code_verifier": {v}, "client_secret": {"cs_wrong"}},
	} {
		form.Set("code", e.code(t, v))
		if r := e.exchange(t, form); r.Status != 401 || r.Str("error") != "invalid_client" || r.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("%s: %d %s", name, r.Status, r.Raw)
		}
	}
	if r := e.exchange(t, url.Values{"code": {e.code(t, v)}, "code_verifier": {v}, "client_secret": {secret}}); r.Status != 200 {
		t.Errorf("client_secret_post: %d %s", r.Status, r.Raw)
	}
}
