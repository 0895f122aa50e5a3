package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/sigil-auth/sigil/internal/authn"
)

// withRequest fills a page's branding and carried request from the
// authorization request it continues (az may be nil).
func (s *Server) withRequest(p page, r *http.Request, az *authn.Authorization) page {
	return s.withReturn(p, az, r.FormValue("return"))
}

// withReturn is withRequest for a request ret (its query) read elsewhere.
func (s *Server) withReturn(p page, az *authn.Authorization, ret string) page {
	if az == nil {
		return p
	}
	p.Brand = authn.BrandingOf(az.Workspace)
	if az.Workspace.AccentColor != "" {
		p.BrandCSS = "/assets/brand/" + az.Workspace.ID + ".css"
	}
	p.Return = ret
	p.FormAction = []string{originOf(az.Request.RedirectURI)}
	return p
}

// formError re-renders a form page with the error explained.
func (s *Server) formError(w http.ResponseWriter, r *http.Request, name string, p page, err error) error {
	status, msg, ok := inline(err)
	if !ok {
		return err
	}
	retryAfter(w, err)
	p.Error = msg
	s.render(w, r, status, name, p)
	return nil
}

func loginPage() page {
	return page{Title: "Sign in", Lead: "Use the email and password of your account."}
}

// loginPage is GET /login.
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) error {
	az, err := s.pending(r)
	if err != nil {
		return err
	}
	if az == nil && s.browser(r) != nil {
		redirect(w, r, "/account")
		return nil
	}
	p := s.withRequest(loginPage(), r, az)
	if az != nil {
		p.Email = az.Request.LoginHint
		if p.SSO, err = s.auth.WorkspaceConnections(r.Context(), az.App.WorkspaceID); err != nil {
			return err
		}
	}
	s.render(w, r, http.StatusOK, "login", p)
	return nil
}

// login is POST /login: the same checks, limits and audit as the JSON
// login, then a browser session.
func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	az, err := s.pending(r)
	if err != nil {
		return err
	}
	in := authn.PasswordLogin{Email: r.PostFormValue("email"), Password: r.PostFormValue("password")}
	if az != nil {
		in.WorkspaceID = az.App.WorkspaceID
	}
	b, err := s.auth.SignIn(r.Context(), s.clientIP(r), in)
	var mfa *authn.MFARequired
	if errors.As(err, &mfa) {
		p := s.withRequest(mfaPage(), r, az)
		p.Token = mfa.Token
		s.mfaPasskey(&p, mfa.WebAuthn)
		s.render(w, r, http.StatusOK, "login_mfa", p)
		return nil
	} else if err != nil {
		p := s.withRequest(loginPage(), r, az)
		p.Email = in.Email
		return s.formError(w, r, "login", p, err)
	}
	return s.finish(w, r, az, b)
}

func signupPage() page {
	return page{Title: "Create your account", Lead: "You need the join code your workspace's admin gave you."}
}

// signupPage is GET /signup; with ?invite= it is the invitation's
// sign-up (the invited email fixed, no join code).
func (s *Server) signupPage(w http.ResponseWriter, r *http.Request) error {
	az, err := s.pending(r)
	if err != nil {
		return err
	}
	if tok := r.URL.Query().Get("invite"); tok != "" {
		return s.invitedSignup(w, r, http.StatusOK, tok, nil)
	}
	s.render(w, r, http.StatusOK, "signup", s.withRequest(signupPage(), r, az))
	return nil
}

// signup is POST /signup.
func (s *Server) signup(w http.ResponseWriter, r *http.Request) error {
	az, err := s.pending(r)
	if err != nil {
		return err
	}
	in := authn.SignupInput{Email: r.PostFormValue("email"), Password: r.PostFormValue("password"),
		JoinCode: strings.TrimSpace(r.PostFormValue("join_code")), Invite: r.PostFormValue("invite")}
	b, err := s.auth.SignUpBrowser(r.Context(), s.clientIP(r), in)
	if err != nil && in.Invite != "" {
		return s.invitedSignup(w, r, 0, in.Invite, err)
	} else if err != nil {
		p := s.withRequest(signupPage(), r, az)
		p.Email = in.Email
		return s.formError(w, r, "signup", p, err)
	}
	return s.finish(w, r, az, b)
}

