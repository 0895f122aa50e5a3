package web_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sigil-auth/sigil/internal/ssotest"
	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/testenv"
)

// What Google and Entra ID add to plain OIDC (the hd claim, tenants and
// tid+oid keys), and linking an IdP's person to an existing account,
// against the test provider on both backends.

// ssoDirect signs p.Next in through connection cid from the connection's
// start URL (no app) in a fresh browser: start → the IdP → the callback,
// whose answer it returns (a 302 to /account when it worked).
func (e *env) ssoDirect(t *testing.T, cid string) (*http.Response, string) {
	t.Helper()
	c := browser(t)
	res, _ := get(t, c, e.s.URL+"/sso/"+cid+"/start")
	if res.StatusCode != http.StatusFound {
		t.Fatalf("start: %d", res.StatusCode)
	}
	res, body := get(t, c, location(t, res).String())
	if res.StatusCode != http.StatusFound {
		t.Fatalf("the IdP sent no code: %d %s", res.StatusCode, body)
	}
	return get(t, c, location(t, res).String())
}

func wantSignedIn(t *testing.T, res *http.Response, body string) {
	t.Helper()
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/account" {
		t.Fatalf("sign-in: %d %v, want 302 to /account\n%s", res.StatusCode, res.Header.Get("Location"), body)
	}
}

// identity is the account linked to (cid, subject), or fails.
func (e *env) identity(t *testing.T, cid, subject string) store.User {
	t.Helper()
	_, u, err := e.s.Store.GetIdentityUser(context.Background(), cid, subject)
	if err != nil {
		t.Fatalf("identity (%s, %s): %v", cid, subject, err)
	}
	return u
}

// TestSSOHostedDomain: with hosted_domain set (Google Workspace), the
// IdP is asked for that domain and an ID token must carry it as hd.
func TestSSOHostedDomain(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		e := newEnv(t, db, testenv.Options{})
		p, cid := e.idp(t, map[string]any{"hosted_domain": "acme.test"})
		res, _ := get(t, browser(t), e.s.URL+"/sso/"+cid+"/start")
		if q := location(t, res).Query(); q.Get("hd") != "acme.test" {
			t.Fatalf("the authorization request does not ask for hd=acme.test: %v", location(t, res))
		}
		for _, tt := range []struct {
			name  string
			extra map[string]any
			ok    bool
		}{
			{"no hd claim (a consumer account)", nil, false},
			{"another Workspace's hd", map[string]any{"hd": "evil.test"}, false},
			{"hd differing in case", map[string]any{"hd": "ACME.test"}, false},
			{"hd as a list", map[string]any{"hd": []string{"acme.test"}}, false},
			{"the hosted domain", map[string]any{"hd": "acme.test"}, true},
		} {
			t.Run(tt.name, func(t *testing.T) {
				p.Lock()
				p.Next = ssotest.User{Subject: "g-" + strings.ReplaceAll(tt.name, " ", "-"), Email: "ada.sso@acme.test",
					EmailVerified: true, Extra: tt.extra}
				p.Unlock()
				res, body := e.ssoDirect(t, cid)
				if tt.ok {
					wantSignedIn(t, res, body)
					return
				}
				if strings.Contains(tt.name, "list") {
					wantRefused(t, res, body, "")
				} else {
					wantRefused(t, res, body, "only accepts accounts of acme.test")
				}
				if _, _, err := e.s.Store.GetIdentityUser(context.Background(), cid, p.Next.Subject); err == nil {
					t.Fatal("a refused sign-in made an account")
				}
			})
		}
	})
}

// entraFront serves an Entra-style discovery document for the test
// provider p: its issuer has a literal {tenantid} (as Entra's common
// endpoints publish), its endpoints and keys are p's. It returns the
// issuer to configure.
func entraFront(t *testing.T, p *ssotest.Provider) string {
	t.Helper()
	var iss string
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "/.well-known/openid-configuration") {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(map[string]any{"issuer": iss, "authorization_endpoint": p.URL + "/authorize",
			"token_endpoint": p.URL + "/token", "jwks_uri": p.URL + "/jwks", "response_types_supported": []string{"code"},
			"subject_types_supported": []string{"pairwise"}, "id_token_signing_alg_values_supported": []string{"RS256"}})
	}))
	t.Cleanup(front.Close)
	iss = front.URL + "/{tenantid}/v2.0"
	return iss
}

