package authn

import (
	"context"
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sigil-auth/sigil/internal/mail"
	"github.com/sigil-auth/sigil/internal/password"
	"github.com/sigil-auth/sigil/internal/ratelimit"
	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/token"
)

// One-time token lifetimes and purposes.
const (
	resetTTL      = time.Hour
	verifyTTL     = 24 * time.Hour
	purposeReset  = "reset"
	purposeVerify = "verify"
	// maxCandidates bounds how many accounts one email may be checked
	// against in one login (the same email in several workspaces).
	maxCandidates = 5
)

// ErrEmailExists is a signup with an email already in that workspace.
var ErrEmailExists = &Error{Code: CodeEmailExists, Detail: "that email already has an account in this workspace"}

// NormalizeEmail trims and lower-cases an email and checks its shape.
func NormalizeEmail(e string) (string, error) {
	e = strings.ToLower(strings.TrimSpace(e))
	at := strings.LastIndexByte(e, '@')
	if e == "" {
		return "", invalid("email is required")
	}
	if len(e) > 254 || at < 1 || at == len(e)-1 || strings.ContainsAny(e, " \t\r\n<>,;\"") {
		return "", invalid("email is not a valid address")
	}
	return e, nil
}

// checkPassword applies API.md §4's length rule (in characters).
func checkPassword(pw string) error {
	if n := utf8.RuneCountInString(pw); n < 8 || n > 256 {
		return invalid("password must be 8 to 256 characters")
	}
	return nil
}

// SignupInput is POST /v1/auth/signup.
type SignupInput struct {
	Email    string `json:"email"`
	Password string `json:"password"`
	JoinCode string `json:"join_code"`
	// Invite is an invitation link's token: instead of the join code, it
	// names the workspace, the role and the email (Email may be left out).
	Invite string `json:"invite"`
}

// Signup creates a password user in the join code's workspace and starts
// a session; a verification mail goes out in the background.
func (s *Service) Signup(ctx context.Context, ip netip.Addr, in SignupInput) (TokenResponse, error) {
	u, err := s.signup(ctx, ip, in)
	if err != nil {
		return TokenResponse{}, err
	}
	return s.startSession(ctx, u, MethodPwd)
}

// signup creates the account of a sign-up (API or hosted page).
func (s *Service) signup(ctx context.Context, ip netip.Addr, in SignupInput) (store.User, error) {
	if err := s.limit(ctx, ratelimit.LoginIP, ipKey(ip)); err != nil {
		return store.User{}, err
	}
	if in.Invite != "" {
		return s.signupInvited(ctx, ip, in)
	}
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		return store.User{}, err
	}
	if err := checkPassword(in.Password); err != nil {
		return store.User{}, err
	}
	ws, err := s.joinCodeWorkspace(ctx, in.JoinCode)
	if err != nil {
		return store.User{}, err
	}
	hash, err := s.pw.Hash(ctx, in.Password)
	if err != nil {
		return store.User{}, err
	}
	u := store.User{ID: newID("usr"), WorkspaceID: ws.ID, Role: store.RoleMember, Scopes: ws.DefaultScopes,
		Email: email, PasswordHash: hash, CreatedAt: s.now()}
	u, err = s.store.CreateUser(ctx, u, nil)
	if errors.Is(err, store.ErrConflict) {
		return store.User{}, ErrEmailExists
	} else if err != nil {
		return store.User{}, err
	}
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: ws.ID, Actor: u.ID, Action: AuditSignup, Target: u.ID, Method: MethodPwd})
	s.sendLink(ctx, u, purposeVerify)
	return u, nil
}

// PasswordLogin is the email form of POST /v1/auth/login.
type PasswordLogin struct {
	Email       string `json:"email"`
	Password    string `json:"password"`
	WorkspaceID string `json:"workspace_id"`
}

