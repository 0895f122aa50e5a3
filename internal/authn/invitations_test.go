package authn_test

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/authn"
	"github.com/sigil-auth/sigil/internal/mail"
	"github.com/sigil-auth/sigil/internal/testenv"
)

// outbox is a Mailer that keeps what it is given and fails while fail is
// set.
type outbox struct {
	mu   sync.Mutex
	msgs []mail.Message
	fail bool
}

func (o *outbox) Send(_ context.Context, m mail.Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.fail {
		return errors.New("smtp: connection refused")
	}
	o.msgs = append(o.msgs, m)
	return nil
}

var inviteRE = regexp.MustCompile(`/signup\?invite=(\S+)`)

// lastInvite is the token of the last invitation in o.
func (o *outbox) lastInvite(t *testing.T) string {
	t.Helper()
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.msgs) == 0 {
		t.Fatal("no mail")
	}
	m := inviteRE.FindStringSubmatch(o.msgs[len(o.msgs)-1].Text)
	if m == nil {
		t.Fatalf("no invitation link in %q", o.msgs[len(o.msgs)-1].Text)
	}
	tok, _ := url.QueryUnescape(m[1])
	return tok
}

// crew is a workspace with an owner and a member, both password users, as
// principals (their tokens authenticated).
type crew struct {
	s             *testenv.Server
	box           *outbox
	ws            string
	owner, member authn.Principal
	memberToken   string // the member's access token
}

func newCrew(t *testing.T, backend string) crew {
	t.Helper()
	box := &outbox{}
	s := testenv.Start(t, testenv.NewDatabase(t, backend), testenv.Options{Mailer: box, Passwords: quickPasswords})
	ws, err := s.Auth.CreateWorkspace(t.Context(), admin, "Crew")
	if err != nil {
		t.Fatal(err)
	}
	c := crew{s: s, box: box, ws: ws.ID}
	for i, email := range []string{"olivia@example.com", "mike@example.com"} {
		tok, err := s.Auth.Signup(t.Context(), testenv.LocalIP, authn.SignupInput{Email: email, Password: setupPassword, JoinCode: ws.JoinCode})
		if err != nil {
			t.Fatal(err)
		}
		p, err := s.Auth.Authenticate(t.Context(), authn.Credential{Authorization: "Bearer " + tok.AccessToken})
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			c.owner = p
		} else {
			c.member, c.memberToken = p, tok.AccessToken
		}
	}
	return c
}

// code is err's domain code ("" for nil, "?" for a non-domain error).
func code(err error) authn.Code {
	var e *authn.Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	}
	return "?"
}

func TestInviteRules(t *testing.T) {
	c := newCrew(t, "sqlite")
	tests := []struct {
		name string
		p    authn.Principal
		in   authn.InviteInput
		want authn.Code
	}{
		{"owner invites a member by default", c.owner, authn.InviteInput{Email: "a@example.com"}, ""},
		{"owner invites an owner", c.owner, authn.InviteInput{Email: "b@example.com", Role: "owner"}, ""},
		{"the instance admin invites an owner", admin, authn.InviteInput{Email: "c@example.com", Role: "owner"}, ""},
		{"a member invites nobody", c.member, authn.InviteInput{Email: "d@example.com"}, authn.CodeForbidden},
		{"an existing member, told to an admin", c.owner, authn.InviteInput{Email: "MIKE@example.com"}, authn.CodeEmailExists},
		{"a pending invitation", c.owner, authn.InviteInput{Email: "a@example.com", Role: "admin"}, authn.CodeConflict},
		{"no such role", c.owner, authn.InviteInput{Email: "e@example.com", Role: "root"}, authn.CodeInvalidRequest},
		{"not an address", c.owner, authn.InviteInput{Email: "e@"}, authn.CodeInvalidRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, err := c.s.Auth.Invite(t.Context(), testenv.LocalIP, tt.p, c.ws, tt.in)
			if code(err) != tt.want {
				t.Fatalf("Invite = %v, want code %q", err, tt.want)
			}
			if err == nil && (v.Status != authn.InvitationPending || v.Role == "") {
				t.Errorf("invitation %+v", v)
			}
		})
	}
}