// TestSSOEntraTenants: a multi-tenant Entra connection ({tenantid} in
// its issuer) accepts people of its allowed tenants only, whose tokens'
// iss names their own tenant; they are keyed by tid/oid, so a new
// per-app sub for the same person finds the same account. (The
// login.microsoftonline.com forms of the issuer need https and that
// host; authn's internal tests cover them.)
func TestSSOEntraTenants(t *testing.T) {
	const tenantA, tenantB = "11111111-aaaa-4aaa-8aaa-111111111111", "22222222-bbbb-4bbb-8bbb-222222222222"
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		e := newEnv(t, db, testenv.Options{})
		p, plain := e.idp(t, nil)
		iss := entraFront(t, p)
		_, cid := e.idp(t, map[string]any{"name": "Entra", "issuer": iss, "allowed_tenants": []string{tenantA}, "domains": []string{"entra.test"}})
		tenantOf := func(tid string) func(map[string]any) {
			return func(c map[string]any) { c["iss"] = strings.Replace(iss, "{tenantid}", tid, 1) }
		}
		person := func(sub, tid, oid string) ssotest.User {
			return ssotest.User{Subject: sub, Email: "grace@entra.test", EmailVerified: true,
				Extra: map[string]any{"tid": tid, "oid": oid}}
		}
		signIn := func(t *testing.T, u ssotest.User, tweak func(map[string]any)) (*http.Response, string) {
			p.Lock()
			p.Next, p.Tweak = u, tweak
			p.Unlock()
			return e.ssoDirect(t, cid)
		}

		res, body := signIn(t, person("per-app-sub-1", tenantA, "oid-grace"), tenantOf(tenantA))
		wantSignedIn(t, res, body)
		first := e.identity(t, cid, tenantA+"/oid-grace")
		// The same person through another app registration: another sub,
		// the same tid and oid, the same account.
		res, body = signIn(t, person("per-app-sub-2", tenantA, "oid-grace"), tenantOf(tenantA))
		wantSignedIn(t, res, body)
		if again := e.identity(t, cid, tenantA+"/oid-grace"); again.ID != first.ID {
			t.Fatalf("a new sub for the same tid/oid made another account: %s, then %s", first.ID, again.ID)
		}
		for _, tt := range []struct {
			name  string
			u     ssotest.User
			tweak func(map[string]any)
		}{
			{"a tenant not allowed", person("s3", tenantB, "oid-mallory"), tenantOf(tenantB)},
			{"iss of another tenant than tid", person("s4", tenantA, "oid-mallory"), tenantOf(tenantB)},
			{"iss of the allowed tenant, tid of another", person("s5", tenantB, "oid-mallory"), tenantOf(tenantA)},
			{"iss with the placeholder", person("s6", tenantA, "oid-mallory"), tenantOf("{tenantid}")},
			{"no tid", ssotest.User{Subject: "s7", Email: "m@entra.test", EmailVerified: true}, tenantOf(tenantA)},
		} {
			t.Run(tt.name, func(t *testing.T) {
				res, body := signIn(t, tt.u, tt.tweak)
				wantRefused(t, res, body, "does not accept accounts of that Microsoft tenant")
			})
		}

		// Another issuer's tid and oid claims mean nothing: its people are
		// keyed by sub.
		p.Lock()
		p.Tweak, p.Next = nil, person("plain-sub", tenantA, "oid-grace")
		p.Next.Email = "grace@plain.test"
		p.Unlock()
		res, body = e.ssoDirect(t, plain)
		wantSignedIn(t, res, body)
		if u := e.identity(t, plain, "plain-sub"); u.ID == first.ID {
			t.Fatal("a non-Microsoft IdP's tid/oid reached the Entra person's account")
		}
		if _, _, err := e.s.Store.GetIdentityUser(context.Background(), plain, tenantA+"/oid-grace"); err == nil {
			t.Fatal("a non-Microsoft IdP's person was keyed by tid/oid")
		}
	})
}

