package web

import (
	"net/http"

	"github.com/sigil-auth/sigil/internal/authn"
)

// The profile: the person's email and its verification, and a password
// change.

func profilePage() page {
	return page{Title: "Profile", Lead: "Your account's email and password.", Nav: "profile"}
}

// profile is GET /dashboard/profile.
func (s *Server) profile(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	p := profilePage()
	switch {
	case r.URL.Query().Get("changed") != "":
		p.Notice = "Password changed. Your other sessions were signed out."
	case r.URL.Query().Get("sent") != "":
		p.Notice = "Verification email sent. The link in it works for 24 hours."
	}
	return s.renderProfile(w, r, b, http.StatusOK, p)
}

func (s *Server) renderProfile(w http.ResponseWriter, r *http.Request, b authn.BrowserSession, status int, p page) error {
	prof, err := s.auth.GetProfile(r.Context(), authn.BrowserPrincipal(b))
	if err != nil {
		return err
	}
	p.Data = prof
	return s.dash(w, r, status, "dash_profile", b, p)
}

// changePassword is POST /dashboard/profile/password.
func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	err := s.auth.ChangePassword(r.Context(), s.clientIP(r), authn.BrowserPrincipal(b),
		r.PostFormValue("current_password"), r.PostFormValue("new_password"))
	if err != nil {
		status, msg, ok := inline(err)
		if !ok {
			return err
		}
		retryAfter(w, err)
		p := profilePage()
		p.Error = msg
		return s.renderProfile(w, r, b, status, p)
	}
	redirect(w, r, "/dashboard/profile?changed=1")
	return nil
}

// sendVerification is POST /dashboard/profile/verify.
func (s *Server) sendVerification(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	if err := s.auth.SendVerification(r.Context(), s.clientIP(r), authn.BrowserPrincipal(b)); err != nil {
		return err
	}
	redirect(w, r, "/dashboard/profile?sent=1")
	return nil
}
