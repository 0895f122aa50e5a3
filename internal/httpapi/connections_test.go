package httpapi_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"encoding/xml"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/ssotest"
	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/testenv"
)

// p8 is a PKCS #8 PEM private key, as Apple's .p8 file holds one.
func p8(t testing.TB, key any) string {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

func p256(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// samlMetadata is the test IdP's metadata with its signing certificate
// replaced by one valid until notAfter (nil keeps the IdP's own), or
// without any key when noKeys.
func samlMetadata(t testing.TB, idp *ssotest.SAMLProvider, notAfter *time.Time, noKeys bool) string {
	t.Helper()
	ip := *idp.IdP
	if notAfter != nil {
		tpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "Expiring IdP"},
			NotBefore: notAfter.AddDate(-1, 0, 0), NotAfter: *notAfter, KeyUsage: x509.KeyUsageDigitalSignature}
		key := ip.Key.(*rsa.PrivateKey)
		der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, key.Public(), key)
		if err != nil {
			t.Fatal(err)
		}
		if ip.Certificate, err = x509.ParseCertificate(der); err != nil {
			t.Fatal(err)
		}
	}
	md := ip.Metadata()
	if noKeys {
		for i := range md.IDPSSODescriptors {
			md.IDPSSODescriptors[i].KeyDescriptors = nil
		}
	}
	b, err := xml.Marshal(md)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// closedPort is a loopback URL nothing listens on.
func closedPort(t testing.TB) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + l.Addr().String()
	l.Close()
	return u
}

// noSecrets fails if an answer holds a connection secret or its name.
func noSecrets(t testing.TB, r resp, secrets ...string) {
	t.Helper()
	for _, s := range append([]string{"PRIVATE KEY-----", `"client_secret"`, `"private_key"`, `"sp_key"`, "sp_certificate"}, secrets...) {
		if strings.Contains(string(r.Raw), s) {
			t.Fatalf("an answer shows %q: %s", s, r.Raw)
		}
	}
}

// connFixture is a running server with a workspace (its owner and a
// member), an OpenID provider, crewjam's SAML IdP and an Apple key.
type connFixture struct {
	s                   *testenv.Server
	ws, join, base      string
	owner, member       string
	oidc                *ssotest.Provider
	saml                *ssotest.SAMLProvider
	appleKey            string
	oidcBody, appleBody map[string]any
	samlBody            map[string]any
}

const idpSecret = "idp-secret-5bd1c0e9"

func newConnFixture(t *testing.T, db testenv.Database) *connFixture {
	t.Helper()
	s := testenv.Start(t, db, testenv.Options{})
	ws, join := workspace(t, s.URL)
	f := &connFixture{s: s, ws: ws, join: join, base: s.URL + "/v1/workspaces/" + ws + "/connections",
		owner:  register(t, s.URL, join, newUser("owner")).Str("access_token"),
		member: register(t, s.URL, join, newUser("member")).Str("access_token"),
		oidc:   ssotest.Start("sigil-client", idpSecret), saml: ssotest.StartSAML(s.Clock.Now),
		appleKey: p8(t, p256(t))}
	t.Cleanup(f.oidc.Close)
	t.Cleanup(f.saml.Close)
	f.oidc.Now = s.Clock.Now
	f.oidc.Next = ssotest.User{Subject: "idp-ada", Email: "ada@acme.test", EmailVerified: true}
	f.oidcBody = map[string]any{"kind": "oidc", "name": "Acme IdP", "issuer": f.oidc.URL, "client_id": "sigil-client",
		"client_secret": idpSecret, "domains": []string{"Acme.test", "acme.test", "sub.acme.test"}}
	f.appleBody = map[string]any{"kind": "apple", "name": "Apple", "client_id": "com.acme.web", "team_id": "TEAM123456",
		"key_id": "KEY1234567", "private_key": f.appleKey, "issuer": f.oidc.URL, "audiences": []string{"com.acme.ios"}}
	f.samlBody = map[string]any{"kind": "saml", "name": "Corp SAML", "idp_metadata_xml": f.saml.MetadataXML(),
		"domains": []string{"corp.test"}, "attribute_map": map[string]string{"groups": "memberOf"}}
	return f
}

