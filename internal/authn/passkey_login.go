package authn

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/netip"
	"strconv"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/sigil-auth/sigil/internal/ratelimit"
	"github.com/sigil-auth/sigil/internal/store"
)

// PasskeyLogin is POST /v1/auth/webauthn/finish: the browser's
// PublicKeyCredential from navigator.credentials.get.
type PasskeyLogin struct {
	Credential json.RawMessage `json:"credential"`
}

// BeginPasskeyLogin starts a passwordless sign-in: request options for
// any discoverable credential of this relying party, asking the
// authenticator to verify the person (a PIN or biometric), which makes
// the passkey a multi-factor authenticator on its own (NIST SP 800-63B:
// AAL2). Nothing is stored until the sign-in finishes.
func (s *Service) BeginPasskeyLogin(ctx context.Context, ip netip.Addr) (PasskeyOptions, error) {
	if s.rp.err != nil {
		return PasskeyOptions{}, s.rp.err
	}
	challenge, _, err := s.newChallenge(purposeLogin, "")
	if err != nil {
		return PasskeyOptions{}, err
	}
	assertion, _, err := s.rp.wa.BeginDiscoverableLogin(webauthn.WithChallenge(challenge),
		webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return PasskeyOptions{}, err
	}
	assertion.Response.Timeout = int(passkeyTTL.Milliseconds())
	return PasskeyOptions{PublicKey: assertion.Response}, nil
}

// LoginPasskey completes a passwordless sign-in and starts a session
// whose method is "hwk+mfa" (or "swk+mfa"): aal2.
func (s *Service) LoginPasskey(ctx context.Context, ip netip.Addr, in PasskeyLogin) (TokenResponse, error) {
	u, method, used, err := s.authPasskey(ctx, ip, in)
	if err != nil {
		return TokenResponse{}, err
	}
	resp, err := s.startSession(ctx, u, method, used)
	if errors.Is(err, store.ErrConflict) {
		return TokenResponse{}, ErrInvalidCredentials // the challenge was used already
	}
	return resp, err
}

// SignInPasskey is LoginPasskey for the hosted pages.
func (s *Service) SignInPasskey(ctx context.Context, ip netip.Addr, in PasskeyLogin) (BrowserSession, error) {
	u, method, used, err := s.authPasskey(ctx, ip, in)
	if err != nil {
		return BrowserSession{}, err
	}
	b, err := s.startBrowserSession(ctx, u, method, used)
	if errors.Is(err, store.ErrConflict) {
		return BrowserSession{}, ErrInvalidCredentials
	}
	return b, err
}

// authPasskey checks a passwordless assertion, with limits, metrics and
// audit, and returns the person, the session method and the challenge as
// a used code for the session's write.
func (s *Service) authPasskey(ctx context.Context, ip netip.Addr, in PasskeyLogin) (store.User, string, store.AuthCode, error) {
	if err := s.limit(ctx, ratelimit.LoginIP, ipKey(ip)); err != nil {
		return store.User{}, "", store.AuthCode{}, err
	}
	u, method, used, err := s.checkPasswordless(ctx, in)
	s.observe(amrHardwareKey, err)
	ev := store.AuditEvent{Action: AuditLoginSuccess, Method: method, Actor: u.ID, Target: u.ID, WorkspaceID: u.WorkspaceID}
	if err != nil {
		ev.Action, ev.Actor, ev.Method, ev.Details = AuditLoginFailure, "", "webauthn", map[string]string{"reason": errorCode(err)}
	}
	s.audit(ctx, ip, ev)
	return u, method, used, err
}

func (s *Service) checkPasswordless(ctx context.Context, in PasskeyLogin) (store.User, string, store.AuthCode, error) {
	if s.rp.err != nil {
		return store.User{}, "", store.AuthCode{}, s.rp.err
	}
	parsed, err := parseAssertion(in.Credential)
	if err != nil || len(parsed.Response.UserHandle) == 0 {
		return store.User{}, "", store.AuthCode{}, ErrInvalidCredentials
	}
	raw := parsed.Response.CollectedClientData.Challenge
	c, err := s.openChallenge(raw, purposeLogin)
	if err != nil {
		return store.User{}, "", store.AuthCode{}, ErrInvalidCredentials
	}
	f, err := s.store.GetFactorByCredential(ctx, parsed.RawID)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, "", store.AuthCode{}, ErrInvalidCredentials
	} else if err != nil {
		return store.User{}, "", store.AuthCode{}, err
	}
	u, err := s.store.GetUser(ctx, f.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, "", store.AuthCode{}, ErrInvalidCredentials
	} else if err != nil {
		return store.User{}, "", store.AuthCode{}, err
	}
	session := webauthn.SessionData{Challenge: raw, UserVerification: protocol.VerificationRequired}
	amr, err := s.useAssertion(ctx, u, f, session, parsed)
	if err != nil {
		return u, "", store.AuthCode{}, err
	}
	return u, amr + "+" + amrMFA, usedChallenge(raw, u.ID, c), nil
}

