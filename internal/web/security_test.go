package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"golang.org/x/oauth2"

	"github.com/sigil-auth/sigil/internal/testenv"
)

var (
	totpSecretRE = regexp.MustCompile(`id="totp-secret" class="secret-value">([A-Z2-7]+)<`)
	enrolIDRE    = regexp.MustCompile(`action="/dashboard/security/totp/(fac_[a-z2-7]+)/confirm"`)
	codesRE      = regexp.MustCompile(`(?s)<pre id="recovery-codes" class="secret-value codes">([^<]+)</pre>`)
	mfaTokenRE   = regexp.MustCompile(`name="mfa_token" value="(mfa_[^"]+)"`)
)

func code(t *testing.T, secret string, c *testenv.Clock) string {
	t.Helper()
	s, err := totp.GenerateCode(secret, c.Now())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// enrolOnDashboard turns on an authenticator app through the security
// page (a wrong first code first) and returns its secret.
func enrolOnDashboard(t *testing.T, e *env, c *http.Client) string {
	t.Helper()
	res, body := get(t, c, e.s.URL+"/dashboard/security")
	if res.StatusCode != 200 || !strings.Contains(body, "Two-step verification is off") {
		t.Fatalf("security page: %d\n%s", res.StatusCode, body)
	}
	res, body = post(t, c, e.s.URL+"/dashboard/security/totp", url.Values{})
	sm, im := totpSecretRE.FindStringSubmatch(body), enrolIDRE.FindStringSubmatch(body)
	if res.StatusCode != 200 || sm == nil || im == nil || !strings.Contains(body, "<svg") || res.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("enrol: %d\n%s", res.StatusCode, body)
	}
	secret, confirm := sm[1], e.s.URL+"/dashboard/security/totp/"+im[1]+"/confirm"
	res, body = post(t, c, confirm, url.Values{"code": {"000000"}, "secret": {secret}})
	if res.StatusCode != 401 || !strings.Contains(body, "That code is not valid") || !strings.Contains(body, secret) || !strings.Contains(body, "<svg") {
		t.Fatalf("wrong first code: %d\n%s", res.StatusCode, body)
	}
	if res, body = post(t, c, confirm, url.Values{"code": {code(t, secret, e.s.Clock)}, "secret": {secret}}); res.StatusCode != 303 {
		t.Fatalf("confirm: %d\n%s", res.StatusCode, body)
	}
	return secret
}

// signInTwoSteps posts the password (with ret, the authorization request,
// if any) and then answer(the code) on the second page.
func signInTwoSteps(t *testing.T, e *env, c *http.Client, ret, answer string) *http.Response {
	t.Helper()
	res, body := post(t, c, e.s.URL+"/login", url.Values{"email": {userEmail}, "password": {userPass}, "return": {ret}})
	m := mfaTokenRE.FindStringSubmatch(body)
	if res.StatusCode != 200 || m == nil || !strings.Contains(body, "Authentication code") {
		t.Fatalf("password step: %d\n%s", res.StatusCode, body)
	}
	if mm := returnField.FindStringSubmatch(body); mm == nil || html.UnescapeString(mm[1]) != ret {
		t.Fatalf("the second step lost the authorization request:\n%s", body)
	}
	res, _ = post(t, c, e.s.URL+"/login/mfa", url.Values{"mfa_token": {m[1]}, "code": {answer}, "return": {ret}})
	return res
}