// with is body with the changes: a nil value removes the field.
func with(body map[string]any, changes map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range body {
		out[k] = v
	}
	for k, v := range changes {
		if v == nil {
			delete(out, k)
		} else {
			out[k] = v
		}
	}
	return out
}

// TestConnections: owners create each kind of connection and see what
// the IdP's console needs, never a secret; list, get, patch, delete;
// members, strangers and other workspaces are kept out.
func TestConnections(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		f := newConnFixture(t, db)
		s, owner := f.s, bearer(f.owner)
		created := map[string]resp{}
		for _, tt := range []struct {
			kind    string
			body    map[string]any
			fields  map[string]string // field → wanted value ("*" any non-empty)
			absent  []string
			secrets []string
		}{
			{"oidc", f.oidcBody, map[string]string{"redirect_uri": "/callback", "start_url": "/start", "issuer": f.oidc.URL,
				"client_id": "sigil-client", "default_role": "member"},
				[]string{"acs_url", "entity_id", "metadata_url", "team_id"}, []string{idpSecret}},
			{"apple", f.appleBody, map[string]string{"redirect_uri": "/callback", "start_url": "/start", "team_id": "TEAM123456",
				"key_id": "KEY1234567", "client_id": "com.acme.web"},
				[]string{"acs_url", "entity_id", "metadata_url", "has_client_secret"}, []string{strings.Split(f.appleKey, "\n")[1]}},
			{"saml", f.samlBody, map[string]string{"acs_url": "/saml/acs", "entity_id": "/saml/metadata",
				"metadata_url": "/saml/metadata", "start_url": "/start"},
				[]string{"redirect_uri", "issuer", "client_id", "idp_metadata_xml"}, nil},
		} {
			r := call(t, "POST", f.base, tt.body, owner)
			want(t, r, 201, "")
			id := r.Str("id")
			if !strings.HasPrefix(id, "conn_") || r.Str("kind") != tt.kind || r.Str("workspace_id") != f.ws {
				t.Fatalf("%s: %s", tt.kind, r.Raw)
			}
			for k, v := range tt.fields {
				got := r.Str(k)
				if strings.HasPrefix(v, "/") {
					v = s.Issuer + "/sso/" + id + v
				}
				if got != v {
					t.Errorf("%s: %s = %q, want %q", tt.kind, k, got, v)
				}
			}
			for _, k := range tt.absent {
				if _, ok := r.Body[k]; ok {
					t.Errorf("%s: the answer has %s: %s", tt.kind, k, r.Raw)
				}
			}
			noSecrets(t, r, tt.secrets...)
			got := call(t, "GET", f.base+"/"+id, nil, owner)
			want(t, got, 200, "")
			noSecrets(t, got, tt.secrets...)
			created[tt.kind] = got
		}
		// At rest the secrets are sealed: neither the settings nor the
		// sealed blob hold them in the clear.
		for kind, r := range created {
			rec, err := s.Store.GetConnection(context.Background(), r.Str("id"))
			if err != nil {
				t.Fatal(err)
			}
			for _, secret := range []string{idpSecret, "PRIVATE KEY", strings.Split(f.appleKey, "\n")[1]} {
				if strings.Contains(string(rec.Config)+string(rec.Secrets), secret) {
					t.Errorf("%s: the stored connection holds %q in the clear", kind, secret)
				}
			}
			if len(rec.Secrets) == 0 { // saml: the SP key
				t.Errorf("%s: no sealed secrets stored", kind)
			}
		}
		if o := created["oidc"]; o.Body["has_client_secret"] != true || !equalList(o.Body["domains"], "acme.test", "sub.acme.test") ||
			!equalList(o.Body["scopes"], "openid", "email", "profile") {
			t.Errorf("oidc view (domains lower-cased, deduplicated and sorted; default scopes): %s", o.Raw)
		}
		if a := created["apple"]; a.Body["has_private_key"] != true || !equalList(a.Body["audiences"], "com.acme.ios") {
			t.Errorf("apple view: %s", a.Raw)
		}
		if m := created["saml"]; m.Body["allow_idp_initiated"] != false || !strings.Contains(string(m.Raw), `"attribute_map":{"groups":"memberOf"}`) {
			t.Errorf("saml view (IdP-initiated off by default, attribute map): %s", m.Raw)
		}
		// The SP's certificate is public (in its metadata), its key is not.
		md := call(t, "GET", s.URL+"/sso/"+created["saml"].Str("id")+"/saml/metadata", nil)
		if md.Status != 200 || !strings.Contains(string(md.Raw), "X509Certificate") || strings.Contains(string(md.Raw), "PRIVATE") {
			t.Errorf("SP metadata: %d %s", md.Status, md.Raw)
		}

		list := call(t, "GET", f.base, nil, owner)
		want(t, list, 200, "")
		noSecrets(t, list, idpSecret)
		if items, _ := list.Body["items"].([]any); len(items) != 3 {
			t.Fatalf("list: %s", list.Raw)
		}

		// PATCH of the name only keeps the sealed client secret: a sign-in
		// still presents it to the IdP.
		oid := created["oidc"].Str("id")
		r := call(t, "PATCH", f.base+"/"+oid, map[string]any{"name": "Acme renamed"}, owner)
		want(t, r, 200, "")
		if r.Str("name") != "Acme renamed" || r.Body["has_client_secret"] != true || r.Str("issuer") != f.oidc.URL {
			t.Fatalf("patch name: %s", r.Raw)
		}
		noSecrets(t, r, idpSecret)
		if res := ssoRoundTrip(t, s, oid); res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/account" {
			t.Fatalf("sign-in after a PATCH of the name: %d %v (the client secret was lost?)", res.StatusCode, res.Header)
		}
		r = call(t, "PATCH", f.base+"/"+oid, map[string]any{"client_secret": "rotated-secret", "domains": []string{}}, owner)
		want(t, r, 200, "")
		noSecrets(t, r, "rotated-secret")
		if d, _ := r.Body["domains"].([]any); d == nil || len(d) != 0 {
			t.Fatalf("domains cleared: %s", r.Raw)
		}
		if res := ssoRoundTrip(t, s, oid); res.StatusCode == http.StatusFound {
			t.Fatal("a sign-in with the rotated (wrong) secret succeeded: the new secret was not used")
		}
		want(t, call(t, "PATCH", f.base+"/"+oid, map[string]any{"client_secret": idpSecret, "domains": []string{"acme.test"}}, owner), 200, "")
		// A saml PATCH keeps the SP key pair (the IdP has its certificate).
		sid := created["saml"].Str("id")
		spCert := func() string {
			md := string(call(t, "GET", s.URL+"/sso/"+sid+"/saml/metadata", nil).Raw)
			_, c, _ := strings.Cut(md, "X509Certificate>")
			c, _, _ = strings.Cut(c, "<")
			return c
		}
		before := spCert()
		r = call(t, "PATCH", f.base+"/"+sid, map[string]any{"allow_idp_initiated": true, "idp_metadata_xml": f.saml.MetadataXML()}, owner)
		want(t, r, 200, "")
		if r.Body["allow_idp_initiated"] != true {
			t.Fatalf("patch saml: %s", r.Raw)
		}
		if after := spCert(); before == "" || after != before {
			t.Error("a PATCH changed the SP's key pair")
		}

		// Kept out: members, strangers, other workspaces.
		member := bearer(f.member)
		for _, c := range []struct{ method, url string }{
			{"POST", f.base}, {"GET", f.base}, {"GET", f.base + "/" + oid}, {"PATCH", f.base + "/" + oid},
			{"DELETE", f.base + "/" + oid}, {"POST", f.base + "/" + oid + "/test"},
		} {
			want(t, call(t, c.method, c.url, f.oidcBody, member), 403, "forbidden")
			want(t, call(t, c.method, c.url, f.oidcBody), 401, "")
		}
		// A workspace admin manages connections as the owner does.
		wsAdmin := newUser("wsadmin")
		register(t, s.URL, f.join, wsAdmin)
		want(t, call(t, "PATCH", s.URL+"/v1/workspaces/"+f.ws+"/members/wsadmin", map[string]any{"role": "admin"}, owner), 200, "")
		adminTok := bearer(login(t, s.URL, wsAdmin).Str("access_token"))
		want(t, call(t, "GET", f.base+"/"+oid, nil, adminTok), 200, "")
		want(t, call(t, "PATCH", f.base+"/"+oid, map[string]any{"name": "Acme IdP"}, adminTok), 200, "")
		want(t, call(t, "POST", f.base+"/"+oid+"/test", nil, adminTok), 200, "")

		otherWS, _ := workspace(t, s.URL)
		otherBase := s.URL + "/v1/workspaces/" + otherWS + "/connections"
		for _, c := range []struct{ method, url, auth string }{
			{"GET", otherBase + "/" + oid, admin}, {"PATCH", otherBase + "/" + oid, admin}, {"DELETE", otherBase + "/" + oid, admin},
			{"POST", otherBase + "/" + oid + "/test", admin}, {"GET", otherBase, owner},
		} {
			want(t, call(t, c.method, c.url, map[string]any{"name": "x"}, c.auth), 404, "not_found")
		}
		other := call(t, "POST", otherBase, with(f.oidcBody, map[string]any{"domains": []string{"other.test"}}), admin)
		want(t, other, 201, "")
		want(t, call(t, "GET", f.base+"/"+other.Str("id"), nil, owner), 404, "not_found")
		want(t, call(t, "PATCH", f.base+"/"+other.Str("id"), map[string]any{"name": "mine"}, owner), 404, "not_found")
		want(t, call(t, "DELETE", f.base+"/"+other.Str("id"), nil, owner), 404, "not_found")
		want(t, call(t, "GET", otherBase+"/"+other.Str("id"), nil, admin), 200, "")

		// A domain routes to one connection, across workspaces.
		want(t, call(t, "POST", f.base, with(f.oidcBody, map[string]any{"domains": []string{"OTHER.test"}}), owner), 409, "conflict")
		want(t, call(t, "POST", f.base, with(f.samlBody, map[string]any{"domains": []string{"x.test", "corp.test"}}), owner), 409, "conflict")
		want(t, call(t, "PATCH", f.base+"/"+oid, map[string]any{"domains": []string{"other.test"}}, owner), 409, "conflict")
		want(t, call(t, "PATCH", f.base+"/"+oid, map[string]any{"domains": []string{"corp.test"}}, owner), 409, "conflict")
		// Its own domains again are no conflict.
		want(t, call(t, "PATCH", f.base+"/"+sid, map[string]any{"domains": []string{"corp.test", "corp2.test"}}, owner), 200, "")

		want(t, call(t, "DELETE", f.base+"/"+oid, nil, owner), 204, "")
		want(t, call(t, "GET", f.base+"/"+oid, nil, owner), 404, "not_found")
		want(t, call(t, "DELETE", f.base+"/"+oid, nil, owner), 404, "not_found")
		want(t, call(t, "PATCH", f.base+"/"+oid, map[string]any{"name": "x"}, owner), 404, "not_found")
		if r := call(t, "GET", s.URL+"/sso/"+oid+"/start", nil); r.Status < 400 || r.Status >= 500 {
			t.Errorf("a deleted connection still starts sign-ins: %d", r.Status)
		}
		// Its domains are free again.
		want(t, call(t, "POST", f.base, with(f.oidcBody, map[string]any{"domains": []string{"acme.test"}}), owner), 201, "")
		testenv.WantAudit(t, s.URL+"/v1/audit?limit=200&action=sso.", owner,
			"sso.connection_create", "sso.connection_update", "sso.connection_delete")
	})
}

