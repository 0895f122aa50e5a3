package httpapi_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// Lists are newest first (API.md §1), these three included: members
// (keyset cursor), second factors and SSO connections. The test clock
// moves a minute between creations, and ids sort in another order than
// creation, so neither an oldest-first nor an id order passes.

// pageOf is the field values of a list page's items, in order.
func pageOf(t *testing.T, r resp, field string) []string {
	t.Helper()
	want(t, r, 200, "")
	var out []string
	for _, it := range r.Body["items"].([]any) {
		out = append(out, it.(map[string]any)[field].(string))
	}
	return out
}

// allPages follows next_cursor from url (which has ?limit=) to the last
// page and returns each page's field values.
func allPages(t *testing.T, url, field, cred string) [][]string {
	t.Helper()
	var pages [][]string
	for next := url; ; {
		r := call(t, "GET", next, nil, cred)
		pages = append(pages, pageOf(t, r, field))
		cursor, _ := r.Body["next_cursor"].(string)
		if cursor == "" || len(pages) > 10 {
			return pages
		}
		next = url + "&cursor=" + cursor
	}
}

func TestMembersNewestFirst(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{})
		ws, join := workspace(t, s.URL)
		owner := userToken(t, s.URL, join, "mike") // joins first
		for _, id := range []string{"olivia", "nina"} {
			s.Clock.Add(time.Minute)
			userToken(t, s.URL, join, id)
		}
		url := s.URL + "/v1/workspaces/" + ws + "/members?limit=2"
		first := call(t, "GET", url, nil, owner)
		// Someone joining between two pages heads the first page and leaves
		// the next one as it was: the cursor is a position, not an offset.
		s.Clock.Add(time.Minute)
		userToken(t, s.URL, join, "zed")
		second := call(t, "GET", url+"&cursor="+first.Str("next_cursor"), nil, owner)
		got := [][]string{pageOf(t, first, "user_id"), pageOf(t, second, "user_id")}
		if d := cmp.Diff([][]string{{"nina", "olivia"}, {"mike"}}, got); d != "" || second.Body["next_cursor"] != nil {
			t.Errorf("members pages (-want +got):\n%s\nlast page: %s", d, second.Raw)
		}
		if d := cmp.Diff([][]string{{"zed", "nina"}, {"olivia", "mike"}}, allPages(t, url, "user_id", owner)); d != "" {
			t.Errorf("members pages after zed joined (-want +got):\n%s", d)
		}
		// The previous release's cursor, a bare user id, meant "after"
		// oldest first: refused, not read the other way.
		want(t, call(t, "GET", url+"&cursor=olivia", nil, owner), 400, "invalid_request")
	})
}

func TestFactorsNewestFirst(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{Passwords: fastPasswords})
		_, join := workspace(t, s.URL)
		at := bearer(signup(t, s.URL, join, "ada@example.com", "correct horse battery").Str("access_token"))
		enrolTOTP(t, s, at)
		s.Clock.Add(time.Minute)
		enrolPasskey(t, s.URL, at, testenv.NewAuthenticator(t, passkeyOrigin), "Laptop")
		s.Clock.Add(time.Minute)
		want(t, call(t, "POST", s.URL+"/v1/users/me/factors/recovery", nil, at), 201, "")
		got := allPages(t, s.URL+"/v1/users/me/factors?limit=2", "kind", at)
		if d := cmp.Diff([][]string{{"recovery", "webauthn"}, {"totp"}}, got); d != "" {
			t.Errorf("factor pages (-want +got):\n%s", d)
		}
	})
}

func TestConnectionsNewestFirst(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		f := newConnFixture(t, db)
		owner := bearer(f.owner)
		for _, body := range []map[string]any{f.oidcBody, f.samlBody, f.appleBody} {
			want(t, call(t, "POST", f.base, body, owner), 201, "")
			f.s.Clock.Add(time.Minute)
		}
		got := allPages(t, f.base+"?limit=2", "kind", owner)
		if d := cmp.Diff([][]string{{"apple", "saml"}, {"oidc"}}, got); d != "" {
			t.Errorf("connection pages (-want +got):\n%s", d)
		}
		// The sign-in page's buttons keep their order: oldest first.
		buttons, err := f.s.Auth.WorkspaceConnections(t.Context(), f.ws)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, b := range buttons {
			kinds = append(kinds, b.Kind)
		}
		if d := cmp.Diff([]string{"oidc", "saml", "apple"}, kinds); d != "" {
			t.Errorf("sign-in buttons (-want +got):\n%s", d)
		}
		// A connection made between two pages moves nothing across them:
		// the cursor is the last item's place, not an offset.
		first := call(t, "GET", f.base+"?limit=2", nil, owner)
		want(t, call(t, "POST", f.base, f.appleBody, owner), 201, "")
		second := call(t, "GET", f.base+"?limit=2&cursor="+first.Str("next_cursor"), nil, owner)
		if d := cmp.Diff([]string{"oidc"}, pageOf(t, second, "kind")); d != "" || second.Body["next_cursor"] != nil {
			t.Errorf("second page after a new connection (-want +got):\n%s\n%s", d, second.Raw)
		}
		want(t, call(t, "GET", f.base+"?cursor=bm9wZQ", nil, owner), 400, "invalid_request")
	})
}
