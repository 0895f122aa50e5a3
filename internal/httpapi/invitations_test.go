package httpapi_test

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sigil-auth/sigil/internal/ratelimit"
	"github.com/sigil-auth/sigil/internal/testenv"
)

var inviteLinkRE = regexp.MustCompile(`(\S+)/signup\?invite=(\S+)`)

// inviteToken is the token of the last invitation mailed to addr (Invite
// sends before it answers).
func inviteToken(t *testing.T, s *testenv.Server, addr string) string {
	t.Helper()
	msgs := s.Outbox.Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		if m := inviteLinkRE.FindStringSubmatch(msgs[i].Text); msgs[i].To == addr && m != nil {
			if m[1] != s.Issuer {
				t.Errorf("invitation link %q, want it under the issuer %s", m[0], s.Issuer)
			}
			tok, err := url.QueryUnescape(m[2])
			if err != nil {
				t.Fatal(err)
			}
			return tok
		}
	}
	t.Fatalf("no invitation mailed to %s in %v", addr, msgs)
	return ""
}

// invitations is a workspace with an owner (olivia), an admin (adam) and
// a member (mike), all key-pair users, and an outsider in another.
type invitations struct {
	s                               *testenv.Server
	ws                              string
	owner, adminU, member, stranger string
}

func newInvitations(t *testing.T, db testenv.Database, o testenv.Options) invitations {
	o.Passwords = fastPasswords
	s := testenv.Start(t, db, o)
	ws, join := workspace(t, s.URL)
	e := invitations{s: s, ws: ws, owner: userToken(t, s.URL, join, "olivia"), adminU: userToken(t, s.URL, join, "adam"),
		member: userToken(t, s.URL, join, "mike")}
	want(t, call(t, "PATCH", s.URL+"/v1/workspaces/"+ws+"/members/adam", map[string]any{"role": "admin"}, e.owner), 200, "")
	_, otherJoin := workspace(t, s.URL)
	e.stranger = userToken(t, s.URL, otherJoin, "oscar")
	return e
}

func (e invitations) url(rest string) string { return e.s.URL + "/v1/workspaces/" + e.ws + rest }

// invite invites email as role with cred and wants status (and code).
func (e invitations) invite(t *testing.T, cred, email, role string, status int, code string) resp {
	t.Helper()
	r := call(t, "POST", e.url("/invitations"), map[string]string{"email": email, "role": role}, creds(cred)...)
	want(t, r, status, code)
	return r
}

// creds is cred as call's header list: none for "".
func creds(cred string) []string {
	if cred == "" {
		return nil
	}
	return []string{cred}
}

