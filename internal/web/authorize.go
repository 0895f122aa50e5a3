package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/sigil-auth/sigil/internal/authn"
)

// maxReturn bounds the authorization request a sign-in form carries.
const maxReturn = 8 << 10

// authorize is GET /oauth2/authorize: a person already signed in on this
// browser goes straight back to the app with a code; anyone else signs in
// first (or, with prompt=none, the app hears login_required).
func (s *Server) authorize(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	az, err := s.auth.CheckAuthorize(ctx, r.URL.Query())
	if err != nil {
		return s.authorizeError(w, r, az, err)
	}
	b := s.browser(r)
	if az.Satisfied(b, s.now()) {
		return s.grant(w, r, az, *b, r.URL.RawQuery)
	}
	if _, none := az.Prompts(); none {
		return s.authorizeError(w, r, az, &authn.OAuthError{Code: "login_required", Description: "the person is not signed in"})
	}
	q := url.Values{"return": {r.URL.RawQuery}}
	if cid := az.Request.Connection; cid != "" {
		// The app names the IdP (API.md §11 connection; CheckAuthorize
		// found it in the app's workspace): straight there. The start
		// reads the request's login_hint from return.
		redirect(w, r, "/sso/"+url.PathEscape(cid)+"/start?"+q.Encode())
		return nil
	}
	redirect(w, r, "/login?"+q.Encode())
	return nil
}

// grant issues the code and sends the browser back to the app, or asks
// for the second step first when the app wants one the session lacks
// (ret is the authorization request, as a sign-in form's return).
func (s *Server) grant(w http.ResponseWriter, r *http.Request, az authn.Authorization, b authn.BrowserSession, ret string) error {
	if az.NeedsStepUp(b) {
		return s.stepUp(w, r, az, b, ret)
	}
	to, err := s.auth.GrantCode(r.Context(), s.clientIP(r), az, b)
	if err != nil {
		return err
	}
	redirect(w, r, to)
	return nil
}

// authorizeError shows a client error as a page and sends anything else
// back to the app's redirect URI, as RFC 6749 §4.1.2.1 requires.
func (s *Server) authorizeError(w http.ResponseWriter, r *http.Request, az authn.Authorization, err error) error {
	var oe *authn.OAuthError
	var ce *authn.ClientError
	switch {
	case errors.As(err, &ce):
		s.auth.AuditRefusal(r.Context(), s.clientIP(r), az, err)
		return err
	case errors.As(err, &oe):
		s.auth.AuditRefusal(r.Context(), s.clientIP(r), az, err)
		redirect(w, r, az.ErrorRedirect(s.issuer, oe))
		return nil
	}
	return err
}

// pending is the authorization request a sign-in page continues, read
// from its "return" parameter: nil when there is none. A request that no
// longer checks out is an error for the page.
func (s *Server) pending(r *http.Request) (*authn.Authorization, error) {
	raw := r.FormValue("return")
	if raw == "" {
		return nil, nil
	}
	if len(raw) > maxReturn {
		return nil, &authn.ClientError{Detail: "the request is too long"}
	}
	q, err := url.ParseQuery(raw)
	if err != nil {
		return nil, &authn.ClientError{Detail: "the request is malformed"}
	}
	az, err := s.auth.CheckAuthorize(r.Context(), q)
	var oe *authn.OAuthError
	if errors.As(err, &oe) {
		// /oauth2/authorize would have sent this back to the app; a
		// request that fails only here was altered on the way.
		return nil, &authn.ClientError{Detail: oe.Description}
	} else if err != nil {
		return nil, err
	}
	return &az, nil
}

