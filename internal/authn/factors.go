package authn

import (
	"context"
	"crypto/rand"
	"errors"
	"net/netip"
	"strings"
	"time"

	"github.com/sigil-auth/sigil/internal/ratelimit"
	"github.com/sigil-auth/sigil/internal/store"
)

// Recovery codes: recoveryCount codes of recoveryLen base32 characters
// (50 bits each), shown as two groups of five ("abcde-fghij").
const (
	recoveryCount = 10
	recoveryLen   = 10
	totpName      = "Authenticator app"
	recoveryName  = "Recovery codes"
)

// FactorInfo is a factor as GET /v1/users/me/factors shows it.
type FactorInfo struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	Name       string     `json:"name"`
	Status     string     `json:"status"` // "active" | "pending"
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	// Remaining counts a recovery factor's unused codes.
	Remaining *int `json:"remaining,omitempty"`
}

func factorInfo(f store.Factor) FactorInfo {
	fi := FactorInfo{ID: f.ID, Kind: f.Kind, Name: f.Name, Status: "active", CreatedAt: f.CreatedAt, LastUsedAt: f.LastUsedAt}
	if f.ConfirmedAt == nil {
		fi.Status = "pending"
	}
	if f.Kind == store.FactorRecovery {
		fi.Remaining = &f.Remaining
	}
	return fi
}

// TOTPEnrolment is a new, pending TOTP factor: the secret to type in and
// the otpauth:// URL as text and as a QR code (SVG). Shown once.
type TOTPEnrolment struct {
	ID         string `json:"id"`
	Secret     string `json:"secret"`
	OTPAuthURL string `json:"otpauth_url"`
	QRSVG      string `json:"qr_svg"`
}

// RecoveryCodes are a fresh set of recovery codes, shown once.
type RecoveryCodes struct {
	Codes []string `json:"codes"`
}

// ErrFactorExists is an enrolment while an authenticator app is active.
var ErrFactorExists = &Error{Code: CodeConflict, Detail: "an authenticator app is already set up; remove it first"}

// ListFactors returns the caller's second factors, newest first.
func (s *Service) ListFactors(ctx context.Context, p Principal) ([]FactorInfo, error) {
	if err := userOnly(p); err != nil {
		return nil, err
	}
	fs, err := s.store.ListFactors(ctx, p.Subject)
	if err != nil {
		return nil, err
	}
	out := make([]FactorInfo, len(fs))
	for i, f := range fs {
		out[i] = factorInfo(f)
	}
	return out, nil
}

// EnrolTOTP starts a TOTP enrolment for the caller: a pending factor
// that VerifyFactor activates with a first code. A pending enrolment
// left unconfirmed is replaced; an active one must be removed first.
func (s *Service) EnrolTOTP(ctx context.Context, p Principal) (TOTPEnrolment, error) {
	if err := userOnly(p); err != nil {
		return TOTPEnrolment{}, err
	}
	if s.opt.Sealer == nil {
		return TOTPEnrolment{}, errors.New("authn: TOTP needs a sealer (the master key)")
	}
	u, err := s.store.GetUser(ctx, p.Subject)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	fs, err := s.store.ListFactors(ctx, u.ID)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	for _, f := range fs {
		switch {
		case f.Kind != store.FactorTOTP:
		case f.ConfirmedAt != nil:
			return TOTPEnrolment{}, ErrFactorExists
		default:
			if err := s.store.DeleteFactor(ctx, u.ID, f.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return TOTPEnrolment{}, err
			}
		}
	}
	account := u.Email
	if account == "" {
		account = u.ID
	}
	secret, url, err := newTOTPKey(account)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	svg, err := qrSVG(url)
	if err != nil {
		return TOTPEnrolment{}, err
	}
	f := store.Factor{ID: newFactorID(), UserID: u.ID, Kind: store.FactorTOTP, Name: totpName, CreatedAt: s.now()}
	f.Secret = s.opt.Sealer.Seal([]byte(secret), []byte(f.ID)) // bound to its row
	if err := s.store.CreateFactor(ctx, f); err != nil {
		return TOTPEnrolment{}, err
	}
	return TOTPEnrolment{ID: f.ID, Secret: secret, OTPAuthURL: url, QRSVG: svg}, nil
}

