package web

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/sigil-auth/sigil/internal/authn"
)

// Single sign-on in the browser (API.md §12): the start, the IdP's way
// back (a GET, or a cross-site POST for Apple's form_post and SAML), and
// the finish on a request that carries the flow cookie. The flow's rules
// are authn's (sso_flow.go); these handlers move the browser.

// ssoCookie holds a flow's binding secret and its authorization request,
// sealed, on /sso/ only, for the ten minutes a flow may take.
const ssoCookie = "sigil_sso"

// ssoStart is GET /sso/{cid}/start[?return=…&login_hint=…]; without its
// own login_hint, the one of the request in return is the IdP's hint.
func (s *Server) ssoStart(w http.ResponseWriter, r *http.Request) error {
	az, err := s.pending(r)
	if err != nil {
		return err
	}
	ret, ws, hint := "", "", r.FormValue("login_hint")
	if az != nil {
		ret, ws = r.FormValue("return"), az.App.WorkspaceID
		if hint == "" {
			// The app's own hint (from /oauth2/authorize?connection=, or
			// a sign-in page's button) goes on to the IdP.
			hint = az.Request.LoginHint
		}
	}
	st, err := s.auth.StartSSO(r.Context(), s.clientIP(r), r.PathValue("cid"), ws, ret, hint)
	if err != nil {
		return s.ssoFailed(w, r, ret, err)
	}
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: st.Cookie, Path: "/sso/", MaxAge: int(st.MaxAge.Seconds()),
		HttpOnly: true, Secure: s.cookie.secure, SameSite: http.SameSiteLaxMode})
	redirect(w, r, st.URL)
	return nil
}

// ssoCallback is GET and POST /sso/{cid}/callback: the IdP's answer, or
// (GET ?result=) the same-site step after a POST callback.
func (s *Server) ssoCallback(w http.ResponseWriter, r *http.Request) error {
	if res := r.URL.Query().Get("result"); r.Method == http.MethodGet && res != "" {
		return s.ssoFinish(w, r, res)
	}
	form := r.URL.Query()
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			return &authn.ClientError{Detail: "the identity provider's answer is malformed"}
		}
		form = r.PostForm
	}
	res, err := s.auth.SSOCallback(r.Context(), s.clientIP(r), r.PathValue("cid"), form)
	if err != nil {
		return s.ssoFailed(w, r, "", err)
	}
	if r.Method == http.MethodPost {
		s.ssoContinue(w, r, res)
		return nil
	}
	return s.ssoFinish(w, r, res)
}

// samlACS is POST /sso/{cid}/saml/acs (the HTTP-POST binding).
func (s *Server) samlACS(w http.ResponseWriter, r *http.Request) error {
	res, err := s.auth.SAMLResponse(r.Context(), s.clientIP(r), r.PathValue("cid"), r.PostFormValue("SAMLResponse"))
	if err != nil {
		return s.ssoFailed(w, r, "", err)
	}
	s.ssoContinue(w, r, res)
	return nil
}

// ssoContinue answers a cross-site POST callback with a 303 to a GET of
// our own, which SameSite=Lax lets carry the flow cookie.
func (s *Server) ssoContinue(w http.ResponseWriter, r *http.Request, result string) {
	redirect(w, r, "/sso/"+url.PathEscape(r.PathValue("cid"))+"/callback?"+url.Values{"result": {result}}.Encode())
}

