package web_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"html"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/sigil-auth/sigil/internal/ssotest"
	"github.com/sigil-auth/sigil/internal/testenv"
)

// addConnection posts the "Add a connection" form of kind as c, follows
// it to the new connection's page and returns the connection's id and
// that page, checking that it shows values, each with its copy button.
func (e *env) addConnection(t *testing.T, c *http.Client, kind string, form url.Values, values ...string) (string, string) {
	t.Helper()
	form.Set("kind", kind)
	res, body := post(t, c, e.s.URL+"/dashboard/sso", form)
	m := regexp.MustCompile(`^/dashboard/sso/(conn_[a-z0-9]+)\?created=1$`).FindStringSubmatch(res.Header.Get("Location"))
	if res.StatusCode != 303 || m == nil {
		t.Fatalf("add %s connection: %d %s\n%s", kind, res.StatusCode, res.Header.Get("Location"), body)
	}
	if res, body = get(t, c, e.s.URL+res.Header.Get("Location")); res.StatusCode != 200 || !strings.Contains(body, "Connection added.") {
		t.Fatalf("the new %s connection's page: %d\n%s", kind, res.StatusCode, body)
	}
	for _, v := range values {
		if !regexp.MustCompile(`id="`+v+`-value" class="secret-value"[^>]*>`+regexp.QuoteMeta(e.s.URL)+`/sso/`+m[1]+`/`).MatchString(body) ||
			!strings.Contains(body, `data-copy="`+v+`-value"`) {
			t.Errorf("%s connection: no %s value with a copy button", kind, v)
		}
	}
	return m[1], body
}

// conn reads a connection through the JSON API.
func (e *env) conn(t *testing.T, cid string) testenv.Response {
	t.Helper()
	return testenv.Do(t, nil, "GET", e.s.URL+"/v1/workspaces/"+e.ws+"/connections/"+cid, nil, admin)
}

