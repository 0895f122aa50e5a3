package web

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/sigil-auth/sigil/internal/authn"
)

// The second step of a sign-in (API.md §13): after the password, a
// person with a second factor gets this page, which carries the
// challenge's mfa_token (and the authorization request, if any) to POST
// /login/mfa. The token is sealed and short-lived; it is no secret
// worth a cookie, since it is worth nothing without a code.

func mfaPage() page {
	return page{Title: "Two-step verification", Lead: "Enter the code from your authenticator app to finish signing in."}
}

// stepUpPage is the second step asked of a signed-in person by an app
// that wants two factors (acr_values=aal2).
func stepUpPage(app string) page {
	return page{Title: "Confirm it's you", Lead: app + " asks for two-step verification. Enter the code from your authenticator app to continue."}
}

// loginMFA is POST /login/mfa: the code, then the browser session, then
// on exactly as a one-step sign-in (the dashboard, or the app).
func (s *Server) loginMFA(w http.ResponseWriter, r *http.Request) error {
	az, err := s.pending(r)
	if err != nil {
		return err
	}
	in := authn.MFAVerify{MFAToken: r.PostFormValue("mfa_token"), Code: r.PostFormValue("code")}
	if a := r.PostFormValue("webauthn"); a != "" {
		in.WebAuthn = json.RawMessage(a) // "use your passkey" (assets/passkey.js)
	}
	b, err := s.auth.SignInMFA(r.Context(), s.clientIP(r), in)
	if errors.Is(err, authn.ErrInvalidToken) || in.MFAToken == "" {
		// Too late, or already used: the password step again.
		p := s.withRequest(loginPage(), r, az)
		p.Error = "That sign-in took too long or was already finished. Sign in again."
		s.render(w, r, http.StatusUnauthorized, "login", p)
		return nil
	} else if err != nil {
		p := s.withRequest(mfaPage(), r, az)
		p.Token = in.MFAToken
		// Only the mfa_token is at hand: ask again whether it has passkeys.
		opts, perr := s.auth.MFAPasskeyOptions(r.Context(), p.Token)
		if perr != nil {
			s.log.ErrorContext(r.Context(), "cannot make passkey options", "err", perr)
		}
		s.mfaPasskey(&p, opts)
		if in.WebAuthn != nil && errors.Is(err, authn.ErrInvalidCode) {
			p.Error = passkeyFailed
			s.render(w, r, http.StatusUnauthorized, "login_mfa", p)
			return nil
		}
		return s.formError(w, r, "login_mfa", p, err)
	}
	return s.finish(w, r, az, b)
}