func equalList(v any, want ...string) bool {
	l, _ := v.([]any)
	if len(l) != len(want) {
		return false
	}
	for i := range l {
		if l[i] != want[i] {
			return false
		}
	}
	return true
}

// ssoRoundTrip signs in through OIDC connection cid in a fresh browser
// (start → the IdP → the callback) and returns the callback's answer.
func ssoRoundTrip(t *testing.T, s *testenv.Server, cid string) *http.Response {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	step := func(u string) *http.Response {
		res, err := c.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res
	}
	res := step(s.URL + "/sso/" + cid + "/start")
	if res.StatusCode != http.StatusFound {
		t.Fatalf("start: %d", res.StatusCode)
	}
	res = step(res.Header.Get("Location"))
	back, err := url.Parse(res.Header.Get("Location")) // the issuer's callback URL, http://sigil.test/…
	if err != nil || back.Query().Get("code") == "" {
		t.Fatalf("the IdP sent no code: %d %v", res.StatusCode, res.Header)
	}
	return step(s.URL + back.Path + "?" + back.RawQuery)
}

// TestConnectionValidation: every malformed setting is a 400
// invalid_request that names the problem, on POST and PATCH.
func TestConnectionValidation(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		f := newConnFixture(t, db)
		rsaKey, _ := rsa.GenerateKey(rand.Reader, 2048)
		p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
		sec1, _ := x509.MarshalECPrivateKey(p256(t))
		o, a, m := f.oidcBody, f.appleBody, f.samlBody
		mdURL := f.saml.URL + "/metadata"
		tests := []struct {
			name string
			body any
		}{
			{"unknown kind", with(o, map[string]any{"kind": "ldap"})},
			{"no kind", with(o, map[string]any{"kind": nil})},
			{"kind of the wrong type", with(o, map[string]any{"kind": 1})},
			{"no name", with(o, map[string]any{"name": nil})},
			{"blank name", with(o, map[string]any{"name": "   "})},
			{"name too long", with(o, map[string]any{"name": strings.Repeat("n", 201)})},
			{"team_id on oidc", with(o, map[string]any{"team_id": "TEAM123456"})},
			{"private_key on oidc", with(o, map[string]any{"private_key": f.appleKey})},
			{"idp_metadata_url on oidc", with(o, map[string]any{"idp_metadata_url": mdURL})},
			{"client_secret on apple", with(a, map[string]any{"client_secret": "x"})},
			{"hosted_domain on apple", with(a, map[string]any{"hosted_domain": "acme.test"})},
			{"issuer on saml", with(m, map[string]any{"issuer": f.oidc.URL})},
			{"client_secret on saml", with(m, map[string]any{"client_secret": "x"})},
			{"oidc without issuer", with(o, map[string]any{"issuer": nil})},
			{"oidc without client_id", with(o, map[string]any{"client_id": nil})},
			{"oidc without client_secret", with(o, map[string]any{"client_secret": nil})},
			{"oidc with a blank client_secret", with(o, map[string]any{"client_secret": "  "})},
			{"apple without client_id", with(a, map[string]any{"client_id": nil})},
			{"apple without team_id", with(a, map[string]any{"team_id": nil})},
			{"apple without key_id", with(a, map[string]any{"key_id": nil})},
			{"apple without private_key", with(a, map[string]any{"private_key": nil})},
			{"saml without metadata", with(m, map[string]any{"idp_metadata_xml": nil})},
			{"domain without a dot", with(o, map[string]any{"domains": []string{"acme"}})},
			{"domain with a wildcard", with(o, map[string]any{"domains": []string{"*.acme.test"}})},
			{"domain with a path", with(o, map[string]any{"domains": []string{"acme.test/x"}})},
			{"domain as an email", with(o, map[string]any{"domains": []string{"ada@acme.test"}})},
			{"domain with a space", with(o, map[string]any{"domains": []string{"acme test.com"}})},
			{"domain as a URL", with(o, map[string]any{"domains": []string{"https://acme.test"}})},
			{"empty domain", with(o, map[string]any{"domains": []string{""}})},
			{"too many domains", with(o, map[string]any{"domains": manyDomains(51)})},
			{"domains as a string", with(o, map[string]any{"domains": "acme.test"})},
			{"http issuer on a non-loopback host", with(o, map[string]any{"issuer": "http://idp.example"})},
			{"relative issuer", with(o, map[string]any{"issuer": "idp.example"})},
			{"issuer with user info", with(o, map[string]any{"issuer": "https://u:p@idp.example"})},
			{"issuer with a fragment", with(o, map[string]any{"issuer": "https://idp.example/#x"})},
			// OIDC Discovery §2: an issuer has no query; with one, the
			// discovery URL Sigil fetches is another resource's.
			{"issuer with a query", with(o, map[string]any{"issuer": "https://idp.example/tenant?x="})},
			{"javascript issuer", with(o, map[string]any{"issuer": "javascript:alert(1)"})},
			{"issuer with a newline", with(o, map[string]any{"issuer": "https://idp.example/\nx"})},
			{"Microsoft common issuer without allowed_tenants", with(o, map[string]any{"issuer": "https://login.microsoftonline.com/common/v2.0"})},
			{"Microsoft organizations issuer, empty allowed_tenants", with(o, map[string]any{"issuer": "https://login.microsoftonline.com/organizations/v2.0", "allowed_tenants": []string{}})},
			{"{tenantid} issuer without allowed_tenants", with(o, map[string]any{"issuer": "https://login.microsoftonline.com/{tenantid}/v2.0"})},
			{"empty allowed tenant", with(o, map[string]any{"allowed_tenants": []string{""}})},
			{"scopes without openid", with(o, map[string]any{"scopes": []string{"email", "profile"}})},
			{"http apple issuer on a non-loopback host", with(a, map[string]any{"issuer": "http://apple.example"})},
			{"RSA private_key", with(a, map[string]any{"private_key": p8(t, rsaKey)})},
			{"P-384 private_key", with(a, map[string]any{"private_key": p8(t, p384)})},
			{"SEC1 (not PKCS #8) private_key", with(a, map[string]any{"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: sec1}))})},
			{"garbage private_key", with(a, map[string]any{"private_key": "-----BEGIN PRIVATE KEY-----\nZ2FyYmFnZQ==\n-----END PRIVATE KEY-----\n"})},
			{"private_key not PEM", with(a, map[string]any{"private_key": "not a key"})},
			{"empty audience", with(a, map[string]any{"audiences": []string{""}})},
			{"metadata that is not metadata", with(m, map[string]any{"idp_metadata_xml": "<html><body>login</body></html>"})},
			{"metadata that is not XML", with(m, map[string]any{"idp_metadata_xml": "{}"})},
			{"metadata without a signing certificate", with(m, map[string]any{"idp_metadata_xml": samlMetadata(t, f.saml, nil, true)})},
			{"SP metadata for IdP metadata", with(m, map[string]any{"idp_metadata_xml": `<EntityDescriptor xmlns="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://sp.example"><SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/></EntityDescriptor>`})},
			{"both metadata url and xml", with(m, map[string]any{"idp_metadata_url": mdURL})},
			{"http metadata url on a non-loopback host", with(m, map[string]any{"idp_metadata_xml": nil, "idp_metadata_url": "http://idp.example/md"})},
			{"attribute_map with an unknown key", with(m, map[string]any{"attribute_map": map[string]string{"phone": "tel"}})},
			{"attribute_map to an empty name", with(m, map[string]any{"attribute_map": map[string]string{"email": ""}})},
			{"default_role owner", with(o, map[string]any{"default_role": "owner"})},
			{"default_role unknown", with(o, map[string]any{"default_role": "root"})},
			{"group_roles to owner", with(o, map[string]any{"group_roles": map[string]string{"admins": "owner"}})},
			{"group_roles from an empty group", with(o, map[string]any{"group_roles": map[string]string{"": "admin"}})},
			{"allow_idp_initiated as a string", with(m, map[string]any{"allow_idp_initiated": "yes"})},
			{"not JSON", "kind=oidc"},
			{"trailing data", `{"kind":"oidc","name":"x"} {}`},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := call(t, "POST", f.base, tt.body, bearer(f.owner))
				want(t, r, 400, "invalid_request")
				noSecrets(t, r, idpSecret)
			})
		}
		if list := call(t, "GET", f.base, nil, bearer(f.owner)); strings.Contains(string(list.Raw), `"id"`) {
			t.Fatalf("a refused request left a connection: %s", list.Raw)
		}

		// PATCH refuses the same, and a change of kind.
		ids := map[string]string{}
		for kind, body := range map[string]map[string]any{"oidc": o, "apple": a, "saml": m} {
			r := call(t, "POST", f.base, body, bearer(f.owner))
			want(t, r, 201, "")
			ids[kind] = r.Str("id")
		}
		patches := []struct {
			name, kind string
			body       any
		}{
			{"kind change", "oidc", map[string]any{"kind": "saml"}},
			{"kind change to apple", "saml", map[string]any{"kind": "apple"}},
			{"team_id on oidc", "oidc", map[string]any{"team_id": "T"}},
			{"client_secret on saml", "saml", map[string]any{"client_secret": "x"}},
			{"blank name", "apple", map[string]any{"name": ""}},
			{"bad domain", "saml", map[string]any{"domains": []string{"not a domain"}}},
			{"issuer emptied", "oidc", map[string]any{"issuer": ""}},
			{"client_secret emptied", "oidc", map[string]any{"client_secret": ""}},
			{"Microsoft common issuer", "oidc", map[string]any{"issuer": "https://login.microsoftonline.com/common/v2.0"}},
			{"http issuer", "oidc", map[string]any{"issuer": "http://idp.example"}},
			{"P-384 key", "apple", map[string]any{"private_key": p8(t, p384)}},
			{"key_id emptied", "apple", map[string]any{"key_id": ""}},
			{"metadata emptied", "saml", map[string]any{"idp_metadata_xml": ""}},
			{"both metadata", "saml", map[string]any{"idp_metadata_xml": f.saml.MetadataXML(), "idp_metadata_url": mdURL}},
			{"metadata without a certificate", "saml", map[string]any{"idp_metadata_xml": samlMetadata(t, f.saml, nil, true)}},
			{"attribute_map unknown key", "saml", map[string]any{"attribute_map": map[string]string{"uid": "x"}}},
			{"default_role owner", "apple", map[string]any{"default_role": "owner"}},
			{"not JSON", "oidc", "{"},
		}
		for _, tt := range patches {
			t.Run("PATCH "+tt.name, func(t *testing.T) {
				want(t, call(t, "PATCH", f.base+"/"+ids[tt.kind], tt.body, bearer(f.owner)), 400, "invalid_request")
			})
		}
		// Nothing was changed by a refused PATCH.
		r := call(t, "GET", f.base+"/"+ids["oidc"], nil, bearer(f.owner))
		if r.Str("kind") != "oidc" || r.Str("issuer") != f.oidc.URL || r.Body["has_client_secret"] != true {
			t.Fatalf("after refused patches: %s", r.Raw)
		}
		// Given its allowed tenants, the Microsoft multi-tenant issuer is
		// taken.
		want(t, call(t, "PATCH", f.base+"/"+ids["oidc"], map[string]any{"issuer": "https://login.microsoftonline.com/common/v2.0",
			"allowed_tenants": []string{"9188040d-6c67-4c5b-b112-36a304b66dad"}}, bearer(f.owner)), 200, "")
	})
}

