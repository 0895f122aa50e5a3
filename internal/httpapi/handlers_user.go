package httpapi

import (
	"net/http"
	"time"

	"github.com/sigil-auth/sigil/internal/authn"
)

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	keys, err := s.auth.ListKeys(r.Context(), p)
	if err != nil {
		return err
	}
	return writePage(w, r, keys, func(k authn.KeyInfo) (time.Time, string) { return k.CreatedAt, k.ID })
}

func (s *Server) addKey(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	var in authn.Proof
	if err := decode(r, &in); err != nil {
		return err
	}
	k, err := s.auth.AddKey(r.Context(), p, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, k)
	return nil
}

func (s *Server) deleteKey(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	if err := s.auth.DeleteKey(r.Context(), clientIP(r), p, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) listSessions(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	list, err := s.auth.ListSessions(r.Context(), p)
	if err != nil {
		return err
	}
	return writePage(w, r, list, func(v authn.SessionInfo) (time.Time, string) { return v.CreatedAt, v.ID })
}

func (s *Server) endSession(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	if err := s.auth.EndSession(r.Context(), p, r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) createWorkspace(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	var in struct {
		Name string `json:"name"`
	}
	if err := decode(r, &in); err != nil {
		return err
	}
	ws, err := s.auth.CreateWorkspace(r.Context(), p, in.Name)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, ws)
	return nil
}

func (s *Server) getWorkspace(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	ws, err := s.auth.GetWorkspace(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ws)
	return nil
}

func (s *Server) updateWorkspace(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	var in authn.WorkspacePatch
	if err := decode(r, &in); err != nil {
		return err
	}
	ws, err := s.auth.UpdateWorkspace(r.Context(), p, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ws)
	return nil
}

func (s *Server) rotateJoinCode(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	ws, err := s.auth.RotateJoinCode(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, ws)
	return nil
}
