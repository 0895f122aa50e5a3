package authn

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/netip"
	"net/url"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/token"
)

// Passkeys (WebAuthn, API.md §13). The relying party is the issuer: its
// host is the RP ID and its origin the one origin accepted, so
// SIGIL_ISSUER must name the public URL people's browsers see.
//
// A ceremony's challenge is its own state: the purpose, the user (for a
// registration), the expiry and a nonce, sealed (AES-GCM) under a key
// every replica holds, as the mfa_token is. Any replica opens it from
// the clientDataJSON the browser signed, so begin writes nothing; finish
// records the challenge's hash as a used code in the same write that
// completes the ceremony (the new factor, or the session), so a second
// finish with it fails on every replica. The second-factor step needs no
// challenge of its own: its challenge is a hash of the mfa_token, which
// is single-use already.
const (
	passkeyTTL       = 5 * time.Minute
	passkeyAD        = "sigil webauthn challenge"
	purposeRegister  = "reg"
	purposeLogin     = "login"
	maxPasskeyName   = 64
	maxPasskeyBody   = 32 << 10
	defaultPasskey   = "Passkey"
	mfaChallengeHash = "sigil webauthn mfa\x00"
	// amr values (RFC 8176): a device-bound key, a synced one (backup
	// eligible: its private key leaves the device), and "mfa" for a
	// passwordless sign-in whose authenticator verified the person.
	amrHardwareKey = "hwk"
	amrSoftwareKey = "swk"
	amrMFA         = "mfa"
)

var (
	// ErrPasskeysUnavailable is a passkey ceremony on a server whose
	// issuer cannot be a WebAuthn relying party (an IP address, say).
	ErrPasskeysUnavailable = &Error{Code: CodeInvalidRequest,
		Detail: "passkeys need SIGIL_ISSUER to be an https URL (or http://localhost) with a domain name"}
	// ErrInvalidPasskey is an attestation that does not register.
	ErrInvalidPasskey = &Error{Code: CodeInvalidRequest, Detail: "the passkey's response is not valid; start again"}
	// ErrPasskeyExists is a second registration of one credential.
	ErrPasskeyExists = &Error{Code: CodeConflict, Detail: "that passkey is already registered"}
)

// PasskeyOptions is what a ceremony's begin answers: the options to pass
// to navigator.credentials.create or .get, as {"publicKey": …}.
type PasskeyOptions struct {
	PublicKey any `json:"publicKey"`
}

// passkeyChallenge is what a sealed challenge carries.
type passkeyChallenge struct {
	Purpose string `json:"p"`
	User    string `json:"u,omitempty"`
	Expires int64  `json:"e"` // Unix seconds
	Nonce   string `json:"n"`
}

// relyingParty is the WebAuthn relying party, or nil with the reason.
type relyingParty struct {
	wa   *webauthn.WebAuthn
	id   string
	err  error
	keys []byte // derives user handles
}

func newRelyingParty(issuer string, refreshKey []byte) *relyingParty {
	rp := &relyingParty{keys: token.DeriveKey(refreshKey, "webauthn user handles")}
	u, err := url.Parse(issuer)
	if err != nil || u.Host == "" {
		rp.err = ErrPasskeysUnavailable
		return rp
	}
	rp.id = u.Hostname()
	rp.wa, err = webauthn.New(&webauthn.Config{
		RPID: rp.id, RPDisplayName: "Sigil", RPOrigins: []string{u.Scheme + "://" + u.Host},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			ResidentKey: protocol.ResidentKeyRequirementPreferred, UserVerification: protocol.VerificationPreferred,
		},
	})
	// Browsers refuse an IP address as RP ID, so passkeys cannot work there.
	if _, ipErr := netip.ParseAddr(rp.id); err != nil || ipErr == nil || protocol.ValidateRPID(rp.id) != nil {
		rp.wa, rp.err = nil, ErrPasskeysUnavailable
	}
	return rp
}

