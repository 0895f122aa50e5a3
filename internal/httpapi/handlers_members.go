package httpapi

import (
	"net/http"
	"time"

	"github.com/sigil-auth/sigil/internal/authn"
)

// Members leaving and joining: removal, and invitations by email.

func (s *Server) removeMember(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	if err := s.auth.RemoveMember(r.Context(), clientIP(r), p, r.PathValue("id"), r.PathValue("user")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) resetMemberFactors(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	if err := s.auth.ResetMemberFactors(r.Context(), clientIP(r), p, r.PathValue("id"), r.PathValue("user")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) invite(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	var in authn.InviteInput
	if err := decode(r, &in); err != nil {
		return err
	}
	inv, err := s.auth.Invite(r.Context(), clientIP(r), p, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, inv)
	return nil
}

func (s *Server) listInvitations(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	list, err := s.auth.ListInvitations(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writePage(w, r, list, func(v authn.InvitationView) (time.Time, string) { return v.CreatedAt, v.ID })
}

func (s *Server) revokeInvitation(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	if err := s.auth.RevokeInvitation(r.Context(), clientIP(r), p, r.PathValue("id"), r.PathValue("iid")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
