package web_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/sigil-auth/sigil/internal/testenv"
)

var continueRE = regexp.MustCompile(`<a href="(/oauth2/authorize\?[^"]+)">Continue to the app</a>`)

// TestStepUpACR: an app that asks for acr_values=aal2 gets no code for a
// password-only browser session. A person without a second factor is
// sent to add one and comes back with the request; the second step then
// runs on the signed-in session, and the code's tokens carry aal2 and
// the ID token acr=aal2 and amr [pwd otp]. A session of two factors goes
// straight through; prompt=none hears interaction_required; without
// acr_values the ID token says acr=aal1.
func TestStepUpACR(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		e := newEnv(t, db, testenv.Options{})
		conf, provider := e.oauth(t)
		c := browser(t)
		c1 := e.signInBrowser(t, userEmail, userPass) // password only, before any factor
		aal2 := oauth2.SetAuthURLParam("acr_values", "aal2")

		var d struct {
			ACR    []string `json:"acr_values_supported"`
			Claims []string `json:"claims_supported"`
		}
		if err := provider.Claims(&d); err != nil || !slices.Equal(d.ACR, []string{"aal1", "aal2"}) || !slices.Contains(d.Claims, "acr") {
			t.Fatalf("discovery: %+v %v", d, err)
		}

		// No factor yet: the password signs in, then the security page.
		verifier := oauth2.GenerateVerifier()
		authURL := conf.AuthCodeURL("st", oauth2.S256ChallengeOption(verifier), aal2)
		back := e.signIn(t, c, authURL, userEmail, userPass)
		if back.Path != "/dashboard/security" || back.Query().Get("stepup") != "1" || back.Query().Get("return") == "" {
			t.Fatalf("a step-up without a factor led to %s", back)
		}
		ret := back.Query().Get("return")
		res, body := get(t, c, e.s.URL+back.String())
		if res.StatusCode != 200 || !strings.Contains(body, "asks for two-step verification") || strings.Contains(body, "Continue to the app") {
			t.Fatalf("security page for a step-up: %d\n%s", res.StatusCode, body)
		}
		// The enrolment carries the request through to a Continue link.
		res, body = post(t, c, e.s.URL+"/dashboard/security/totp", url.Values{"return": {ret}})
		sm, im := totpSecretRE.FindStringSubmatch(body), enrolIDRE.FindStringSubmatch(body)
		if res.StatusCode != 200 || sm == nil || im == nil {
			t.Fatalf("enrol: %d\n%s", res.StatusCode, body)
		}
		if m := returnField.FindStringSubmatch(body); m == nil || html.UnescapeString(m[1]) != ret {
			t.Fatalf("the enrolment lost the request:\n%s", body)
		}
		secret := sm[1]
		res, _ = post(t, c, e.s.URL+"/dashboard/security/totp/"+im[1]+"/confirm",
			url.Values{"code": {code(t, secret, e.s.Clock)}, "secret": {secret}, "return": {ret}})
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("confirm: %d", res.StatusCode)
		}
		_, body = get(t, c, e.s.URL+res.Header.Get("Location"))
		m := continueRE.FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no Continue link after enrolling:\n%s", body)
		}

		// Continue: the session is still aal1, so the second step.
		res, body = get(t, c, e.s.URL+html.UnescapeString(m[1]))
		tm := mfaTokenRE.FindStringSubmatch(body)
		if res.StatusCode != 200 || tm == nil || !strings.Contains(body, "Demo asks for two-step verification") {
			t.Fatalf("step-up page: %d\n%s", res.StatusCode, body)
		}
		if rm := returnField.FindStringSubmatch(body); rm == nil || html.UnescapeString(rm[1]) != ret {
			t.Fatalf("the step-up page lost the request:\n%s", body)
		}
		if res, _ = post(t, c, e.s.URL+"/login/mfa", url.Values{"mfa_token": {tm[1]}, "code": {"000000"}, "return": {ret}}); res.StatusCode != 401 {
			t.Fatalf("a wrong code: %d", res.StatusCode)
		}
		e.s.Clock.Add(30 * time.Second) // the enrolment spent the current step
		res, _ = post(t, c, e.s.URL+"/login/mfa", url.Values{"mfa_token": {tm[1]}, "code": {code(t, secret, e.s.Clock)}, "return": {ret}})
		back = location(t, res)
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(back.String(), appRedirect) || back.Query().Get("code") == "" {
			t.Fatalf("after the step-up: %d to %s", res.StatusCode, back)
		}
		claims, at := e.exchangeACR(t, conf, provider, back.Query().Get("code"), verifier)
		if claims.ACR != "aal2" || !slices.Equal(claims.AMR, []string{"pwd", "otp"}) {
			t.Errorf("ID token after the step-up: acr %q amr %v", claims.ACR, claims.AMR)
		}
		if r := testenv.Do(t, nil, "GET", e.s.URL+"/v1/authorize?aal=2", nil, "Authorization: Bearer "+at); r.Status != 200 {
			t.Errorf("the code's access token at aal=2: %d %s", r.Status, r.Raw)
		}

		// Now aal2: the next request asking for it needs no page.
		v2 := oauth2.GenerateVerifier()
		res, _ = get(t, c, conf.AuthCodeURL("s2", oauth2.S256ChallengeOption(v2), aal2))
		if loc := location(t, res); res.StatusCode != http.StatusFound || loc.Query().Get("code") == "" {
			t.Fatalf("aal2 session asked for aal2: %d to %s", res.StatusCode, loc)
		}

		// A password-only session of a person with a factor: prompt=none
		// hears interaction_required; "aal2 aal1" accepts it as it is.
		res, _ = get(t, c1, conf.AuthCodeURL("s3", oauth2.S256ChallengeOption(v2), aal2, oauth2.SetAuthURLParam("prompt", "none")))
		if loc := location(t, res); loc.Query().Get("error") != "interaction_required" || loc.Query().Get("state") != "s3" {
			t.Errorf("prompt=none step-up: %d to %s", res.StatusCode, loc)
		}
		res, _ = get(t, c1, conf.AuthCodeURL("s4", oauth2.S256ChallengeOption(v2), oauth2.SetAuthURLParam("acr_values", "aal2 aal1")))
		loc := location(t, res)
		if loc.Query().Get("code") == "" {
			t.Fatalf("acr_values=aal2 aal1 on an aal1 session: %s", loc)
		}
		if claims, _ := e.exchangeACR(t, conf, provider, loc.Query().Get("code"), v2); claims.ACR != "aal1" || !slices.Equal(claims.AMR, []string{"pwd"}) {
			t.Errorf("ID token of an aal1 session: acr %q amr %v", claims.ACR, claims.AMR)
		}
	})
}

type acrClaims struct {
	ACR string   `json:"acr"`
	AMR []string `json:"amr"`
}

// exchangeACR redeems a code and returns the ID token's acr and amr and
// the access token.
func (e *env) exchangeACR(t *testing.T, conf *oauth2.Config, p *oidc.Provider, code, verifier string) (acrClaims, string) {
	t.Helper()
	tok, _, idt := e.redeem(t, conf, p, code, verifier)
	var c acrClaims
	if err := idt.Claims(&c); err != nil {
		t.Fatal(err)
	}
	return c, tok.AccessToken
}