// handle is the WebAuthn user handle of a user: an HMAC of the id, so it
// carries nothing personal (the spec's advice) and every replica derives
// the same one without storing it.
func (rp *relyingParty) handle(userID string) []byte {
	m := hmac.New(sha256.New, rp.keys)
	m.Write([]byte(userID))
	return m.Sum(nil)
}

// passkeyUser is a user as the webauthn library sees it.
type passkeyUser struct {
	id, name string
	handle   []byte
	creds    []webauthn.Credential
}

func (u *passkeyUser) WebAuthnID() []byte                         { return u.handle }
func (u *passkeyUser) WebAuthnName() string                       { return u.name }
func (u *passkeyUser) WebAuthnDisplayName() string                { return u.name }
func (u *passkeyUser) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// newPasskeyUser is u with its passkeys among factors.
func (rp *relyingParty) newPasskeyUser(u store.User, factors []store.Factor) *passkeyUser {
	name := u.Email
	if name == "" {
		name = u.ID
	}
	pu := &passkeyUser{id: u.ID, name: name, handle: rp.handle(u.ID)}
	for _, f := range factors {
		if w := f.WebAuthn; w != nil {
			pu.creds = append(pu.creds, libCredential(w))
		}
	}
	return pu
}

// libCredential is a stored credential as the library checks it.
func libCredential(w *store.WebAuthnCredential) webauthn.Credential {
	c := webauthn.Credential{ID: w.CredentialID, PublicKey: w.PublicKey, AttestationType: "none",
		Flags:         webauthn.CredentialFlags{UserPresent: true, BackupEligible: w.BackupEligible, BackupState: w.BackupState},
		Authenticator: webauthn.Authenticator{AAGUID: w.AAGUID, SignCount: uint32(w.SignCount)}}
	for _, t := range w.Transports {
		c.Transport = append(c.Transport, protocol.AuthenticatorTransport(t))
	}
	return c
}

// newChallenge seals a challenge for purpose (and user, for a
// registration).
func (s *Service) newChallenge(purpose, userID string) ([]byte, time.Time, error) {
	if s.opt.Sealer == nil {
		return nil, time.Time{}, errors.New("authn: passkeys need a sealer (the master key)")
	}
	exp := s.now().Add(passkeyTTL)
	b, err := json.Marshal(passkeyChallenge{Purpose: purpose, User: userID, Expires: exp.Unix(), Nonce: newID("n")})
	if err != nil {
		return nil, time.Time{}, err
	}
	return s.opt.Sealer.Seal(b, []byte(passkeyAD)), exp, nil
}

// openChallenge checks a challenge (base64url, as in clientDataJSON): ours,
// for purpose and unexpired. It does not tell whether it was used.
func (s *Service) openChallenge(raw, purpose string) (passkeyChallenge, error) {
	var c passkeyChallenge
	sealed, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil || s.opt.Sealer == nil || len(raw) > 512 {
		return c, ErrInvalidToken
	}
	b, err := s.opt.Sealer.Open(sealed, []byte(passkeyAD))
	if err != nil || json.Unmarshal(b, &c) != nil || c.Purpose != purpose || !s.now().Before(time.Unix(c.Expires, 0)) {
		return passkeyChallenge{}, ErrInvalidToken
	}
	return c, nil
}

// usedChallenge is a challenge as a used code, for the completing write.
func usedChallenge(raw, userID string, c passkeyChallenge) store.AuthCode {
	return store.AuthCode{Hash: token.Hash("webauthn:" + raw), UserID: userID, ExpiresAt: time.Unix(c.Expires, 0)}
}

// mfaPasskeyChallenge is the challenge of an mfa_token's passkey step.
func mfaPasskeyChallenge(mfaToken string) []byte {
	h := sha256.Sum256([]byte(mfaChallengeHash + mfaToken))
	return h[:]
}

// passkeyAMR is the amr of a passkey's use: swk for a synced one.
func passkeyAMR(w *store.WebAuthnCredential) string {
	if w.BackupEligible {
		return amrSoftwareKey
	}
	return amrHardwareKey
}
