package httpapi_test

import (
	"encoding/base64"
	"strings"
	"testing"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// FuzzRequests drives arbitrary bodies and credentials through the real
// server: every answer must be a non-5xx with the §1 error body on error.
func FuzzRequests(f *testing.F) {
	s := testenv.Start(f, testenv.NewDatabase(f, "sqlite"), testenv.Options{})
	for _, seed := range []struct{ path, body, auth string }{
		{"/v1/auth/code", `{"user_id":"alice"}`, ""},
		{"/v1/auth/token", `{"user_id":"alice","auth_code":"x","signature":"AAAA","public_key":"AAAA"}`, ""},
		{"/v1/auth/register", `{"user_id":"a","join_code":"jc_x","auth_code":"x","signature":"","public_key":""}`, ""},
		{"/v1/auth/refresh", `{"refresh_token":"rt_x"}`, "Bearer rt_x"},
		{"/v1/auth/logout", `{"all":true}`, "Bearer a.b.c"},
		{"/v1/workspaces", `{"name":"x"}`, testenv.AdminToken},
		{"/v1/users/me/keys", `{}`, "Bearer eyJhbGciOiJub25lIn0.e30."},
		{"/v1/auth/code", "\x00\xff{", "\x00"},
	} {
		f.Add(seed.path, seed.body, seed.auth)
	}
	f.Fuzz(func(t *testing.T, path, body, auth string) {
		unprintable := func(r rune) bool { return r < ' ' || r > '~' }
		if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, " #?%") || strings.ContainsFunc(path, unprintable) ||
			strings.ContainsFunc(auth, unprintable) {
			return // not a request line or header net/http would send
		}
		r := call(t, "POST", s.URL+path, body, "Authorization: "+auth)
		if r.Status >= 400 && (r.Str("error") == "" || r.Str("detail") == "") {
			t.Fatalf("%s → %d without §1 body: %s", path, r.Status, r.Raw)
		}
	})
}

// FuzzOAuth2 sends form bodies and Authorization headers (Basic client
// credentials above all) to the three OAuth2 endpoints: never a 5xx,
// every error in RFC 6749's shape, every 401 with a challenge.
func FuzzOAuth2(f *testing.F) {
	s := testenv.Start(f, testenv.NewDatabase(f, "sqlite"), testenv.Options{})
	basic := func(user, pass string) string {
		return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
	}
	for _, seed := range []struct {
		endpoint   uint8
		body, auth string
	}{
		{0, "grant_type=client_credentials&scope=read", basic("ak_x", "sk_x")},
		{0, "grant_type=client_credentials&client_id=ak_x&client_secret=sk_x", ""},
		{0, "grant_type=client_credentials&client_secret=sk_x", basic("ak_%zz", "sk_%2")},
		{0, "grant_type=refresh_token&refresh_token=rt_x&grant_type=x", ""},
		{1, "token=a.b.c&token_type_hint=access_token", basic("ak_x", "")},
		{1, "token=sk_x", testenv.AdminToken},
		{2, "token=rt_x", "Bearer sk_x"},
		{2, "token=%zz;&=", "Basic !!!"},
		{0, "grant_type=authorization_code&code=ac_x&redirect_uri=https%3A%2F%2Fa.example%2Fcb&code_verifier=abc&client_id=app_x", ""},
		{0, "grant_type=authorization_code&code=ac_x&code_verifier=" + strings.Repeat("a", 43), basic("app_x", "cs_x")},
		{2, "token=rt_x&client_id=app_x", ""},
		{2, "token=rt_x", basic("app_x", "cs_%")},
	} {
		f.Add(seed.endpoint, seed.body, seed.auth)
	}
	endpoints := []string{"/oauth2/token", "/oauth2/introspect", "/oauth2/revoke"}
	f.Fuzz(func(t *testing.T, endpoint uint8, body, auth string) {
		if strings.ContainsFunc(auth, func(r rune) bool { return r < ' ' || r > '~' }) {
			return // not a header net/http would send
		}
		path := endpoints[int(endpoint)%len(endpoints)]
		hdr := []string{"Content-Type: application/x-www-form-urlencoded"}
		if auth != "" {
			hdr = append(hdr, "Authorization: "+auth)
		}
		r := call(t, "POST", s.URL+path, body, hdr...)
		if r.Status >= 400 && (r.Str("error") == "" || r.Str("error_description") == "") {
			t.Fatalf("%s → %d without an RFC 6749 body: %s", path, r.Status, r.Raw)
		}
		if r.Status == 401 && r.Header.Get("WWW-Authenticate") == "" {
			t.Fatalf("%s → 401 without WWW-Authenticate: %s", path, r.Raw)
		}
	})
}
