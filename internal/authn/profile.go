package authn

import (
	"context"
	"errors"
	"net/netip"

	"github.com/sigil-auth/sigil/internal/password"
	"github.com/sigil-auth/sigil/internal/ratelimit"
	"github.com/sigil-auth/sigil/internal/store"
)

// Audit actions of the profile.
const (
	AuditPasswordChange   = "password.change"
	AuditVerificationSent = "email.verification_sent"
)

// Profile is what a person sees of their own account.
type Profile struct {
	UserID        string `json:"user_id"`
	Email         string `json:"email,omitempty"`
	EmailVerified bool   `json:"email_verified"`
	HasPassword   bool   `json:"has_password"`
	Role          string `json:"role"`
}

// me reads the user a user principal names.
func (s *Service) me(ctx context.Context, p Principal) (store.User, error) {
	if err := userOnly(p); err != nil {
		return store.User{}, err
	}
	u, err := s.store.GetUser(ctx, p.Subject)
	if errors.Is(err, store.ErrNotFound) {
		return u, ErrInvalidToken
	}
	return u, err
}

// GetProfile is the caller's own account.
func (s *Service) GetProfile(ctx context.Context, p Principal) (Profile, error) {
	u, err := s.me(ctx, p)
	if err != nil {
		return Profile{}, err
	}
	return Profile{UserID: u.ID, Email: u.Email, EmailVerified: u.EmailVerified, HasPassword: u.PasswordHash != "", Role: u.Role}, nil
}

// ChangePassword sets a new password after checking the current one
// (counted against the account's login limit, so it cannot be used to
// guess), and ends every other session of the person.
func (s *Service) ChangePassword(ctx context.Context, ip netip.Addr, p Principal, current, next string) error {
	u, err := s.me(ctx, p)
	if err != nil {
		return err
	}
	if u.PasswordHash == "" {
		return invalid("this account signs in without a password")
	}
	if err := s.limitedIn(u.WorkspaceID, s.limit(ctx, ratelimit.LoginAccount, u.Email)); err != nil {
		return err
	}
	if err := checkPassword(next); err != nil {
		return err
	}
	switch err := s.pw.Verify(ctx, u.PasswordHash, current); {
	case errors.Is(err, password.ErrMismatch):
		return errorf(CodeInvalidCredentials, "the current password is not right")
	case err != nil:
		return err
	}
	hash, err := s.pw.Hash(ctx, next)
	if err != nil {
		return err
	}
	if _, err := s.store.UpdateUser(ctx, u.ID, func(x *store.User) error { x.PasswordHash = hash; return nil }); err != nil {
		return err
	}
	sessions, err := s.store.ListSessions(ctx, u.ID, s.now())
	if err != nil {
		return err
	}
	for _, x := range sessions {
		if x.ID != p.SessionID {
			if err := s.endSession(ctx, u.WorkspaceID, x.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
	}
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: u.WorkspaceID, Actor: u.ID, Action: AuditPasswordChange, Target: u.ID})
	return nil
}

// SendVerification mails the person a new email-verification link (none
// when the address is verified already).
func (s *Service) SendVerification(ctx context.Context, ip netip.Addr, p Principal) error {
	u, err := s.me(ctx, p)
	if err != nil {
		return err
	}
	if u.Email == "" || u.EmailVerified {
		return nil
	}
	if err := s.limitedIn(u.WorkspaceID, s.limit(ctx, ratelimit.LoginAccount, u.Email)); err != nil {
		return err
	}
	s.sendLink(ctx, u, purposeVerify)
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: u.WorkspaceID, Actor: u.ID, Action: AuditVerificationSent, Target: u.ID})
	return nil
}
