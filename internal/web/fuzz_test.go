package web_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// FuzzPages sends arbitrary queries and form bodies to the pages: never a
// 5xx, and a redirect goes only to a path of Sigil's own or to a URI the
// app registered (no open redirect, whatever the authorization request,
// the "return" field or the logout parameters say).
func FuzzPages(f *testing.F) {
	e := newEnv(f, testenv.NewDatabase(f, "sqlite"), testenv.Options{})
	good := e.authParams(oauth2.GenerateVerifier()).Encode()
	pages := []struct{ method, path string }{
		{"GET", "/oauth2/authorize"}, {"GET", "/oauth2/logout"}, {"GET", "/login"}, {"POST", "/login"},
		{"POST", "/signup"}, {"POST", "/logout"}, {"GET", "/reset-password"}, {"POST", "/reset-password"},
		{"POST", "/verify-email"}, {"POST", "/forgot-password"},
	}
	f.Add(uint8(0), good, "")
	f.Add(uint8(0), strings.Replace(good, "callback", "%2F%2Fevil.test", 1), "")
	f.Add(uint8(1), "post_logout_redirect_uri=https%3A%2F%2Fevil.test&id_token_hint=a.b.c&state=x", "")
	f.Add(uint8(3), "", "email="+url.QueryEscape(userEmail)+"&password="+url.QueryEscape(userPass)+"&return="+url.QueryEscape(good))
	f.Add(uint8(3), "", "email=a%40b.c&password=x&return=client_id%3Dapp_x%26redirect_uri%3Dhttps%3A%2F%2Fevil.test")
	f.Add(uint8(5), "", "return=post_logout_redirect_uri%3D%2F%2Fevil.test%26client_id%3D"+e.clientID)
	f.Add(uint8(7), "", "token=%zz&password=12345678")
	f.Add(uint8(2), "return="+url.QueryEscape(strings.Replace(good, "response_type=code", "response_type=token", 1)), "")
	c := browser(f)
	f.Fuzz(func(t *testing.T, page uint8, query, body string) {
		p := pages[int(page)%len(pages)]
		u := e.s.URL + p.path
		if query != "" {
			u += "?" + query
		}
		var res *http.Response
		if p.method == "GET" {
			req, err := http.NewRequest("GET", u, nil)
			if err != nil {
				return // not a URL a browser would send
			}
			if res, err = c.Do(req); err != nil {
				t.Fatal(err)
			}
		} else {
			req, err := http.NewRequest("POST", u, strings.NewReader(body))
			if err != nil {
				return
			}
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			if res, err = c.Do(req); err != nil {
				t.Fatal(err)
			}
		}
		readBody(res)
		if res.StatusCode >= 500 {
			t.Fatalf("%s %s → %d", p.method, u, res.StatusCode)
		}
		loc := res.Header.Get("Location")
		if loc == "" {
			return
		}
		ok := strings.HasPrefix(loc, "/") && !strings.HasPrefix(loc, "//") && !strings.HasPrefix(loc, `/\`)
		ok = ok || strings.HasPrefix(loc, appRedirect+"?") || loc == appLogout || strings.HasPrefix(loc, appLogout+"?")
		if !ok {
			t.Fatalf("%s %s (body %q) redirects to %q", p.method, u, body, loc)
		}
	})
}
