package web

import (
	"context"
	"embed"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/sigil-auth/sigil/internal/authn"
	"github.com/sigil-auth/sigil/internal/clientip"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed assets
var assetFS embed.FS

// Deps are what the pages need.
type Deps struct {
	Auth   *authn.Service
	IPs    *clientip.Resolver
	Log    *slog.Logger
	Issuer string
	Now    func() time.Time // nil: time.Now
}

// Server serves the hosted pages. It is an http.Handler for the patterns
// of Routes; the caller mounts it (httpapi does, so the pages share its
// logging, metrics and body limit).
type Server struct {
	auth     *authn.Service
	ips      *clientip.Resolver
	log      *slog.Logger
	issuer   string
	now      func() time.Time
	cookie   cookieSpec
	pages    *templates
	mux      *http.ServeMux
	assets   http.Handler
	patterns []string
}

// New builds the pages.
func New(d Deps) (*Server, error) {
	if d.Now == nil {
		d.Now = time.Now
	}
	if d.Log == nil {
		d.Log = slog.New(slog.DiscardHandler)
	}
	pages, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	sub, _ := fs.Sub(assetFS, "assets")
	s := &Server{auth: d.Auth, ips: d.IPs, log: d.Log, issuer: strings.TrimRight(d.Issuer, "/"), now: d.Now,
		cookie: newCookieSpec(d.Issuer), pages: pages, mux: http.NewServeMux(),
		assets: http.StripPrefix("/assets/", http.FileServerFS(sub))}
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(s.crossOrigin))
	// post guards the forms that come before a session (sign-in, sign-up,
	// reset, setup); act those that act as the signed-in person, which
	// also need the session's CSRF proof.
	post := func(h handler) http.Handler { return cop.Handler(s.h(h)) }
	act := func(h handler) http.Handler { return cop.Handler(s.h(s.csrfChecked(h))) }
	for _, rt := range []struct {
		pattern string
		h       http.Handler
	}{
		{"GET /login", s.h(s.loginPage)},
		{"POST /login", post(s.login)},
		{"POST /login/mfa", post(s.loginMFA)},
		{"POST /login/passkey/begin", post(s.passkeyLoginBegin)},
		{"POST /login/passkey", post(s.passkeyLogin)},
		{"GET /signup", s.h(s.signupPage)},
		{"POST /signup", post(s.signup)},
		{"GET /forgot-password", s.h(s.forgotPage)},
		{"POST /forgot-password", post(s.forgot)},
		{"GET /reset-password", s.h(s.resetPage)},
		{"POST /reset-password", post(s.reset)},
		{"GET /setup", s.h(s.setupPage)},
		{"POST /setup", post(s.setup)},
		{"GET /verify-email", s.h(s.verifyPage)},
		{"POST /verify-email", post(s.verify)},
		{"GET /logout", s.h(s.logoutPage)},
		{"POST /logout", act(s.logout)},
		{"GET /account", s.h(s.account)},
		{"GET /dashboard", s.h(s.dashboardHome)},
		{"GET /dashboard/overview", s.h(s.overview)},
		{"GET /dashboard/api-keys", s.h(s.apiKeys)},
		{"GET /dashboard/api-keys/new", s.h(s.newKeyPage)},
		{"POST /dashboard/api-keys", act(s.createKey)},
		{"GET /dashboard/api-keys/{id}/revoke", s.h(s.revokeKeyPage)},
		{"POST /dashboard/api-keys/{id}/revoke", act(s.revokeKey)},
		{"GET /dashboard/api-keys/{id}/rotate", s.h(s.rotateKeyPage)},
		{"POST /dashboard/api-keys/{id}/rotate", act(s.rotateKey)},
		{"GET /dashboard/sessions", s.h(s.sessions)},
		{"POST /dashboard/sessions/{id}/end", act(s.endSession)},
		{"POST /dashboard/sessions/end-all", act(s.endAllSessions)},
		{"GET /dashboard/jwt-keys", s.h(s.jwtKeys)},
		{"POST /dashboard/jwt-keys", act(s.createJWTKey)},
		{"POST /dashboard/jwt-keys/{id}/delete", act(s.deleteJWTKey)},
		{"GET /dashboard/keyring", s.h(s.keyring)},
		{"POST /dashboard/keyring", act(s.addKey)},
		{"POST /dashboard/keyring/challenge", act(s.keyChallenge)},
		{"GET /dashboard/keyring/{id}/remove", s.h(s.removeKeyPage)},
		{"POST /dashboard/keyring/{id}/remove", act(s.removeKey)},
		{"GET /dashboard/members", s.h(s.members)},
		{"POST /dashboard/members/{user}", act(s.updateMember)},
		{"GET /dashboard/members/{user}/remove", s.h(s.removeMemberPage)},
		{"POST /dashboard/members/{user}/remove", act(s.removeMember)},
		{"GET /dashboard/members/{user}/factors/reset", s.h(s.resetFactorsPage)},
		{"POST /dashboard/members/{user}/factors/reset", act(s.resetFactors)},
		{"POST /dashboard/invitations", act(s.invite)},
		{"GET /dashboard/invitations/{id}/revoke", s.h(s.revokeInvitationPage)},
		{"POST /dashboard/invitations/{id}/revoke", act(s.revokeInvitation)},
		{"POST /dashboard/join-code", act(s.rotateJoinCode)},
		{"GET /dashboard/apps", s.h(s.apps)},
		{"POST /dashboard/apps", act(s.createApp)},
		{"POST /dashboard/apps/{id}/delete", act(s.deleteApp)},
		{"GET /dashboard/sso", s.h(s.ssoList)},
		{"GET /dashboard/sso/new", s.h(s.ssoNewPage)},
		{"POST /dashboard/sso", act(s.ssoCreate)},
		{"GET /dashboard/sso/{cid}", s.h(s.withConnection(s.ssoDetail))},
		{"GET /dashboard/sso/{cid}/edit", s.h(s.withConnection(s.ssoEditPage))},
		{"POST /dashboard/sso/{cid}", act(s.withConnection(s.ssoUpdate))},
		{"POST /dashboard/sso/{cid}/test", act(s.withConnection(s.ssoTest))},
		{"GET /dashboard/sso/{cid}/delete", s.h(s.withConnection(s.ssoDeletePage))},
		{"POST /dashboard/sso/{cid}/delete", act(s.ssoDelete)},
		{"GET /dashboard/audit", s.h(s.audit)},
		{"GET /dashboard/profile", s.h(s.profile)},
		{"POST /dashboard/profile/password", act(s.changePassword)},
		{"POST /dashboard/profile/verify", act(s.sendVerification)},
		{"GET /dashboard/security", s.h(s.security)},
		{"POST /dashboard/security/totp", act(s.enrolTOTP)},
		{"POST /dashboard/security/totp/{id}/confirm", act(s.confirmTOTP)},
		{"POST /dashboard/security/recovery", act(s.newRecoveryCodes)},
		{"POST /dashboard/security/passkey/begin", act(s.passkeyBegin)},
		{"POST /dashboard/security/passkey", act(s.addPasskey)},
		{"GET /dashboard/security/{id}/remove", s.h(s.removeFactorPage)},
		{"POST /dashboard/security/{id}/remove", act(s.removeFactor)},
		{"GET /dashboard/workspaces", s.h(s.workspaces)},
		{"POST /dashboard/workspaces", act(s.createWorkspace)},
		{"GET /dashboard/settings", s.h(s.settings)},
		{"POST /dashboard/settings", act(s.saveSettings)},
		{"GET /login/sso", s.h(s.loginSSOPage)},
		{"POST /login/sso", post(s.loginSSO)},
		{"GET /sso/{cid}/start", s.h(s.ssoStart)},
		// The IdP's way back is a cross-site POST for Apple and SAML: not
		// guarded by the cross-origin check; its state is checked instead.
		{"GET /sso/{cid}/callback", s.h(s.ssoCallback)},
		{"POST /sso/{cid}/callback", s.h(s.ssoCallback)},
		{"POST /sso/{cid}/saml/acs", s.h(s.samlACS)},
		{"GET /sso/{cid}/saml/metadata", s.h(s.samlMetadata)},
		{"GET /oauth2/authorize", s.h(s.authorize)},
		{"GET /oauth2/logout", s.h(s.rpLogout)},
		{"GET /assets/brand/{ws}", s.h(s.brandCSS)},
		{"GET /assets/{file}", http.HandlerFunc(s.asset)},
	} {
		s.mux.Handle(rt.pattern, rt.h)
		s.patterns = append(s.patterns, rt.pattern)
	}
	return s, nil
}