// invitedSignup renders the sign-up form of invitation tok, with failed
// (a refused sign-up) in its alert; a link that no longer works gets a
// page saying why.
func (s *Server) invitedSignup(w http.ResponseWriter, r *http.Request, status int, tok string, failed error) error {
	info, err := authn.InvitationInfo{}, failed // the sign-up's own word on the link (a lost race: "already used")
	if !isInvitationError(failed) {
		info, err = s.auth.OpenInvitation(r.Context(), s.clientIP(r), tok)
	}
	var e *authn.Error
	if isInvitationError(err) && errors.As(err, &e) {
		s.render(w, r, http.StatusBadRequest, "message", page{Title: "This invitation no longer works",
			Lead: sentence(e.Detail) + " Ask the person who invited you to send a new one.", Link: "/login", LinkText: "Sign in"})
		return nil
	} else if err != nil {
		return err
	}
	p := page{Title: "Join " + info.Workspace.DisplayName, Brand: info.Workspace, Email: info.Email, Token: tok,
		Lead: "You're invited as " + info.Role + ". Choose a password to create your account.", Data: info}
	if failed != nil {
		return s.formError(w, r, "signup", p, failed)
	}
	s.render(w, r, status, "signup", p)
	return nil
}

// isInvitationError reports whether err refuses an invitation link.
func isInvitationError(err error) bool {
	var e *authn.Error
	return errors.As(err, &e) && e.Code == authn.CodeInvalidInvitation
}

func forgotPage() page {
	return page{Title: "Reset your password", Lead: "Enter your account's email and we'll send you a link to choose a new password."}
}

// forgotPage is GET /forgot-password.
func (s *Server) forgotPage(w http.ResponseWriter, r *http.Request) error {
	s.render(w, r, http.StatusOK, "forgot", forgotPage())
	return nil
}

// forgot is POST /forgot-password. Its answer is the same whether or not
// an account uses the email.
func (s *Server) forgot(w http.ResponseWriter, r *http.Request) error {
	email := r.PostFormValue("email")
	if err := s.auth.ForgotPassword(r.Context(), s.clientIP(r), email); err != nil {
		p := forgotPage()
		p.Email = email
		return s.formError(w, r, "forgot", p, err)
	}
	s.render(w, r, http.StatusOK, "message", page{Title: "Check your email",
		Lead: "If an account uses " + strings.TrimSpace(email) + ", we sent it a link to choose a new password. The link works for one hour.",
		Link: "/login", LinkText: "Back to sign in"})
	return nil
}

// expiredLink is the page of a reset or verification link that no longer
// works.
func expiredLink(again, againText string) page {
	return page{Title: "This link no longer works",
		Lead: "It has expired or was already used. Links in our emails work once.", Link: again, LinkText: againText}
}

func resetPage(tok string) page {
	return page{Title: "Choose a new password", Lead: "8 to 256 characters. Every session of your account will be signed out.", Token: tok}
}

// resetPage is GET /reset-password?token=…: a form, so that a mail
// scanner opening the link cannot use the token up.
func (s *Server) resetPage(w http.ResponseWriter, r *http.Request) error {
	tok := r.URL.Query().Get("token")
	if tok == "" {
		s.render(w, r, http.StatusBadRequest, "message", expiredLink("/forgot-password", "Send a new reset link"))
		return nil
	}
	s.render(w, r, http.StatusOK, "reset", resetPage(tok))
	return nil
}

// reset is POST /reset-password.
func (s *Server) reset(w http.ResponseWriter, r *http.Request) error {
	in := authn.ResetInput{Token: r.PostFormValue("token"), Password: r.PostFormValue("password")}
	err := s.auth.ResetPassword(r.Context(), s.clientIP(r), in)
	if errors.Is(err, authn.ErrInvalidToken) {
		s.render(w, r, http.StatusBadRequest, "message", expiredLink("/forgot-password", "Send a new reset link"))
		return nil
	} else if err != nil {
		return s.formError(w, r, "reset", resetPage(in.Token), err)
	}
	s.cookie.clear(w)
	s.render(w, r, http.StatusOK, "message", page{Title: "Your password is changed",
		Lead: "Every session of your account was signed out. Sign in with your new password.", Link: "/login", LinkText: "Sign in"})
	return nil
}

func verifyPage(tok string) page {
	return page{Title: "Verify your email", Lead: "Confirm that this address is yours.", Token: tok}
}

// verifyPage is GET /verify-email?token=…: a button, for the same reason
// as resetPage.
func (s *Server) verifyPage(w http.ResponseWriter, r *http.Request) error {
	tok := r.URL.Query().Get("token")
	if tok == "" {
		s.render(w, r, http.StatusBadRequest, "message", expiredLink("/login", "Sign in"))
		return nil
	}
	s.render(w, r, http.StatusOK, "verify", verifyPage(tok))
	return nil
}