func manyDomains(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "d" + strings.Repeat("x", i) + ".test"
	}
	return out
}

// TestConnectionCheck: POST …/test reads discovery or metadata now and
// reports problems in words.
func TestConnectionCheck(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		f := newConnFixture(t, db)
		now := f.s.Clock.Now()
		soon, gone := now.Add(10*24*time.Hour), now.Add(-24*time.Hour)
		localhost := strings.Replace(f.oidc.URL, "127.0.0.1", "localhost", 1)
		tests := []struct {
			name    string
			body    map[string]any
			ok      bool
			problem string
		}{
			{"oidc against the running provider", f.oidcBody, true, ""},
			{"apple against the running stand-in", f.appleBody, true, ""},
			{"saml with good metadata", f.samlBody, true, ""},
			{"saml by metadata URL", with(f.samlBody, map[string]any{"idp_metadata_xml": nil, "idp_metadata_url": f.saml.URL + "/metadata"}), true, ""},
			{"unreachable issuer", with(f.oidcBody, map[string]any{"issuer": closedPort(t)}), false, "unreachable"},
			{"issuer the discovery document does not name", with(f.oidcBody, map[string]any{"issuer": localhost}), false, "wrong issuer"},
			{"unreachable Apple keys", with(f.appleBody, map[string]any{"issuer": closedPort(t)}), false, "unreachable"},
			{"unreachable metadata URL", with(f.samlBody, map[string]any{"idp_metadata_xml": nil, "idp_metadata_url": closedPort(t) + "/md"}), false, "unreachable"},
			{"signing certificate expiring in 10 days", with(f.samlBody, map[string]any{"idp_metadata_xml": samlMetadata(t, f.saml, &soon, false)}), false, "within 30 days"},
			{"signing certificate expired", with(f.samlBody, map[string]any{"idp_metadata_xml": samlMetadata(t, f.saml, &gone, false)}), false, "expired"},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				body := with(tt.body, map[string]any{"domains": []string{}})
				if i > 0 {
					body["name"] = tt.name
				}
				c := call(t, "POST", f.base, body, bearer(f.owner))
				want(t, c, 201, "")
				r := call(t, "POST", f.base+"/"+c.Str("id")+"/test", nil, bearer(f.owner))
				want(t, r, 200, "")
				problems, isList := r.Body["problems"].([]any)
				if r.Body["ok"] != tt.ok || !isList || (tt.ok && len(problems) != 0) {
					t.Fatalf("test: %s", r.Raw)
				}
				if !tt.ok && (len(problems) == 0 || !strings.Contains(string(r.Raw), tt.problem)) {
					t.Fatalf("test: %s, want a problem saying %q", r.Raw, tt.problem)
				}
				noSecrets(t, r, idpSecret)
			})
		}
	})
}

