package web_test

import (
	"encoding/base64"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"

	"github.com/sigil-auth/sigil/internal/ssotest"
	"github.com/sigil-auth/sigil/internal/testenv"
)

// The two handlers that read what an IdP (or anyone posing as one) sends,
// under arbitrary input: a server is built once per target, never a 5xx
// nor a panic whatever arrives.

// fuzzConnection creates a connection in the env's workspace and returns
// its id.
func fuzzConnection(tb testing.TB, s *testenv.Server, ws string, body map[string]any) string {
	tb.Helper()
	r := testenv.Do(tb, nil, "POST", s.URL+"/v1/workspaces/"+ws+"/connections", body, admin)
	if r.Status != 201 {
		tb.Fatalf("create connection: %d %s", r.Status, r.Raw)
	}
	return r.Str("id")
}

// fuzzSend sends a request with c and fails on a 5xx; it returns the
// response with its body read.
func fuzzSend(t *testing.T, c *http.Client, req *http.Request) *http.Response {
	t.Helper()
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body := readBody(res)
	if res.StatusCode >= 500 {
		t.Fatalf("%s %s → %d\n%s", req.Method, req.URL, res.StatusCode, body)
	}
	return res
}

// fuzzClient is c without cookies, and with a deadline: an input the
// server hangs on fails (and is kept) instead of stalling the fuzzer.
func fuzzClient(c *http.Client) *http.Client {
	return &http.Client{CheckRedirect: c.CheckRedirect, Timeout: 10 * time.Second}
}

