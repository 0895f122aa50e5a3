package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// TestSetupPage: the first-run link over HTTP. A dead link is a 404 page
// saying how to get a new one; a live one shows the form, which keeps
// what was typed after a refusal; of two setups posted at once exactly
// one signs its person in and lands on the workspace list.
func TestSetupPage(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{IssuerIsURL: true, Passwords: fastPasswords})
		link, ok, err := s.Auth.FirstRun(t.Context())
		if err != nil || !ok {
			t.Fatalf("FirstRun: %v %v", ok, err)
		}
		tok := strings.TrimPrefix(link.URL, s.Issuer+"/setup?token=")
		c := browser(t)
		for _, u := range []string{"/setup", "/setup?token=st_wrong", "/setup?token=" + tok + "x"} {
			res, body := get(t, c, s.URL+u)
			if res.StatusCode != 404 || !strings.Contains(body, "This setup link no longer works") || !strings.Contains(body, "restart sigil serve") {
				t.Errorf("GET %s: %d, want the 404 dead-link page\n%s", u, res.StatusCode, body)
			}
		}
		res, body := get(t, c, link.URL)
		if res.StatusCode != 200 || !strings.Contains(body, `name="token" value="`+tok+`"`) ||
			!strings.Contains(res.Header.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
			t.Fatalf("GET the setup link: %d\n%s", res.StatusCode, body)
		}
		form := url.Values{"token": {tok}, "workspace": {"Acme"}, "email": {"root@example.com"}, "password": {"short"}}
		res, body = post(t, c, s.URL+"/setup", form)
		if res.StatusCode != 400 || !strings.Contains(body, `role="alert"`) || !strings.Contains(body, `value="Acme"`) ||
			!strings.Contains(body, `value="root@example.com"`) {
			t.Fatalf("short password: %d (the alert and the typed values)\n%s", res.StatusCode, body)
		}

		// Two people submit at once.
		form.Set("password", userPass)
		browsers := []*http.Client{c, browser(t)}
		results := make([]*http.Response, 2)
		var wg sync.WaitGroup
		for i, b := range browsers {
			f := url.Values{}
			for k, v := range form {
				f[k] = v
			}
			f.Set("workspace", []string{"Acme", "Globex"}[i])
			wg.Go(func() { results[i], _ = post(t, b, s.URL+"/setup", f) })
		}
		wg.Wait()
		winner := -1
		for i, res := range results {
			switch {
			case res.StatusCode == 303 && winner < 0:
				winner = i
			case res.StatusCode != 404:
				t.Errorf("setup %d: %d, want one 303 and one 404", i, res.StatusCode)
			}
		}
		if winner < 0 {
			t.Fatal("no setup succeeded")
		}
		if loc := results[winner].Header.Get("Location"); loc != "/dashboard/workspaces?welcome=1" {
			t.Errorf("the setup lands on %q", loc)
		}
		res, body = get(t, browsers[winner], s.URL+"/dashboard/workspaces?welcome=1")
		name := []string{"Acme", "Globex"}[winner]
		if res.StatusCode != 200 || !strings.Contains(body, name) || !strings.Contains(body, "Sigil is set up") ||
			!strings.Contains(body, `href="/dashboard/workspaces" aria-current="page"`) || !strings.Contains(body, `href="/dashboard/members"`) {
			t.Fatalf("the new admin's workspace list: %d\n%s", res.StatusCode, body)
		}
		if res, body = get(t, c, link.URL); res.StatusCode != 404 {
			t.Errorf("the used link: %d\n%s", res.StatusCode, body)
		}
		if _, ok, _ := s.Auth.FirstRun(t.Context()); ok {
			t.Error("FirstRun made a link for an instance with an account")
		}
	})
}

var (
	membersCell = regexp.MustCompile(`<td data-label="Members">(\d+)</td>`)
	keysCell    = regexp.MustCompile(`<td data-label="API keys">(\d+)</td>`)
)