// TestSSOLinkVerified: an IdP's person joins an existing account of the
// workspace with the same email only when both Sigil and the IdP have
// verified it; email_verified "false" (a string) is not verified.
func TestSSOLinkVerified(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		e := newEnv(t, db, testenv.Options{})
		p, cid := e.idp(t, nil)
		owner, err := e.s.Store.GetUsersByEmail(context.Background(), userEmail)
		if err != nil || len(owner) != 1 {
			t.Fatalf("the owner: %v %v", owner, err)
		}
		// A member's account (the env's first account owns the workspace).
		const memberEmail = "member@example.com"
		if r := testenv.Do(t, nil, "POST", e.s.URL+"/v1/auth/signup", map[string]any{"email": memberEmail,
			"password": userPass, "join_code": e.join}); r.Status != 201 {
			t.Fatalf("signup: %d %s", r.Status, r.Raw)
		}
		users, err := e.s.Store.GetUsersByEmail(context.Background(), memberEmail)
		if err != nil || len(users) != 1 {
			t.Fatalf("the member: %v %v", users, err)
		}
		existing := users[0]
		// An owner's account is never linked, even with both sides verified:
		// any admin can add a connection to an IdP of their own.
		if _, err := e.s.Store.UpdateUser(context.Background(), owner[0].ID, func(u *store.User) error {
			u.EmailVerified = true
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		p.Lock()
		p.Next = ssotest.User{Subject: "idp-owner", Email: userEmail, EmailVerified: true}
		p.Unlock()
		res, body := e.ssoDirect(t, cid)
		wantRefused(t, res, body, "owner or admin account")
		as := func(sub string, verified any) {
			p.Lock()
			p.Next = ssotest.User{Subject: sub, Email: strings.ToUpper(memberEmail[:1]) + memberEmail[1:], EmailVerified: verified}
			p.Unlock()
		}
		if existing.EmailVerified {
			t.Fatal("the member's email is verified already; the first case needs it unverified")
		}
		as("idp-1", true)
		res, body = e.ssoDirect(t, cid)
		wantRefused(t, res, body, "already exists")

		if _, err := e.s.Store.UpdateUser(context.Background(), existing.ID, func(u *store.User) error {
			u.EmailVerified = true
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			sub      string
			verified any
		}{{"idp-2", "false"}, {"idp-3", false}, {"idp-4", nil}, {"idp-5", "no"}} {
			as(tt.sub, tt.verified)
			res, body := e.ssoDirect(t, cid)
			if res.StatusCode < 400 || res.StatusCode >= 500 {
				t.Fatalf("email_verified %#v: %d, want refused\n%s", tt.verified, res.StatusCode, body)
			}
		}
		as("idp-link", "true")
		p.Lock()
		p.Next.Name = "Grace Hopper"
		p.Unlock()
		res, body = e.ssoDirect(t, cid)
		wantSignedIn(t, res, body)
		if u := e.identity(t, cid, "idp-link"); u.ID != existing.ID || u.Name != "Grace Hopper" {
			t.Fatalf("linked to %s named %q, want the existing account %s, nameless until now, with the IdP's name",
				u.ID, u.Name, existing.ID)
		}
		for _, sub := range []string{"idp-1", "idp-2", "idp-3", "idp-4", "idp-5"} {
			if _, _, err := e.s.Store.GetIdentityUser(context.Background(), cid, sub); err == nil {
				t.Fatalf("refused %s was linked", sub)
			}
		}
		if again, _ := e.s.Store.GetUsersByEmail(context.Background(), memberEmail); len(again) != 1 {
			t.Fatalf("accounts with the email: %d, want the one", len(again))
		}
		e.wantAudit(t, "sso.link", "sso.refused", "sso.login")
	})
}