// TestConnectionDomainRace: ten owners' requests claiming one domain at
// once: exactly one connection gets it, the others are told 409.
func TestConnectionDomainRace(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		f := newConnFixture(t, db)
		const n = 10
		status := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				body := with(f.oidcBody, map[string]any{"name": "racer", "domains": []string{"race.test", "own" + string(rune('a'+i)) + ".test"}})
				status[i] = testenv.Do(t, nil, "POST", f.base, body, bearer(f.owner)).Status
			})
		}
		wg.Wait()
		counts := map[int]int{}
		for _, s := range status {
			counts[s]++
		}
		if counts[201] != 1 || counts[409] != n-1 {
			t.Fatalf("statuses %v, want one 201 and %d 409", status, n-1)
		}
		list := call(t, "GET", f.base, nil, bearer(f.owner))
		if items, _ := list.Body["items"].([]any); len(items) != 1 {
			t.Fatalf("connections after the race: %s", list.Raw)
		}
	})
}

// TestConnectionAdminTakeover: a workspace admin (not the owner) adds a
// connection to an IdP they run, which vouches for the owner's email as
// verified. Linking by verified email must not hand the admin the
// owner's account: that is the account takeover §12's linking rule is
// there to prevent, here by an insider, and an escalation to owner.
func TestConnectionAdminTakeover(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{Passwords: fastPasswords})
		ws, join := workspace(t, s.URL)
		ownerTok := bearer(signup(t, s.URL, join, "olivia@corp.test", "correct horse battery").Str("access_token"))
		users, err := s.Store.GetUsersByEmail(context.Background(), "olivia@corp.test")
		if err != nil || len(users) != 1 || users[0].Role != "owner" {
			t.Fatalf("owner: %+v %v", users, err)
		}
		owner := users[0]
		if _, err := s.Store.UpdateUser(context.Background(), owner.ID, func(u *store.User) error {
			u.EmailVerified = true
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		mallory := newUser("mallory")
		register(t, s.URL, join, mallory)
		want(t, call(t, "PATCH", s.URL+"/v1/workspaces/"+ws+"/members/mallory", map[string]any{"role": "admin"}, ownerTok), 200, "")
		p := ssotest.Start("mallory-client", "mallory-secret")
		t.Cleanup(p.Close)
		p.Now = s.Clock.Now
		p.Next = ssotest.User{Subject: "mallory-at-her-idp", Email: "olivia@corp.test", EmailVerified: true}
		c := call(t, "POST", s.URL+"/v1/workspaces/"+ws+"/connections", map[string]any{"kind": "oidc", "name": "Totally legit",
			"issuer": p.URL, "client_id": "mallory-client", "client_secret": "mallory-secret"},
			bearer(login(t, s.URL, mallory).Str("access_token")))
		want(t, c, 201, "")
		res := ssoRoundTrip(t, s, c.Str("id"))
		if _, u, err := s.Store.GetIdentityUser(context.Background(), c.Str("id"), "mallory-at-her-idp"); err == nil && u.ID == owner.ID {
			t.Fatalf("a workspace admin's own IdP signed in to the owner's account (callback %d %s)", res.StatusCode, res.Header.Get("Location"))
		}
	})
}
