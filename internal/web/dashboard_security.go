package web

import (
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"

	"github.com/sigil-auth/sigil/internal/authn"
)

// The security page: the person's second factors (API.md §13). Enrolling
// an authenticator app is two posts (start: the QR code and secret,
// shown once; confirm: a first code); recovery codes are shown once when
// made.

func securityPage() page {
	return page{Title: "Security", Lead: "Two-step verification: a passkey or a code from an authenticator app after your password keeps your account safe if the password leaks.", Nav: "security"}
}

// securityData is the security page's content.
type securityData struct {
	Factors []authn.FactorInfo
	TOTP    bool // an authenticator app is active
	// Passkeys are the person's passkeys, newest first.
	Passkeys []authn.FactorInfo
	Recovery *authn.FactorInfo
	// RecoveryLeft counts Recovery's unused codes.
	RecoveryLeft int
	// Enrol is a pending enrolment being shown (its QR code and secret).
	Enrol *enrolView
	// Codes are recovery codes just made, shown once.
	Codes []string
	// Policy is set when the workspace requires a second factor the
	// person has not added; Later is where "Not now" goes in the grace
	// period ("" after it).
	Policy *authn.MFAEnrolment
	Later  string
	// Return is the authorization request the person goes back to once
	// a factor is added (an app asked for one, or require_mfa); the
	// enrolment forms carry it. Continue is its link, once they can.
	Return   string
	Continue string
	// StepUp is set when an app asked for two-step verification
	// (acr_values=aal2) of a person with no second factor.
	StepUp bool
}

type enrolView struct {
	ID     string
	Secret string
	QR     template.HTML // our own SVG, built from the QR matrix
}

// security is GET /dashboard/security.
func (s *Server) security(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	p := securityPage()
	switch {
	case r.URL.Query().Get("enabled") != "":
		p.Notice = "Two-step verification is on. Your next sign-in asks for a code from your app."
	case r.URL.Query().Get("passkey") != "":
		p.Notice = "Passkey added. Sign in with it, or use it after your password."
	case r.URL.Query().Get("removed") != "":
		p.Notice = "Removed."
	}
	return s.renderSecurity(w, r, b, http.StatusOK, p, securityData{StepUp: r.URL.Query().Get("stepup") != ""})
}

func (s *Server) renderSecurity(w http.ResponseWriter, r *http.Request, b authn.BrowserSession, status int, p page, d securityData) error {
	fs, err := s.auth.ListFactors(r.Context(), authn.BrowserPrincipal(b))
	if err != nil {
		return err
	}
	for i, f := range fs {
		switch {
		case f.Kind == "totp" && f.Status == "active":
			d.TOTP = true
			d.Factors = append(d.Factors, f)
		case f.Kind == "webauthn":
			d.Passkeys = append(d.Passkeys, f)
		case f.Kind == "recovery":
			d.Recovery = &fs[i]
			if f.Remaining != nil {
				d.RecoveryLeft = *f.Remaining
			}
		}
	}
	if ret := r.FormValue("return"); len(ret) <= maxReturn {
		d.Return = ret
		if ret != "" && (d.TOTP || len(d.Passkeys) > 0) {
			d.Continue = laterLink(ret)
			p.Notice = "" // the Continue line says it
		}
	}
	if e, err := s.auth.MFAEnrolmentOf(r.Context(), b); err != nil {
		return err
	} else if e.Required {
		d.Policy = &e
		if !e.Overdue {
			d.Later = laterLink(r.FormValue("return"))
		}
	}
	p.Data = d
	return s.dash(w, r, status, "dash_security", b, p)
}

// laterLink is where "Not now" leads: the authorization request the
// sign-in was for (ret, as a sign-in form's return), or the account page.
func laterLink(ret string) string {
	if ret == "" || len(ret) > maxReturn {
		return "/account"
	}
	return "/oauth2/authorize?" + ret
}

// keepReturn adds the form's return (an authorization request to go
// back to) to a security page URL.
func keepReturn(to string, r *http.Request) string {
	if ret := r.PostFormValue("return"); ret != "" && len(ret) <= maxReturn {
		return to + "&return=" + url.QueryEscape(ret)
	}
	return to
}

