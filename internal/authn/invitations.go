package authn

import (
	"context"
	"errors"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sigil-auth/sigil/internal/mail"
	"github.com/sigil-auth/sigil/internal/ratelimit"
	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/token"
)

// Invitations by email: an owner or admin invites an address with a role;
// the mailed link (<link base>/signup?invite=<token>) lets its holder sign
// up once, into that workspace with that role, before it expires. The
// token is 256 random bits stored as its SHA-256, like every other mailed
// secret. Holding the link proves the mailbox, so the account's email
// starts verified.

// InvitationTTL is how long an invitation link works.
const InvitationTTL = 7 * 24 * time.Hour

// Audit actions of invitations.
const (
	AuditInvitationCreate = "invitation.create"
	AuditInvitationRevoke = "invitation.revoke"
	AuditInvitationAccept = "invitation.accept"
)

// Refusals of an invitation link. They say what became of it: the token
// is the secret, so its holder learns nothing they could not by asking.
var (
	ErrInvalidInvitation = &Error{Code: CodeInvalidInvitation, Detail: "this invitation link is not valid"}
	ErrInvitationUsed    = &Error{Code: CodeInvalidInvitation, Detail: "this invitation was already used"}
	ErrInvitationRevoked = &Error{Code: CodeInvalidInvitation, Detail: "this invitation was withdrawn"}
	ErrInvitationExpired = &Error{Code: CodeInvalidInvitation, Detail: "this invitation has expired"}
)

// Invitation states, as InvitationView.Status says them.
const (
	InvitationPending  = "pending"
	InvitationAccepted = "accepted"
	InvitationRevoked  = "revoked"
	InvitationExpired  = "expired"
)

// InviteInput is POST /v1/workspaces/{id}/invitations.
type InviteInput struct {
	Email string `json:"email"`
	Role  string `json:"role"` // default member
}

// InvitationView is an invitation as listed. The token is never shown:
// it travels only by mail.
type InvitationView struct {
	ID          string     `json:"id"`
	WorkspaceID string     `json:"workspace_id"`
	Email       string     `json:"email"`
	Role        string     `json:"role"`
	Status      string     `json:"status"`
	InvitedBy   string     `json:"invited_by,omitempty"`
	CreatedAt   time.Time  `json:"created_at"`
	ExpiresAt   time.Time  `json:"expires_at"`
	AcceptedAt  *time.Time `json:"accepted_at,omitempty"`
	AcceptedBy  string     `json:"accepted_by,omitempty"`
	RevokedAt   *time.Time `json:"revoked_at,omitempty"`
}

// invitationStatus is inv's state at now.
func invitationStatus(inv store.Invitation, now time.Time) string {
	switch {
	case inv.AcceptedAt != nil:
		return InvitationAccepted
	case inv.RevokedAt != nil:
		return InvitationRevoked
	case !now.Before(inv.ExpiresAt):
		return InvitationExpired
	}
	return InvitationPending
}

func (s *Service) invitationView(inv store.Invitation) InvitationView {
	utc := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := t.UTC()
		return &u
	}
	return InvitationView{ID: inv.ID, WorkspaceID: inv.WorkspaceID, Email: inv.Email, Role: inv.Role,
		Status: invitationStatus(inv, s.now()), InvitedBy: inv.InvitedBy, CreatedAt: inv.CreatedAt.UTC(),
		ExpiresAt: inv.ExpiresAt.UTC(), AcceptedAt: utc(inv.AcceptedAt), AcceptedBy: inv.AcceptedBy,
		RevokedAt: utc(inv.RevokedAt)}
}

