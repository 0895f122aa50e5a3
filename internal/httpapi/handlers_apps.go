package httpapi

import (
	"net/http"
	"time"

	"github.com/sigil-auth/sigil/internal/authn"
)

// Apps (OAuth2 clients) of a workspace, API.md §11.

func (s *Server) createApp(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	var in authn.AppInput
	if err := decode(r, &in); err != nil {
		return err
	}
	a, err := s.auth.CreateApp(r.Context(), clientIP(r), p, r.PathValue("id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, a)
	return nil
}

func (s *Server) listApps(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	apps, err := s.auth.ListApps(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writePage(w, r, apps, func(a authn.AppView) (time.Time, string) { return a.CreatedAt, a.ClientID })
}

func (s *Server) getApp(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	a, err := s.auth.GetApp(r.Context(), p, r.PathValue("id"), r.PathValue("client_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) updateApp(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	var in authn.AppInput
	if err := decode(r, &in); err != nil {
		return err
	}
	a, err := s.auth.UpdateApp(r.Context(), clientIP(r), p, r.PathValue("id"), r.PathValue("client_id"), in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

func (s *Server) deleteApp(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	if err := s.auth.DeleteApp(r.Context(), clientIP(r), p, r.PathValue("id"), r.PathValue("client_id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// userinfo is GET and POST /oauth2/userinfo (OIDC Core §5.3).
func (s *Server) userinfo(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	info, err := s.auth.UserInfo(r.Context(), p)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, info)
	return nil
}

// corsMethods are what a browser app may call cross-origin.
const corsMethods = "GET, POST, OPTIONS"

// cors lets the origins of apps' registered redirect URIs (and only
// those) call h from a browser: the token, userinfo and revocation
// endpoints. No cookies are involved, so credentials are not allowed.
func (s *Server) cors(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if origin := r.Header.Get("Origin"); origin != "" {
			w.Header().Add("Vary", "Origin")
			if s.auth.AllowedOrigin(r.Context(), origin) {
				w.Header().Set("Access-Control-Allow-Origin", origin)
				w.Header().Set("Access-Control-Expose-Headers", "WWW-Authenticate, Retry-After")
			}
		}
		h.ServeHTTP(w, r)
	})
}

// preflight answers a CORS preflight (OPTIONS) of a cors route: 204 with
// the allowed methods and headers for a registered origin, 403 otherwise.
func (s *Server) preflight(w http.ResponseWriter, r *http.Request) error {
	if w.Header().Get("Access-Control-Allow-Origin") == "" {
		return &authn.Error{Code: authn.CodeForbidden, Detail: "this origin is not a registered app's redirect URI origin"}
	}
	w.Header().Set("Access-Control-Allow-Methods", corsMethods)
	w.Header().Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
	w.Header().Set("Access-Control-Max-Age", "600")
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// public lets any origin read h's answer: discovery and the JWKS, which
// browser apps fetch and which hold nothing secret.
func public(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "*")
		h.ServeHTTP(w, r)
	})
}
