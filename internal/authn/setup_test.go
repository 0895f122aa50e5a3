package authn_test

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/authn"
	"github.com/sigil-auth/sigil/internal/password"
	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/testenv"
)

// quickPasswords keeps argon2id cheap in these tests.
var quickPasswords = password.New(password.Params{Memory: 256, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 0)

const setupPassword = "correct horse battery"

// setupToken is the token of a setup link.
func setupToken(t *testing.T, l authn.SetupLink) string {
	t.Helper()
	u, err := url.Parse(l.URL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("token")
}

// firstRun makes a setup link on s and returns its token.
func firstRun(t *testing.T, s *testenv.Server) string {
	t.Helper()
	l, ok, err := s.Auth.FirstRun(t.Context())
	if err != nil || !ok {
		t.Fatalf("FirstRun = %v, %v; want a link", ok, err)
	}
	if !strings.HasPrefix(l.URL, s.Issuer+"/setup?token=st_") || !l.ExpiresAt.Equal(s.Clock.Now().Add(time.Hour)) {
		t.Errorf("FirstRun link %q, expires %v", l.URL, l.ExpiresAt)
	}
	return setupToken(t, l)
}

func codeOf(err error) authn.Code {
	var e *authn.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// TestSetup walks the first run: links replace each other and expire, the
// form's mistakes are refused before the link is used, of concurrent
// setups exactly one wins, and then no link works or is made any more.
func TestSetup(t *testing.T) {
	for _, backend := range testenv.Backends {
		t.Run(backend, func(t *testing.T) {
			s := testenv.Start(t, testenv.NewDatabase(t, backend), testenv.Options{Passwords: quickPasswords})
			ctx := t.Context()
			if err := s.Auth.CheckSetup(ctx, "st_nothing"); !errors.Is(err, authn.ErrInvalidToken) {
				t.Fatalf("CheckSetup before any link: %v", err)
			}
			old := firstRun(t, s)
			tok := firstRun(t, s) // a second start (or replica): only the newest link works
			if err := s.Auth.CheckSetup(ctx, old); !errors.Is(err, authn.ErrInvalidToken) {
				t.Errorf("the replaced link still works: %v", err)
			}
			if err := s.Auth.CheckSetup(ctx, tok); err != nil {
				t.Fatalf("the newest link: %v", err)
			}

			good := authn.SetupInput{Token: tok, Workspace: "Acme", Email: "Root@Example.com", Password: setupPassword}
			tests := []struct {
				name   string
				change func(*authn.SetupInput)
				want   authn.Code
			}{
				{"no workspace name", func(in *authn.SetupInput) { in.Workspace = "  " }, authn.CodeInvalidRequest},
				{"bad email", func(in *authn.SetupInput) { in.Email = "root" }, authn.CodeInvalidRequest},
				{"short password", func(in *authn.SetupInput) { in.Password = "short" }, authn.CodeInvalidRequest},
				{"replaced link", func(in *authn.SetupInput) { in.Token = old }, authn.CodeInvalidToken},
				{"not a setup token", func(in *authn.SetupInput) { in.Token = "rt_" + tok[3:] }, authn.CodeInvalidToken},
				{"no token", func(in *authn.SetupInput) { in.Token = "" }, authn.CodeInvalidToken},
			}
			for _, tt := range tests {
				in := good
				tt.change(&in)
				if _, err := s.Auth.Setup(ctx, testenv.LocalIP, in); codeOf(err) != tt.want {
					t.Errorf("%s: %v, want %s", tt.name, err, tt.want)
				}
			}
			if err := s.Auth.CheckSetup(ctx, tok); err != nil {
				t.Fatalf("refused forms used the link up: %v", err)
			}

			s.Clock.Add(time.Hour) // expiry is exclusive
			if _, err := s.Auth.Setup(ctx, testenv.LocalIP, good); !errors.Is(err, authn.ErrInvalidToken) {
				t.Fatalf("setup with an expired link: %v", err)
			}
			tok = firstRun(t, s) // the next start prints a new one

			const n = 6
			var wg sync.WaitGroup
			sessions, errs := make([]authn.BrowserSession, n), make([]error, n)
			for i := range n {
				wg.Go(func() {
					in := authn.SetupInput{Token: tok, Workspace: fmt.Sprint("Acme ", i),
						Email: fmt.Sprintf("root%d@example.com", i), Password: setupPassword}
					sessions[i], errs[i] = s.Auth.Setup(ctx, testenv.LocalIP, in)
				})
			}
			wg.Wait()
			winner := -1
			for i, err := range errs {
				switch {
				case err == nil && winner >= 0:
					t.Fatalf("setups %d and %d both succeeded", winner, i)
				case err == nil:
					winner = i
				case !errors.Is(err, authn.ErrInvalidToken) && !errors.Is(err, authn.ErrSetupDone):
					t.Errorf("losing setup %d: %v", i, err)
				}
			}
			if winner < 0 {
				t.Fatalf("no setup succeeded: %v", errs)
			}
			b := sessions[winner]
			p := authn.BrowserPrincipal(b)
			if b.Cookie == "" || !b.InstanceAdmin() || !b.Manages() || !p.InstanceAdmin || p.IsAdmin() || p.Kind != authn.KindUser {
				t.Errorf("the first account's session: %+v, principal %+v", b, p)
			}
			list, err := s.Auth.ListWorkspaces(ctx, p)
			if err != nil || len(list) != 1 || list[0].ID != b.WorkspaceID || list[0].Members != 1 ||
				list[0].Name != fmt.Sprint("Acme ", winner) {
				t.Fatalf("ListWorkspaces after setup: %+v, %v", list, err)
			}

			if _, ok, err := s.Auth.FirstRun(ctx); ok || err != nil {
				t.Errorf("FirstRun with an account: %v, %v; want no link", ok, err)
			}
			if err := s.Auth.CheckSetup(ctx, tok); !errors.Is(err, authn.ErrInvalidToken) {
				t.Errorf("the used link: %v", err)
			}
			in := good
			in.Token = tok
			if _, err := s.Auth.Setup(ctx, testenv.LocalIP, in); !errors.Is(err, authn.ErrInvalidToken) {
				t.Errorf("a second setup: %v", err)
			}
		})
	}
}

// TestInstanceAdminPrincipal: only the admin token and an instance admin's
// browser session reach the instance operations; the same account's
// bearer token does not, and a revocation applies to the next call even
// with a session read before it.
func TestInstanceAdminPrincipal(t *testing.T) {
	s := testenv.Start(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{Passwords: quickPasswords})
	ctx := t.Context()
	ws, err := s.Auth.CreateWorkspace(ctx, admin, "Acme")
	if err != nil {
		t.Fatal(err)
	}
	signUp := func(email string) authn.BrowserSession {
		b, err := s.Auth.SignUpBrowser(ctx, testenv.LocalIP, authn.SignupInput{Email: email, Password: setupPassword, JoinCode: ws.JoinCode})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	ownerBefore := signUp("owner@example.com") // read before the grant
	member := signUp("member@example.com")
	if _, err := s.Auth.SetInstanceAdmin(ctx, "owner@example.com", "", true); err != nil {
		t.Fatal(err)
	}
	owner, err := s.Auth.SignIn(ctx, testenv.LocalIP, authn.PasswordLogin{Email: "owner@example.com", Password: setupPassword})
	if err != nil {
		t.Fatal(err)
	}
	bearer, err := s.Auth.LoginPassword(ctx, testenv.LocalIP, authn.PasswordLogin{Email: "owner@example.com", Password: setupPassword})
	if err != nil {
		t.Fatal(err)
	}
	api, err := s.Auth.Authenticate(ctx, authn.Credential{Authorization: "Bearer " + bearer.AccessToken})
	if err != nil {
		t.Fatal(err)
	}
	forged := authn.BrowserPrincipal(owner)
	forged.Kind = authn.KindAPIKey

	tests := []struct {
		name string
		p    authn.Principal
		want error
	}{
		{"admin token", admin, nil},
		{"instance admin's browser", authn.BrowserPrincipal(owner), nil},
		{"session read before the grant", authn.BrowserPrincipal(ownerBefore), authn.ErrForbidden},
		{"same account's access token", api, authn.ErrForbidden},
		{"member's browser", authn.BrowserPrincipal(member), authn.ErrForbidden},
		{"flag on another kind", forged, authn.ErrForbidden},
	}
	for _, tt := range tests {
		_, err := s.Auth.ListWorkspaces(ctx, tt.p)
		_, cerr := s.Auth.CreateWorkspace(ctx, tt.p, "By "+tt.name)
		if !errors.Is(err, tt.want) || !errors.Is(cerr, tt.want) {
			t.Errorf("%s: list %v, create %v; want %v", tt.name, err, cerr, tt.want)
		}
	}
	if api.InstanceAdmin || api.IsAdmin() {
		t.Errorf("a bearer token's principal carries instance admin: %+v", api)
	}

	if _, err := s.Auth.SetInstanceAdmin(ctx, "owner@example.com", "", false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Auth.ListWorkspaces(ctx, authn.BrowserPrincipal(owner)); !errors.Is(err, authn.ErrForbidden) {
		t.Errorf("after the revocation, the session read before it: %v, want forbidden", err)
	}
}

// TestSetInstanceAdmin: the operator's command finds accounts by email
// (the workspace picks among several) or id, reports whether anything
// changed, and audits each change.
func TestSetInstanceAdmin(t *testing.T) {
	s := testenv.Start(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{Passwords: quickPasswords})
	ctx := t.Context()
	var wss []authn.WorkspaceView
	for _, name := range []string{"A", "B"} {
		ws, err := s.Auth.CreateWorkspace(ctx, admin, name)
		if err != nil {
			t.Fatal(err)
		}
		wss = append(wss, ws)
		for _, email := range []string{"both@example.com", strings.ToLower(name) + "@example.com"} {
			if _, err := s.Auth.Signup(ctx, testenv.LocalIP, authn.SignupInput{Email: email, Password: setupPassword, JoinCode: ws.JoinCode}); err != nil {
				t.Fatal(err)
			}
		}
	}
	a, b := wss[0].ID, wss[1].ID
	tests := []struct {
		name        string
		account, ws string
		admin       bool
		wantWS      string
		wantChanged bool
		wantCode    authn.Code
	}{
		{"grant by email", " A@Example.com ", "", true, a, true, ""},
		{"grant again", "a@example.com", "", true, a, false, ""},
		{"email in two workspaces", "both@example.com", "", true, "", false, authn.CodeConflict},
		{"email with workspace", "both@example.com", b, true, b, true, ""},
		{"email in another workspace", "a@example.com", b, true, "", false, authn.CodeNotFound},
		{"unknown email", "nobody@example.com", "", true, "", false, authn.CodeNotFound},
		{"unknown id", "usr_nobody", "", true, "", false, authn.CodeNotFound},
		{"revoke", "a@example.com", a, false, a, true, ""},
		{"revoke again", "a@example.com", "", false, a, false, ""},
	}
	for _, tt := range tests {
		ch, err := s.Auth.SetInstanceAdmin(ctx, tt.account, tt.ws, tt.admin)
		if codeOf(err) != tt.wantCode || (err == nil && (ch.WorkspaceID != tt.wantWS || ch.Changed != tt.wantChanged)) {
			t.Errorf("%s: %+v, %v; want workspace %s changed %v, error %q", tt.name, ch, err, tt.wantWS, tt.wantChanged, tt.wantCode)
		}
	}
	if _, err := s.Auth.SetInstanceAdmin(ctx, "both@example.com", "", true); err == nil ||
		!strings.Contains(err.Error(), a) || !strings.Contains(err.Error(), b) {
		t.Errorf("the ambiguity error does not name both workspaces: %v", err)
	}
	// By user id: the one in B (granted above) is revoked.
	ch, err := s.Auth.SetInstanceAdmin(ctx, "both@example.com", b, true)
	if err != nil {
		t.Fatal(err)
	}
	if ch2, err := s.Auth.SetInstanceAdmin(ctx, ch.UserID, "", false); err != nil || !ch2.Changed || ch2.Email != "both@example.com" {
		t.Errorf("revoke by id: %+v, %v", ch2, err)
	}

	s.Auth.Close() // writes the queued audit events
	for ws, want := range map[string][]string{
		a: {authn.AuditInstanceAdminRevoke, authn.AuditInstanceAdminGrant},
		b: {authn.AuditInstanceAdminRevoke, authn.AuditInstanceAdminGrant},
	} {
		evs, err := s.Store.ListAudit(ctx, store.AuditFilter{WorkspaceID: ws, Action: "instance_admin."})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, e := range evs {
			if e.Actor != "operator" {
				t.Errorf("audit actor %q, want operator", e.Actor)
			}
			got = append(got, e.Action)
		}
		if strings.Join(got, " ") != strings.Join(want, " ") {
			t.Errorf("audit of %s: %v, want %v (newest first)", ws, got, want)
		}
	}
}