// securityFail shows err on the security page (with the enrolment being
// confirmed, if any), or returns it when it is no form error.
func (s *Server) securityFail(w http.ResponseWriter, r *http.Request, b authn.BrowserSession, d securityData, err error) error {
	status, msg, ok := inline(err)
	if !ok {
		return err
	}
	retryAfter(w, err)
	p := securityPage()
	p.Error = msg
	return s.renderSecurity(w, r, b, status, p, d)
}

// enrolTOTP is POST /dashboard/security/totp: a pending authenticator
// app, shown with its QR code and secret.
func (s *Server) enrolTOTP(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	e, err := s.auth.EnrolTOTP(r.Context(), authn.BrowserPrincipal(b))
	if err != nil {
		return s.securityFail(w, r, b, securityData{}, err)
	}
	w.Header().Set("Cache-Control", "no-store")
	p := securityPage()
	p.Lead = "Scan the QR code with your authenticator app, then enter the code it shows."
	return s.renderSecurity(w, r, b, http.StatusOK, p, securityData{Enrol: enrolViewOf(e)})
}

func enrolViewOf(e authn.TOTPEnrolment) *enrolView {
	return &enrolView{ID: e.ID, Secret: e.Secret, QR: template.HTML(e.QRSVG)} // #nosec: generated by authn, no input in it
}

// confirmTOTP is POST /dashboard/security/totp/{id}/confirm: the first code. A
// wrong one shows the enrolment again (its secret comes back from the
// form: the store holds it sealed and never shows it again).
func (s *Server) confirmTOTP(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	id := r.PathValue("id")
	_, err := s.auth.VerifyFactor(r.Context(), s.clientIP(r), authn.BrowserPrincipal(b), id, r.PostFormValue("code"))
	if err != nil {
		d := securityData{}
		if secret := r.PostFormValue("secret"); secret != "" && len(secret) <= 64 {
			e := authn.TOTPEnrolment{ID: id, Secret: secret}
			account := b.Email
			if account == "" {
				account = b.UserID // as EnrolTOTP names a key-pair account
			}
			if svg, url, qerr := authn.EnrolmentQR(account, secret); qerr == nil {
				e.QRSVG, e.OTPAuthURL = svg, url
			}
			d.Enrol = enrolViewOf(e)
		}
		return s.securityFail(w, r, b, d, err)
	}
	redirect(w, r, keepReturn("/dashboard/security?enabled=1", r))
	return nil
}

// newRecoveryCodes is POST /dashboard/security/recovery: ten codes,
// shown once.
func (s *Server) newRecoveryCodes(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	rc, err := s.auth.NewRecoveryCodes(r.Context(), s.clientIP(r), authn.BrowserPrincipal(b))
	if err != nil {
		return s.securityFail(w, r, b, securityData{}, err)
	}
	w.Header().Set("Cache-Control", "no-store")
	return s.renderSecurity(w, r, b, http.StatusOK, securityPage(), securityData{Codes: rc.Codes})
}

// removeFactorPage is GET /dashboard/security/{id}/remove.
func (s *Server) removeFactorPage(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	fs, err := s.auth.ListFactors(r.Context(), authn.BrowserPrincipal(b))
	if err != nil {
		return err
	}
	i := slices.IndexFunc(fs, func(f authn.FactorInfo) bool { return f.ID == r.PathValue("id") })
	if i < 0 {
		return authn.ErrNotFound
	}
	p := securityPage()
	p.Title = "Remove " + fs[i].Name + "?"
	p.Lead = "Signing in will no longer ask for its codes."
	switch fs[i].Kind {
	case "recovery":
		p.Lead = "The unused codes stop working."
	case "webauthn":
		p.Lead = "Signing in will no longer accept this passkey. Remove it from the device too, in its password or passkey settings."
	}
	p.Data = confirmData{Detail: fs[i].Name + ", added " + fs[i].CreatedAt.UTC().Format("2006-01-02") + ".",
		Action: "/dashboard/security/" + fs[i].ID + "/remove", Button: "Remove", Cancel: "/dashboard/security"}
	return s.dash(w, r, http.StatusOK, "dash_confirm", b, p)
}

// removeFactor is POST /dashboard/security/{id}/remove.
func (s *Server) removeFactor(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	if err := s.auth.DeleteFactor(r.Context(), s.clientIP(r), authn.BrowserPrincipal(b), r.PathValue("id")); errors.Is(err, authn.ErrLastKey) {
		return s.securityFail(w, r, b, securityData{}, err)
	} else if err != nil {
		return err
	}
	redirect(w, r, "/dashboard/security?removed=1")
	return nil
}