// TestInviteUnsent: an invitation whose mail fails is withdrawn, so that
// inviting again works once mail does.
func TestInviteUnsent(t *testing.T) {
	c := newCrew(t, "sqlite")
	c.box.fail = true
	_, err := c.s.Auth.Invite(t.Context(), testenv.LocalIP, c.owner, c.ws, authn.InviteInput{Email: "a@example.com"})
	if code(err) != authn.CodeUnavailable {
		t.Fatalf("Invite with mail down = %v, want unavailable", err)
	}
	c.box.fail = false
	c.s.Clock.Add(time.Second) // newest first
	if _, err := c.s.Auth.Invite(t.Context(), testenv.LocalIP, c.owner, c.ws, authn.InviteInput{Email: "a@example.com"}); err != nil {
		t.Fatalf("Invite again = %v", err)
	}
	list, err := c.s.Auth.ListInvitations(t.Context(), c.owner, c.ws)
	if err != nil || len(list) != 2 || list[0].Status != authn.InvitationPending || list[1].Status != authn.InvitationRevoked {
		t.Fatalf("ListInvitations = %+v, %v", list, err)
	}
}

// TestInvitationLink: the sign-up page's reading of a link says what
// became of it, in each state.
func TestInvitationLink(t *testing.T) {
	c := newCrew(t, "sqlite")
	invite := func(email string) (authn.InvitationView, string) {
		v, err := c.s.Auth.Invite(t.Context(), testenv.LocalIP, c.owner, c.ws, authn.InviteInput{Email: email, Role: "admin"})
		if err != nil {
			t.Fatal(err)
		}
		return v, c.box.lastInvite(t)
	}
	_, used := invite("used@example.com")
	if _, err := c.s.Auth.Signup(t.Context(), testenv.LocalIP, authn.SignupInput{Invite: used, Password: setupPassword}); err != nil {
		t.Fatal(err)
	}
	v, revoked := invite("gone@example.com")
	if err := c.s.Auth.RevokeInvitation(t.Context(), testenv.LocalIP, c.owner, c.ws, v.ID); err != nil {
		t.Fatal(err)
	}
	_, pending := invite("new@example.com")
	info, err := c.s.Auth.OpenInvitation(t.Context(), testenv.LocalIP, pending)
	if err != nil || info.Email != "new@example.com" || info.Role != "admin" || info.Workspace.DisplayName != "Crew" {
		t.Fatalf("OpenInvitation = %+v, %v", info, err)
	}
	for tok, want := range map[string]error{used: authn.ErrInvitationUsed, revoked: authn.ErrInvitationRevoked,
		"nope": authn.ErrInvalidInvitation, "": authn.ErrInvalidInvitation} {
		if _, err := c.s.Auth.OpenInvitation(t.Context(), testenv.LocalIP, tok); !errors.Is(err, want) {
			t.Errorf("OpenInvitation(%q) = %v, want %v", tok, err, want)
		}
	}
	c.s.Clock.Add(authn.InvitationTTL)
	if _, err := c.s.Auth.OpenInvitation(t.Context(), testenv.LocalIP, pending); !errors.Is(err, authn.ErrInvitationExpired) {
		t.Errorf("OpenInvitation after a week = %v, want expired", err)
	}
}

// TestRemoveMemberForgetsAtOnce: the member's cached API key, JWT key and
// session are refused right after the removal, with the test clock
// standing still (no cache lifetime runs out).
func TestRemoveMemberForgetsAtOnce(t *testing.T) {
	for _, backend := range testenv.Backends {
		t.Run(backend, func(t *testing.T) {
			c := newCrew(t, backend)
			k, err := c.s.Auth.CreateAPIKey(t.Context(), testenv.LocalIP, c.member, authn.NewAPIKeyInput{Name: "ci"})
			if err != nil {
				t.Fatal(err)
			}
			key := authn.Credential{APIKey: k.Key}
			for _, cred := range []authn.Credential{key, {Authorization: "Bearer " + c.memberToken}} {
				if _, err := c.s.Auth.Authenticate(t.Context(), cred); err != nil { // now cached
					t.Fatal(err)
				}
			}
			if err := c.s.Auth.RemoveMember(t.Context(), testenv.LocalIP, c.member, c.ws, c.owner.Subject); code(err) != authn.CodeForbidden {
				t.Fatalf("a member removes the owner: %v", err)
			}
			if err := c.s.Auth.RemoveMember(t.Context(), testenv.LocalIP, c.owner, c.ws, c.owner.Subject); !errors.Is(err, authn.ErrLastOwner) {
				t.Fatalf("the last owner leaves: %v", err)
			}
			if err := c.s.Auth.RemoveMember(t.Context(), testenv.LocalIP, c.owner, c.ws, c.member.Subject); err != nil {
				t.Fatal(err)
			}
			if _, err := c.s.Auth.Authenticate(t.Context(), key); !errors.Is(err, authn.ErrInvalidToken) {
				t.Errorf("the removed member's API key: %v", err)
			}
			if _, err := c.s.Auth.Authenticate(t.Context(), authn.Credential{Authorization: "Bearer " + c.memberToken}); !errors.Is(err, authn.ErrInvalidToken) {
				t.Errorf("the removed member's access token: %v", err)
			}
		})
	}
}
