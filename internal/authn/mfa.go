package authn

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/sigil-auth/sigil/internal/mail"
	"github.com/sigil-auth/sigil/internal/ratelimit"
	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/token"
)

// A second factor is a step of a login, not a login (DESIGN.md): a first
// factor that needs one yields an MFARequired challenge instead of a
// session, and VerifyMFA (or SignInMFA) completes it and starts the
// session with amr/aal set.
//
// The challenge's mfa_token is stateless: the user id, the first factor
// and the time of the password check, sealed (AES-GCM) under a key every
// replica holds, so any replica can complete it without a store read or
// write at login. It is single use through the store all the same: the
// session it starts records the token's hash as a used code in the same
// write (CreateSession's usedCodes, as key-pair challenges), so a second
// completion fails on every replica. A wrong code does not spend it; the
// per-user code limit bounds the guesses instead.
const (
	mfaTokenPrefix = "mfa_"
	mfaTTL         = 5 * time.Minute
	maxMFAToken    = 512
	maxCode        = 64
	// Second-factor methods as they appear after the first factor in a
	// session's method ("pwd+otp") and so in amr.
	factorOTP      = "otp"
	factorRecovery = "rc"
)

// Audit actions of second factors.
const (
	AuditFactorAdd      = "factor.add"
	AuditFactorRemove   = "factor.remove"
	AuditRecoveryCodes  = "factor.recovery_codes"
	AuditRecoveryUsed   = "factor.recovery_used"
	AuditMFASuccess     = "login.mfa"
	AuditPasskeyCloned  = "factor.passkey_counter"
	mfaTokenAD          = "sigil mfa token"
	recoveryCodeHashKey = "recovery codes"
)

// ErrInvalidCode is a wrong, replayed or malformed second-factor code.
var ErrInvalidCode = &Error{Code: CodeInvalidCode, Detail: "the code is not valid"}

// MFARequired is the answer to a first factor that needs a second one
// (API.md §13). It is returned as an error by LoginPassword and SignIn,
// since the login has not finished; callers that speak JSON send it as
// the 200 body.
type MFARequired struct {
	Required bool     `json:"mfa_required"`
	Token    string   `json:"mfa_token"`
	Factors  []string `json:"factors"`
	// WebAuthn, when the person has passkeys, are the request options
	// for navigator.credentials.get whose assertion completes the login.
	WebAuthn *PasskeyOptions `json:"webauthn,omitempty"`
}

func (m *MFARequired) Error() string { return "a second factor is required" }

// MFAVerify is POST /v1/auth/mfa/verify: a code, or a passkey's
// assertion (the PublicKeyCredential from navigator.credentials.get with
// the options of MFARequired.WebAuthn).
type MFAVerify struct {
	MFAToken string          `json:"mfa_token"`
	Code     string          `json:"code"`
	WebAuthn json.RawMessage `json:"webauthn,omitempty"`
}

// mfaClaims are what an mfa_token carries.
type mfaClaims struct {
	User   string `json:"u"`
	Method string `json:"m"`   // the first factor
	Issued int64  `json:"iat"` // Unix seconds of the first factor's check
	Nonce  string `json:"n"`   // makes every token distinct
}

// amrOf is the amr claim of a session method: "pwd+otp" → [pwd otp],
// "sso:conn_1+otp" → [sso otp].
func amrOf(method string) []string {
	amr := strings.Split(method, "+")
	for i, m := range amr {
		amr[i], _, _ = strings.Cut(m, ":")
	}
	return amr
}

// aalOf is the assurance level of a session method: two factors make aal2.
func aalOf(method string) string {
	if strings.Contains(method, "+") {
		return AAL2
	}
	return AAL1
}

// firstFactor is the login method a session method starts with.
func firstFactor(method string) string { return store.FirstFactor(method) }

