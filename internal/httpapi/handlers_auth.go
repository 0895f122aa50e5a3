package httpapi

import (
	"net/http"

	"github.com/sigil-auth/sigil/internal/authn"
)

func (s *Server) idExists(w http.ResponseWriter, r *http.Request) error {
	ok, err := s.auth.IDExists(r.Context(), clientIP(r), r.PathValue("user_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"exists": ok})
	return nil
}

func (s *Server) code(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		UserID string `json:"user_id"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	c, err := s.auth.IssueCode(r.Context(), clientIP(r), in.UserID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, c)
	return nil
}

func (s *Server) register(w http.ResponseWriter, r *http.Request) error {
	var in authn.RegisterInput
	if err := decode(r, &in); err != nil {
		return err
	}
	resp, err := s.auth.Register(r.Context(), clientIP(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, resp)
	return nil
}

func (s *Server) token(w http.ResponseWriter, r *http.Request) error {
	var in authn.LoginInput
	if err := decode(r, &in); err != nil {
		return err
	}
	resp, err := s.auth.Login(r.Context(), clientIP(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// refresh takes the refresh token from the body or, failing that, from
// Authorization: Bearer.
func (s *Server) refresh(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		RefreshToken string `json:"refresh_token"`
	}
	if err := decodeOptional(r, &in); err != nil {
		return err
	}
	if in.RefreshToken == "" {
		in.RefreshToken = authn.Bearer(r.Header.Get("Authorization"))
	}
	if in.RefreshToken == "" {
		return &authn.Error{Code: authn.CodeInvalidRequest, Detail: "refresh_token is required"}
	}
	resp, err := s.auth.Refresh(r.Context(), clientIP(r), in.RefreshToken)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

// logout ends the session of the refresh token in the body, or of the
// access token in Authorization.
func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	var in authn.LogoutInput
	if err := decodeOptional(r, &in); err != nil {
		return err
	}
	var p *authn.Principal
	if in.RefreshToken == "" {
		got, err := s.auth.Authenticate(r.Context(), credential(r))
		if err != nil {
			return err
		}
		p = &got
	}
	if err := s.auth.Logout(r.Context(), p, in); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
