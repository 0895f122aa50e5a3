package httpapi

import (
	"net/http"
	"strings"
	"time"

	"github.com/sigil-auth/sigil/internal/authn"
)

func (s *Server) hello(w http.ResponseWriter, r *http.Request, _ authn.Principal) error {
	writeJSON(w, http.StatusOK, map[string]string{
		"message": "Oh, Hello", "time": time.Now().UTC().Format(time.RFC3339),
	})
	return nil
}

func (s *Server) whoami(w http.ResponseWriter, r *http.Request, p authn.Principal) error {
	if p.Scopes == nil {
		p.Scopes = []string{}
	}
	writeJSON(w, http.StatusOK, p)
	return nil
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	return nil
}

// readyz answers 503 while the store does not answer, so a load
// balancer takes the replica out.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	if s.Ready != nil {
		if err := s.Ready(r.Context()); err != nil {
			s.log.WarnContext(r.Context(), "not ready", "err", err)
			httpError(w, http.StatusServiceUnavailable, "not_ready", "the store is not reachable")
			return nil
		}
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	return nil
}

func (s *Server) openapi(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/yaml")
	_, err := w.Write(s.OpenAPI)
	return err
}

func (s *Server) jwks(w http.ResponseWriter, r *http.Request) error {
	w.Header().Set("Content-Type", "application/jwk-set+json")
	w.Header().Set("Cache-Control", "public, max-age=300")
	_, err := w.Write(s.Keys.JWKS(r.Context()))
	return err
}

// discovery is the OpenID/RFC 8414 metadata document.
func (s *Server) discovery(w http.ResponseWriter, r *http.Request) error {
	base := strings.TrimRight(s.Issuer, "/")
	w.Header().Set("Cache-Control", "public, max-age=300")
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                         base,
		"jwks_uri":                                       base + "/.well-known/jwks.json",
		"authorization_endpoint":                         base + "/oauth2/authorize",
		"token_endpoint":                                 base + "/oauth2/token",
		"userinfo_endpoint":                              base + "/oauth2/userinfo",
		"end_session_endpoint":                           base + "/oauth2/logout",
		"introspection_endpoint":                         base + "/oauth2/introspect",
		"revocation_endpoint":                            base + "/oauth2/revoke",
		"id_token_signing_alg_values_supported":          s.Keys.IDTokenAlgs(),
		"subject_types_supported":                        []string{"public"},
		"response_types_supported":                       []string{"code"},
		"response_modes_supported":                       []string{"query"},
		"grant_types_supported":                          []string{"authorization_code", "client_credentials", "refresh_token"},
		"code_challenge_methods_supported":               []string{"S256"},
		"prompt_values_supported":                        []string{"none", "login"},
		"acr_values_supported":                           authn.ACRValuesSupported,
		"scopes_supported":                               []string{"openid", "email", "profile", "offline_access"},
		"token_endpoint_auth_methods_supported":          []string{"none", "client_secret_basic", "client_secret_post"},
		"introspection_endpoint_auth_methods_supported":  []string{"client_secret_basic", "bearer"},
		"revocation_endpoint_auth_methods_supported":     []string{"none", "client_secret_basic", "client_secret_post", "bearer"},
		"authorization_response_iss_parameter_supported": true,
		"claims_supported": []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "sid", "azp",
			"amr", "acr", "aal", "email", "email_verified", "name", "jti", "ws", "scope", "sso"},
	})
	return nil
}
