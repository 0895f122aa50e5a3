package httpapi

import (
	"log/slog"
	"net/http"
	"strings"

	"github.com/sigil-auth/sigil/internal/authn"
)

// authorize is forward-auth for nginx auth_request, Traefik ForwardAuth
// and Envoy ext_authz (HTTP): it answers for the original request, whose
// credential headers the proxy passes along, with the identity in
// X-Sigil-* headers or a §1 error.
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) error {
	required := authn.ScopesParam(r.URL.Query()["scope"])
	aal, err := authn.AALParam(r.URL.Query().Get("aal"))
	if err != nil {
		return err
	}
	p, err := s.auth.Authorize(r.Context(), credential(r), required, aal)
	method, uri := originalRequest(r)
	if err != nil {
		s.log.DebugContext(r.Context(), "forward-auth refused", slog.String("original_method", method),
			slog.String("original_uri", uri), slog.Any("err", err))
		return err
	}
	h := w.Header()
	h.Set("X-Sigil-Subject", p.Subject)
	h.Set("X-Sigil-Workspace", p.WorkspaceID)
	h.Set("X-Sigil-Scopes", strings.Join(p.Scopes, " "))
	h.Set("X-Sigil-Kind", p.Kind)
	if p.SessionID != "" {
		h.Set("X-Sigil-Session", p.SessionID)
	}
	if p.Scopes == nil {
		p.Scopes = []string{}
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

// originalRequest is the method and URI of the request being authorized,
// from Traefik's or nginx's conventional headers (logs only).
func originalRequest(r *http.Request) (string, string) {
	method := firstHeader(r, "X-Forwarded-Method", "X-Original-Method")
	uri := firstHeader(r, "X-Forwarded-Uri", "X-Original-URI")
	if method == "" {
		method = r.Method
	}
	return method, uri
}

func firstHeader(r *http.Request, names ...string) string {
	for _, n := range names {
		if v := r.Header.Get(n); v != "" {
			return v
		}
	}
	return ""
}