// VerifyFactor checks a code of the caller's TOTP factor id; the first
// one activates a pending factor. The code's step counts as used, and the
// attempt against the per-user code limit.
func (s *Service) VerifyFactor(ctx context.Context, ip netip.Addr, p Principal, id, code string) (FactorInfo, error) {
	if err := userOnly(p); err != nil {
		return FactorInfo{}, err
	}
	if code == "" {
		return FactorInfo{}, invalid("enter the code from your authenticator app")
	}
	if err := s.limitedIn(p.WorkspaceID, s.limit(ctx, ratelimit.MFACode, p.Subject)); err != nil {
		return FactorInfo{}, err
	}
	f, err := s.store.GetFactor(ctx, p.Subject, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && f.Kind != store.FactorTOTP) {
		return FactorInfo{}, ErrNotFound
	} else if err != nil {
		return FactorInfo{}, err
	}
	if err := s.useTOTP(ctx, p.Subject, f, normalizeCode(code)); err != nil {
		return FactorInfo{}, err
	}
	if f.ConfirmedAt == nil {
		s.audit(ctx, ip, store.AuditEvent{WorkspaceID: p.WorkspaceID, Actor: p.Subject, Action: AuditFactorAdd, Target: f.ID,
			Details: map[string]string{"kind": f.Kind}})
	}
	if f, err = s.store.GetFactor(ctx, p.Subject, id); err != nil {
		return FactorInfo{}, err
	}
	return factorInfo(f), nil
}

// DeleteFactor removes one of the caller's factors.
func (s *Service) DeleteFactor(ctx context.Context, ip netip.Addr, p Principal, id string) error {
	if err := userOnly(p); err != nil {
		return err
	}
	return s.removeFactor(ctx, ip, p, id, "")
}

// removeFactor removes factor id of the caller (if kind is set, only a
// factor of that kind: the keyring removes passkeys only). A passkey of
// a key-pair account stays if it is the account's last key.
func (s *Service) removeFactor(ctx context.Context, ip netip.Addr, p Principal, id, kind string) error {
	f, err := s.store.GetFactor(ctx, p.Subject, id)
	if err != nil {
		return keyringErr(err)
	}
	if kind != "" && f.Kind != kind {
		return ErrNotFound
	}
	if f.Kind == store.FactorWebAuthn {
		// A key-pair account's passkey may be its last key (keyring.go).
		u, err := s.store.GetUser(ctx, p.Subject)
		if err != nil {
			return keyringErr(err)
		}
		if u.PasswordHash == "" && u.Email == "" {
			return s.deletePasskey(ctx, ip, p, id)
		}
	}
	if err := keyringErr(s.store.DeleteFactor(ctx, p.Subject, id)); err != nil {
		return err
	}
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: p.WorkspaceID, Actor: p.Subject, Action: AuditFactorRemove, Target: id,
		Details: map[string]string{"kind": f.Kind}})
	return nil
}

// NewRecoveryCodes makes the caller a fresh set of recovery codes,
// replacing any earlier set. The codes are returned once; the store keeps
// their hashes.
func (s *Service) NewRecoveryCodes(ctx context.Context, ip netip.Addr, p Principal) (RecoveryCodes, error) {
	if err := userOnly(p); err != nil {
		return RecoveryCodes{}, err
	}
	now := s.now()
	f := store.Factor{ID: newFactorID(), UserID: p.Subject, Kind: store.FactorRecovery, Name: recoveryName,
		CreatedAt: now, ConfirmedAt: &now}
	codes := make([]string, recoveryCount)
	hashes := make([][]byte, recoveryCount)
	for i := range codes {
		c := newRecoveryCode()
		codes[i], hashes[i] = c[:recoveryLen/2]+"-"+c[recoveryLen/2:], s.recoveryHash(p.Subject, c)
	}
	if err := s.store.ReplaceRecoveryCodes(ctx, f, hashes); errors.Is(err, store.ErrNotFound) {
		return RecoveryCodes{}, ErrForbidden // no such user (the admin token)
	} else if err != nil {
		return RecoveryCodes{}, err
	}
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: p.WorkspaceID, Actor: p.Subject, Action: AuditRecoveryCodes, Target: f.ID})
	return RecoveryCodes{Codes: codes}, nil
}

// newRecoveryCode is recoveryLen random lower-case base32 characters.
func newRecoveryCode() string {
	b := make([]byte, 8)
	rand.Read(b)
	return strings.ToLower(idEncoding.EncodeToString(b))[:recoveryLen]
}

// isRecoveryCode reports whether a normalised code has a recovery code's
// shape.
func isRecoveryCode(code string) bool {
	if len(code) != recoveryLen {
		return false
	}
	for _, r := range code {
		if (r < 'a' || r > 'z') && (r < '2' || r > '7') {
			return false
		}
	}
	return true
}
