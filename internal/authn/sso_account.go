package authn

import (
	"cmp"
	"context"
	"errors"
	"net/netip"
	"strings"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

// ssoIdentity is who an IdP says the person is.
type ssoIdentity struct {
	Subject       string
	Email         string
	EmailVerified bool
	Name          string
	Groups        []string
}

// maxSubject bounds an IdP subject (OIDC allows 255 ASCII characters;
// Entra's tid/oid pair is 73).
const maxSubject = 512

// ssoAccount finds the account of an IdP's person, in this order:
//
//  1. the account already linked to (connection, subject): stable across
//     sign-ins and email changes at the IdP;
//  2. an account of the workspace with the same email, linked now only
//     if both the IdP and Sigil mark that email verified — linking on an
//     unverified or absent email_verified would let anyone who can set an
//     email at some IdP take over the account that owns it — and only if
//     it is a member's: an owner's or admin's account is never linked, as
//     any admin can add a connection to an IdP of their own;
//  3. a new account in the connection's workspace (just-in-time), with
//     the connection's default role (or a role its group mapping gives)
//     and the workspace's default scopes.
func (s *Service) ssoAccount(ctx context.Context, ip netip.Addr, c connection, id ssoIdentity) (store.User, error) {
	if id.Subject == "" || len(id.Subject) > maxSubject {
		return store.User{}, ssoFailure("subject", "the identity provider sent no usable subject")
	}
	id.Email = strings.ToLower(strings.TrimSpace(id.Email))
	if len(id.Email) > 320 {
		id.Email = ""
	}
	id.Name = clip(id.Name, 200)
	for attempt := 0; ; attempt++ {
		u, err := s.linkedAccount(ctx, c, id)
		if !errors.Is(err, store.ErrNotFound) {
			return u, err
		}
		u, err = s.linkOrProvision(ctx, ip, c, id)
		if errors.Is(err, store.ErrConflict) && attempt == 0 {
			continue // a concurrent first sign-in linked it: read it again
		}
		return u, err
	}
}

// linkedAccount is step 1; ErrNotFound when no account is linked.
func (s *Service) linkedAccount(ctx context.Context, c connection, id ssoIdentity) (store.User, error) {
	ident, u, err := s.store.GetIdentityUser(ctx, c.ID, id.Subject)
	if err != nil {
		return store.User{}, err
	}
	if u.WorkspaceID != c.WorkspaceID {
		return store.User{}, ssoFailure("workspace", "this account belongs to another workspace")
	}
	// LastLoginAt to the minute, as API keys' last use: a returning
	// person's sign-in writes only when the email changed or a minute passed.
	if now := s.now(); ident.Email != id.Email || (s.touched.due(c.ID+"/"+id.Subject, now) && now.Sub(ident.LastLoginAt) >= time.Minute) {
		if err := s.store.TouchIdentity(ctx, c.ID, id.Subject, id.Email, s.now()); err != nil && !errors.Is(err, store.ErrNotFound) {
			return store.User{}, err
		}
	}
	// The name kept with the identity stands in when the IdP sends none
	// now (Apple sends it on the first sign-in only).
	return s.nameAccount(ctx, u, cmp.Or(id.Name, clip(ident.Name, 200))), nil
}

// nameAccount gives u the IdP's name if it has none (a linked account, or
// one made before names were kept). The name is for display: a failed
// write is logged, and the sign-in goes on; the next one tries again.
func (s *Service) nameAccount(ctx context.Context, u store.User, name string) store.User {
	if u.Name != "" || name == "" {
		return u
	}
	named, err := s.store.UpdateUser(ctx, u.ID, func(v *store.User) error {
		if v.Name == "" {
			v.Name = name
		}
		return nil
	})
	if err != nil {
		s.log.WarnContext(ctx, "cannot keep the identity provider's name", "user", u.ID, "err", err)
		return u
	}
	return named
}

// linkOrProvision is steps 2 and 3.
func (s *Service) linkOrProvision(ctx context.Context, ip netip.Addr, c connection, id ssoIdentity) (store.User, error) {
	now := s.now()
	ident := store.Identity{ConnectionID: c.ID, Subject: id.Subject, Email: id.Email, Name: id.Name,
		CreatedAt: now, LastLoginAt: now}
	if id.Email != "" {
		existing, err := s.sameEmail(ctx, c.WorkspaceID, id.Email)
		if err != nil {
			return store.User{}, err
		}
		if existing != nil {
			if !id.EmailVerified || !existing.EmailVerified {
				return store.User{}, ssoFailure("link_unverified", "an account with this email already exists here; "+
					"sign in to it the way you usually do (it can only be joined to single sign-on when both sides have verified the email)")
			}
			if existing.Role == store.RoleOwner || existing.Role == store.RoleAdmin {
				// Any admin can add a connection to an IdP they run, which
				// can vouch for any email: linking would let an admin sign
				// in as the owner or a fellow admin.
				return store.User{}, ssoFailure("link_privileged", "an owner or admin account with this email already exists here; "+
					"it is not joined to single sign-on automatically: sign in to it the way you usually do")
			}
			ident.UserID = existing.ID
			if err := s.store.LinkIdentity(ctx, ident); err != nil {
				return store.User{}, err
			}
			named := s.nameAccount(ctx, *existing, id.Name)
			existing = &named
			s.audit(ctx, ip, store.AuditEvent{WorkspaceID: c.WorkspaceID, Actor: existing.ID, Action: AuditSSOLink,
				Target: c.ID, Method: MethodSSO})
			return *existing, nil
		}
	}
	ws, err := s.workspace(ctx, c.WorkspaceID)
	if err != nil {
		return store.User{}, err
	}
	u := store.User{ID: newID("usr"), WorkspaceID: c.WorkspaceID, Role: roleFor(c, id.Groups), Scopes: ws.DefaultScopes,
		Email: id.Email, EmailVerified: id.Email != "" && id.EmailVerified, CreatedAt: now, Name: ident.Name}
	ident.UserID = u.ID
	u, err = s.store.CreateIdentityUser(ctx, u, ident)
	if err != nil {
		return store.User{}, err
	}
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: c.WorkspaceID, Actor: u.ID, Action: AuditSSOProvided, Target: c.ID,
		Method: MethodSSO, Details: map[string]string{"role": u.Role}})
	return u, nil
}

// sameEmail is the workspace's account with that email, if any.
func (s *Service) sameEmail(ctx context.Context, ws, email string) (*store.User, error) {
	users, err := s.store.GetUsersByEmail(ctx, email)
	if err != nil {
		return nil, err
	}
	for _, u := range users {
		if u.WorkspaceID == ws {
			return &u, nil
		}
	}
	return nil, nil
}

// roleFor is the role a new account gets: admin if any of its groups
// maps to admin, else member if one maps to member, else the default.
func roleFor(c connection, groups []string) string {
	role := ""
	for _, g := range groups {
		switch c.cfg.GroupRoles[g] {
		case store.RoleAdmin:
			return store.RoleAdmin
		case store.RoleMember:
			role = store.RoleMember
		}
	}
	if role == "" {
		role = c.DefaultRole
	}
	if role == "" {
		role = store.RoleMember
	}
	return role
}
