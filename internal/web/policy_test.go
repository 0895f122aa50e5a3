package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// TestRequireMFAPages: with require_mfa, a person without a second factor
// is sent to the security page after signing in; in the grace period it
// offers "Not now", after it the other dashboard pages lead back to it.
// The settings page sets the policy.
func TestRequireMFAPages(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		e := newEnv(t, db, testenv.Options{})
		signIn := func() *http.Client {
			c := browser(t)
			res, body := post(t, c, e.s.URL+"/login", url.Values{"email": {userEmail}, "password": {userPass}})
			if res.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign-in: %d %s", res.StatusCode, body)
			}
			if to := res.Header.Get("Location"); to != "/dashboard/security?required=1" && to != "/account" {
				t.Fatalf("sign-in led to %s", to)
			}
			return c
		}
		// The owner sets the policy on the settings page.
		c := signIn()
		res, body := get(t, c, e.s.URL+"/dashboard/settings")
		if res.StatusCode != 200 || !strings.Contains(body, `<option value="none" selected>`) {
			t.Fatalf("settings page: %d\n%s", res.StatusCode, body)
		}
		form := url.Values{"name": {"Acme"}, "require_mfa": {"all"}}
		if res, body = post(t, c, e.s.URL+"/dashboard/settings", form); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("save settings: %d %s", res.StatusCode, body)
		}
		if _, body = get(t, c, e.s.URL+"/dashboard/settings"); !strings.Contains(body, `<option value="all" selected>`) {
			t.Errorf("settings after saving all:\n%s", body)
		}
		form.Set("require_mfa", "sometimes")
		if res, _ = post(t, c, e.s.URL+"/dashboard/settings", form); res.StatusCode != http.StatusBadRequest {
			t.Errorf("a bad policy: %d", res.StatusCode)
		}

		// In the grace period: sent to the security page, with "Not now".
		c = signIn()
		if res, body = get(t, c, e.s.URL+"/dashboard/security?required=1"); res.StatusCode != 200 ||
			!strings.Contains(body, "Your workspace requires two-step verification.") || !strings.Contains(body, `href="/account">Not now`) {
			t.Fatalf("security page in the grace: %d\n%s", res.StatusCode, body)
		}
		if res, _ = get(t, c, e.s.URL+"/dashboard/api-keys"); res.StatusCode != 200 {
			t.Errorf("API keys page in the grace: %d", res.StatusCode)
		}

		// After it: only the security page is open, and no "Not now".
		e.s.Clock.Add(7*24*time.Hour + time.Minute)
		c = signIn()
		if res, _ = get(t, c, e.s.URL+"/dashboard/api-keys"); res.StatusCode != http.StatusFound ||
			res.Header.Get("Location") != "/dashboard/security?required=1" {
			t.Errorf("API keys page after the grace: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		if _, body = get(t, c, e.s.URL+"/dashboard/security?required=1"); strings.Contains(body, "Not now") ||
			!strings.Contains(body, "to go on using your account") {
			t.Errorf("security page after the grace:\n%s", body)
		}
		// Adding a factor opens the rest (here: an authenticator app).
		if res, body = post(t, c, e.s.URL+"/dashboard/security/totp", url.Values{}); res.StatusCode != 200 {
			t.Fatalf("enrol: %d %s", res.StatusCode, body)
		}
		m := regexp.MustCompile(`action="/dashboard/security/totp/([^/"]+)/confirm"[\s\S]*?name="secret" value="([A-Z2-7]+)"`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no enrolment on the page:\n%s", body)
		}
		code, _ := totp.GenerateCode(m[2], e.s.Clock.Now())
		if res, body = post(t, c, e.s.URL+"/dashboard/security/totp/"+m[1]+"/confirm", url.Values{"code": {code}, "secret": {m[2]}}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("confirm: %d %s", res.StatusCode, body)
		}
		if res, _ = get(t, c, e.s.URL+"/dashboard/api-keys"); res.StatusCode != 200 {
			t.Errorf("API keys page with a factor: %d", res.StatusCode)
		}
	})
}

// TestMembersTwoStep: the members page shows who has two-step
// verification on, and an owner resets a member's factors through a
// confirmation.
func TestMembersTwoStep(t *testing.T) {
	e := newEnv(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{})
	r := testenv.Do(t, nil, "POST", e.s.URL+"/v1/auth/signup", map[string]any{"email": "bob@example.com",
		"password": userPass, "join_code": e.join})
	at := "Authorization: Bearer " + r.Str("access_token")
	en := testenv.Do(t, nil, "POST", e.s.URL+"/v1/users/me/factors/totp", nil, at)
	code, _ := totp.GenerateCode(en.Str("secret"), e.s.Clock.Now())
	if v := testenv.Do(t, nil, "POST", e.s.URL+"/v1/users/me/factors/"+en.Str("id")+"/verify", map[string]string{"code": code}, at); v.Status != 200 {
		t.Fatalf("enrol bob: %d %s", v.Status, v.Raw)
	}
	c := browser(t)
	if res, body := post(t, c, e.s.URL+"/login", url.Values{"email": {userEmail}, "password": {userPass}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d %s", res.StatusCode, body)
	}
	_, body := get(t, c, e.s.URL+"/dashboard/members")
	m := regexp.MustCompile(`href="/dashboard/members/([^/"]+)/factors/reset"`).FindStringSubmatch(body)
	if m == nil || !strings.Contains(body, `<span class="pill pill-active">on</span>`) || !strings.Contains(body, `<span class="pill">off</span>`) {
		t.Fatalf("members page:\n%s", body)
	}
	res, body := get(t, c, e.s.URL+"/dashboard/members/"+m[1]+"/factors/reset")
	if res.StatusCode != 200 || !strings.Contains(body, "Reset two-step verification of bob@example.com?") {
		t.Fatalf("confirmation: %d\n%s", res.StatusCode, body)
	}
	if res, body = post(t, c, e.s.URL+"/dashboard/members/"+m[1]+"/factors/reset", url.Values{}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("reset: %d %s", res.StatusCode, body)
	}
	if _, body = get(t, c, e.s.URL+"/dashboard/members?reset=1"); strings.Contains(body, "pill-active\">on") ||
		!strings.Contains(body, "Two-step verification reset.") {
		t.Errorf("members page after the reset:\n%s", body)
	}
	e.wantAudit(t, "factor.reset")
}