// TestDashboardSSO: an owner adds an OpenID, an Apple and a SAML
// connection through the dashboard's forms and sees what to paste at
// each IdP; tests one against a running IdP (fine) and one against a
// closed port (its problem shown); a refused form keeps what was typed
// but the secret; edits keep the stored secret; deleting asks first.
func TestDashboardSSO(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		e := newEnv(t, db, testenv.Options{})
		owner := e.signInBrowser(t, userEmail, userPass)
		res, body := get(t, owner, e.s.URL+"/dashboard/sso")
		if res.StatusCode != 200 || !strings.Contains(body, "No single sign-on connections yet") || !strings.Contains(body, `href="/dashboard/sso" aria-current="page"`) {
			t.Fatalf("empty list: %d\n%s", res.StatusCode, body)
		}
		if _, body = get(t, owner, e.s.URL+"/dashboard/sso/new"); strings.Count(body, `href="/dashboard/sso/new?kind=`) != 3 {
			t.Errorf("the kind chooser offers no three kinds:\n%s", body)
		}
		if _, body = get(t, owner, e.s.URL+"/dashboard/sso/new?kind=saml"); !strings.Contains(body, `name="idp_metadata_url"`) || strings.Contains(body, "allow_idp_initiated\" checked") {
			t.Errorf("SAML form: no metadata field, or IdP-initiated sign-in on by default")
		}

		p := ssotest.Start("sigil-client", "idp-secret")
		t.Cleanup(p.Close)
		oidcForm := url.Values{"name": {"Acme IdP"}, "issuer": {p.URL}, "client_id": {"sigil-client"},
			"client_secret": {"idp-secret"}, "domains": {"acme.test, Acme.Example"}, "default_role": {"admin"}}
		cid, body := e.addConnection(t, owner, "oidc", oidcForm, "redirect", "start")
		if !strings.Contains(body, "docs/sso/google.md") || strings.Contains(body, "idp-secret") {
			t.Error("the new connection's page: no pointer to its docs page, or the client secret shown")
		}
		got := e.conn(t, cid)
		if got.Status != 200 || got.Body["has_client_secret"] != true || got.Str("default_role") != "admin" ||
			!strings.Contains(string(got.Raw), `"domains":["acme.example","acme.test"]`) {
			t.Fatalf("the connection through the API: %d %s", got.Status, got.Raw)
		}
		if res, body = post(t, owner, e.s.URL+"/dashboard/sso/"+cid+"/test", nil); res.StatusCode != 200 || !strings.Contains(body, "Everything checks out") {
			t.Errorf("test against a running IdP: %d\n%s", res.StatusCode, body)
		}

		// Refusals come back on the form, with what was typed but the secret.
		bad := url.Values{"name": {"Typo IdP"}, "issuer": {""}, "client_id": {"typo-client"}, "client_secret": {"typed-s3cret"}, "domains": {"typo.test"}}
		res, body = post(t, owner, e.s.URL+"/dashboard/sso", with(bad, "kind", "oidc"))
		if res.StatusCode != 400 || !strings.Contains(body, `role="alert"`) || !strings.Contains(body, "issuer") ||
			!strings.Contains(body, `value="Typo IdP"`) || !strings.Contains(body, `value="typo-client"`) || strings.Contains(body, "typed-s3cret") {
			t.Errorf("OIDC without an issuer: %d\n%s", res.StatusCode, body)
		}
		res, body = post(t, owner, e.s.URL+"/dashboard/sso", with(with(with(bad, "issuer", p.URL), "domains", "typo.test, not_a_domain"), "kind", "oidc"))
		if res.StatusCode != 400 || !strings.Contains(html.UnescapeString(body), `"not_a_domain" is not a domain name`) || !strings.Contains(body, `value="typo.test, not_a_domain"`) {
			t.Errorf("a bad domain: %d\n%s", res.StatusCode, body)
		}

		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, _ := x509.MarshalPKCS8PrivateKey(key)
		p8 := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		appleID, body := e.addConnection(t, owner, "apple", url.Values{"name": {"Apple"}, "client_id": {"com.acme.web"},
			"team_id": {"TEAM123456"}, "key_id": {"KEY1234567"}, "private_key": {p8}}, "redirect")
		if !strings.Contains(body, "docs/sso/apple.md") || strings.Contains(body, "PRIVATE KEY") || e.conn(t, appleID).Body["has_private_key"] != true {
			t.Error("Apple connection: no docs pointer, or the key shown, or not stored")
		}

		idp := ssotest.StartSAML(e.s.Clock.Now)
		t.Cleanup(idp.Close)
		samlID, body := e.addConnection(t, owner, "saml", url.Values{"name": {"Corp SAML"}, "idp_metadata_xml": {idp.MetadataXML()},
			"domains": {"corp.test"}, "attr_email": {"mail"}}, "acs", "entity", "metadata")
		if !strings.Contains(body, "docs/sso/saml.md") {
			t.Error("SAML connection: no pointer to docs/sso/saml.md")
		}
		if got := e.conn(t, samlID); got.Body["allow_idp_initiated"] != false || !strings.Contains(string(got.Raw), `"attribute_map":{"email":"mail"}`) {
			t.Errorf("SAML connection through the API: %s", got.Raw)
		}

		// A connection whose issuer is a closed port: the test says so.
		l, _ := net.Listen("tcp", "127.0.0.1:0")
		closed := "http://" + l.Addr().String()
		l.Close()
		downID, _ := e.addConnection(t, owner, "oidc", url.Values{"name": {"Down"}, "issuer": {closed}, "client_id": {"x"}, "client_secret": {"y"}})
		res, body = post(t, owner, e.s.URL+"/dashboard/sso/"+downID+"/test", nil)
		if res.StatusCode != 200 || !strings.Contains(body, `role="alert"`) || !strings.Contains(body, "unreachable") || strings.Contains(body, "Everything checks out") {
			t.Errorf("test against a closed port: %d\n%s", res.StatusCode, body)
		}

		_, body = get(t, owner, e.s.URL+"/dashboard/sso")
		for _, name := range []string{"Acme IdP", "Apple", "Corp SAML", "Down", "acme.example, acme.test", "SAML 2.0", "Sign in with Apple"} {
			if !strings.Contains(body, name) {
				t.Errorf("the list lacks %q", name)
			}
		}
		e.editConnections(t, owner, cid, samlID, p.URL)
		e.deleteConnection(t, owner, cid)
		e.wantAudit(t, "sso.connection_create", "sso.connection_update", "sso.connection_delete")
	})
}

