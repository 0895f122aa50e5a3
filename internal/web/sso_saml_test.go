package web_test

import (
	"encoding/base64"
	"encoding/xml"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"

	"github.com/sigil-auth/sigil/internal/ssotest"
	"github.com/sigil-auth/sigil/internal/testenv"
)

// samlEnv is two replicas of one instance (issuer http://sigil.test) on
// one database, a workspace, crewjam's IdP in process and a SAML
// connection to it.
type samlEnv struct {
	r1, r2 *testenv.Server
	ws     string
	idp    *ssotest.SAMLProvider
	cid    string
	// encrypt lets the IdP encrypt assertions to the SP's key.
	encrypt bool
}

func newSAMLEnv(t *testing.T, db testenv.Database) *samlEnv {
	t.Helper()
	r1 := testenv.Start(t, db, testenv.Options{Passwords: fastPasswords})
	r2 := testenv.Start(t, db, testenv.Options{Passwords: fastPasswords, Clock: r1.Clock})
	ws := testenv.Do(t, nil, "POST", r1.URL+"/v1/workspaces", map[string]any{"name": "Corp"}, admin)
	e := &samlEnv{r1: r1, r2: r2, ws: ws.Str("id"), idp: ssotest.StartSAML(r1.Clock.Now)}
	// The workspace's owner (the first account of a workspace owns it).
	if r := testenv.Do(t, nil, "POST", r1.URL+"/v1/auth/signup", map[string]any{"email": userEmail,
		"password": userPass, "join_code": ws.Str("join_code")}); r.Status != 201 {
		t.Fatalf("signup: %d %s", r.Status, r.Raw)
	}
	t.Cleanup(e.idp.Close)
	e.idp.SetSession("nameid-ada", "ada@corp.test", "Ada Lovelace", "admins")
	e.idp.SPMetadata = func(id string) (*saml.EntityDescriptor, error) {
		res, err := http.Get(strings.Replace(id, r1.Issuer, r1.URL, 1))
		if err != nil {
			return nil, err
		}
		md, err := samlsp.ParseMetadata([]byte(readBody(res)))
		if err != nil || !e.encrypt {
			// Plain signed assertions, as most IdPs send, so the tests
			// can take them apart.
			for i := range md.SPSSODescriptors {
				kd := md.SPSSODescriptors[i].KeyDescriptors[:0]
				for _, k := range md.SPSSODescriptors[i].KeyDescriptors {
					if k.Use != "encryption" {
						kd = append(kd, k)
					}
				}
				md.SPSSODescriptors[i].KeyDescriptors = kd
			}
		}
		return md, err
	}
	r := testenv.Do(t, nil, "POST", r1.URL+"/v1/workspaces/"+e.ws+"/connections", map[string]any{
		"kind": "saml", "name": "Corp SAML", "idp_metadata_url": e.idp.URL + "/metadata", "domains": []string{"corp.test"},
		"group_roles":   map[string]string{"admins": "admin"},
		"attribute_map": map[string]string{"groups": "eduPersonAffiliation"}}, admin)
	if r.Status != 201 || r.Str("acs_url") != r1.Issuer+"/sso/"+r.Str("id")+"/saml/acs" {
		t.Fatalf("create saml connection: %d %s", r.Status, r.Raw)
	}
	e.cid = r.Str("id")
	return e
}

// response starts a sign-in in browser c at replica r and returns the
// SAMLResponse the IdP posts back.
func (e *samlEnv) response(t *testing.T, c *http.Client) string {
	t.Helper()
	res, _ := get(t, c, e.r1.URL+"/sso/"+e.cid+"/start")
	if res.StatusCode != http.StatusFound || !strings.HasPrefix(res.Header.Get("Location"), e.idp.URL+"/sso?") {
		t.Fatalf("start: %d %v", res.StatusCode, res.Header.Get("Location"))
	}
	return e.idpForm(t, c, res.Header.Get("Location"))
}

// idpForm opens an IdP page and reads the SAMLResponse its form posts.
func (e *samlEnv) idpForm(t *testing.T, c *http.Client, u string) string {
	t.Helper()
	res, body := get(t, c, u)
	for _, m := range hiddenField.FindAllStringSubmatch(body, -1) {
		if m[1] == "SAMLResponse" {
			return html.UnescapeString(m[2])
		}
	}
	t.Fatalf("the IdP posted no SAMLResponse: %d\n%s", res.StatusCode, body)
	return ""
}

