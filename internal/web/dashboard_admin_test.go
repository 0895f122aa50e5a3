package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// signInBrowser signs email in on a fresh browser.
func (e *env) signInBrowser(t *testing.T, email, pass string) *http.Client {
	t.Helper()
	c := browser(t)
	if res, body := post(t, c, e.s.URL+"/login", url.Values{"email": {email}, "password": {pass}}); res.StatusCode != 303 {
		t.Fatalf("sign in %s: %d\n%s", email, res.StatusCode, body)
	}
	return c
}

var (
	kidRE    = regexp.MustCompile(`id="kid-value" class="secret-value">([^<]+)<`)
	secretRE = regexp.MustCompile(`id="secret-value" class="secret-value">([^<]+)<`)
	joinRE   = regexp.MustCompile(`id="join-value" class="secret-value">(jc_[^<]+)<`)
)

// TestDashboardJWTKeys: an owner creates a JWT key on the dashboard (id and
// secret shown once), a token minted with it as the snippet shows is
// accepted, and deleting the key refuses it; a member has JWT keys of
// their own but no members page.
func TestDashboardJWTKeys(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		e := newEnv(t, db, testenv.Options{})
		owner := e.signInBrowser(t, userEmail, userPass)
		res, body := post(t, owner, e.s.URL+"/dashboard/jwt-keys", url.Values{"name": {"web-backend"}})
		kid, secret := kidRE.FindStringSubmatch(body), secretRE.FindStringSubmatch(body)
		if res.StatusCode != 201 || kid == nil || secret == nil || !strings.Contains(body, `"kid": "`+kid[1]+`"`) {
			t.Fatalf("create JWT key: %d\n%s", res.StatusCode, body)
		}
		tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "user-42", "exp": e.s.Clock.Now().Add(time.Hour).Unix()})
		tok.Header["kid"] = kid[1]
		signed, _ := tok.SignedString([]byte(html.UnescapeString(secret[1])))
		if r := testenv.Do(t, nil, "GET", e.s.URL+"/v1/whoami", nil, "Authorization: Bearer "+signed); r.Status != 200 {
			t.Fatalf("token of the new JWT key: %d %s", r.Status, r.Raw)
		}
		_, body = get(t, owner, e.s.URL+"/dashboard/jwt-keys")
		if !strings.Contains(body, kid[1]) || strings.Contains(body, secret[1]) {
			t.Fatalf("list: the kid missing or the secret shown again")
		}
		if res, body = post(t, owner, e.s.URL+"/dashboard/jwt-keys", url.Values{"name": {""}}); res.StatusCode != 400 || !strings.Contains(body, `role="alert"`) {
			t.Errorf("JWT key without a name: %d", res.StatusCode)
		}
		if res, _ = post(t, owner, e.s.URL+"/dashboard/jwt-keys/"+kid[1]+"/delete", url.Values{}); res.StatusCode != 303 {
			t.Fatalf("delete: %d", res.StatusCode)
		}
		if r := testenv.Do(t, nil, "GET", e.s.URL+"/v1/whoami", nil, "Authorization: Bearer "+signed); r.Status != 401 {
			t.Errorf("token of a deleted key: %d", r.Status)
		}

		testenv.Do(t, nil, "POST", e.s.URL+"/v1/auth/signup", map[string]any{"email": "mia@example.com", "password": userPass, "join_code": e.join})
		member := e.signInBrowser(t, "mia@example.com", userPass)
		_, body = get(t, member, e.s.URL+"/dashboard/api-keys")
		// Members manage their own JWT keys (API.md §9), not the members.
		if !strings.Contains(body, "/dashboard/jwt-keys") || strings.Contains(body, "/dashboard/members") {
			t.Error("a member's navigation: want JWT keys and no Members")
		}
		if res, _ := get(t, member, e.s.URL+"/dashboard/members"); res.StatusCode != 403 {
			t.Errorf("member opens the members page: %d, want 403", res.StatusCode)
		}
		if res, _ := post(t, member, e.s.URL+"/dashboard/join-code", url.Values{}); res.StatusCode != 403 {
			t.Errorf("member rotates the join code: %d, want 403", res.StatusCode)
		}
		if res, _ := post(t, member, e.s.URL+"/dashboard/jwt-keys", url.Values{"name": {"mine"}}); res.StatusCode != 201 {
			t.Errorf("member creates their own JWT key: %d", res.StatusCode)
		}
	})
}

