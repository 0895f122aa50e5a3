package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sigil-auth/sigil/internal/testenv"
)

var keyRE = regexp.MustCompile(`id="secret-value" class="secret-value">(sk_[A-Za-z0-9_-]+)<`)

// TestDashboardKeys: a signed-in person creates an API key (shown once),
// sees it listed by prefix only, revokes it after a confirmation, and the
// API refuses it at once; the same checks as the JSON API apply.
func TestDashboardKeys(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		e := newEnv(t, db, testenv.Options{})
		c := browser(t)
		if res, _ := get(t, c, e.s.URL+"/dashboard/api-keys"); res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/login" {
			t.Fatalf("dashboard without a session: %d to %q", res.StatusCode, res.Header.Get("Location"))
		}
		if res, _ := post(t, c, e.s.URL+"/login", url.Values{"email": {userEmail}, "password": {userPass}}); res.StatusCode != 303 {
			t.Fatalf("sign in: %d", res.StatusCode)
		}
		res, body := get(t, c, e.s.URL+"/dashboard/api-keys")
		if res.StatusCode != 200 || !strings.Contains(body, "No API keys yet") {
			t.Fatalf("empty key list: %d\n%s", res.StatusCode, body)
		}
		res, body = post(t, c, e.s.URL+"/dashboard/api-keys", url.Values{"name": {""}, "scope": {"read"}})
		if res.StatusCode != 400 || !strings.Contains(body, `role="alert"`) {
			t.Errorf("key without a name: %d", res.StatusCode)
		}
		res, body = post(t, c, e.s.URL+"/dashboard/api-keys", url.Values{"name": {"ci"}, "scope": {"admin"}})
		if res.StatusCode != 403 || !strings.Contains(body, "you do not hold it") {
			t.Errorf("key with a scope the person lacks: %d", res.StatusCode)
		}
		res, body = post(t, c, e.s.URL+"/dashboard/api-keys", url.Values{"name": {"ci-deploy"}, "scope": {"read"}, "expires": {"30d"}})
		m := keyRE.FindStringSubmatch(body)
		if res.StatusCode != 201 || m == nil || !strings.Contains(body, "You won't see it again") {
			t.Fatalf("create key: %d\n%s", res.StatusCode, body)
		}
		key := m[1]
		if r := testenv.Do(t, nil, "GET", e.s.URL+"/v1/whoami", nil, "X-API-KEY: "+key); r.Status != 200 {
			t.Fatalf("the new key is refused: %d", r.Status)
		}
		_, body = get(t, c, e.s.URL+"/dashboard/api-keys")
		if strings.Contains(body, key) || !strings.Contains(body, "ci-deploy") || !strings.Contains(body, ">active<") {
			t.Fatalf("key list shows the secret or lacks the key:\n%s", body)
		}
		id := regexp.MustCompile(`/dashboard/api-keys/([a-z0-9_]+)/revoke`).FindStringSubmatch(body)
		if id == nil {
			t.Fatal("no revoke link")
		}
		// Rotation: a new key shown once; the old one works for the grace period.
		if res, body = get(t, c, e.s.URL+"/dashboard/api-keys/"+id[1]+"/rotate"); res.StatusCode != 200 || !strings.Contains(body, "grace_period") {
			t.Fatalf("rotate page: %d", res.StatusCode)
		}
		res, body = post(t, c, e.s.URL+"/dashboard/api-keys/"+id[1]+"/rotate", url.Values{"grace_period": {"1h"}})
		rotated := keyRE.FindStringSubmatch(body)
		if res.StatusCode != 201 || rotated == nil || rotated[1] == key {
			t.Fatalf("rotate: %d\n%s", res.StatusCode, body)
		}
		for _, k := range []string{key, rotated[1]} {
			if r := testenv.Do(t, nil, "GET", e.s.URL+"/v1/whoami", nil, "X-API-KEY: "+k); r.Status != 200 {
				t.Errorf("during the grace period a key is refused: %d", r.Status)
			}
		}
		if res, _ = post(t, c, e.s.URL+"/dashboard/api-keys/"+id[1]+"/rotate", url.Values{"grace_period": {"forever"}}); res.StatusCode != 400 {
			t.Errorf("bad grace period: %d", res.StatusCode)
		}
		res, body = get(t, c, e.s.URL+"/dashboard/api-keys/"+id[1]+"/revoke")
		if res.StatusCode != 200 || !strings.Contains(body, "Revoke key &#34;ci-deploy&#34;?") || !strings.Contains(body, "fail immediately") {
			t.Fatalf("revoke confirmation: %d\n%s", res.StatusCode, body)
		}
		if res, _ := post(t, c, e.s.URL+"/dashboard/api-keys/"+id[1]+"/revoke", nil, "Origin: https://evil.test", "Sec-Fetch-Site: cross-site"); res.StatusCode != 403 {
			t.Errorf("cross-site revoke: %d", res.StatusCode)
		}
		res, _ = post(t, c, e.s.URL+"/dashboard/api-keys/"+id[1]+"/revoke", url.Values{})
		if res.StatusCode != 303 {
			t.Fatalf("revoke: %d", res.StatusCode)
		}
		if r := testenv.Do(t, nil, "GET", e.s.URL+"/v1/whoami", nil, "X-API-KEY: "+key); r.Status != 401 {
			t.Errorf("revoked key: %d, want 401", r.Status)
		}
		_, body = get(t, c, e.s.URL+"/dashboard/api-keys?revoked=1")
		if !strings.Contains(body, "Key revoked") || !strings.Contains(body, ">revoked<") {
			t.Errorf("list after revoking:\n%s", body)
		}
		if res, _ := get(t, c, e.s.URL+"/dashboard/api-keys/ak_nope/revoke"); res.StatusCode != 404 {
			t.Errorf("unknown key: %d", res.StatusCode)
		}
		e.wantAudit(t, "api_key.create", "api_key.revoke")
	})
}