// verify is POST /verify-email.
func (s *Server) verify(w http.ResponseWriter, r *http.Request) error {
	err := s.auth.VerifyEmail(r.Context(), s.clientIP(r), r.PostFormValue("token"))
	if errors.Is(err, authn.ErrInvalidToken) {
		s.render(w, r, http.StatusBadRequest, "message", expiredLink("/login", "Sign in"))
		return nil
	} else if err != nil {
		return s.formError(w, r, "verify", verifyPage(r.PostFormValue("token")), err)
	}
	s.render(w, r, http.StatusOK, "message", page{Title: "Your email is verified",
		Lead: "Thanks. You can close this page, or sign in.", Link: "/login", LinkText: "Sign in"})
	return nil
}

func signedOut() page {
	return page{Title: "You're signed out", Lead: "You are no longer signed in on this browser.", Link: "/login", LinkText: "Sign in again"}
}

// signedOutHere forgets this browser's cookie (its session has ended)
// and shows p.
func (s *Server) signedOutHere(w http.ResponseWriter, r *http.Request, p page) error {
	s.cookie.clear(w)
	s.render(w, r, http.StatusOK, "message", p)
	return nil
}

// logoutPage is GET /logout: a button, so that a link or an image on
// another site cannot sign anyone out.
func (s *Server) logoutPage(w http.ResponseWriter, r *http.Request) error {
	return s.confirmLogout(w, r, "")
}

// confirmLogout asks before signing out; next, already checked, is where
// to go afterwards ("" = the signed-out page).
func (s *Server) confirmLogout(w http.ResponseWriter, r *http.Request, next string) error {
	b := s.browser(r)
	if b == nil && next == "" {
		s.render(w, r, http.StatusOK, "message", signedOut())
		return nil
	}
	q := r.URL.Query()
	p := page{Title: "Sign out", Lead: "Sign out of your account on this browser?", Signed: b,
		FormAction: []string{originOf(next)}}
	p.Return = url.Values{"client_id": {q.Get("client_id")}, "post_logout_redirect_uri": {q.Get("post_logout_redirect_uri")},
		"state": {q.Get("state")}}.Encode()
	s.render(w, r, http.StatusOK, "logout", p)
	return nil
}

// logout is POST /logout: ends the browser session, then shows the
// signed-out page or returns to the app that asked (checked again).
func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	q, _ := url.ParseQuery(r.PostFormValue("return"))
	in := authn.LogoutRequest{ClientID: q.Get("client_id"), PostLogoutRedirectURI: q.Get("post_logout_redirect_uri"), State: q.Get("state")}
	next, err := s.auth.RPLogout(r.Context(), s.clientIP(r), in, "")
	if err != nil && !errors.Is(err, authn.ErrLogoutConfirm) {
		return err
	}
	if err := s.auth.SignOut(r.Context(), s.clientIP(r), s.cookie.read(r)); err != nil {
		return err
	}
	s.cookie.clear(w)
	if next != "" {
		redirect(w, r, next)
		return nil
	}
	s.render(w, r, http.StatusOK, "message", signedOut())
	return nil
}

// account is GET /account: who is signed in on this browser.
func (s *Server) account(w http.ResponseWriter, r *http.Request) error {
	b := s.browser(r)
	if b == nil {
		redirect(w, r, "/login")
		return nil
	}
	br, err := s.auth.WorkspaceBranding(r.Context(), b.WorkspaceID)
	if err != nil {
		return err
	}
	s.render(w, r, http.StatusOK, "account", page{Title: "You're signed in", Signed: b, Brand: br})
	return nil
}

// brandCSS is GET /assets/brand/{ws}.css: the workspace's accent colour
// as a stylesheet, so pages need no inline style.
func (s *Server) brandCSS(w http.ResponseWriter, r *http.Request) error {
	ws, ok := strings.CutSuffix(r.PathValue("ws"), ".css")
	if !ok {
		return authn.ErrNotFound
	}
	br, err := s.auth.WorkspaceBranding(r.Context(), ws)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	if br.AccentColor != "" { // validated #rrggbb: nothing else can reach the stylesheet
		w.Write([]byte(":root{--accent:" + br.AccentColor + ";--accent-strong:" + br.AccentColor + "}\n"))
	}
	return nil
}