// mfaChallenge returns the challenge u must answer after first factor
// method, or nil when u has no active second factor.
func (s *Service) mfaChallenge(ctx context.Context, u store.User, method string) (*MFARequired, error) {
	factors, err := s.store.ListFactors(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	kinds := activeKinds(factors)
	if len(kinds) == 0 {
		return nil, nil
	}
	c := mfaClaims{User: u.ID, Method: method, Issued: s.now().Unix(), Nonce: newID("n")}
	raw, err := s.sealMFA(c)
	if err != nil {
		return nil, err
	}
	opts, err := s.mfaPasskeyOptions(u, factors, raw)
	if err != nil {
		return nil, err
	}
	return &MFARequired{Required: true, Token: raw, Factors: kinds, WebAuthn: opts}, nil
}

// activeKinds are the kinds a login may be completed with: none unless a
// passkey or an active TOTP factor is there (recovery codes back them
// up, they do not turn a second factor on by themselves).
func activeKinds(factors []store.Factor) []string {
	var passkey, totp, recovery bool
	for _, f := range factors {
		passkey = passkey || f.Kind == store.FactorWebAuthn
		totp = totp || (f.Kind == store.FactorTOTP && f.ConfirmedAt != nil)
		recovery = recovery || (f.Kind == store.FactorRecovery && f.Remaining > 0)
	}
	var kinds []string
	for _, k := range []struct {
		on   bool
		kind string
	}{{passkey, store.FactorWebAuthn}, {totp, store.FactorTOTP}, {recovery && (passkey || totp), store.FactorRecovery}} {
		if k.on {
			kinds = append(kinds, k.kind)
		}
	}
	return kinds
}

func (s *Service) sealMFA(c mfaClaims) (string, error) {
	return s.sealJSON(mfaTokenPrefix, mfaTokenAD, c)
}

// openMFA checks an mfa_token: ours, unaltered and unexpired. Anything
// else is ErrInvalidToken. It does not tell whether the token was used.
func (s *Service) openMFA(raw string) (mfaClaims, error) {
	var c mfaClaims
	if err := s.openJSON(mfaTokenPrefix, mfaTokenAD, maxMFAToken, raw, &c); err != nil || c.User == "" || c.Method == "" {
		return mfaClaims{}, ErrInvalidToken
	}
	iat := time.Unix(c.Issued, 0)
	if now := s.now(); !now.Before(iat.Add(mfaTTL)) || iat.After(now.Add(time.Minute)) {
		return mfaClaims{}, ErrInvalidToken
	}
	return c, nil
}

// VerifyMFA completes a login with a TOTP or recovery code and starts
// its session.
func (s *Service) VerifyMFA(ctx context.Context, ip netip.Addr, in MFAVerify) (TokenResponse, error) {
	u, method, used, err := s.secondFactor(ctx, ip, in)
	if err != nil {
		return TokenResponse{}, err
	}
	resp, err := s.startSession(ctx, u, method, used)
	if errors.Is(err, store.ErrConflict) {
		return TokenResponse{}, ErrInvalidToken // the mfa_token was used already
	}
	return resp, err
}

// SignInMFA is VerifyMFA for the hosted pages: it starts a browser
// session.
func (s *Service) SignInMFA(ctx context.Context, ip netip.Addr, in MFAVerify) (BrowserSession, error) {
	u, method, used, err := s.secondFactor(ctx, ip, in)
	if err != nil {
		return BrowserSession{}, err
	}
	b, err := s.startBrowserSession(ctx, u, method, used)
	if errors.Is(err, store.ErrConflict) {
		return BrowserSession{}, ErrInvalidToken
	}
	return b, err
}

// secondFactor checks an MFA answer and returns the user, the session
// method ("pwd+otp") and the token as a used code for the session's write.
func (s *Service) secondFactor(ctx context.Context, ip netip.Addr, in MFAVerify) (store.User, string, store.AuthCode, error) {
	switch {
	case in.MFAToken == "":
		return store.User{}, "", store.AuthCode{}, invalid("mfa_token is required")
	case in.Code == "" && len(in.WebAuthn) == 0:
		return store.User{}, "", store.AuthCode{}, invalid("enter the code from your authenticator app, or a recovery code")
	}
	if err := s.limit(ctx, ratelimit.LoginIP, ipKey(ip)); err != nil {
		return store.User{}, "", store.AuthCode{}, err
	}
	c, err := s.openMFA(in.MFAToken)
	if err != nil {
		return store.User{}, "", store.AuthCode{}, err
	}
	u, err := s.store.GetUser(ctx, c.User)
	if errors.Is(err, store.ErrNotFound) {
		return store.User{}, "", store.AuthCode{}, ErrInvalidToken
	} else if err != nil {
		return store.User{}, "", store.AuthCode{}, err
	}
	var kind string
	if len(in.WebAuthn) > 0 {
		kind, err = s.checkMFAPasskey(ctx, u, in.MFAToken, in.WebAuthn)
	} else {
		kind, err = s.checkCode(ctx, ip, u, in.Code)
	}
	ev := store.AuditEvent{WorkspaceID: u.WorkspaceID, Actor: u.ID, Action: AuditMFASuccess, Target: u.ID, Method: c.Method + "+" + kind}
	if err != nil {
		ev.Action, ev.Method, ev.Details = AuditLoginFailure, c.Method, map[string]string{"reason": errorCode(err), "step": "mfa"}
	}
	s.observe(c.Method+"+mfa", err)
	s.audit(ctx, ip, ev)
	if err != nil {
		return store.User{}, "", store.AuthCode{}, err
	}
	used := store.AuthCode{Hash: token.Hash(in.MFAToken), UserID: u.ID, ExpiresAt: time.Unix(c.Issued, 0).Add(mfaTTL)}
	return u, c.Method + "+" + kind, used, nil
}

// checkCode checks a TOTP code against u's active TOTP factors, or a
// recovery code against u's unused ones, and spends it: a TOTP step and a
// recovery code are accepted once, on any replica. It returns the amr of
// the factor used. Every attempt counts against the per-user code limit.
func (s *Service) checkCode(ctx context.Context, ip netip.Addr, u store.User, raw string) (string, error) {
	if err := s.limitedIn(u.WorkspaceID, s.limit(ctx, ratelimit.MFACode, u.ID)); err != nil {
		return "", err
	}
	code := normalizeCode(raw)
	if code == "" || len(raw) > maxCode {
		return "", ErrInvalidCode
	}
	if isTOTPCode(code) {
		factors, err := s.store.ListFactors(ctx, u.ID)
		if err != nil {
			return "", err
		}
		for _, f := range factors {
			if f.Kind != store.FactorTOTP || f.ConfirmedAt == nil {
				continue
			}
			if err := s.useTOTP(ctx, u.ID, f, code); !errors.Is(err, ErrInvalidCode) {
				return factorOTP, err
			}
		}
		return "", ErrInvalidCode
	}
	if !isRecoveryCode(code) {
		return "", ErrInvalidCode
	}
	f, err := s.store.UseRecoveryCode(ctx, u.ID, s.recoveryHash(u.ID, code), s.now())
	if errors.Is(err, store.ErrNotFound) {
		return "", ErrInvalidCode
	} else if err != nil {
		return "", err
	}
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: u.WorkspaceID, Actor: u.ID, Action: AuditRecoveryUsed, Target: f.ID,
		Details: map[string]string{"remaining": strconv.Itoa(f.Remaining)}})
	s.mailRecoveryUsed(ctx, u, f.Remaining)
	return factorRecovery, nil
}