// TestDashboardSessions: the sessions page lists this browser and the
// person's other sessions; ending one kills its tokens; ending this one
// signs the browser out.
func TestDashboardSessions(t *testing.T) {
	e := newEnv(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{})
	api := testenv.Do(t, nil, "POST", e.s.URL+"/v1/auth/login", map[string]any{"email": userEmail, "password": userPass})
	c := browser(t)
	post(t, c, e.s.URL+"/login", url.Values{"email": {userEmail}, "password": {userPass}})
	res, body := get(t, c, e.s.URL+"/dashboard/sessions")
	if res.StatusCode != 200 || !strings.Contains(body, "this browser") || !strings.Contains(body, api.Str("session_id")) {
		t.Fatalf("sessions page: %d\n%s", res.StatusCode, body)
	}
	res, _ = post(t, c, e.s.URL+"/dashboard/sessions/"+api.Str("session_id")+"/end", url.Values{})
	if res.StatusCode != 303 {
		t.Fatalf("end session: %d", res.StatusCode)
	}
	if r := testenv.Do(t, nil, "GET", e.s.URL+"/v1/whoami", nil, "Authorization: Bearer "+api.Str("access_token")); r.Status != 401 {
		t.Errorf("token of the ended session: %d", r.Status)
	}
	if res, _ := post(t, c, e.s.URL+"/dashboard/sessions/ses_nope/end", url.Values{}); res.StatusCode != 404 {
		t.Errorf("unknown session: %d", res.StatusCode)
	}
	m := regexp.MustCompile(`/dashboard/sessions/(web_[a-z0-9]+)/end`).FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no end button for this browser")
	}
	res, body = post(t, c, e.s.URL+"/dashboard/sessions/"+m[1]+"/end", url.Values{})
	if res.StatusCode != 200 || !strings.Contains(body, "signed out") {
		t.Fatalf("ending this browser's session: %d", res.StatusCode)
	}
	if res, _ := get(t, c, e.s.URL+"/dashboard/sessions"); res.StatusCode != http.StatusFound {
		t.Errorf("dashboard after ending this browser's session: %d", res.StatusCode)
	}
}