// editConnections renames OIDC connection cid keeping its stored secret,
// shows a refusal on the edit form, and turns on IdP-initiated sign-in
// for SAML connection samlID.
func (e *env) editConnections(t *testing.T, owner *http.Client, cid, samlID, issuer string) {
	t.Helper()
	res, body := get(t, owner, e.s.URL+"/dashboard/sso/"+cid+"/edit")
	if res.StatusCode != 200 || !strings.Contains(body, "A client secret is stored — leave empty to keep it.") || !strings.Contains(body, `value="acme.example, acme.test"`) {
		t.Fatalf("edit page: %d\n%s", res.StatusCode, body)
	}
	form := url.Values{"name": {"Acme Okta"}, "issuer": {issuer}, "client_id": {"sigil-client"}, "client_secret": {""},
		"domains": {"acme.test"}, "default_role": {"member"}}
	res, body = post(t, owner, e.s.URL+"/dashboard/sso/"+cid, with(form, "domains", "acme"))
	if res.StatusCode != 400 || !strings.Contains(body, `role="alert"`) || !strings.Contains(body, `action="/dashboard/sso/`+cid+`"`) {
		t.Errorf("edit with a bad domain: %d\n%s", res.StatusCode, body)
	}
	if res, body = post(t, owner, e.s.URL+"/dashboard/sso/"+cid, form); res.StatusCode != 303 || res.Header.Get("Location") != "/dashboard/sso/"+cid+"?saved=1" {
		t.Fatalf("edit: %d %s\n%s", res.StatusCode, res.Header.Get("Location"), body)
	}
	got := e.conn(t, cid)
	if got.Str("name") != "Acme Okta" || got.Str("default_role") != "member" || got.Body["has_client_secret"] != true {
		t.Errorf("after the edit (secret left empty): %s", got.Raw)
	}
	if _, body = get(t, owner, e.s.URL+"/dashboard/sso/"+cid+"?saved=1"); !strings.Contains(body, "Connection saved.") || !strings.Contains(body, "Acme Okta") {
		t.Error("the saved connection's page")
	}
	_, body = get(t, owner, e.s.URL+"/dashboard/sso/"+samlID+"/edit")
	if !strings.Contains(body, "Pasted metadata is stored — leave empty to keep it.") || !strings.Contains(body, `value="mail"`) {
		t.Errorf("SAML edit page:\n%s", body)
	}
	saml := url.Values{"name": {"Corp SAML"}, "domains": {"corp.test"}, "attr_email": {"mail"}, "allow_idp_initiated": {"on"}}
	if res, body = post(t, owner, e.s.URL+"/dashboard/sso/"+samlID, saml); res.StatusCode != 303 {
		t.Fatalf("SAML edit: %d\n%s", res.StatusCode, body)
	}
	if got := e.conn(t, samlID); got.Body["allow_idp_initiated"] != true {
		t.Errorf("IdP-initiated sign-in not turned on: %s", got.Raw)
	}
}

