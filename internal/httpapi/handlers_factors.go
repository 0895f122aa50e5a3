package httpapi

import (
	"net/http"
	"time"

	"github.com/sigil-auth/sigil/internal/authn"
)

// Second factors (API.md §13).

func (s *Server) mfaVerify(w http.ResponseWriter, r *http.Request) error {
	var in authn.MFAVerify
	if err := decode(r, &in); err != nil {
		return err
	}
	resp, err := s.auth.VerifyMFA(r.Context(), clientIP(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}

func (s *Server) listFactors(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	list, err := s.auth.ListFactors(r.Context(), p)
	if err != nil {
		return err
	}
	return writePage(w, r, list, func(f authn.FactorInfo) (time.Time, string) { return f.CreatedAt, f.ID })
}

func (s *Server) enrolTOTP(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	e, err := s.auth.EnrolTOTP(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, e)
	return nil
}

func (s *Server) verifyFactor(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	var in struct {
		Code string `json:"code"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	f, err := s.auth.VerifyFactor(r.Context(), clientIP(r), p, r.PathValue("id"), in.Code)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, f)
	return nil
}

func (s *Server) newRecoveryCodes(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	codes, err := s.auth.NewRecoveryCodes(r.Context(), clientIP(r), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, codes)
	return nil
}

func (s *Server) deleteFactor(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	if err := s.auth.DeleteFactor(r.Context(), clientIP(r), p, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Passkeys: registration (a factor) and passwordless sign-in. A begin
// answers the options for the browser's WebAuthn call; its challenge
// carries the ceremony's state, so finish takes the browser's credential
// alone (with a name, for a registration).

func (s *Server) passkeyBegin(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	opts, err := s.auth.BeginPasskey(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, opts)
	return nil
}

func (s *Server) passkeyFinish(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	var in authn.PasskeyFinish
	if err := decode(r, &in); err != nil {
		return err
	}
	f, err := s.auth.FinishPasskey(r.Context(), clientIP(r), p, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, f)
	return nil
}

func (s *Server) passkeyLoginBegin(w http.ResponseWriter, r *http.Request) error {
	opts, err := s.auth.BeginPasskeyLogin(r.Context(), clientIP(r))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, opts)
	return nil
}

func (s *Server) passkeyLoginFinish(w http.ResponseWriter, r *http.Request) error {
	var in authn.PasskeyLogin
	if err := decode(r, &in); err != nil {
		return err
	}
	resp, err := s.auth.LoginPasskey(r.Context(), clientIP(r), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, resp)
	return nil
}
