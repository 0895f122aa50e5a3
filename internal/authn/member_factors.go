package authn

import (
	"context"
	"net/netip"
	"strconv"
	"strings"

	"github.com/sigil-auth/sigil/internal/mail"
	"github.com/sigil-auth/sigil/internal/store"
)

// AuditFactorReset is an admin removing a member's second factors.
const AuditFactorReset = "factor.reset"

// HasSecondFactor reports whether a member's factor kinds include one
// that turns two-step verification on (recovery codes alone do not).
func (m Member) HasSecondFactor() bool {
	for _, k := range m.Factors {
		if k == store.FactorTOTP || k == store.FactorWebAuthn {
			return true
		}
	}
	return false
}

// ResetMemberFactors removes every second factor of member userID of
// workspace ws (a lost phone or security key): the workspace's owners
// and admins, or the instance admin, may; only an owner resets an
// owner's. It is audited and mailed to the member. Their sessions go
// on; their next sign-in is with the password alone (or, under
// require_mfa, leads them to add a factor).
func (s *Service) ResetMemberFactors(ctx context.Context, ip netip.Addr, p Principal, ws, userID string) error {
	target, err := s.memberToManage(ctx, p, ws, userID, "reset an owner's second factors")
	if err != nil {
		return err
	}
	n, err := s.store.DeleteFactors(ctx, userID)
	if err != nil {
		return err
	}
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: ws, Actor: p.Subject, Action: AuditFactorReset, Target: userID,
		Details: map[string]string{"removed": strconv.Itoa(n)}})
	s.mailFactorReset(ctx, target)
	return nil
}

// mailFactorReset tells a member an admin removed their second factors.
func (s *Service) mailFactorReset(ctx context.Context, u store.User) {
	if u.Email == "" {
		return
	}
	err := s.opt.Mailer.Send(ctx, mail.Message{To: u.Email, Subject: "Your two-step verification was reset",
		Text: "An admin of your workspace removed the second factors (passkeys, authenticator app, recovery codes) " +
			"of the account " + u.Email + " just now. You sign in with your password alone until you add one again: " +
			strings.TrimRight(s.opt.LinkBase, "/") + "/dashboard/security\n\nIf you did not ask for this, tell your workspace's admins.\n"})
	if err != nil {
		s.log.ErrorContext(ctx, "cannot send mail", "purpose", "factor_reset", "user_id", u.ID, "err", err)
	}
}
