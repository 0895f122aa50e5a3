package httpapi

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/sigil-auth/sigil/internal/authn"
)

// oauthBody is an RFC 6749 §5.2 error with Sigil's detail field too.
type oauthBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
	Detail      string `json:"detail"`
}

// oauthFail writes err in RFC 6749 form: OAuth errors by their code
// (invalid_client is 401 with a Basic challenge), domain errors with
// their own status and code plus error_description.
func (s *Server) oauthFail(w http.ResponseWriter, r *http.Request, err error) {
	var oe *authn.OAuthError
	var de *authn.Error
	switch {
	case errors.As(err, &oe):
		status := http.StatusBadRequest
		if oe.Code == "invalid_client" {
			status = http.StatusUnauthorized
			w.Header().Set("WWW-Authenticate", `Basic realm="sigil"`)
		}
		writeJSON(w, status, oauthBody{oe.Code, oe.Description, oe.Description})
	case errors.Is(err, errTooLarge):
		writeJSON(w, http.StatusRequestEntityTooLarge, oauthBody{codeTooLarge, "the request body is larger than 64 KiB", "the request body is larger than 64 KiB"})
	case errors.As(err, &de):
		rec := &bodyCapture{ResponseWriter: w}
		writeError(rec, r, s.log, err) // status and headers (Retry-After, WWW-Authenticate)
		writeJSONBody(w, oauthBody{string(de.Code), de.Detail, de.Detail})
	default:
		writeError(w, r, s.log, err)
	}
}

// bodyCapture lets writeError set headers and status but drops its body,
// so oauthFail can write the RFC 6749 one.
type bodyCapture struct{ http.ResponseWriter }

func (b *bodyCapture) Write(p []byte) (int, error) { return len(p), nil }

// form parses a form-encoded body (the OAuth2 endpoints only). A
// parameter sent twice is refused (RFC 6749 §3.2).
func form(r *http.Request) error {
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return errTooLarge
		}
		return &authn.OAuthError{Code: "invalid_request", Description: "the body must be application/x-www-form-urlencoded"}
	}
	for k, v := range r.PostForm {
		if len(v) > 1 {
			return &authn.OAuthError{Code: "invalid_request", Description: "parameter " + strconv.Quote(k) + " is repeated"}
		}
	}
	return nil
}

// errClientAuth is a failed client authentication (401, Basic challenge).
var errClientAuth = &authn.OAuthError{Code: "invalid_client", Description: "client authentication failed"}

// basicClient is HTTP Basic client authentication (RFC 6749 §2.3.1): the
// API key's id and the key, each form-encoded before encoding the pair
// (stock clients escape them; Sigil's ids and keys are unchanged by it).
// ok is false when the request has no Basic credentials.
func basicClient(r *http.Request) (id, secret string, ok bool, err error) {
	id, secret, ok = r.BasicAuth()
	if !ok {
		return "", "", false, nil
	}
	id, err1 := url.QueryUnescape(id)
	secret, err2 := url.QueryUnescape(secret)
	if err1 != nil || err2 != nil {
		return "", "", true, errClientAuth
	}
	return id, secret, true, nil
}

// oauthToken is POST /oauth2/token. Its answers, tokens or errors, are
// never cached (RFC 6749 §5.1: Cache-Control no-store and Pragma no-cache).
func (s *Server) oauthToken(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Pragma", "no-cache")
	if err := s.oauthTokenErr(w, r); err != nil {
		s.oauthFail(w, r, err)
	}
}

func (s *Server) oauthTokenErr(w http.ResponseWriter, r *http.Request) error {
	if err := form(r); err != nil {
		return err
	}
	switch r.PostForm.Get("grant_type") {
	case "client_credentials":
		c, err := clientAuth(r)
		if err != nil {
			return err
		}
		resp, scopes, err := s.auth.ClientCredentials(r.Context(), clientIP(r), c.ID, c.Secret, r.PostForm.Get("scope"))
		if errors.Is(err, authn.ErrInvalidCredentials) {
			return errClientAuth
		} else if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"access_token": resp.AccessToken, "token_type": "Bearer",
			"expires_in": resp.ExpiresIn, "scope": strings.Join(scopes, " ")})
		return nil
	case "authorization_code":
		c, err := clientAuth(r)
		if err != nil {
			return err
		}
		resp, err := s.auth.ExchangeCode(r.Context(), clientIP(r), authn.CodeExchange{Client: c, Code: r.PostForm.Get("code"),
			RedirectURI: r.PostForm.Get("redirect_uri"), CodeVerifier: r.PostForm.Get("code_verifier")})
		if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, resp)
		return nil
	case "refresh_token":
		resp, err := s.auth.Refresh(r.Context(), clientIP(r), r.PostForm.Get("refresh_token"))
		var de *authn.Error
		if errors.As(err, &de) && (de.Code == authn.CodeInvalidToken || de.Code == authn.CodeRefreshReused) {
			return &authn.OAuthError{Code: "invalid_grant", Description: de.Detail}
		} else if err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, resp) // §4's token response, as /v1/auth/refresh
		return nil
	case "":
		return &authn.OAuthError{Code: "invalid_request", Description: "grant_type is required"}
	default:
		return &authn.OAuthError{Code: "unsupported_grant_type", Description: "supported: authorization_code, client_credentials, refresh_token"}
	}
}