// ssoFinish starts the browser session and goes on as any sign-in does:
// to the app that asked, or to the account page.
func (s *Server) ssoFinish(w http.ResponseWriter, r *http.Request, result string) error {
	flow := ""
	if c, err := r.Cookie(ssoCookie); err == nil {
		flow = c.Value
	}
	http.SetCookie(w, &http.Cookie{Name: ssoCookie, Value: "", Path: "/sso/", MaxAge: -1,
		HttpOnly: true, Secure: s.cookie.secure, SameSite: http.SameSiteLaxMode})
	b, ret, err := s.auth.FinishSSO(r.Context(), s.clientIP(r), result, flow)
	var az *authn.Authorization
	if ret != "" {
		q, _ := url.ParseQuery(ret)
		a, aerr := s.auth.CheckAuthorize(r.Context(), q)
		if aerr != nil {
			return s.authorizeError(w, r, a, aerr)
		}
		az = &a
	}
	var mfa *authn.MFARequired
	if errors.As(err, &mfa) {
		p := s.withReturn(mfaPage(), az, ret)
		p.Token = mfa.Token
		s.mfaPasskey(&p, mfa.WebAuthn)
		s.render(w, r, http.StatusOK, "login_mfa", p)
		return nil
	} else if err != nil {
		return s.ssoFailed(w, r, ret, err)
	}
	return s.finish(w, r, az, b)
}

// ssoFailed explains a refused SSO step and offers the sign-in page.
func (s *Server) ssoFailed(w http.ResponseWriter, r *http.Request, ret string, err error) error {
	status, msg := http.StatusForbidden, ""
	var se *authn.SSOError
	if errors.As(err, &se) {
		msg = sentence(se.Detail)
	} else {
		var ok bool
		if status, msg, ok = inline(err); !ok {
			return err
		}
	}
	retryAfter(w, err)
	p := page{Title: "Single sign-on did not work", Lead: msg + " Try again, or sign in another way.",
		Link: "/login", LinkText: "Back to sign-in"}
	if ret != "" {
		p.Link = "/login?" + url.Values{"return": {ret}}.Encode()
	}
	s.render(w, r, status, "message", p)
	return nil
}

// samlMetadata is GET /sso/{cid}/saml/metadata: the SP metadata to give
// the IdP.
func (s *Server) samlMetadata(w http.ResponseWriter, r *http.Request) error {
	md, err := s.auth.SAMLMetadata(r.Context(), r.PathValue("cid"))
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	w.Header().Set("Cache-Control", "public, max-age=3600")
	_, err = w.Write(md)
	return err
}

func ssoPage() page {
	return page{Title: "Sign in with single sign-on", Lead: "Enter your work email; we will send you to your organisation's sign-in."}
}

// loginSSOPage is GET /login/sso: home realm discovery asks for an email.
func (s *Server) loginSSOPage(w http.ResponseWriter, r *http.Request) error {
	az, err := s.pending(r)
	if err != nil {
		return err
	}
	p := s.withRequest(ssoPage(), r, az)
	if az != nil {
		p.Email = az.Request.LoginHint
	}
	s.render(w, r, http.StatusOK, "login_sso", p)
	return nil
}

// loginSSO is POST /login/sso: the email's domain picks the connection.
func (s *Server) loginSSO(w http.ResponseWriter, r *http.Request) error {
	az, err := s.pending(r)
	if err != nil {
		return err
	}
	ws, email := "", r.PostFormValue("email")
	if az != nil {
		ws = az.App.WorkspaceID
	}
	c, err := s.auth.ConnectionForEmail(r.Context(), ws, email)
	if errors.Is(err, authn.ErrNotFound) {
		err = &authn.Error{Code: authn.CodeInvalidRequest, Detail: "single sign-on is not set up for that email's domain; sign in with your password instead"}
	}
	if err != nil {
		p := s.withRequest(ssoPage(), r, az)
		p.Email = email
		return s.formError(w, r, "login_sso", p, err)
	}
	q := url.Values{"login_hint": {email}}
	if az != nil {
		q.Set("return", r.FormValue("return"))
	}
	// Not a redirect: this page's CSP (form-action) would refuse one that
	// ends at the IdP. A link, followed at once, is a navigation instead.
	start := "/sso/" + url.PathEscape(c.ID) + "/start?" + q.Encode()
	p := s.withRequest(page{Title: "Continue to " + c.Name, Lead: "Your organisation signs you in with " + c.Name + ".",
		Link: start, LinkText: "Continue to " + c.Name, Refresh: start}, r, az)
	s.render(w, r, http.StatusOK, "message", p)
	return nil
}