// TestDashboardProfile: the profile shows the email's state, resends the
// verification mail, and changes the password after checking the
// current one, signing the person's other sessions out.
func TestDashboardProfile(t *testing.T) {
	e := newEnv(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{})
	api := testenv.Do(t, nil, "POST", e.s.URL+"/v1/auth/login", map[string]any{"email": userEmail, "password": userPass})
	c := e.signInBrowser(t, userEmail, userPass)
	res, body := get(t, c, e.s.URL+"/dashboard/profile")
	if res.StatusCode != 200 || !strings.Contains(body, "not verified") {
		t.Fatalf("profile: %d\n%s", res.StatusCode, body)
	}
	before := len(e.s.Outbox.Messages())
	if res, _ = post(t, c, e.s.URL+"/dashboard/profile/verify", url.Values{}); res.StatusCode != 303 {
		t.Fatalf("send verification: %d", res.StatusCode)
	}
	for deadline := time.Now().Add(5 * time.Second); len(e.s.Outbox.Messages()) == before && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
	}
	if len(e.s.Outbox.Messages()) == before {
		t.Error("no verification mail sent")
	}
	res, body = post(t, c, e.s.URL+"/dashboard/profile/password", url.Values{"current_password": {"wrong password"}, "new_password": {"a new password"}})
	if res.StatusCode != 401 || !strings.Contains(body, "current password is not right") {
		t.Errorf("wrong current password: %d", res.StatusCode)
	}
	res, body = post(t, c, e.s.URL+"/dashboard/profile/password", url.Values{"current_password": {userPass}, "new_password": {"short"}})
	if res.StatusCode != 400 || !strings.Contains(body, "8 to 256") {
		t.Errorf("short new password: %d", res.StatusCode)
	}
	if res, _ = post(t, c, e.s.URL+"/dashboard/profile/password", url.Values{"current_password": {userPass}, "new_password": {"a new password"}}); res.StatusCode != 303 {
		t.Fatalf("change password: %d", res.StatusCode)
	}
	if res, _ := get(t, c, e.s.URL+"/dashboard/profile?changed=1"); res.StatusCode != 200 {
		t.Errorf("this browser was signed out by its own password change: %d", res.StatusCode)
	}
	if r := testenv.Do(t, nil, "GET", e.s.URL+"/v1/whoami", nil, "Authorization: Bearer "+api.Str("access_token")); r.Status != 401 {
		t.Errorf("another session's token after the change: %d, want 401", r.Status)
	}
	if r := testenv.Do(t, nil, "POST", e.s.URL+"/v1/auth/login", map[string]any{"email": userEmail, "password": "a new password"}); r.Status != 200 {
		t.Errorf("login with the new password: %d", r.Status)
	}
	e.wantAudit(t, "password.change", "email.verification_sent")
}