// Invite mails an invitation to join workspace ws. Owners and admins (and
// the instance admin) invite; only an owner invites an owner. An address
// that already has an account in this workspace, or a pending invitation
// to it, is a conflict: the caller manages the workspace's members, so
// saying so reveals nothing (accounts in other workspaces are not looked
// at). Sending counts against the same limits as the other mails (the
// client IP and the address).
func (s *Service) Invite(ctx context.Context, ip netip.Addr, p Principal, ws string, in InviteInput) (InvitationView, error) {
	if err := s.canManage(ctx, p, ws); err != nil {
		return InvitationView{}, err
	}
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		return InvitationView{}, err
	}
	role, err := s.grantableRole(ctx, p, in.Role)
	if err != nil {
		return InvitationView{}, err
	}
	if err := s.limit(ctx, ratelimit.LoginIP, ipKey(ip)); err != nil {
		return InvitationView{}, err
	}
	if err := s.limit(ctx, ratelimit.LoginAccount, email); err != nil {
		return InvitationView{}, err
	}
	if err := s.checkInvitee(ctx, ws, email); err != nil {
		return InvitationView{}, err
	}
	w, err := s.workspace(ctx, ws)
	if errors.Is(err, store.ErrNotFound) {
		return InvitationView{}, ErrNotFound
	} else if err != nil {
		return InvitationView{}, err
	}
	secret, now := token.NewSecret(), s.now()
	inv := store.Invitation{ID: newID("inv"), WorkspaceID: ws, Email: email, Role: role, Hash: token.Hash(secret),
		CreatedAt: now, ExpiresAt: now.Add(InvitationTTL)}
	if p.Kind == KindUser {
		inv.InvitedBy = p.Subject
	}
	if err := s.store.CreateInvitation(ctx, inv); err != nil {
		return InvitationView{}, err
	}
	link := strings.TrimRight(s.opt.LinkBase, "/") + "/signup?invite=" + url.QueryEscape(secret)
	if err := s.opt.Mailer.Send(ctx, mail.InviteMessage(email, BrandingOf(w).DisplayName, role, link, InvitationTTL)); err != nil {
		// No mail, no invitation: withdraw it, so that sending again is
		// not refused as a pending duplicate.
		s.log.ErrorContext(ctx, "cannot send invitation mail", "invitation", inv.ID, "err", err)
		if _, rerr := s.store.RevokeInvitation(ctx, inv.ID, now); rerr != nil {
			s.log.ErrorContext(ctx, "cannot withdraw unsent invitation", "invitation", inv.ID, "err", rerr)
		}
		return InvitationView{}, &Error{Code: CodeUnavailable, Detail: "the invitation mail could not be sent; try again shortly",
			RetryAfter: ErrUnavailable.RetryAfter}
	}
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: ws, Actor: p.Subject, Action: AuditInvitationCreate, Target: inv.ID,
		Details: map[string]string{"email": email, "role": role}})
	return s.invitationView(inv), nil
}

// grantableRole checks an invitation's role (default member): only an
// owner, or the instance admin, hands out ownership.
func (s *Service) grantableRole(ctx context.Context, p Principal, role string) (string, error) {
	if role == "" {
		role = store.RoleMember
	}
	if !slices.Contains([]string{store.RoleOwner, store.RoleAdmin, store.RoleMember}, role) {
		return "", invalid("role must be owner, admin or member")
	}
	if role != store.RoleOwner {
		return role, nil
	}
	owner, err := s.actsAsOwner(ctx, p)
	if err != nil {
		return "", err
	}
	if !owner {
		return "", errorf(CodeForbidden, "only an owner can invite an owner")
	}
	return role, nil
}

// checkInvitee refuses an address that has an account in workspace ws or
// a pending invitation to it.
func (s *Service) checkInvitee(ctx context.Context, ws, email string) error {
	users, err := s.store.GetUsersByEmail(ctx, email)
	if err != nil {
		return err
	}
	if slices.ContainsFunc(users, func(u store.User) bool { return u.WorkspaceID == ws }) {
		return errorf(CodeEmailExists, "%s is already a member of this workspace", email)
	}
	list, err := s.store.ListInvitations(ctx, ws)
	if err != nil {
		return err
	}
	now := s.now()
	if slices.ContainsFunc(list, func(inv store.Invitation) bool {
		return inv.Email == email && invitationStatus(inv, now) == InvitationPending
	}) {
		return errorf(CodeConflict, "%s already has a pending invitation; withdraw it to send a new one", email)
	}
	return nil
}

// ListInvitations lists workspace ws's invitations in every state, newest
// first (owners, admins, the instance admin).
func (s *Service) ListInvitations(ctx context.Context, p Principal, ws string) ([]InvitationView, error) {
	if err := s.canManage(ctx, p, ws); err != nil {
		return nil, err
	}
	list, err := s.store.ListInvitations(ctx, ws)
	if err != nil {
		return nil, err
	}
	out := make([]InvitationView, len(list))
	for i, inv := range list {
		out[i] = s.invitationView(inv)
	}
	return out, nil
}

// RevokeInvitation withdraws an invitation of workspace ws: its link stops
// working. Withdrawing one already withdrawn is no error; an accepted one
// is a conflict (remove the member instead).
func (s *Service) RevokeInvitation(ctx context.Context, ip netip.Addr, p Principal, ws, id string) error {
	if err := s.canManage(ctx, p, ws); err != nil {
		return err
	}
	inv, err := s.store.GetInvitation(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && inv.WorkspaceID != ws) {
		return ErrNotFound
	} else if err != nil {
		return err
	}
	if _, err := s.store.RevokeInvitation(ctx, id, s.now()); errors.Is(err, store.ErrConflict) {
		if cur, gerr := s.store.GetInvitation(ctx, id); gerr == nil && cur.AcceptedAt == nil {
			return nil // withdrawn already
		}
		return errorf(CodeConflict, "this invitation was already accepted; remove the member instead")
	} else if err != nil {
		return err
	}
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: ws, Actor: p.Subject, Action: AuditInvitationRevoke, Target: id,
		Details: map[string]string{"email": inv.Email}})
	return nil
}