// finish ends a successful sign-in: back to the app with a code when it
// continues an authorization request, else to the account page.
func (s *Server) finish(w http.ResponseWriter, r *http.Request, az *authn.Authorization, b authn.BrowserSession) error {
	s.startCookie(w, r, b)
	// A person their workspace requires a second factor of, without one,
	// is sent to add one first (API.md §13, require_mfa).
	if e, err := s.auth.MFAEnrolmentOf(r.Context(), b); err != nil {
		return err
	} else if e.Required {
		to := "/dashboard/security?required=1"
		if az != nil {
			to += "&return=" + url.QueryEscape(r.FormValue("return"))
		}
		redirect(w, r, to)
		return nil
	}
	if az == nil {
		redirect(w, r, "/account")
		return nil
	}
	return s.grant(w, r, *az, b, r.FormValue("return"))
}

// stepUp answers an app's acr_values=aal2 for a session of one factor:
// the second-step page (its answer goes to POST /login/mfa, which
// continues the request); a person without a second factor is sent to
// add one and come back; with prompt=none the app hears
// interaction_required (OIDC Core §3.1.2.6).
func (s *Server) stepUp(w http.ResponseWriter, r *http.Request, az authn.Authorization, b authn.BrowserSession, ret string) error {
	if _, none := az.Prompts(); none {
		return s.authorizeError(w, r, az, &authn.OAuthError{Code: "interaction_required", Description: "the app asks for two-step verification, which needs the person"})
	}
	mfa, err := s.auth.StepUp(r.Context(), b)
	if errors.Is(err, authn.ErrStepUpEnrol) {
		redirect(w, r, "/dashboard/security?stepup=1&return="+url.QueryEscape(ret))
		return nil
	} else if err != nil {
		return err
	}
	p := s.withReturn(stepUpPage(az.App.Name), &az, ret)
	p.Token = mfa.Token
	s.mfaPasskey(&p, mfa.WebAuthn)
	if p.Passkey != "" {
		p.Lead = az.App.Name + " asks for two-step verification. Use your passkey, or enter a code, to continue."
	}
	s.render(w, r, http.StatusOK, "login_mfa", p)
	return nil
}

// startCookie gives the browser b's cookie. The browser's earlier
// session (a prompt=login, another account) ends: one browser, one
// signed-in person.
func (s *Server) startCookie(w http.ResponseWriter, r *http.Request, b authn.BrowserSession) {
	if old := s.cookie.read(r); old != "" {
		if err := s.auth.SignOut(r.Context(), s.clientIP(r), old); err != nil {
			s.log.WarnContext(r.Context(), "cannot end the browser's earlier session", "err", err)
		}
	}
	s.cookie.set(w, b.Cookie, b.ExpiresAt.Sub(s.now()))
}

// rpLogout is GET /oauth2/logout (OpenID RP-Initiated Logout 1.0). With a
// valid id_token_hint it signs out at once and returns to the app's
// registered post-logout URI; without one it asks the person first.
func (s *Server) rpLogout(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	in := authn.LogoutRequest{IDTokenHint: q.Get("id_token_hint"), ClientID: q.Get("client_id"),
		PostLogoutRedirectURI: q.Get("post_logout_redirect_uri"), State: q.Get("state")}
	to, err := s.auth.RPLogout(r.Context(), s.clientIP(r), in, s.cookie.read(r))
	switch {
	case errors.Is(err, authn.ErrLogoutConfirm):
		return s.confirmLogout(w, r, to)
	case err != nil:
		return err
	}
	s.cookie.clear(w)
	if to == "" {
		s.render(w, r, http.StatusOK, "message", signedOut())
		return nil
	}
	redirect(w, r, to)
	return nil
}

// browserKey holds, in a request's context, the browser session that
// csrfChecked already resolved, so the handler does not resolve it again.
type browserKey struct{}

// browser is the request's signed-in browser session, nil if none.
func (s *Server) browser(r *http.Request) *authn.BrowserSession {
	if b, ok := r.Context().Value(browserKey{}).(*authn.BrowserSession); ok {
		return b
	}
	c := s.cookie.read(r)
	if c == "" {
		return nil
	}
	b, err := s.auth.Browser(r.Context(), c)
	if err != nil {
		return nil
	}
	return &b
}
