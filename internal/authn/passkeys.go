package authn

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"strings"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/sigil-auth/sigil/internal/store"
)

// PasskeyFinish is POST /v1/users/me/factors/webauthn/finish: a name
// for the passkey and the browser's PublicKeyCredential (its JSON form,
// as PublicKeyCredential.toJSON gives it).
type PasskeyFinish struct {
	Name       string          `json:"name"`
	Credential json.RawMessage `json:"credential"`
}

// BeginPasskey starts registering a passkey for the caller: the creation
// options for navigator.credentials.create. The caller's passkeys are
// excluded, so one authenticator is not registered twice.
func (s *Service) BeginPasskey(ctx context.Context, p Principal) (PasskeyOptions, error) {
	if err := userOnly(p); err != nil {
		return PasskeyOptions{}, err
	}
	if s.rp.err != nil {
		return PasskeyOptions{}, s.rp.err
	}
	u, err := s.store.GetUser(ctx, p.Subject)
	if errors.Is(err, store.ErrNotFound) {
		return PasskeyOptions{}, ErrForbidden // the admin token has no account
	} else if err != nil {
		return PasskeyOptions{}, err
	}
	fs, err := s.store.ListFactors(ctx, u.ID)
	if err != nil {
		return PasskeyOptions{}, err
	}
	challenge, _, err := s.newChallenge(purposeRegister, u.ID)
	if err != nil {
		return PasskeyOptions{}, err
	}
	pu := s.rp.newPasskeyUser(u, fs)
	creation, _, err := s.rp.wa.BeginRegistration(pu,
		webauthn.WithExclusions(webauthn.Credentials(pu.creds).CredentialDescriptors()),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation),
		func(o *protocol.PublicKeyCredentialCreationOptions) error {
			o.Challenge = challenge // ours, sealed, instead of a random one to remember
			o.Timeout = int(passkeyTTL.Milliseconds())
			return nil
		})
	if err != nil {
		return PasskeyOptions{}, err
	}
	return PasskeyOptions{PublicKey: creation.Response}, nil
}

// FinishPasskey checks the browser's attestation for a challenge of
// BeginPasskey and stores the passkey as an active factor. A challenge
// finishes once; an authenticator registered already is ErrPasskeyExists.
func (s *Service) FinishPasskey(ctx context.Context, ip netip.Addr, p Principal, in PasskeyFinish) (FactorInfo, error) {
	if err := userOnly(p); err != nil {
		return FactorInfo{}, err
	}
	if s.rp.err != nil {
		return FactorInfo{}, s.rp.err
	}
	name, err := passkeyName(in.Name)
	if err != nil {
		return FactorInfo{}, err
	}
	if len(in.Credential) == 0 || len(in.Credential) > maxPasskeyBody {
		return FactorInfo{}, invalid("credential is required: the PublicKeyCredential from navigator.credentials.create")
	}
	parsed, err := protocol.ParseCredentialCreationResponseBytes(in.Credential)
	if err != nil {
		return FactorInfo{}, ErrInvalidPasskey
	}
	raw := parsed.Response.CollectedClientData.Challenge
	c, err := s.openChallenge(raw, purposeRegister)
	if err != nil || c.User != p.Subject {
		return FactorInfo{}, ErrInvalidPasskey
	}
	u, err := s.store.GetUser(ctx, p.Subject)
	if err != nil {
		return FactorInfo{}, err
	}
	pu := s.rp.newPasskeyUser(u, nil)
	session := webauthn.SessionData{Challenge: raw, RelyingPartyID: s.rp.id, UserID: pu.handle,
		UserVerification: protocol.VerificationPreferred, CredParams: webauthn.CredentialParametersDefault()}
	cred, err := s.rp.wa.CreateCredential(pu, session, parsed)
	if err != nil {
		s.log.InfoContext(ctx, "passkey registration refused", "user_id", u.ID, "err", err)
		return FactorInfo{}, ErrInvalidPasskey
	}
	// The challenge is spent before the factor is stored: a replay finds
	// it used (on any replica) even if the first finish's write failed.
	if err := s.store.CreateAuthCode(ctx, usedChallenge(raw, u.ID, c)); errors.Is(err, store.ErrConflict) {
		return FactorInfo{}, ErrInvalidPasskey
	} else if err != nil {
		return FactorInfo{}, err
	}
	now := s.now()
	f := store.Factor{ID: newFactorID(), UserID: u.ID, Kind: store.FactorWebAuthn, Name: name, CreatedAt: now,
		ConfirmedAt: &now, WebAuthn: storedCredential(cred, s.rp.id)}
	if err := s.store.CreateFactor(ctx, f); errors.Is(err, store.ErrConflict) {
		return FactorInfo{}, ErrPasskeyExists
	} else if err != nil {
		return FactorInfo{}, err
	}
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: u.WorkspaceID, Actor: u.ID, Action: AuditFactorAdd, Target: f.ID,
		Details: map[string]string{"kind": f.Kind, "amr": passkeyAMR(f.WebAuthn)}})
	return factorInfo(f), nil
}

// passkeyName is a passkey's name as given, trimmed; "" is "Passkey".
func passkeyName(name string) (string, error) {
	name = strings.TrimSpace(name)
	switch {
	case name == "":
		return defaultPasskey, nil
	case !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxPasskeyName || strings.ContainsFunc(name, isControl):
		return "", invalid("name must be at most %d characters, without control characters", maxPasskeyName)
	}
	return name, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// storedCredential is what the store keeps of a new credential.
func storedCredential(c *webauthn.Credential, rpID string) *store.WebAuthnCredential {
	w := &store.WebAuthnCredential{CredentialID: c.ID, PublicKey: c.PublicKey, RPID: rpID, AAGUID: c.Authenticator.AAGUID,
		SignCount: int64(c.Authenticator.SignCount), BackupEligible: c.Flags.BackupEligible,
		BackupState: c.Flags.BackupState, Attachment: string(c.Authenticator.Attachment)}
	for _, t := range c.Transport {
		w.Transports = append(w.Transports, string(t))
	}
	return w
}
