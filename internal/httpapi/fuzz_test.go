package httpapi_test

import (
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