func TestInvitations(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		e := newInvitations(t, db, testenv.Options{})
		inv := e.invite(t, e.owner, " Bea@Example.com", "admin", 201, "")
		if inv.Str("email") != "bea@example.com" || inv.Str("role") != "admin" || inv.Str("status") != "pending" ||
			inv.Str("invited_by") != "olivia" || inv.Body["token"] != nil {
			t.Fatalf("invitation: %s", inv.Raw)
		}
		exp, _ := time.Parse(time.RFC3339, inv.Str("expires_at"))
		if want := e.s.Clock.Now().Add(7 * 24 * time.Hour); !exp.Equal(want) {
			t.Errorf("expires_at %v, want %v", exp, want)
		}
		tok := inviteToken(t, e.s, "bea@example.com")

		tests := []struct {
			name, cred, email, role string
			status                  int
			code                    string
		}{
			{"pending already", e.owner, "bea@example.com", "member", 409, "conflict"},
			{"bad email", e.owner, "bea", "", 400, "invalid_request"},
			{"bad role", e.owner, "cy@example.com", "boss", 400, "invalid_request"},
			{"admin invites an owner", e.adminU, "cy@example.com", "owner", 403, "forbidden"},
			{"member", e.member, "cy@example.com", "", 403, "forbidden"},
			{"other workspace", e.stranger, "cy@example.com", "", 404, "not_found"},
			{"no credential", "", "cy@example.com", "", 401, "missing_credential"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) { e.invite(t, tt.cred, tt.email, tt.role, tt.status, tt.code) })
		}
		want(t, call(t, "POST", e.url("/invitations"), "not json", e.owner), 400, "invalid_request")

		l := call(t, "GET", e.url("/invitations"), nil, e.adminU)
		want(t, l, 200, "")
		if items := l.Body["items"].([]any); len(items) != 1 || items[0].(map[string]any)["id"] != inv.Str("id") {
			t.Fatalf("list: %s", l.Raw)
		}
		want(t, call(t, "GET", e.url("/invitations"), nil, e.member), 403, "forbidden")

		// The link signs up once: the invited address, verified, with the role.
		signup := func(body map[string]any) resp { return call(t, "POST", e.s.URL+"/v1/auth/signup", body) }
		want(t, signup(map[string]any{"invite": tok, "password": "short"}), 400, "invalid_request")
		want(t, signup(map[string]any{"invite": tok, "password": "correct horse battery", "email": "eve@example.com"}), 400, "invalid_request")
		want(t, signup(map[string]any{"invite": tok, "password": "correct horse battery", "join_code": "jc_x"}), 400, "invalid_request")
		r := signup(map[string]any{"invite": tok, "password": "correct horse battery", "email": "BEA@example.com"})
		want(t, r, 201, "")
		who := call(t, "GET", e.s.URL+"/v1/whoami", nil, bearer(r.Str("access_token")))
		if who.Str("workspace_id") != e.ws {
			t.Errorf("whoami: %s", who.Raw)
		}
		members := string(call(t, "GET", e.url("/members"), nil, e.owner).Raw)
		if !strings.Contains(members, `"email":"bea@example.com","role":"admin"`) {
			t.Errorf("members: %s", members)
		}
		again := signup(map[string]any{"invite": tok, "password": "correct horse battery"})
		want(t, again, 401, "invalid_invitation")
		if again.Header.Get("WWW-Authenticate") != "" || !strings.Contains(again.Str("detail"), "already used") {
			t.Errorf("second use: %v %s", again.Header, again.Raw)
		}
		e.invite(t, e.owner, "bea@example.com", "", 409, "email_exists")
		want(t, call(t, "DELETE", e.url("/invitations/"+inv.Str("id")), nil, e.owner), 409, "conflict")

		// Withdrawn, expired and made-up links say so.
		cy := e.invite(t, e.adminU, "cy@example.com", "", 201, "")
		want(t, call(t, "DELETE", e.url("/invitations/"+cy.Str("id")), nil, e.member), 403, "forbidden")
		want(t, call(t, "DELETE", e.url("/invitations/"+cy.Str("id")), nil, e.stranger), 404, "not_found")
		want(t, call(t, "DELETE", e.url("/invitations/"+cy.Str("id")), nil, e.adminU), 204, "")
		want(t, call(t, "DELETE", e.url("/invitations/"+cy.Str("id")), nil, e.adminU), 204, "")
		want(t, call(t, "DELETE", e.url("/invitations/inv_nope"), nil, e.adminU), 404, "not_found")
		r = signup(map[string]any{"invite": inviteToken(t, e.s, "cy@example.com"), "password": "correct horse battery"})
		want(t, r, 401, "invalid_invitation")
		if !strings.Contains(r.Str("detail"), "withdrawn") {
			t.Errorf("withdrawn: %s", r.Raw)
		}
		e.invite(t, e.owner, "cy@example.com", "", 201, "") // a withdrawn one does not block a new one
		e.s.Clock.Add(7 * 24 * time.Hour)                   // the users' tokens expire too: the admin token from here on
		r = signup(map[string]any{"invite": inviteToken(t, e.s, "cy@example.com"), "password": "correct horse battery"})
		want(t, r, 401, "invalid_invitation")
		if !strings.Contains(r.Str("detail"), "expired") {
			t.Errorf("expired: %s", r.Raw)
		}
		want(t, signup(map[string]any{"invite": "made-up", "password": "correct horse battery"}), 401, "invalid_invitation")
		e.invite(t, admin, "cy@example.com", "", 201, "") // an expired one does not block either

		statuses := map[string]int{}
		for _, it := range call(t, "GET", e.url("/invitations"), nil, admin).Body["items"].([]any) {
			m := it.(map[string]any)
			statuses[m["email"].(string)+" "+m["status"].(string)]++
		}
		for _, s := range []string{"bea@example.com accepted", "cy@example.com revoked", "cy@example.com expired", "cy@example.com pending"} {
			if statuses[s] != 1 {
				t.Errorf("invitation statuses %v lack %q", statuses, s)
			}
		}
		testenv.WantAudit(t, e.s.URL+"/v1/audit?limit=200&workspace_id="+e.ws, admin,
			"invitation.create", "invitation.accept", "invitation.revoke", "user.signup")
	})
}

// TestInvitationOneWinner: ten sign-ups racing with one link make one
// account; the others are told the invitation was used.
func TestInvitationOneWinner(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		e := newInvitations(t, db, testenv.Options{})
		e.invite(t, e.owner, "dee@example.com", "member", 201, "")
		tok := inviteToken(t, e.s, "dee@example.com")
		const n = 10
		got := make([]resp, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				got[i] = call(t, "POST", e.s.URL+"/v1/auth/signup", map[string]any{"invite": tok, "password": fmt.Sprint("password number ", i)})
			})
		}
		wg.Wait()
		won := 0
		for _, r := range got {
			switch {
			case r.Status == 201:
				won++
			case r.Status != 401 || r.Str("error") != "invalid_invitation":
				t.Errorf("a losing sign-up: %d %s", r.Status, r.Raw)
			}
		}
		if won != 1 {
			t.Fatalf("%d sign-ups won, want 1", won)
		}
	})
}

