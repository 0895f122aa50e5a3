package web

import (
	"net/http"
	"slices"
	"strings"

	"github.com/sigil-auth/sigil/internal/authn"
)

// Members joining and leaving (owners and admins): invitations by email,
// their withdrawal, and removing a member, each after a confirmation
// where it destroys something.

// invite is POST /dashboard/invitations.
func (s *Server) invite(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	in := authn.InviteInput{Email: strings.TrimSpace(r.PostFormValue("email")), Role: r.PostFormValue("role")}
	if _, err := s.auth.Invite(r.Context(), s.clientIP(r), authn.BrowserPrincipal(b), b.WorkspaceID, in); err != nil {
		return s.membersFail(w, r, b, membersData{Invite: in}, err)
	}
	redirect(w, r, "/dashboard/members?invited=1")
	return nil
}

// memberOf finds member id of the person's workspace (authn checks who
// may list them).
func (s *Server) memberOf(r *http.Request, b authn.BrowserSession, id string) (authn.Member, error) {
	list, err := s.auth.ListMembers(r.Context(), authn.BrowserPrincipal(b), b.WorkspaceID, "", 0)
	if err != nil {
		return authn.Member{}, err
	}
	i := slices.IndexFunc(list, func(m authn.Member) bool { return m.UserID == id })
	if i < 0 {
		return authn.Member{}, authn.ErrNotFound
	}
	return list[i], nil
}

// memberName is how the pages name a member: the email, else the id.
func memberName(m authn.Member) string {
	if m.Email != "" {
		return m.Email
	}
	return m.UserID
}

// removeMemberPage is GET /dashboard/members/{user}/remove: the
// confirmation, naming the member and what removal does.
func (s *Server) removeMemberPage(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	m, err := s.memberOf(r, b, r.PathValue("user"))
	if err != nil {
		return err
	}
	br, err := s.auth.WorkspaceBranding(r.Context(), b.WorkspaceID)
	if err != nil {
		return err
	}
	p := membersPage()
	p.Title = "Remove " + memberName(m) + " from " + br.DisplayName + "?"
	p.Lead = "Their account is deleted: they are signed out everywhere, and their API keys and JWT keys stop working at once. This cannot be undone."
	p.Data = confirmData{Detail: strings.ToUpper(m.Role[:1]) + m.Role[1:] + ", joined " + m.CreatedAt.Format("2006-01-02") + ". User id:",
		Value: m.UserID, Action: "/dashboard/members/" + m.UserID + "/remove", Button: "Remove member", Cancel: "/dashboard/members"}
	return s.dash(w, r, http.StatusOK, "dash_confirm", b, p)
}

// removeMember is POST /dashboard/members/{user}/remove.
func (s *Server) removeMember(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	if err := s.auth.RemoveMember(r.Context(), s.clientIP(r), authn.BrowserPrincipal(b), b.WorkspaceID, r.PathValue("user")); err != nil {
		return s.membersFail(w, r, b, membersData{}, err)
	}
	if r.PathValue("user") == b.UserID { // they left: this browser is signed out too
		return s.signedOutHere(w, r, signedOut())
	}
	redirect(w, r, "/dashboard/members?removed=1")
	return nil
}

// revokeInvitationPage is GET /dashboard/invitations/{id}/revoke.
func (s *Server) revokeInvitationPage(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	list, err := s.auth.ListInvitations(r.Context(), authn.BrowserPrincipal(b), b.WorkspaceID)
	if err != nil {
		return err
	}
	i := slices.IndexFunc(list, func(v authn.InvitationView) bool { return v.ID == r.PathValue("id") })
	if i < 0 || list[i].Status != authn.InvitationPending {
		return authn.ErrNotFound
	}
	v := list[i]
	p := membersPage()
	p.Title = "Revoke the invitation to " + v.Email + "?"
	p.Lead = "The link in their mail stops working. You can invite them again later."
	p.Data = confirmData{Detail: "Invited as " + v.Role + ", expires " + v.ExpiresAt.Format("2006-01-02 15:04 UTC") + ".",
		Action: "/dashboard/invitations/" + v.ID + "/revoke", Button: "Revoke invitation", Cancel: "/dashboard/members"}
	return s.dash(w, r, http.StatusOK, "dash_confirm", b, p)
}

// revokeInvitation is POST /dashboard/invitations/{id}/revoke.
func (s *Server) revokeInvitation(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	if err := s.auth.RevokeInvitation(r.Context(), s.clientIP(r), authn.BrowserPrincipal(b), b.WorkspaceID, r.PathValue("id")); err != nil {
		return s.membersFail(w, r, b, membersData{}, err)
	}
	redirect(w, r, "/dashboard/members?revoked=1")
	return nil
}

// resetFactorsPage is GET /dashboard/members/{user}/factors/reset: the
// confirmation of removing a member's second factors.
func (s *Server) resetFactorsPage(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	m, err := s.memberOf(r, b, r.PathValue("user"))
	if err != nil {
		return err
	}
	p := membersPage()
	p.Title = "Reset two-step verification of " + memberName(m) + "?"
	p.Lead = "Their passkeys, authenticator app and recovery codes are removed: they sign in with their password alone until they add one again. We mail them. Do this when they lost their device."
	p.Data = confirmData{Detail: "Second factors: " + strings.Join(m.Factors, ", ") + ". User id:",
		Value: m.UserID, Action: "/dashboard/members/" + m.UserID + "/factors/reset", Button: "Reset two-step verification",
		Cancel: "/dashboard/members"}
	return s.dash(w, r, http.StatusOK, "dash_confirm", b, p)
}

// resetFactors is POST /dashboard/members/{user}/factors/reset.
func (s *Server) resetFactors(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	if err := s.auth.ResetMemberFactors(r.Context(), s.clientIP(r), authn.BrowserPrincipal(b), b.WorkspaceID, r.PathValue("user")); err != nil {
		return s.membersFail(w, r, b, membersData{}, err)
	}
	redirect(w, r, "/dashboard/members?reset=1")
	return nil
}