// acs posts a SAMLResponse to replica r as the IdP's page does: cross
// site, without cookies. It returns the response and its body.
func (e *samlEnv) acs(t *testing.T, r *testenv.Server, resp string) (*http.Response, string) {
	t.Helper()
	form := url.Values{"SAMLResponse": {resp}}
	req, _ := http.NewRequest("POST", r.URL+"/sso/"+e.cid+"/saml/acs", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.idp.URL)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	res, err := noCookies(browser(t)).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return res, readBody(res)
}

// finish follows the ACS's 303 in browser c and wants the account page.
func (e *samlEnv) finish(t *testing.T, c *http.Client, r *testenv.Server, acs *http.Response, body string) {
	t.Helper()
	if acs.StatusCode != http.StatusSeeOther {
		t.Fatalf("ACS: %d, want 303\n%s", acs.StatusCode, body)
	}
	res, body := get(t, c, r.URL+acs.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || location(t, res).Path != "/account" {
		t.Fatalf("finish: %d %v\n%s", res.StatusCode, res.Header.Get("Location"), body)
	}
}

// TestSSOSAML: SP-initiated sign-in against crewjam's IdP on both
// backends, with the group mapped to a role; then everything a SAML SP
// must refuse, on either replica.
func TestSSOSAML(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		e := newSAMLEnv(t, db)
		// Encrypted to Sigil's key first (the SP metadata offers it), then
		// plain signed assertions for the tests that take them apart.
		e.encrypt = true
		c := browser(t)
		resp := e.response(t, c)
		if !strings.Contains(string(decodeResponse(t, resp).Root().FindElement("//EncryptedAssertion").Tag), "EncryptedAssertion") {
			t.Fatal("the IdP did not encrypt")
		}
		res, body := e.acs(t, e.r1, resp)
		e.finish(t, c, e.r1, res, body)
		e.encrypt = false
		users := testenv.Do(t, nil, "GET", e.r1.URL+"/v1/workspaces/"+e.ws+"/members", nil, admin)
		if !strings.Contains(string(users.Raw), `"ada@corp.test"`) || !strings.Contains(string(users.Raw), `"admin"`) {
			t.Fatalf("members after SAML sign-in: %s", users.Raw)
		}

		t.Run("replayed, on the other replica and the same", func(t *testing.T) {
			for _, r := range []*testenv.Server{e.r2, e.r1} {
				res, body := e.acs(t, r, resp)
				wantRefused(t, res, body, "(replayed)")
			}
		})
		t.Run("unsigned assertion", func(t *testing.T) {
			doc := decodeResponse(t, e.response(t, browser(t)))
			a := doc.FindElement("//Assertion")
			a.RemoveChild(a.FindElement("Signature"))
			res, body := e.acs(t, e.r2, encodeResponse(t, doc))
			wantRefused(t, res, body, "(signature)")
		})
		t.Run("second unsigned assertion added", func(t *testing.T) {
			doc := decodeResponse(t, e.response(t, browser(t)))
			signed := doc.FindElement("//Assertion")
			evil := signed.Copy()
			evil.RemoveChild(evil.FindElement("Signature"))
			evil.FindElement(".//NameID").SetText("nameid-mallory")
			evil.CreateAttr("ID", "evil-1")
			doc.Root().InsertChildAt(signed.Index(), evil)
			res, body := e.acs(t, e.r1, encodeResponse(t, doc))
			wantRefused(t, res, body, "(signature)")
		})
		t.Run("signed assertion moved inside an unsigned one", func(t *testing.T) {
			doc := decodeResponse(t, e.response(t, browser(t)))
			signed := doc.FindElement("//Assertion")
			evil := signed.Copy()
			evil.RemoveChild(evil.FindElement("Signature"))
			evil.FindElement(".//NameID").SetText("nameid-mallory")
			evil.CreateAttr("ID", "evil-2")
			doc.Root().RemoveChild(signed)
			evil.FindElement(".//Subject").AddChild(signed)
			doc.Root().AddChild(evil)
			res, body := e.acs(t, e.r2, encodeResponse(t, doc))
			wantRefused(t, res, body, "(signature)")
		})
		t.Run("wrong audience", func(t *testing.T) {
			e.idp.Audience = "http://other.example/sp"
			defer func() { e.idp.Audience = "" }()
			res, body := e.acs(t, e.r1, e.response(t, browser(t)))
			wantRefused(t, res, body, "(audience)")
		})
		t.Run("expired assertion", func(t *testing.T) {
			resp := e.response(t, browser(t))
			e.r1.Clock.Add(9 * time.Minute) // the sign-in is still young; the assertion is not
			res, body := e.acs(t, e.r1, resp)
			wantRefused(t, res, body, "(expired)")
		})
		t.Run("IdP-initiated, off then on", func(t *testing.T) {
			entity := e.r1.Issuer + "/sso/" + e.cid + "/saml/metadata"
			unsolicited := e.idpForm(t, browser(t), e.idp.URL+"/initiate?sp="+url.QueryEscape(entity))
			res, body := e.acs(t, e.r1, unsolicited)
			wantRefused(t, res, body, "started at the identity provider")
			if r := testenv.Do(t, nil, "PATCH", e.r1.URL+"/v1/workspaces/"+e.ws+"/connections/"+e.cid,
				map[string]any{"allow_idp_initiated": true}, admin); r.Status != 200 {
				t.Fatalf("patch: %d %s", r.Status, r.Raw)
			}
			unsolicited = e.idpForm(t, browser(t), e.idp.URL+"/initiate?sp="+url.QueryEscape(entity))
			res, body = e.acs(t, e.r2, unsolicited)
			e.finish(t, browser(t), e.r2, res, body)
		})
		t.Run("SP metadata", func(t *testing.T) {
			res, body := get(t, browser(t), e.r2.URL+"/sso/"+e.cid+"/saml/metadata")
			md, err := samlsp.ParseMetadata([]byte(body))
			if res.StatusCode != 200 || err != nil || md.EntityID != e.r1.Issuer+"/sso/"+e.cid+"/saml/metadata" ||
				len(md.SPSSODescriptors) != 1 {
				t.Fatalf("SP metadata: %d %v\n%s", res.StatusCode, err, body)
			}
		})
	})
}