// oauthCaller authenticates the resource server calling introspection
// or revocation: an API key or the admin token as a credential (§2), or
// an API key as OAuth2 client credentials with HTTP Basic (id and key),
// which is how stock RFC 7662 and RFC 7009 clients authenticate.
func (s *Server) oauthCaller(r *http.Request) (authn.Principal, string, error) {
	var p authn.Principal
	id, secret, basic, err := basicClient(r)
	if err != nil {
		return p, "", err
	}
	if basic {
		p, err = s.auth.Authenticate(r.Context(), authn.Credential{APIKey: secret})
		var de *authn.Error
		refused := errors.As(err, &de) && (de.Code == authn.CodeInvalidToken || de.Code == authn.CodeMissingCredential)
		if refused || err == nil && (p.Kind != authn.KindAPIKey || p.Subject != id) {
			return authn.Principal{}, "", errClientAuth
		}
	} else {
		p, err = s.auth.Authenticate(r.Context(), credential(r))
	}
	if err != nil {
		return p, "", err
	}
	if err := form(r); err != nil {
		return p, "", err
	}
	tok := r.PostForm.Get("token")
	if tok == "" {
		return p, "", &authn.OAuthError{Code: "invalid_request", Description: "token is required"}
	}
	return p, tok, nil
}

// introspect is POST /oauth2/introspect (RFC 7662).
func (s *Server) introspect(w http.ResponseWriter, r *http.Request) {
	p, tok, err := s.oauthCaller(r)
	if err == nil {
		var in authn.Introspection
		if in, err = s.auth.Introspect(r.Context(), p, tok); err == nil {
			writeJSON(w, http.StatusOK, in)
			return
		}
	}
	s.oauthFail(w, r, err)
}

// clientAuth reads a client's authentication (RFC 6749 §2.3.1): HTTP
// Basic, or client_id and client_secret in the form, never both.
func clientAuth(r *http.Request) (authn.ClientAuth, error) {
	id, secret, basic, err := basicClient(r)
	switch {
	case err != nil:
		return authn.ClientAuth{}, err
	case !basic:
		return authn.ClientAuth{ID: r.PostForm.Get("client_id"), Secret: r.PostForm.Get("client_secret")}, nil
	case r.PostForm.Has("client_secret"):
		return authn.ClientAuth{}, &authn.OAuthError{Code: "invalid_request", Description: "send the client secret either with HTTP Basic or in the form, not both"}
	case r.PostForm.Has("client_id") && r.PostForm.Get("client_id") != id:
		return authn.ClientAuth{}, &authn.OAuthError{Code: "invalid_request", Description: "client_id differs from the HTTP Basic user"}
	}
	return authn.ClientAuth{ID: id, Secret: secret, Basic: true}, nil
}

// isAppRevocation tells an app revoking its own token (a client_id of an
// app, in the form or as the Basic user) from a resource server.
func isAppRevocation(r *http.Request) bool {
	if id, _, ok := r.BasicAuth(); ok {
		return strings.HasPrefix(id, "app_")
	}
	return r.Header.Get("Authorization") == "" && r.Header.Get("X-API-KEY") == "" &&
		strings.HasPrefix(r.PostForm.Get("client_id"), "app_")
}

// revoke is POST /oauth2/revoke (RFC 7009): 200 whether or not the token
// was known. Apps revoke their own tokens with their client
// authentication; resource servers any token of their workspace.
func (s *Server) revoke(w http.ResponseWriter, r *http.Request) {
	if err := form(r); err != nil {
		s.oauthFail(w, r, err)
		return
	}
	if isAppRevocation(r) {
		c, err := clientAuth(r)
		if err == nil {
			if tok := r.PostForm.Get("token"); tok == "" {
				err = &authn.OAuthError{Code: "invalid_request", Description: "token is required"}
			} else {
				err = s.auth.RevokeForClient(r.Context(), clientIP(r), c, tok)
			}
		}
		if err != nil {
			s.oauthFail(w, r, err)
			return
		}
		w.WriteHeader(http.StatusOK)
		return
	}
	p, tok, err := s.oauthCaller(r)
	if err == nil {
		if err = s.auth.Revoke(r.Context(), clientIP(r), p, tok); err == nil {
			w.WriteHeader(http.StatusOK)
			return
		}
	}
	s.oauthFail(w, r, err)
}