// TestDashboardSessionsWhere: the sessions list says where each session
// started (device and address, also in GET /v1/sessions), a User-Agent
// no database would take is stored cleaned, and "Sign out everywhere"
// ends every session: the API's tokens and this browser.
func TestDashboardSessionsWhere(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		e := newEnv(t, db, testenv.Options{})
		api := testenv.Do(t, nil, "POST", e.s.URL+"/v1/auth/login", map[string]any{"email": userEmail, "password": userPass},
			"User-Agent: curl/8.11.1")
		hostile := "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0 \xff\xfe" + strings.Repeat("é", 2000)
		c := browser(t)
		res, body := post(t, c, e.s.URL+"/login", url.Values{"email": {userEmail}, "password": {userPass}}, "User-Agent: "+hostile)
		if res.StatusCode != 303 {
			t.Fatalf("sign in: %d\n%s", res.StatusCode, body)
		}
		res, body = get(t, c, e.s.URL+"/dashboard/sessions")
		for _, want := range []string{"Firefox on Linux", ">curl<", "127.0.0.1", "Sign out everywhere"} {
			if !strings.Contains(body, want) {
				t.Errorf("sessions page lacks %q: %d\n%s", want, res.StatusCode, body)
			}
		}
		list := testenv.Do(t, nil, "GET", e.s.URL+"/v1/sessions", nil, "Authorization: Bearer "+api.Str("access_token"))
		var sessions struct {
			Items []struct {
				ClientIP  string `json:"client_ip"`
				UserAgent string `json:"user_agent"`
			}
		}
		if err := json.Unmarshal(list.Raw, &sessions); err != nil {
			t.Fatalf("GET /v1/sessions: %v: %s", err, list.Raw)
		}
		// Signing up (newEnv) started the third session.
		uas := []string{"curl/8.11.1", "Go-http-client/1.1", "Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0 é"}
		for _, s := range sessions.Items {
			if s.ClientIP != "127.0.0.1" || len(s.UserAgent) > 256 || !utf8.ValidString(s.UserAgent) ||
				!slices.ContainsFunc(uas, func(p string) bool { return strings.HasPrefix(s.UserAgent, p) }) {
				t.Errorf("GET /v1/sessions entry %+v", s)
			}
		}
		if len(sessions.Items) != 3 {
			t.Errorf("GET /v1/sessions: %d sessions, want 3: %s", len(sessions.Items), list.Raw)
		}

		res, body = post(t, c, e.s.URL+"/dashboard/sessions/end-all", url.Values{})
		if res.StatusCode != 200 || !strings.Contains(body, "Every session of yours has ended") {
			t.Fatalf("sign out everywhere: %d\n%s", res.StatusCode, body)
		}
		if r := testenv.Do(t, nil, "POST", e.s.URL+"/v1/auth/refresh", map[string]any{"refresh_token": api.Str("refresh_token")}); r.Status != 401 {
			t.Errorf("refresh after signing out everywhere: %d", r.Status)
		}
		if r := testenv.Do(t, nil, "GET", e.s.URL+"/v1/whoami", nil, "Authorization: Bearer "+api.Str("access_token")); r.Status != 401 {
			t.Errorf("access token after signing out everywhere: %d", r.Status)
		}
		if res, _ := get(t, c, e.s.URL+"/dashboard/sessions"); res.StatusCode != http.StatusFound {
			t.Errorf("dashboard after signing out everywhere: %d", res.StatusCode)
		}
	})
}

// TestDashboardCSRF: a signed-in browser's form post without its
// session's CSRF proof — none, a made-up one, or another session's — is
// refused with 403 and changes nothing; the page's own proof works.
// Posts before signing in need none.
func TestDashboardCSRF(t *testing.T) {
	e := newEnv(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{})
	other := e.signInBrowser(t, userEmail, userPass)
	stolen := csrfOf(t, other, e.s.URL)
	c := e.signInBrowser(t, userEmail, userPass) // signing in itself needed no proof
	own := csrfOf(t, c, e.s.URL)
	if own == "" || stolen == "" || own == stolen {
		t.Fatalf("proofs: own %q, other session's %q", own, stolen)
	}
	routes := []struct {
		path string
		form url.Values
	}{
		{"/dashboard/api-keys", url.Values{"name": {"sneaky"}}},
		{"/dashboard/jwt-keys", url.Values{"name": {"sneaky"}}},
		{"/dashboard/settings", url.Values{"name": {"Pwned"}}},
		{"/dashboard/sessions/end-all", url.Values{}},
		{"/logout", url.Values{}},
	}
	for _, proof := range []string{"", "bogus", stolen, own[:len(own)-1]} {
		for _, rt := range routes {
			form := url.Values{"csrf": {proof}}
			for k, v := range rt.form {
				form[k] = v
			}
			res, body := post(t, c, e.s.URL+rt.path, form)
			if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "This form has expired") {
				t.Errorf("POST %s with proof %q: %d\n%.300s", rt.path, proof, res.StatusCode, body)
			}
		}
	}
	_, keys := get(t, c, e.s.URL+"/dashboard/api-keys")
	_, jwt := get(t, c, e.s.URL+"/dashboard/jwt-keys")
	if strings.Contains(keys, "sneaky") || strings.Contains(jwt, "sneaky") {
		t.Error("a refused post created a key")
	}
	if res, _ := get(t, c, e.s.URL+"/dashboard/sessions"); res.StatusCode != 200 {
		t.Errorf("a refused post signed the browser out: %d", res.StatusCode)
	}
	if res, body := post(t, c, e.s.URL+"/dashboard/api-keys", url.Values{"csrf": {own}, "name": {"fine"}}); res.StatusCode != 201 {
		t.Errorf("POST with the page's own proof: %d\n%.300s", res.StatusCode, body)
	}
}