// LoginPassword authenticates by email and password. Unknown email and
// wrong password are the same error, and cost the same: an unknown email
// is verified against a decoy hash. A person with a second factor gets an
// *MFARequired error instead of tokens, to complete with VerifyMFA.
func (s *Service) LoginPassword(ctx context.Context, ip netip.Addr, in PasswordLogin) (TokenResponse, error) {
	u, err := s.authPassword(ctx, ip, in)
	if err != nil {
		return TokenResponse{}, err
	}
	if ch, err := s.mfaChallenge(ctx, u, MethodPwd); err != nil {
		return TokenResponse{}, err
	} else if ch != nil {
		return TokenResponse{}, ch
	}
	if err := s.checkEnrolled(ctx, u); err != nil {
		return TokenResponse{}, err
	}
	return s.startSession(ctx, u, MethodPwd)
}

// authPassword checks an email and password, with metrics and audit, and
// returns the account.
func (s *Service) authPassword(ctx context.Context, ip netip.Addr, in PasswordLogin) (store.User, error) {
	u, err := s.loginPassword(ctx, ip, in)
	s.observe(MethodPwd, err)
	ev := store.AuditEvent{Action: AuditLoginSuccess, Method: MethodPwd, Actor: u.ID, Target: u.ID, WorkspaceID: u.WorkspaceID}
	if err != nil {
		// u, if set, is the one account the failure concerns: its
		// workspace's admins see attacks on it.
		// Only an address goes to the log: a password typed into the
		// email field by mistake must not.
		email, _ := NormalizeEmail(in.Email)
		ev.Action, ev.Actor, ev.Details = AuditLoginFailure, "", map[string]string{"email": email, "reason": errorCode(err)}
	}
	s.audit(ctx, ip, ev)
	if err != nil {
		return store.User{}, err
	}
	return u, nil
}

// loginPassword returns the account that logged in; on a wrong password
// for exactly one account it returns that account with the error, for the
// audit trail only.
func (s *Service) loginPassword(ctx context.Context, ip netip.Addr, in PasswordLogin) (store.User, error) {
	if err := s.limit(ctx, ratelimit.LoginIP, ipKey(ip)); err != nil {
		return store.User{}, err
	}
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		return store.User{}, err
	}
	if in.Password == "" {
		return store.User{}, invalid("password is required")
	}
	if err := s.limit(ctx, ratelimit.LoginAccount, email); err != nil {
		return store.User{}, err
	}
	users, err := s.store.GetUsersByEmail(ctx, email)
	if err != nil {
		return store.User{}, err
	}
	var candidates []store.User
	for _, u := range users {
		if (in.WorkspaceID == "" || u.WorkspaceID == in.WorkspaceID) && u.PasswordHash != "" && len(candidates) < maxCandidates {
			candidates = append(candidates, u)
		}
	}
	if len(candidates) == 0 {
		_ = s.pw.Verify(ctx, "", in.Password) // decoy: same cost as a real check
		return store.User{}, ErrInvalidCredentials
	}
	for _, u := range candidates {
		switch err := s.pw.Verify(ctx, u.PasswordHash, in.Password); {
		case err == nil:
			s.upgradeHash(ctx, u, in.Password)
			return u, nil
		case !errors.Is(err, password.ErrMismatch):
			s.log.ErrorContext(ctx, "stored password hash unusable", "user_id", u.ID, "err", err)
		}
	}
	if len(candidates) == 1 {
		return candidates[0], ErrInvalidCredentials
	}
	return store.User{}, ErrInvalidCredentials
}

// upgradeHash rehashes a password stored with outdated parameters.
func (s *Service) upgradeHash(ctx context.Context, u store.User, pw string) {
	if !s.pw.NeedsRehash(u.PasswordHash) {
		return
	}
	hash, err := s.pw.Hash(ctx, pw)
	if err == nil {
		_, err = s.store.UpdateUser(ctx, u.ID, func(x *store.User) error { x.PasswordHash = hash; return nil })
	}
	if err != nil {
		s.log.WarnContext(ctx, "cannot upgrade password hash", "user_id", u.ID, "err", err)
	}
}

