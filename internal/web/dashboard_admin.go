package web

import (
	"net/http"
	"slices"
	"strings"
	"unicode"

	"github.com/sigil-auth/sigil/internal/authn"
)

// JWT keys (everyone's own; owners and admins see the workspace's), and
// for owners and admins the members and the join code: members who open
// those get authn's refusal (403) as a page.

// jwtData is the JWT keys page's content.
type jwtData struct {
	Keys    []authn.JWTKeyView
	Created *authn.JWTKeyView
	Issuer  string
	Name    string
}

func jwtPage() page {
	return page{Title: "JWT keys", Lead: "Secrets your servers sign HS256 tokens with, naming the key's id as kid.", Nav: "jwt"}
}

// jwtKeys is GET /dashboard/jwt-keys.
func (s *Server) jwtKeys(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	keys, err := s.auth.ListJWTKeys(r.Context(), authn.BrowserPrincipal(b), "")
	if err != nil {
		return err
	}
	p := jwtPage()
	p.Data = jwtData{Keys: keys}
	if r.URL.Query().Get("deleted") != "" {
		p.Notice = "Key deleted. Tokens signed with it now get 401."
	}
	return s.dash(w, r, http.StatusOK, "dash_jwt", b, p)
}

// createJWTKey is POST /dashboard/jwt-keys: id and secret shown once,
// with snippets that mint a token.
func (s *Server) createJWTKey(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	name := r.PostFormValue("name")
	k, err := s.auth.CreateJWTKey(r.Context(), s.clientIP(r), authn.BrowserPrincipal(b), authn.NewJWTKeyInput{Name: name})
	p := jwtPage()
	if err != nil {
		status, msg, ok := inline(err)
		if !ok {
			return err
		}
		keys, _ := s.auth.ListJWTKeys(r.Context(), authn.BrowserPrincipal(b), "")
		p.Error, p.Data = msg, jwtData{Keys: keys, Name: name}
		return s.dash(w, r, status, "dash_jwt", b, p)
	}
	p.Title, p.Lead = "Copy your new JWT key", "Sign tokens with the secret; put the id in the kid header."
	p.Data = jwtData{Created: &k, Issuer: s.issuer}
	return s.dash(w, r, http.StatusCreated, "dash_jwt_created", b, p)
}

// deleteJWTKey is POST /dashboard/jwt-keys/{id}/delete.
func (s *Server) deleteJWTKey(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	if err := s.auth.DeleteJWTKey(r.Context(), s.clientIP(r), authn.BrowserPrincipal(b), r.PathValue("id")); err != nil {
		return err
	}
	redirect(w, r, "/dashboard/jwt-keys?deleted=1")
	return nil
}

// membersData is the members page's content.
type membersData struct {
	Members     []authn.Member
	Invitations []authn.InvitationView // the pending ones
	JoinCode    string                 // set only right after a rotation
	Self        string                 // the signed-in person's user id
	Invite      authn.InviteInput      // the invite form's values, refilled after a refusal
}

func membersPage() page {
	return page{Title: "Members", Lead: "Who belongs to this workspace, and what they may do.", Nav: "members"}
}

// members is GET /dashboard/members.
func (s *Server) members(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	p := membersPage()
	switch q := r.URL.Query(); {
	case q.Get("updated") != "":
		p.Notice = "Member saved. New scopes reach their sessions at the next refresh, and their API keys and JWT keys at once."
	case q.Get("invited") != "":
		p.Notice = "Invitation sent. Its link works once, for 7 days."
	case q.Get("removed") != "":
		p.Notice = "Member removed. They are signed out everywhere, and their API keys and JWT keys no longer work."
	case q.Get("revoked") != "":
		p.Notice = "Invitation revoked. Its link no longer works."
	case q.Get("reset") != "":
		p.Notice = "Two-step verification reset. They sign in with their password alone until they add a passkey or an app again; we mailed them."
	}
	return s.renderMembers(w, r, b, http.StatusOK, p, membersData{})
}

// renderMembers shows the members page on p; d carries what a form
// needs refilled (or the join code just made).
func (s *Server) renderMembers(w http.ResponseWriter, r *http.Request, b authn.BrowserSession, status int, p page, d membersData) error {
	bp := authn.BrowserPrincipal(b)
	list, err := s.auth.ListMembers(r.Context(), bp, b.WorkspaceID, "", 200)
	if err != nil {
		return err
	}
	invitations, err := s.auth.ListInvitations(r.Context(), bp, b.WorkspaceID)
	if err != nil {
		return err
	}
	d.Members, d.Self = list, b.UserID
	d.Invitations = slices.DeleteFunc(invitations, func(v authn.InvitationView) bool { return v.Status != authn.InvitationPending })
	p.Data = d
	return s.dash(w, r, status, "dash_members", b, p)
}

// updateMember is POST /dashboard/members/{user}: the role and the
// scopes (space- or comma-separated) the form sends; a field the form
// leaves out stays as it is.
func (s *Server) updateMember(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	r.ParseForm()
	var in authn.MemberPatch
	if r.PostForm.Has("role") {
		role := strings.TrimSpace(r.PostFormValue("role"))
		in.Role = &role
	}
	if r.PostForm.Has("scopes") {
		scopes := strings.FieldsFunc(r.PostFormValue("scopes"), func(c rune) bool { return c == ',' || unicode.IsSpace(c) })
		in.Scopes = &scopes
	}
	_, err := s.auth.UpdateMember(r.Context(), s.clientIP(r), authn.BrowserPrincipal(b), b.WorkspaceID, r.PathValue("user"), in)
	if err != nil {
		return s.membersFail(w, r, b, membersData{}, err)
	}
	redirect(w, r, "/dashboard/members?updated=1")
	return nil
}

// membersFail shows a refusal on the members page (d refills a form); a
// server failure or an unknown member gets the error page.
func (s *Server) membersFail(w http.ResponseWriter, r *http.Request, b authn.BrowserSession, d membersData, err error) error {
	status, msg, ok := inline(err)
	if !ok || status == http.StatusNotFound {
		return err
	}
	retryAfter(w, err)
	p := membersPage()
	p.Error = msg
	return s.renderMembers(w, r, b, status, p, d)
}

// rotateJoinCode is POST /dashboard/join-code: a new code, shown once;
// the old one stops working.
func (s *Server) rotateJoinCode(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	v, err := s.auth.RotateJoinCode(r.Context(), authn.BrowserPrincipal(b), b.WorkspaceID)
	if err != nil {
		return err
	}
	p := membersPage()
	p.Notice = "New join code made. The old one no longer works."
	return s.renderMembers(w, r, b, http.StatusOK, p, membersData{JoinCode: v.JoinCode})
}