// InvitationInfo is what the sign-up page shows of an invitation.
type InvitationInfo struct {
	Email     string
	Role      string
	Workspace Branding
	ExpiresAt time.Time
}

// OpenInvitation reads the invitation a link's token names, for the
// sign-up page: a link that no longer works says why. Counted against the
// client IP's limit, like the other link pages.
func (s *Service) OpenInvitation(ctx context.Context, ip netip.Addr, secret string) (InvitationInfo, error) {
	if err := s.limit(ctx, ratelimit.LoginIP, ipKey(ip)); err != nil {
		return InvitationInfo{}, err
	}
	inv, err := s.pendingInvitation(ctx, secret)
	if err != nil {
		return InvitationInfo{}, err
	}
	w, err := s.workspace(ctx, inv.WorkspaceID)
	if err != nil {
		return InvitationInfo{}, err
	}
	return InvitationInfo{Email: inv.Email, Role: inv.Role, Workspace: BrandingOf(w), ExpiresAt: inv.ExpiresAt.UTC()}, nil
}

// pendingInvitation is the invitation of a link's token, if it still
// works.
func (s *Service) pendingInvitation(ctx context.Context, secret string) (store.Invitation, error) {
	if secret == "" || len(secret) > 128 {
		return store.Invitation{}, ErrInvalidInvitation
	}
	inv, err := s.store.GetInvitationByHash(ctx, token.Hash(secret))
	if errors.Is(err, store.ErrNotFound) {
		return inv, ErrInvalidInvitation
	} else if err != nil {
		return inv, err
	}
	switch invitationStatus(inv, s.now()) {
	case InvitationAccepted:
		return inv, ErrInvitationUsed
	case InvitationRevoked:
		return inv, ErrInvitationRevoked
	case InvitationExpired:
		return inv, ErrInvitationExpired
	}
	return inv, nil
}

// signupInvited creates the account of a sign-up through an invitation
// (the client IP's limit already counted): the invited address, verified,
// in the invitation's workspace with its role and the workspace's default
// scopes. Accepting and creating are one store write, so of two sign-ups
// with one link exactly one gets an account.
func (s *Service) signupInvited(ctx context.Context, ip netip.Addr, in SignupInput) (store.User, error) {
	if in.JoinCode != "" {
		return store.User{}, invalid("send join_code or invite, not both")
	}
	if err := checkPassword(in.Password); err != nil {
		return store.User{}, err
	}
	inv, err := s.pendingInvitation(ctx, in.Invite)
	if err != nil {
		return store.User{}, err
	}
	if strings.TrimSpace(in.Email) != "" {
		if email, err := NormalizeEmail(in.Email); err != nil || email != inv.Email {
			return store.User{}, invalid("email must be the invited address, %s", inv.Email)
		}
	}
	w, err := s.workspace(ctx, inv.WorkspaceID)
	if err != nil {
		return store.User{}, err
	}
	hash, err := s.pw.Hash(ctx, in.Password)
	if err != nil {
		return store.User{}, err
	}
	now := s.now()
	u := store.User{ID: newID("usr"), WorkspaceID: inv.WorkspaceID, Role: inv.Role, Scopes: w.DefaultScopes,
		Email: inv.Email, PasswordHash: hash, EmailVerified: true, CreatedAt: now}
	u, err = s.store.AcceptInvitation(ctx, inv.ID, u, now)
	if errors.Is(err, store.ErrConflict) {
		// Another sign-up took the invitation first, it was withdrawn or
		// expired meanwhile, or the address got an account another way.
		if _, err := s.pendingInvitation(ctx, in.Invite); err != nil {
			return store.User{}, err
		}
		return store.User{}, ErrEmailExists
	} else if err != nil {
		return store.User{}, err
	}
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: u.WorkspaceID, Actor: u.ID, Action: AuditSignup, Target: u.ID, Method: MethodPwd,
		Details: map[string]string{"invitation": inv.ID}})
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: u.WorkspaceID, Actor: u.ID, Action: AuditInvitationAccept, Target: inv.ID,
		Details: map[string]string{"email": inv.Email, "role": u.Role}})
	return u, nil
}