// ForgotPassword mails a reset link to every account with that email. It
// answers the same whether or not one exists, and does the lookup and
// sending in the background so the answer's timing says nothing either.
func (s *Service) ForgotPassword(ctx context.Context, ip netip.Addr, email string) error {
	if err := s.limit(ctx, ratelimit.LoginIP, ipKey(ip)); err != nil {
		return err
	}
	e, err := NormalizeEmail(email)
	if err != nil {
		return err
	}
	if err := s.limit(ctx, ratelimit.LoginAccount, e); err != nil {
		return err
	}
	bg := context.WithoutCancel(ctx)
	go func() {
		users, err := s.store.GetUsersByEmail(bg, e)
		if err != nil {
			s.log.ErrorContext(bg, "password reset lookup failed", "err", err)
			return
		}
		for _, u := range users {
			s.audit(bg, ip, store.AuditEvent{WorkspaceID: u.WorkspaceID, Action: AuditPasswordForgot, Target: u.ID})
			s.sendLink(bg, u, purposeReset)
		}
	}()
	return nil
}

// sendLink creates a one-time token for u and mails its link.
func (s *Service) sendLink(ctx context.Context, u store.User, purpose string) {
	secret := token.NewSecret()
	ttl, path, msg := resetTTL, "/reset-password", mail.ResetMessage
	if purpose == purposeVerify {
		ttl, path, msg = verifyTTL, "/verify-email", mail.VerifyMessage
	}
	now := s.now()
	err := s.store.CreateOneTimeToken(ctx, store.OneTimeToken{Hash: token.Hash(secret), UserID: u.ID, Purpose: purpose,
		ExpiresAt: now.Add(ttl), CreatedAt: now})
	if err == nil {
		link := strings.TrimRight(s.opt.LinkBase, "/") + path + "?token=" + url.QueryEscape(secret)
		err = s.opt.Mailer.Send(ctx, msg(u.Email, link, ttl))
	}
	if err != nil {
		s.log.ErrorContext(ctx, "cannot send mail", "purpose", purpose, "user_id", u.ID, "err", err)
	}
}

// consume takes a one-time token of purpose, or fails with invalid_token.
func (s *Service) consume(ctx context.Context, secret, purpose string) (store.OneTimeToken, error) {
	if secret == "" || len(secret) > 128 {
		return store.OneTimeToken{}, ErrInvalidToken
	}
	t, err := s.store.ConsumeOneTimeToken(ctx, token.Hash(secret))
	if errors.Is(err, store.ErrNotFound) {
		return t, ErrInvalidToken
	} else if err != nil {
		return t, err
	}
	if t.Purpose != purpose || !s.now().Before(t.ExpiresAt) {
		return t, ErrInvalidToken
	}
	return t, nil
}

// ResetInput is POST /v1/auth/password/reset.
type ResetInput struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

// ResetPassword sets a new password with a reset token and ends every
// session of the user.
func (s *Service) ResetPassword(ctx context.Context, ip netip.Addr, in ResetInput) error {
	if err := s.limit(ctx, ratelimit.LoginIP, ipKey(ip)); err != nil {
		return err
	}
	if err := checkPassword(in.Password); err != nil {
		return err
	}
	t, err := s.consume(ctx, in.Token, purposeReset)
	if err != nil {
		return err
	}
	hash, err := s.pw.Hash(ctx, in.Password)
	if err != nil {
		return err
	}
	u, err := s.store.UpdateUser(ctx, t.UserID, func(u *store.User) error {
		u.PasswordHash, u.EmailVerified = hash, true // the mail arrived: the address works
		return nil
	})
	if err != nil {
		return err
	}
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: u.WorkspaceID, Actor: u.ID, Action: AuditPasswordReset, Target: u.ID})
	return s.endUserSessions(ctx, u.WorkspaceID, u.ID)
}

// VerifyEmail marks the user's email verified.
func (s *Service) VerifyEmail(ctx context.Context, ip netip.Addr, secret string) error {
	if err := s.limit(ctx, ratelimit.LoginIP, ipKey(ip)); err != nil {
		return err
	}
	t, err := s.consume(ctx, secret, purposeVerify)
	if err != nil {
		return err
	}
	u, err := s.store.UpdateUser(ctx, t.UserID, func(u *store.User) error { u.EmailVerified = true; return nil })
	if err != nil {
		return err
	}
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: u.WorkspaceID, Actor: u.ID, Action: AuditEmailVerified, Target: u.ID})
	return nil
}

// errorCode is err's code for audit details.
func errorCode(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return string(e.Code)
	}
	return "internal"
}