// TestDashboardMembers: an owner changes a member's role, cannot demote
// the last owner, and rotates the join code (shown once; the old one dies).
func TestDashboardMembers(t *testing.T) {
	e := newEnv(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{})
	testenv.Do(t, nil, "POST", e.s.URL+"/v1/auth/signup", map[string]any{"email": "mia@example.com", "password": userPass, "join_code": e.join})
	owner := e.signInBrowser(t, userEmail, userPass)
	res, body := get(t, owner, e.s.URL+"/dashboard/members")
	ids := regexp.MustCompile(`action="/dashboard/members/(usr_[a-z0-9]+)"`).FindAllStringSubmatch(body, -1)
	if res.StatusCode != 200 || len(ids) != 2 || !strings.Contains(body, "mia@example.com") {
		t.Fatalf("members page: %d\n%s", res.StatusCode, body)
	}
	ownerID, miaID := e.userID(t, userEmail), e.userID(t, "mia@example.com")
	if res, body = post(t, owner, e.s.URL+"/dashboard/members/"+miaID, url.Values{"role": {"admin"}}); res.StatusCode != 303 {
		t.Fatalf("make admin: %d\n%s", res.StatusCode, body)
	}
	if _, body = get(t, owner, e.s.URL+"/dashboard/members?updated=1"); !strings.Contains(body, `value="admin" selected`) {
		t.Error("the new role is not shown")
	}
	res, body = post(t, owner, e.s.URL+"/dashboard/members/"+ownerID, url.Values{"role": {"member"}})
	if res.StatusCode != 409 || !strings.Contains(body, `role="alert"`) {
		t.Errorf("demoting the last owner: %d", res.StatusCode)
	}
	res, body = post(t, owner, e.s.URL+"/dashboard/join-code", url.Values{})
	m := joinRE.FindStringSubmatch(body)
	if res.StatusCode != 200 || m == nil {
		t.Fatalf("rotate join code: %d\n%s", res.StatusCode, body)
	}
	old := testenv.Do(t, nil, "POST", e.s.URL+"/v1/auth/signup", map[string]any{"email": "x@example.com", "password": userPass, "join_code": e.join})
	fresh := testenv.Do(t, nil, "POST", e.s.URL+"/v1/auth/signup", map[string]any{"email": "y@example.com", "password": userPass, "join_code": m[1]})
	if old.Status != 401 || fresh.Status != 201 {
		t.Errorf("after rotation: old code %d (want 401), new code %d (want 201)", old.Status, fresh.Status)
	}
}

// userID is the id of the password user with email.
func (e *env) userID(t *testing.T, email string) string {
	t.Helper()
	tok := testenv.Do(t, nil, "POST", e.s.URL+"/v1/auth/login", map[string]any{"email": email, "password": userPass}).Str("access_token")
	return testenv.Do(t, nil, "GET", e.s.URL+"/v1/whoami", nil, "Authorization: Bearer "+tok).Str("subject")
}

