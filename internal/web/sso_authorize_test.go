package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// TestAuthorizeConnection: /oauth2/authorize checks the connection it
// names once the client and the redirect URI are known good (API.md §11):
// one that does not exist, or is another workspace's, goes back to the
// app as invalid_request with the request's state; a bad client still
// gets the error page; the app's own connection starts single sign-on.
func TestAuthorizeConnection(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		e := newEnv(t, db, testenv.Options{})
		p, cid := e.idp(t, nil)
		other := testenv.Do(t, nil, "POST", e.s.URL+"/v1/workspaces", map[string]any{"name": "Other"}, admin)
		oc := testenv.Do(t, nil, "POST", e.s.URL+"/v1/workspaces/"+other.Str("id")+"/connections", map[string]any{
			"kind": "oidc", "name": "Other IdP", "issuer": "https://idp.other.test", "client_id": "x", "client_secret": "y"}, admin)
		if oc.Status != 201 {
			t.Fatalf("the other workspace's connection: %d %s", oc.Status, oc.Raw)
		}
		conf, _ := e.oauth(t)
		tests := []struct {
			name       string
			clientID   string
			connection string
			want       string // "error": invalid_request at the app; "page": the 400 page; "start": SSO starts
		}{
			{"unknown connection", e.clientID, "conn_doesnotexist", "error"},
			{"another workspace's connection", e.clientID, oc.Str("id"), "error"},
			{"unknown client and connection", "app_nope", "conn_doesnotexist", "page"},
			{"the app's workspace's connection", e.clientID, cid, "start"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				c := *conf
				c.ClientID = tt.clientID
				res, body := get(t, browser(t), c.AuthCodeURL("st-42", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()),
					oauth2.SetAuthURLParam("connection", tt.connection)))
				to := location(t, res)
				switch tt.want {
				case "error":
					q := to.Query()
					if res.StatusCode != http.StatusFound || !strings.HasPrefix(to.String(), appRedirect+"?") ||
						q.Get("error") != "invalid_request" || !strings.Contains(q.Get("error_description"), "connection") ||
						q.Get("state") != "st-42" || q.Get("iss") != e.s.Issuer {
						t.Fatalf("%d to %v, want 302 to the app with invalid_request, a description and state\n%s", res.StatusCode, to, body)
					}
				case "page":
					if res.StatusCode != http.StatusBadRequest || res.Header.Get("Location") != "" || !strings.Contains(body, "no app is registered with this client_id") {
						t.Fatalf("%d to %v, want the 400 page\n%s", res.StatusCode, to, body)
					}
				case "start":
					if res.StatusCode != http.StatusFound || to.Path != "/sso/"+cid+"/start" {
						t.Fatalf("%d to %v, want 302 to the connection's start", res.StatusCode, to)
					}
					res, _ = get(t, browser(t), e.s.URL+to.String())
					if at := location(t, res); res.StatusCode != http.StatusFound || !strings.HasPrefix(at.String(), p.URL+"/") {
						t.Fatalf("start: %d to %v, want 302 to the IdP %s", res.StatusCode, at, p.URL)
					}
				}
			})
		}
		// A start link altered to another workspace's connection (the
		// request itself names none) is still refused at the start.
		ret := mustURL(t, conf.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))).RawQuery
		res, body := get(t, browser(t), e.s.URL+"/sso/"+oc.Str("id")+"/start?"+url.Values{"return": {ret}}.Encode())
		if res.StatusCode != http.StatusNotFound || !strings.Contains(body, "Single sign-on did not work") {
			t.Fatalf("another workspace's start link: %d, want the 404 refusal\n%s", res.StatusCode, body)
		}
		e.wantAudit(t, "oauth2.authorize_refused")
	})
}

// TestSSOLoginHint: the app's login_hint reaches the IdP's authorization
// URL whichever way the person goes to the connection; a start link's own
// hint (from home realm discovery) comes first.
func TestSSOLoginHint(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		e := newEnv(t, db, testenv.Options{})
		p, cid := e.idp(t, nil)
		conf, _ := e.oauth(t)
		request := func(extra ...oauth2.AuthCodeOption) string {
			return conf.AuthCodeURL("st", append(extra, oauth2.S256ChallengeOption(oauth2.GenerateVerifier()))...)
		}
		hinted := oauth2.SetAuthURLParam("login_hint", "ada@acme.test")
		start := func(ret, hint string) string {
			q := url.Values{"return": {mustURL(t, ret).RawQuery}}
			if hint != "" {
				q.Set("login_hint", hint)
			}
			return e.s.URL + "/sso/" + cid + "/start?" + q.Encode()
		}
		tests := []struct {
			name string
			url  string
			want string // the IdP's login_hint
		}{
			{"authorize with connection", request(hinted, oauth2.SetAuthURLParam("connection", cid)), "ada@acme.test"},
			{"the sign-in page's button", start(request(hinted), ""), "ada@acme.test"},
			{"the start link's own hint first", start(request(hinted), "grace@acme.test"), "grace@acme.test"},
			{"no hint", request(oauth2.SetAuthURLParam("connection", cid)), ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				to := toIdP(t, e, browser(t), tt.url, p.URL)
				if q := to.Query(); q.Get("login_hint") != tt.want || q.Get("state") == "" {
					t.Fatalf("the IdP got %v, want login_hint %q", to, tt.want)
				}
			})
		}
	})
}

// toIdP follows Sigil's redirects from u until one leaves for the IdP at
// idp, and returns that URL.
func toIdP(t *testing.T, e *env, c *http.Client, u, idp string) *url.URL {
	t.Helper()
	for range 4 {
		res, body := get(t, c, u)
		to := mustURL(t, e.s.URL).ResolveReference(location(t, res))
		if res.StatusCode != http.StatusFound {
			t.Fatalf("%s: %d, want a redirect\n%s", u, res.StatusCode, body)
		}
		if strings.HasPrefix(to.String(), idp+"/") {
			return to
		}
		u = to.String()
	}
	t.Fatalf("%s does not reach the IdP", u)
	return nil
}