func formPostRequest(u string, form url.Values) *http.Request {
	req, _ := http.NewRequest("POST", u, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	return req
}

// FuzzSAMLACS posts arbitrary bytes as the SAMLResponse of a SAML
// connection's ACS: base64 of them (what the binding carries) and as they
// are. Seeds: a real response of crewjam's IdP to a sign-in started here
// (signed, plain), and pieces of it.
func FuzzSAMLACS(f *testing.F) {
	s := testenv.Start(f, testenv.NewDatabase(f, "sqlite"), testenv.Options{Passwords: fastPasswords})
	ws := testenv.Do(f, nil, "POST", s.URL+"/v1/workspaces", map[string]any{"name": "Corp"}, admin).Str("id")
	idp := ssotest.StartSAML(s.Clock.Now)
	f.Cleanup(idp.Close)
	idp.SetSession("nameid-ada", "ada@corp.test", "Ada Lovelace", "admins")
	idp.SPMetadata = func(id string) (*saml.EntityDescriptor, error) {
		res, err := http.Get(strings.Replace(id, s.Issuer, s.URL, 1))
		if err != nil {
			return nil, err
		}
		md, err := samlsp.ParseMetadata([]byte(readBody(res)))
		if err == nil && len(md.SPSSODescriptors) > 0 { // plain assertions: more for the fuzzer to bend
			sp := &md.SPSSODescriptors[0]
			sp.KeyDescriptors = slices.DeleteFunc(sp.KeyDescriptors, func(k saml.KeyDescriptor) bool { return k.Use == "encryption" })
		}
		return md, err
	}
	cid := fuzzConnection(f, s, ws, map[string]any{"kind": "saml", "name": "Corp", "idp_metadata_xml": idp.MetadataXML(),
		"domains": []string{"corp.test"}, "group_roles": map[string]string{"admins": "admin"}})

	c := browser(f)
	res, err := c.Get(s.URL + "/sso/" + cid + "/start")
	if err != nil || res.StatusCode != http.StatusFound {
		f.Fatalf("start: %v %v", res, err)
	}
	res, err = c.Get(res.Header.Get("Location"))
	if err != nil {
		f.Fatal(err)
	}
	signed := ""
	for _, m := range hiddenField.FindAllStringSubmatch(readBody(res), -1) {
		if m[1] == "SAMLResponse" {
			signed = html.UnescapeString(m[2])
		}
	}
	xmlResp, err := base64.StdEncoding.DecodeString(signed)
	if err != nil || len(xmlResp) == 0 {
		f.Fatalf("the IdP posted no SAMLResponse (%v)", err)
	}
	f.Add(xmlResp, uint8(0))
	f.Add([]byte(signed), uint8(1))
	f.Add(xmlResp[:len(xmlResp)/2], uint8(0))
	f.Add([]byte(strings.Replace(string(xmlResp), "nameid-ada", "nameid-mallory", 1)), uint8(0))
	f.Add([]byte(`<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="x" Version="2.0"/>`), uint8(0))
	f.Add([]byte("<!DOCTYPE r [<!ENTITY a \"aaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]><r>&b;</r>"), uint8(0))
	f.Add([]byte("not base64 %%%"), uint8(1))
	f.Add([]byte{}, uint8(0))

	acs := s.URL + "/sso/" + cid + "/saml/acs"
	client := fuzzClient(c)
	f.Fuzz(func(t *testing.T, raw []byte, mode uint8) {
		v := string(raw)
		if mode%2 == 0 {
			v = base64.StdEncoding.EncodeToString(raw)
		}
		fuzzSend(t, client, formPostRequest(acs, url.Values{"SAMLResponse": {v}, "RelayState": {"r"}}))
	})
}

// FuzzSSOCallback sends arbitrary state, code, error and user values to
// an OIDC connection's callback, as a GET (the redirect) and as a POST (a
// form_post). Seeds: a state this server sealed with the code the IdP
// issued for it, and variations.
func FuzzSSOCallback(f *testing.F) {
	e := newEnv(f, testenv.NewDatabase(f, "sqlite"), testenv.Options{})
	p := ssotest.Start("sigil-client", "idp-secret")
	f.Cleanup(p.Close)
	p.Now = e.s.Clock.Now
	p.Next = ssotest.User{Subject: "idp-ada", Email: "ada.sso@acme.test", EmailVerified: true, Name: "Ada Lovelace"}
	cid := fuzzConnection(f, e.s, e.ws, map[string]any{"kind": "oidc", "name": "Acme IdP", "issuer": p.URL,
		"client_id": "sigil-client", "client_secret": "idp-secret", "domains": []string{"acme.test"}})

	c := browser(f)
	res, err := c.Get(e.s.URL + "/sso/" + cid + "/start")
	if err != nil || res.StatusCode != http.StatusFound {
		f.Fatalf("start: %v %v", res, err)
	}
	res, err = c.Get(res.Header.Get("Location")) // the IdP answers with a code
	if err != nil {
		f.Fatal(err)
	}
	back, _ := url.Parse(res.Header.Get("Location"))
	state, code := back.Query().Get("state"), back.Query().Get("code")
	if state == "" || code == "" {
		f.Fatalf("the IdP sent back no state and code: %v", back)
	}
	f.Add(uint8(0), state, code, "", "")
	f.Add(uint8(1), state, code, "", `{"name":{"firstName":"Ada","lastName":"Lovelace"}}`)
	f.Add(uint8(0), state, "", "access_denied", "")
	f.Add(uint8(0), state[:len(state)-2]+"AA", code, "", "")
	f.Add(uint8(1), "ss_", "x", "", "{")
	f.Add(uint8(0), "sr_"+state[3:], code, "", "")
	f.Add(uint8(1), "", "", "\x00\r\n<script>", strings.Repeat("u", 5000))

	cb := e.s.URL + "/sso/" + cid + "/callback"
	client := fuzzClient(c)
	f.Fuzz(func(t *testing.T, method uint8, state, code, idpErr, user string) {
		form := url.Values{}
		for k, v := range map[string]string{"state": state, "code": code, "error": idpErr, "user": user} {
			if v != "" {
				form.Set(k, v)
			}
		}
		var req *http.Request
		if method%2 == 0 {
			req, _ = http.NewRequest("GET", cb+"?"+form.Encode(), nil)
		} else {
			req = formPostRequest(cb, form)
		}
		fuzzSend(t, client, req)
	})
}