// deleteConnection deletes cid after its confirmation page.
func (e *env) deleteConnection(t *testing.T, owner *http.Client, cid string) {
	t.Helper()
	res, body := get(t, owner, e.s.URL+"/dashboard/sso/"+cid+"/delete")
	if res.StatusCode != 200 || !strings.Contains(body, "links to accounts") || !strings.Contains(body, "The accounts stay") || !strings.Contains(body, cid) {
		t.Fatalf("delete confirmation: %d\n%s", res.StatusCode, body)
	}
	if res, _ = post(t, owner, e.s.URL+"/dashboard/sso/"+cid+"/delete", nil); res.StatusCode != 303 || res.Header.Get("Location") != "/dashboard/sso?deleted=1" {
		t.Fatalf("delete: %d", res.StatusCode)
	}
	if got := e.conn(t, cid); got.Status != 404 {
		t.Errorf("the deleted connection through the API: %d", got.Status)
	}
	if _, body = get(t, owner, e.s.URL+"/dashboard/sso?deleted=1"); !strings.Contains(body, "Connection deleted.") || strings.Contains(body, cid) {
		t.Error("the list after deleting")
	}
}

// with is form with field set to v (a copy).
func with(form url.Values, field, v string) url.Values {
	out := url.Values{}
	for k, vs := range form {
		out[k] = vs
	}
	out.Set(field, v)
	return out
}

// TestDashboardSSORefusals: a member gets no SSO page, link or action,
// and a form post without the session's CSRF proof is refused (403).
func TestDashboardSSORefusals(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		e := newEnv(t, db, testenv.Options{})
		p := ssotest.Start("sigil-client", "idp-secret")
		t.Cleanup(p.Close)
		owner := e.signInBrowser(t, userEmail, userPass)
		cid, _ := e.addConnection(t, owner, "oidc", url.Values{"name": {"Acme"}, "issuer": {p.URL}, "client_id": {"a"}, "client_secret": {"b"}})

		form := url.Values{"csrf": {"forged"}, "kind": {"oidc"}, "name": {"Evil"}, "issuer": {p.URL}, "client_id": {"a"}, "client_secret": {"b"}}
		if res, _ := post(t, owner, e.s.URL+"/dashboard/sso", form); res.StatusCode != 403 {
			t.Errorf("create without the CSRF proof: %d, want 403", res.StatusCode)
		}
		if res, _ := post(t, owner, e.s.URL+"/dashboard/sso/"+cid+"/delete", url.Values{"csrf": {""}}); res.StatusCode != 403 {
			t.Errorf("delete without the CSRF proof: %d, want 403", res.StatusCode)
		}
		list := testenv.Do(t, nil, "GET", e.s.URL+"/v1/workspaces/"+e.ws+"/connections", nil, admin)
		if strings.Contains(string(list.Raw), "Evil") || !strings.Contains(string(list.Raw), cid) {
			t.Errorf("after the forged posts: %s", list.Raw)
		}

		testenv.Do(t, nil, "POST", e.s.URL+"/v1/auth/signup", map[string]any{"email": "mia@example.com", "password": userPass, "join_code": e.join})
		member := e.signInBrowser(t, "mia@example.com", userPass)
		if _, body := get(t, member, e.s.URL+"/dashboard/api-keys"); strings.Contains(body, "/dashboard/sso") {
			t.Error("a member's navigation offers Single sign-on")
		}
		for _, path := range []string{"/dashboard/sso", "/dashboard/sso/new?kind=oidc", "/dashboard/sso/" + cid, "/dashboard/sso/" + cid + "/edit", "/dashboard/sso/" + cid + "/delete"} {
			if res, body := get(t, member, e.s.URL+path); res.StatusCode != 403 || !strings.Contains(body, "open this page") {
				t.Errorf("member GET %s: %d, want 403", path, res.StatusCode)
			}
		}
		for _, path := range []string{"/dashboard/sso", "/dashboard/sso/" + cid, "/dashboard/sso/" + cid + "/test", "/dashboard/sso/" + cid + "/delete"} {
			if res, _ := post(t, member, e.s.URL+path, url.Values{"kind": {"oidc"}, "name": {"Mine"}}); res.StatusCode != 403 {
				t.Errorf("member POST %s: %d, want 403", path, res.StatusCode)
			}
		}
		if got := e.conn(t, cid); got.Str("name") != "Acme" {
			t.Errorf("after the member's posts: %s", got.Raw)
		}
	})
}