// useTOTP accepts code for TOTP factor f once: ErrInvalidCode for a wrong
// code or a step already used.
func (s *Service) useTOTP(ctx context.Context, userID string, f store.Factor, code string) error {
	secret, err := s.opt.Sealer.Open(f.Secret, []byte(f.ID))
	if err != nil {
		return err
	}
	now := s.now()
	step, ok := matchTOTP(string(secret), code, now)
	if !ok {
		return ErrInvalidCode
	}
	switch err := s.store.UseTOTPStep(ctx, userID, f.ID, step, stepExpiry(step), now); {
	case errors.Is(err, store.ErrConflict):
		return ErrInvalidCode // a replay, here or on another replica
	case errors.Is(err, store.ErrNotFound):
		return ErrInvalidCode // removed meanwhile
	default:
		return err
	}
}

// recoveryHash is what the store keeps of a recovery code: an HMAC under
// a key derived from the master key, bound to the user. The codes carry
// 50 bits, which a plain SHA-256 would not protect against an offline
// search of a stolen database; the key makes that search need the master
// key too.
func (s *Service) recoveryHash(userID, code string) []byte {
	m := hmac.New(sha256.New, token.DeriveKey(s.opt.RefreshKey, recoveryCodeHashKey))
	m.Write([]byte(userID + "\x00" + code))
	return m.Sum(nil)
}

// mailRecoveryUsed tells the person a recovery code was just used.
func (s *Service) mailRecoveryUsed(ctx context.Context, u store.User, remaining int) {
	if u.Email == "" {
		return
	}
	err := s.opt.Mailer.Send(ctx, mail.Message{To: u.Email, Subject: "A recovery code was used to sign in",
		Text: "Someone signed in to the account " + u.Email + " with one of its recovery codes just now. " +
			strconv.Itoa(remaining) + " unused codes are left.\n\n" +
			"If it was not you, reset your password and remove the account's second factors at once: " +
			strings.TrimRight(s.opt.LinkBase, "/") + "/dashboard/security\n"})
	if err != nil {
		s.log.ErrorContext(ctx, "cannot send mail", "purpose", "recovery_used", "user_id", u.ID, "err", err)
	}
}