func TestSecondFactorPages(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		e := newEnv(t, db, testenv.Options{})
		c := e.signInBrowser(t, userEmail, userPass)
		secret := enrolOnDashboard(t, e, c)
		res, body := post(t, c, e.s.URL+"/dashboard/security/recovery", url.Values{})
		m := codesRE.FindStringSubmatch(body)
		if res.StatusCode != 200 || m == nil || !strings.Contains(body, "won't see them again") {
			t.Fatalf("recovery codes: %d\n%s", res.StatusCode, body)
		}
		codes := strings.Fields(m[1])
		if len(codes) != 10 {
			t.Fatalf("recovery codes: %q", codes)
		}
		if _, body = get(t, c, e.s.URL+"/dashboard/security"); !strings.Contains(body, "10 of 10 codes unused") || strings.Contains(body, codes[0]) {
			t.Errorf("security page after making codes:\n%s", body)
		}

		// Sign in again: password, then no code, a wrong one, the right one.
		b := browser(t)
		if res := signInTwoSteps(t, e, b, "", ""); res.StatusCode != 400 {
			t.Fatalf("no code: %d", res.StatusCode)
		}
		// A second step without its mfa_token goes back to the password.
		res, body = post(t, b, e.s.URL+"/login/mfa", url.Values{"code": {"123456"}})
		if res.StatusCode != 401 || !strings.Contains(body, "Sign in again") || !strings.Contains(body, `name="password"`) {
			t.Fatalf("second step without mfa_token: %d\n%s", res.StatusCode, body)
		}
		if res := signInTwoSteps(t, e, b, "", "123456"); res.StatusCode != 401 {
			t.Fatalf("wrong code: %d", res.StatusCode)
		}
		e.s.Clock.Add(30 * time.Second)
		if res := signInTwoSteps(t, e, b, "", code(t, secret, e.s.Clock)); res.StatusCode != 303 || res.Header.Get("Location") != "/account" {
			t.Fatalf("right code: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		// A recovery code works once.
		if res := signInTwoSteps(t, e, browser(t), "", codes[0]); res.StatusCode != 303 {
			t.Fatalf("recovery code: %d", res.StatusCode)
		}
		if res := signInTwoSteps(t, e, browser(t), "", codes[0]); res.StatusCode != 401 {
			t.Fatalf("recovery code again: %d", res.StatusCode)
		}
		// An authorization request continues to the app after both steps.
		cfg, _ := e.oauth(t)
		a := browser(t)
		res, _ = get(t, a, cfg.AuthCodeURL("st", oauth2.S256ChallengeOption(oauth2.GenerateVerifier())))
		res, body = get(t, a, e.s.URL+res.Header.Get("Location"))
		rm := returnField.FindStringSubmatch(body)
		if rm == nil {
			t.Fatalf("sign-in page without the request:\n%s", body)
		}
		e.s.Clock.Add(30 * time.Second)
		res = signInTwoSteps(t, e, a, html.UnescapeString(rm[1]), code(t, secret, e.s.Clock))
		if loc := res.Header.Get("Location"); res.StatusCode != 303 || !strings.HasPrefix(loc, appRedirect+"?code=") {
			t.Fatalf("authorization after two steps: %d %s", res.StatusCode, loc)
		}
		e.wantAudit(t, "factor.add", "factor.recovery_codes", "factor.recovery_used", "login.mfa")

		// Removing the app turns the second step off.
		list := testenv.Do(t, nil, "GET", e.s.URL+"/v1/users/me/factors", nil) // needs a credential
		if list.Status != 401 {
			t.Fatalf("factors without a credential: %d", list.Status)
		}
		_, body = get(t, c, e.s.URL+"/dashboard/security")
		rmv := regexp.MustCompile(`href="/dashboard/security/(fac_[a-z2-7]+)/remove"`).FindStringSubmatch(body)
		if rmv == nil {
			t.Fatalf("no remove link:\n%s", body)
		}
		if res, body = get(t, c, e.s.URL+"/dashboard/security/"+rmv[1]+"/remove"); res.StatusCode != 200 || !strings.Contains(body, "Remove Authenticator app?") {
			t.Fatalf("remove page: %d\n%s", res.StatusCode, body)
		}
		if res, _ = post(t, c, e.s.URL+"/dashboard/security/"+rmv[1]+"/remove", url.Values{}); res.StatusCode != 303 {
			t.Fatalf("remove: %d", res.StatusCode)
		}
		e.signInBrowser(t, userEmail, userPass) // one step again
	})
}