// TestDashboardAppsAndAudit: an owner registers an app (a confidential
// one's secret shown once), sees refusals inline, deletes it, and reads
// the audit log, filtered and as CSV; a member gets 403 for both.
func TestDashboardAppsAndAudit(t *testing.T) {
	e := newEnv(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{})
	owner := e.signInBrowser(t, userEmail, userPass)
	form := url.Values{"name": {"Shop"}, "redirect_uris": {"https://shop.example/cb\n\nhttp://localhost:3000/cb\n"},
		"post_logout_redirect_uris": {"https://shop.example/"}, "type": {"client_secret_basic"}}
	res, body := post(t, owner, e.s.URL+"/dashboard/apps", form)
	if res.StatusCode != 201 || !strings.Contains(body, `id="secret-value" class="secret-value">cs_`) || !strings.Contains(body, e.s.Issuer) {
		t.Fatalf("register app: %d\n%s", res.StatusCode, body)
	}
	id := regexp.MustCompile(`id="client-value" class="secret-value">(app_[a-z0-9]+)<`).FindStringSubmatch(body)
	if id == nil {
		t.Fatal("no client id shown")
	}
	got := testenv.Do(t, nil, "GET", e.s.URL+"/v1/workspaces/"+e.ws+"/apps/"+id[1], nil, "Authorization: Bearer "+testenv.AdminToken)
	if got.Status != 200 || !strings.Contains(string(got.Raw), "http://localhost:3000/cb") {
		t.Fatalf("the app through the API: %d %s", got.Status, got.Raw)
	}
	form.Set("redirect_uris", "http://shop.example/cb")
	res, body = post(t, owner, e.s.URL+"/dashboard/apps", form)
	if res.StatusCode != 400 || !strings.Contains(body, `role="alert"`) || !strings.Contains(body, "http://shop.example/cb</textarea>") {
		t.Errorf("plain-http redirect URI: %d (the form must keep what was typed)", res.StatusCode)
	}
	if res, _ = post(t, owner, e.s.URL+"/dashboard/apps/"+id[1]+"/delete", url.Values{}); res.StatusCode != 303 {
		t.Fatalf("delete app: %d", res.StatusCode)
	}
	if r := testenv.Do(t, nil, "GET", e.s.URL+"/v1/workspaces/"+e.ws+"/apps/"+id[1], nil, "Authorization: Bearer "+testenv.AdminToken); r.Status != 404 {
		t.Errorf("deleted app: %d", r.Status)
	}

	e.wantAudit(t, "app.delete")
	res, body = get(t, owner, e.s.URL+"/dashboard/audit?action=app.")
	if res.StatusCode != 200 || !strings.Contains(body, "app.create") || strings.Contains(body, "login.success") {
		t.Fatalf("audit filtered by app.: %d\n%s", res.StatusCode, body)
	}
	res, body = get(t, owner, e.s.URL+"/dashboard/audit?format=csv")
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") ||
		!strings.HasPrefix(body, "time,action,actor") || !strings.Contains(body, "login.success") {
		t.Fatalf("audit CSV: %d %q\n%s", res.StatusCode, res.Header.Get("Content-Type"), body)
	}
	testenv.Do(t, nil, "POST", e.s.URL+"/v1/auth/signup", map[string]any{"email": "mia@example.com", "password": userPass, "join_code": e.join})
	member := e.signInBrowser(t, "mia@example.com", userPass)
	for _, p := range []string{"/dashboard/apps", "/dashboard/audit"} {
		if res, _ := get(t, member, e.s.URL+p); res.StatusCode != 403 {
			t.Errorf("member opens %s: %d, want 403", p, res.StatusCode)
		}
	}
}

// TestDashboardSettings: an owner saves branding and lifetimes (the
// sign-in page and the API show them), a bad value is refused inline with
// what was typed kept, and a member cannot save.
func TestDashboardSettings(t *testing.T) {
	e := newEnv(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{})
	owner := e.signInBrowser(t, userEmail, userPass)
	res, body := get(t, owner, e.s.URL+"/dashboard/settings")
	if res.StatusCode != 200 || !strings.Contains(body, `value="read write"`) {
		t.Fatalf("settings page: %d\n%s", res.StatusCode, body)
	}
	form := url.Values{"name": {"Acme"}, "display_name": {"Acme Cloud"}, "accent_color": {"#0f766e"},
		"default_scopes": {"read"}, "access_token_ttl": {"1h"}}
	if res, body = post(t, owner, e.s.URL+"/dashboard/settings", form); res.StatusCode != 303 {
		t.Fatalf("save: %d\n%s", res.StatusCode, body)
	}
	ws := testenv.Do(t, nil, "GET", e.s.URL+"/v1/workspaces/"+e.ws, nil, "Authorization: Bearer "+testenv.AdminToken)
	if !strings.Contains(string(ws.Raw), `"display_name":"Acme Cloud"`) || !strings.Contains(string(ws.Raw), `"access_token_ttl":"1h0m0s"`) ||
		!strings.Contains(string(ws.Raw), `"default_scopes":["read"]`) {
		t.Fatalf("workspace after saving: %s", ws.Raw)
	}
	form.Set("refresh_grace", "soon")
	res, body = post(t, owner, e.s.URL+"/dashboard/settings", form)
	if res.StatusCode != 400 || !strings.Contains(body, `role="alert"`) || !strings.Contains(body, `value="soon"`) {
		t.Errorf("bad refresh_grace: %d", res.StatusCode)
	}
	testenv.Do(t, nil, "POST", e.s.URL+"/v1/auth/signup", map[string]any{"email": "mia@example.com", "password": userPass, "join_code": e.join})
	member := e.signInBrowser(t, "mia@example.com", userPass)
	if res, _ := post(t, member, e.s.URL+"/dashboard/settings", url.Values{"name": {"Mine"}}); res.StatusCode != 403 {
		t.Errorf("member saves settings: %d, want 403", res.StatusCode)
	}
	if res, body := get(t, member, e.s.URL+"/dashboard/settings"); res.StatusCode != 403 || strings.Contains(body, "access_token_ttl") || !strings.Contains(body, "Back to the dashboard") {
		t.Errorf("member opens the settings page: %d\n%s", res.StatusCode, body)
	}
}