func decodeResponse(t *testing.T, b64 string) *etree.Document {
	t.Helper()
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatal(err)
	}
	doc := etree.NewDocument()
	if err := doc.ReadFromBytes(raw); err != nil {
		t.Fatal(err)
	}
	return doc
}

func encodeResponse(t *testing.T, doc *etree.Document) string {
	t.Helper()
	b, err := doc.WriteToBytes()
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// TestSSOSAMLMetadata: metadata fetched by URL is refreshed at least
// daily; a fetched copy that names another entity, or none at all while
// the IdP is down, leaves the last good copy in use — also on a replica
// that starts meanwhile (the store keeps it); several signing
// certificates are trusted at once, for rollover.
func TestSSOSAMLMetadata(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		e := newSAMLEnv(t, db)
		signIn := func(r *testenv.Server) {
			t.Helper()
			c := browser(t)
			res, _ := get(t, c, r.URL+"/sso/"+e.cid+"/start")
			if res.StatusCode != http.StatusFound {
				t.Fatalf("start at %s: %d", r.URL, res.StatusCode)
			}
			resp := e.idpForm(t, c, res.Header.Get("Location"))
			res, body := e.acs(t, r, resp)
			e.finish(t, c, r, res, body)
		}
		signIn(e.r1) // fetches the metadata and keeps it

		// A day later the IdP serves metadata naming another entity.
		other := strings.Replace(e.idp.MetadataXML(), `entityID="`+e.idp.URL+`/metadata"`, `entityID="https://evil.example/idp"`, 1)
		e.idp.Serve(other, 0)
		e.r1.Clock.Add(25 * time.Hour)
		signIn(e.r1)
		// The IdP is down; a replica starting now has only the store's copy.
		e.idp.Serve("down", http.StatusServiceUnavailable)
		r3 := testenv.Start(t, db, testenv.Options{Passwords: fastPasswords, Clock: e.r1.Clock})
		signIn(r3)

		// Rollover: the metadata lists an unrelated certificate first and
		// the IdP's own second; assertions still verify.
		md := e.idp.IdP.Metadata()
		kd := md.IDPSSODescriptors[0].KeyDescriptors
		spare := ssotest.StartSAML(e.r1.Clock.Now)
		t.Cleanup(spare.Close)
		md.IDPSSODescriptors[0].KeyDescriptors = append(spare.IdP.Metadata().IDPSSODescriptors[0].KeyDescriptors[:1], kd...)
		raw, _ := xml.Marshal(md)
		e.idp.Serve(string(raw), 0)
		e.r1.Clock.Add(25 * time.Hour)
		signIn(e.r1)
	})
}