// Routes are the patterns the pages serve.
func (s *Server) Routes() []string { return s.patterns }

// ServeHTTP sets the security headers of every answer of the pages
// (API.md §11), whoever writes it: render, redirect, http.Error, the
// assets, the JSON of the passkey steps, the SAML metadata. A page whose
// form returns to an app widens the policy's form-action (render).
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", defaultCSP)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	s.mux.ServeHTTP(w, r)
}

// handler is a page handler; it renders or redirects itself and returns
// only errors it could not show (rendered by s.h as the error page).
type handler func(w http.ResponseWriter, r *http.Request) error

func (s *Server) h(f handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			s.failPage(w, r, err)
		}
	})
}

// asset serves the embedded stylesheet and script; they change only with
// the binary, so browsers may keep them an hour.
func (s *Server) asset(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "public, max-age=3600")
	s.assets.ServeHTTP(w, r)
}

// csrfChecked refuses, with 403, a form post from a signed-in browser
// that lacks its session's CSRF proof: a form Sigil did not serve to this
// session. (Cross-origin posts are refused before, by the browser's
// Sec-Fetch-Site and Origin headers; the proof also covers browsers that
// send neither.) Without a session the handler itself sends the browser
// to sign in.
func (s *Server) csrfChecked(next handler) handler {
	return func(w http.ResponseWriter, r *http.Request) error {
		b := s.browser(r)
		if b == nil {
			return next(w, r)
		}
		if !s.auth.CheckCSRF(*b, r.PostFormValue("csrf")) {
			s.render(w, r, http.StatusForbidden, "message", page{Title: "This form has expired",
				Lead: "It did not come from a page of your current session. Go back, reload the page and send it again."})
			return nil
		}
		return next(w, r.WithContext(context.WithValue(r.Context(), browserKey{}, b)))
	}
}

// crossOrigin answers a form post from another origin.
func (s *Server) crossOrigin(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusForbidden, "message", page{Title: "This form came from another site",
		Lead: "Sigil only accepts sign-in forms posted from its own pages. Go back to the app you came from and start again."})
}

// clientIP is the request's client address: the one the server's
// middleware resolved, else resolved here, believing X-Forwarded-For only
// from trusted proxies.
func (s *Server) clientIP(r *http.Request) netip.Addr {
	if ip, ok := clientip.FromContext(r.Context()); ok {
		return ip
	}
	return s.ips.ClientIP(r.RemoteAddr, r.Header.Values("X-Forwarded-For"))
}

// redirect sends the browser on: 303 after a form post, 302 otherwise.
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	code := http.StatusFound
	if r.Method == http.MethodPost {
		code = http.StatusSeeOther
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, to, code)
}

// originOf is the scheme://host of an absolute URL, "" if there is none.
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
}