// TestDashboardWorkspaces: an account the operator made instance admin
// sees every workspace with its counts and creates one (join code shown
// once, and it works); everyone else is refused by URL too, the admin's
// own bearer token gets no instance powers on the JSON API, and a
// revocation applies at once.
func TestDashboardWorkspaces(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		e := newEnv(t, db, testenv.Options{})
		before := e.signInBrowser(t, userEmail, userPass)
		if res, body := get(t, before, e.s.URL+"/dashboard/workspaces"); res.StatusCode != 403 || strings.Contains(body, `href="/dashboard/workspaces"`) {
			t.Fatalf("an owner who is not an instance admin: %d\n%s", res.StatusCode, body)
		}
		if _, err := e.s.Auth.SetInstanceAdmin(t.Context(), userEmail, "", true); err != nil {
			t.Fatal(err)
		}
		admin := e.signInBrowser(t, userEmail, userPass)
		if res, body := post(t, admin, e.s.URL+"/dashboard/api-keys", url.Values{"name": {"ci"}, "scope": {"read"}}); res.StatusCode != 201 {
			t.Fatalf("create key: %d\n%s", res.StatusCode, body)
		}
		res, body := get(t, admin, e.s.URL+"/dashboard/workspaces")
		m, k := membersCell.FindStringSubmatch(body), keysCell.FindStringSubmatch(body)
		if res.StatusCode != 200 || !strings.Contains(body, "Acme") || !strings.Contains(body, e.ws) || m == nil || m[1] != "1" || k == nil || k[1] != "1" ||
			!strings.Contains(body, `href="/dashboard/workspaces" aria-current="page"`) {
			t.Fatalf("workspace list: %d\n%s", res.StatusCode, body)
		}

		res, body = post(t, admin, e.s.URL+"/dashboard/workspaces", url.Values{"name": {"  "}})
		if res.StatusCode != 400 || !strings.Contains(body, `role="alert"`) {
			t.Errorf("a workspace without a name: %d", res.StatusCode)
		}
		res, body = post(t, admin, e.s.URL+"/dashboard/workspaces", url.Values{"name": {"Globex"}})
		code := joinRE.FindStringSubmatch(body)
		if res.StatusCode != 201 || code == nil || !strings.Contains(body, "You won't see it again") || !strings.Contains(body, e.s.Issuer+"/signup") {
			t.Fatalf("create workspace: %d\n%s", res.StatusCode, body)
		}
		if _, body = get(t, admin, e.s.URL+"/dashboard/workspaces"); !strings.Contains(body, "Globex") || strings.Contains(body, code[1]) {
			t.Error("the list lacks the new workspace or shows its join code again")
		}
		joined := testenv.Do(t, nil, "POST", e.s.URL+"/v1/auth/signup", map[string]any{"email": "g@example.com", "password": userPass, "join_code": code[1]})
		if joined.Status != 201 {
			t.Fatalf("sign up with the new join code: %d %s", joined.Status, joined.Raw)
		}

		// The JSON API's instance admin stays the admin token.
		tok := testenv.Do(t, nil, "POST", e.s.URL+"/v1/auth/login", map[string]any{"email": userEmail, "password": userPass}).Str("access_token")
		if r := testenv.Do(t, nil, "POST", e.s.URL+"/v1/workspaces", map[string]any{"name": "Sneaky"}, "Authorization: Bearer "+tok); r.Status != 403 {
			t.Errorf("the instance admin's access token creates a workspace: %d", r.Status)
		}

		testenv.Do(t, nil, "POST", e.s.URL+"/v1/auth/signup", map[string]any{"email": "mia@example.com", "password": userPass, "join_code": e.join})
		member := e.signInBrowser(t, "mia@example.com", userPass)
		if res, _ := get(t, member, e.s.URL+"/dashboard/workspaces"); res.StatusCode != 403 {
			t.Errorf("member opens the workspaces page: %d, want 403", res.StatusCode)
		}
		if res, _ := post(t, member, e.s.URL+"/dashboard/workspaces", url.Values{"name": {"Mine"}}); res.StatusCode != 403 {
			t.Errorf("member creates a workspace: %d, want 403", res.StatusCode)
		}
		if res, _ := get(t, browser(t), e.s.URL+"/dashboard/workspaces"); res.StatusCode != 302 {
			t.Errorf("signed out: %d, want 302 to /login", res.StatusCode)
		}

		if _, err := e.s.Auth.SetInstanceAdmin(t.Context(), userEmail, "", false); err != nil {
			t.Fatal(err)
		}
		if res, _ := get(t, admin, e.s.URL+"/dashboard/workspaces"); res.StatusCode != 403 {
			t.Errorf("after the revocation: %d, want 403", res.StatusCode)
		}
		e.wantAudit(t, "instance_admin.grant", "instance_admin.revoke")
	})
}
