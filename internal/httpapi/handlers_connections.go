package httpapi

import (
	"net/http"
	"time"

	"github.com/sigil-auth/sigil/internal/authn"
)

// SSO connections of a workspace, API.md §12. The browser side
// (/sso/{cid}/…) is the web package's.

func (s *Server) createConnection(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	var in authn.ConnectionInput
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err := s.auth.CreateConnection(r.Context(), clientIP(r), p, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, c)
	return nil
}

func (s *Server) listConnections(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	list, err := s.auth.ListConnections(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writePage(w, r, list, func(c authn.ConnectionView) (time.Time, string) { return c.CreatedAt, c.ID })
}

func (s *Server) getConnection(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	c, err := s.auth.GetConnection(r.Context(), p, r.PathValue("id"), r.PathValue("cid"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) updateConnection(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	var in authn.ConnectionInput
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err := s.auth.UpdateConnection(r.Context(), clientIP(r), p, r.PathValue("id"), r.PathValue("cid"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) deleteConnection(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	if err := s.auth.DeleteConnection(r.Context(), clientIP(r), p, r.PathValue("id"), r.PathValue("cid")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) testConnection(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	res, err := s.auth.TestConnection(r.Context(), p, r.PathValue("id"), r.PathValue("cid"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}
