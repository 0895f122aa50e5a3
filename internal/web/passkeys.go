package web

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/sigil-auth/sigil/internal/authn"
)

// Passkeys on the pages. The WebAuthn calls happen in the browser
// (assets/passkey.js): a begin answers JSON options for
// navigator.credentials, and the script posts the browser's credential
// back in a form field, so a finish is an ordinary form post that
// renders or redirects as the other forms do.

// passkeyFailed is what a page says when a passkey did not sign in.
const passkeyFailed = "That passkey didn't sign you in. Try again, or use another way to sign in."

// writeOptions answers a begin: the options, or the error as the API's
// {"error", "detail"} with its status.
func writeOptions(w http.ResponseWriter, opts any, err error) error {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if err != nil {
		status, msg, ok := inline(err)
		if !ok {
			return err
		}
		var e *authn.Error
		code := "invalid_request"
		if errors.As(err, &e) {
			code = string(e.Code)
		}
		w.WriteHeader(status)
		return json.NewEncoder(w).Encode(map[string]string{"error": code, "detail": msg})
	}
	return json.NewEncoder(w).Encode(opts)
}

// passkeyLoginBegin is POST /login/passkey/begin: options for a
// passwordless sign-in (or autofill).
func (s *Server) passkeyLoginBegin(w http.ResponseWriter, r *http.Request) error {
	opts, err := s.auth.BeginPasskeyLogin(r.Context(), s.clientIP(r))
	return writeOptions(w, opts, err)
}

// passkeyLogin is POST /login/passkey: the browser's assertion, then on
// as any sign-in (the dashboard, or the app of an authorization request).
func (s *Server) passkeyLogin(w http.ResponseWriter, r *http.Request) error {
	az, err := s.pending(r)
	if err != nil {
		return err
	}
	in := authn.PasskeyLogin{Credential: json.RawMessage(r.PostFormValue("credential"))}
	b, err := s.auth.SignInPasskey(r.Context(), s.clientIP(r), in)
	if errors.Is(err, authn.ErrInvalidCredentials) {
		p := s.withRequest(loginPage(), r, az)
		p.Error = passkeyFailed
		s.render(w, r, http.StatusUnauthorized, "login", p)
		return nil
	} else if err != nil {
		return s.formError(w, r, "login", s.withRequest(loginPage(), r, az), err)
	}
	return s.finish(w, r, az, b)
}

// passkeyBegin is POST /dashboard/security/passkey/begin: creation
// options for a new passkey of the signed-in person.
func (s *Server) passkeyBegin(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	opts, err := s.auth.BeginPasskey(r.Context(), authn.BrowserPrincipal(b))
	return writeOptions(w, opts, err)
}

// addPasskey is POST /dashboard/security/passkey: the browser's
// attestation and the passkey's name.
func (s *Server) addPasskey(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	in := authn.PasskeyFinish{Name: r.PostFormValue("name"), Credential: json.RawMessage(r.PostFormValue("credential"))}
	if _, err := s.auth.FinishPasskey(r.Context(), s.clientIP(r), authn.BrowserPrincipal(b), in); err != nil {
		return s.securityFail(w, r, b, securityData{}, err)
	}
	redirect(w, r, keepReturn("/dashboard/security?passkey=1", r))
	return nil
}

// mfaPasskey fills p.Passkey with the passkey options of the second step,
// opts, which is nil when the person has no passkey (the challenge that
// started the step worked them out: no second look-up here).
func (s *Server) mfaPasskey(p *page, opts *authn.PasskeyOptions) {
	if opts == nil {
		return
	}
	if b, err := json.Marshal(opts); err == nil {
		p.Passkey = string(b)
		p.Lead = "Use your passkey, or enter a code, to finish signing in."
	}
}