// TestInvitationMailLimit: invitations count against the mail limits
// like the reset and verification mails (here: per address).
func TestInvitationMailLimit(t *testing.T) {
	rules := map[string]ratelimit.Rule{ratelimit.LoginAccount: {Limit: 2, Window: time.Minute}}
	e := newInvitations(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{Limits: rules})
	for range 2 {
		id := e.invite(t, e.owner, "flo@example.com", "", 201, "").Str("id")
		want(t, call(t, "DELETE", e.url("/invitations/"+id), nil, e.owner), 204, "")
	}
	r := e.invite(t, e.owner, "flo@example.com", "", 429, "rate_limited")
	if r.Header.Get("Retry-After") == "" {
		t.Error("429 without Retry-After")
	}
	if n := len(e.s.Outbox.Messages()); n != 2 {
		t.Errorf("%d mails sent, want 2", n)
	}
	e.invite(t, e.owner, "gus@example.com", "", 201, "")
}

func TestRemoveMember(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		e := newInvitations(t, db, testenv.Options{})
		key := createKey(t, e.s.URL, e.member, map[string]any{"name": "ci"}).Str("key")
		jk := call(t, "POST", e.s.URL+"/v1/jwt-keys", map[string]any{"name": "web"}, e.member)
		want(t, jk, 201, "")
		jwtTok := mint(t, jwt.SigningMethodHS256, jk.Str("id"), jk.Str("secret"),
			jwt.MapClaims{"sub": "x", "exp": e.s.Clock.Now().Add(time.Hour).Unix()})
		for _, c := range []string{e.member, "X-API-KEY: " + key, bearer(jwtTok)} {
			want(t, call(t, "GET", e.s.URL+"/", nil, c), 200, "")
		}
		del := func(user, cred string, status int, code string) {
			t.Helper()
			want(t, call(t, "DELETE", e.url("/members/"+user), nil, creds(cred)...), status, code)
		}
		del("adam", e.member, 403, "forbidden")
		del("olivia", e.adminU, 403, "forbidden")
		del("mike", "X-API-KEY: "+key, 403, "insufficient_scope")
		del("mike", e.stranger, 404, "not_found")
		del("oscar", e.owner, 404, "not_found")
		del("nobody", e.owner, 404, "not_found")
		del("mike", "", 401, "missing_credential")
		del("olivia", e.owner, 409, "conflict") // the last owner

		del("mike", e.adminU, 204, "")
		for _, c := range []string{e.member, "X-API-KEY: " + key, bearer(jwtTok)} {
			want(t, call(t, "GET", e.s.URL+"/", nil, c), 401, "invalid_token")
		}
		del("mike", e.adminU, 404, "not_found")
		if m := string(call(t, "GET", e.url("/members"), nil, e.owner).Raw); strings.Contains(m, `"mike"`) {
			t.Errorf("mike still listed: %s", m)
		}
		// An admin may leave the workspace.
		del("adam", e.adminU, 204, "")
		want(t, call(t, "GET", e.s.URL+"/", nil, e.adminU), 401, "invalid_token")
		testenv.WantAudit(t, e.s.URL+"/v1/audit?limit=200", e.owner, "member.remove")
	})
}

// TestMemberScopesCapCredentials: narrowing a member's scopes narrows the
// API keys and JWT keys they made at once, and ends the tokens exchanged
// from their keys; giving the scope back restores it.
func TestMemberScopesCapCredentials(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		e := newInvitations(t, db, testenv.Options{})
		key := createKey(t, e.s.URL, e.member, map[string]any{"name": "ci", "scopes": []string{"read", "write"}}).Str("key")
		jk := call(t, "POST", e.s.URL+"/v1/jwt-keys", map[string]any{"name": "web"}, e.member)
		jwtTok := mint(t, jwt.SigningMethodHS256, jk.Str("id"), jk.Str("secret"),
			jwt.MapClaims{"sub": "x", "exp": e.s.Clock.Now().Add(time.Hour).Unix()})
		exchanged := call(t, "POST", e.s.URL+"/v1/auth/login", map[string]any{"api_key": key}).Str("access_token")
		scopes := func(cred string) string {
			t.Helper()
			r := call(t, "GET", e.s.URL+"/v1/whoami", nil, cred)
			want(t, r, 200, "")
			return fmt.Sprint(r.Body["scopes"])
		}
		setScopes := func(sc ...string) {
			t.Helper()
			want(t, call(t, "PATCH", e.url("/members/mike"), map[string]any{"scopes": sc}, e.owner), 200, "")
		}
		if got := scopes("X-API-KEY: " + key); got != "[read write]" {
			t.Fatalf("key scopes before: %s", got)
		}
		setScopes("read")
		for _, c := range []string{"X-API-KEY: " + key, bearer(jwtTok)} {
			if got := scopes(c); got != "[read]" {
				t.Errorf("scopes after narrowing the creator: %s", got)
			}
		}
		want(t, call(t, "GET", e.s.URL+"/", nil, bearer(exchanged)), 401, "invalid_token")
		setScopes("read", "write", "extra")
		if got := scopes("X-API-KEY: " + key); got != "[read write]" {
			t.Errorf("key scopes after widening the creator again: %s", got)
		}
	})
}
