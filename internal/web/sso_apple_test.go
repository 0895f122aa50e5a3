package web_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/sigil-auth/sigil/internal/ssotest"
	"github.com/sigil-auth/sigil/internal/testenv"
)

var hiddenField = regexp.MustCompile(`name="([^"]+)" value="([^"]*)"`)

// TestSSOApple: Sign in with Apple through a stand-in that checks the
// client secret as Apple does (ES256 with the uploaded key's public half,
// Apple's claims, at most six months); the form_post callback is a
// cross-site POST that carries no cookie, and still finishes in the
// browser that started it; the name sent only on the first sign-in is
// kept, and "true" as a string counts as a verified email.
func TestSSOApple(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		e := newEnv(t, db, testenv.Options{})
		key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		der, _ := x509.MarshalPKCS8PrivateKey(key)
		p8 := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
		p := ssotest.Start("com.acme.web", "")
		t.Cleanup(p.Close)
		p.Apple, p.ApplePublic, p.TeamID, p.KeyID, p.Now = true, &key.PublicKey, "TEAM123456", "KEY1234567", e.s.Clock.Now
		p.Next = ssotest.User{Subject: "000123.apple", Email: "x7@privaterelay.appleid.com", EmailVerified: "true", Name: "Ada Lovelace"}
		r := testenv.Do(t, nil, "POST", e.s.URL+"/v1/workspaces/"+e.ws+"/connections", map[string]any{
			"kind": "apple", "name": "Apple", "client_id": "com.acme.web", "team_id": "TEAM123456",
			"key_id": "KEY1234567", "private_key": p8, "issuer": p.URL, "audiences": []string{"com.acme.ios"}}, admin)
		if r.Status != 201 || strings.Contains(string(r.Raw), "PRIVATE KEY") || r.Body["has_private_key"] != true {
			t.Fatalf("create: %d %s", r.Status, r.Raw)
		}
		cid := r.Str("id")
		c := browser(t)
		res, _ := get(t, c, e.s.URL+"/sso/"+cid+"/start")
		res, body := get(t, c, location(t, res).String()) // Apple's page posts the answer back
		if res.StatusCode != 200 {
			t.Fatalf("Apple authorize: %d %s", res.StatusCode, body)
		}
		form := url.Values{}
		for _, m := range hiddenField.FindAllStringSubmatch(body, -1) {
			form.Set(m[1], html.UnescapeString(m[2]))
		}
		req, _ := http.NewRequest("POST", e.s.URL+"/sso/"+cid+"/callback", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Origin", "https://appleid.apple.com")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		res, err := noCookies(c).Do(req) // a cross-site POST carries no SameSite=Lax cookie
		if err != nil {
			t.Fatal(err)
		}
		if body := readBody(res); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("form_post: %d\n%s", res.StatusCode, body)
		}
		res, body = get(t, c, mustURL(t, e.s.URL).ResolveReference(location(t, res)).String())
		if res.StatusCode != http.StatusFound || location(t, res).Path != "/account" {
			t.Fatalf("finish: %d\n%s", res.StatusCode, body)
		}
		if len(p.Issued) != 1 || ssotest.CheckAppleSecret(p.Issued[0], &key.PublicKey, "TEAM123456", "com.acme.web", "KEY1234567", p.URL, e.s.Clock.Now()) != nil {
			t.Fatalf("client secrets presented: %v", p.Issued)
		}
		ident, u, err := e.s.Store.GetIdentityUser(context.Background(), cid, "000123.apple")
		if err != nil || ident.Name != "Ada Lovelace" || !u.EmailVerified || u.Email != "x7@privaterelay.appleid.com" {
			t.Fatalf("identity %+v user %+v (%v): want the first sign-in's name and a verified relay email", ident, u, err)
		}
	})
}

// noCookies is c without its cookie jar (and without following redirects).
func noCookies(c *http.Client) *http.Client {
	return &http.Client{CheckRedirect: c.CheckRedirect}
}