// parseAssertion parses a PublicKeyCredential from navigator.credentials.get.
func parseAssertion(raw json.RawMessage) (*protocol.ParsedCredentialAssertionData, error) {
	if len(raw) == 0 || len(raw) > maxPasskeyBody {
		return nil, ErrInvalidCredentials
	}
	return protocol.ParseCredentialRequestResponseBytes(raw)
}

// useAssertion checks an assertion made with passkey f of u for session
// (its challenge and user verification) and records the use: the sign
// counter must move forward (or stay 0), on every replica. It returns the
// amr of the passkey. Any refusal is ErrInvalidCredentials.
func (s *Service) useAssertion(ctx context.Context, u store.User, f store.Factor, session webauthn.SessionData, parsed *protocol.ParsedCredentialAssertionData) (string, error) {
	pu := s.rp.newPasskeyUser(u, []store.Factor{f})
	session.RelyingPartyID = f.WebAuthn.RPID // the RP the credential was made for
	session.UserID = pu.handle
	if _, err := s.rp.wa.ValidateLogin(pu, session, parsed); err != nil {
		s.log.InfoContext(ctx, "passkey assertion refused", "user_id", u.ID, "factor_id", f.ID, "err", err)
		return "", ErrInvalidCredentials
	}
	ad := parsed.Response.AuthenticatorData
	err := s.store.UseWebAuthnCredential(ctx, u.ID, f.ID, int64(ad.Counter), ad.Flags.HasBackupState(), s.now())
	switch {
	case errors.Is(err, store.ErrConflict):
		// A counter that did not move forward: a cloned authenticator, or
		// this very assertion again.
		s.log.WarnContext(ctx, "passkey sign counter did not advance; refused as a possible clone",
			"user_id", u.ID, "factor_id", f.ID, "counter", ad.Counter, "stored", f.WebAuthn.SignCount)
		s.audit(ctx, netip.Addr{}, store.AuditEvent{WorkspaceID: u.WorkspaceID, Actor: u.ID, Action: AuditPasskeyCloned,
			Target: f.ID, Details: map[string]string{"counter": strconv.FormatUint(uint64(ad.Counter), 10), "stored": strconv.FormatInt(f.WebAuthn.SignCount, 10)}})
		return "", ErrInvalidCredentials
	case errors.Is(err, store.ErrNotFound):
		return "", ErrInvalidCredentials // removed meanwhile
	case err != nil:
		return "", err
	}
	return passkeyAMR(f.WebAuthn), nil
}

// mfaPasskeyOptions are the request options of u's passkeys for the
// second step of a login whose mfa_token is mfaToken, or nil without
// passkeys. Presence is enough here (the password was the other factor).
func (s *Service) mfaPasskeyOptions(u store.User, factors []store.Factor, mfaToken string) (*PasskeyOptions, error) {
	pu := s.rp.newPasskeyUser(u, factors)
	if s.rp.err != nil || len(pu.creds) == 0 {
		return nil, nil
	}
	assertion, _, err := s.rp.wa.BeginLogin(pu, webauthn.WithChallenge(mfaPasskeyChallenge(mfaToken)),
		webauthn.WithUserVerification(protocol.VerificationDiscouraged))
	if err != nil {
		return nil, err
	}
	assertion.Response.Timeout = int(mfaTTL.Milliseconds())
	return &PasskeyOptions{PublicKey: assertion.Response}, nil
}

// checkMFAPasskey checks a passkey assertion as the second factor of u's
// login with mfaToken, and returns its amr.
func (s *Service) checkMFAPasskey(ctx context.Context, u store.User, mfaToken string, raw json.RawMessage) (string, error) {
	if err := s.limitedIn(u.WorkspaceID, s.limit(ctx, ratelimit.MFACode, u.ID)); err != nil {
		return "", err
	}
	parsed, err := parseAssertion(raw)
	if s.rp.err != nil || err != nil {
		return "", ErrInvalidCode
	}
	f, err := s.store.GetFactorByCredential(ctx, parsed.RawID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && f.UserID != u.ID) {
		return "", ErrInvalidCode // not this person's passkey
	} else if err != nil {
		return "", err
	}
	session := webauthn.SessionData{Challenge: base64.RawURLEncoding.EncodeToString(mfaPasskeyChallenge(mfaToken)),
		UserVerification: protocol.VerificationDiscouraged}
	amr, err := s.useAssertion(ctx, u, f, session, parsed)
	if errors.Is(err, ErrInvalidCredentials) {
		return "", ErrInvalidCode
	}
	return amr, err
}

// MFAPasskeyOptions are the passkey request options of a pending MFA
// challenge (as MFARequired.WebAuthn had them), for a page that shows the
// second step again; nil when the person has no passkey or the token is
// no longer valid. The challenge is a function of the token, so these are
// the same options.
func (s *Service) MFAPasskeyOptions(ctx context.Context, mfaToken string) (*PasskeyOptions, error) {
	c, err := s.openMFA(mfaToken)
	if err != nil {
		return nil, nil
	}
	u, err := s.store.GetUser(ctx, c.User)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	fs, err := s.store.ListFactors(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	return s.mfaPasskeyOptions(u, fs, mfaToken)
}
