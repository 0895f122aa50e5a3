package authn

import (
	"context"
	"errors"
	"net/netip"
	"strconv"

	"github.com/sigil-auth/sigil/internal/store"
)

// AuditMemberRemove is the audit action of removing a member.
const AuditMemberRemove = "member.remove"

// ErrLastOwner refuses what would leave a workspace without an owner.
var ErrLastOwner = &Error{Code: CodeConflict, Detail: "a workspace keeps at least one owner"}

// RemoveMember removes user userID from workspace ws. A user belongs to
// exactly one workspace, so removing the member deletes the account: its
// keyring, sessions (browser sessions too) and the API keys and JWT keys it
// created go with it, every replica forgets them at once, and their tokens
// are refused from then on. The email and user id are free again (a new
// invitation or the join code can bring the person back, as a new
// account); the audit log keeps what the user did.
//
// Owners and admins (and the instance admin) remove members, themselves
// included; only an owner removes an owner, and the last owner stays.
func (s *Service) RemoveMember(ctx context.Context, ip netip.Addr, p Principal, ws, userID string) error {
	if _, err := s.memberToManage(ctx, p, ws, userID, "remove an owner"); err != nil {
		return err
	}
	gone, err := s.store.DeleteUser(ctx, ws, userID)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, store.ErrConflict):
		return ErrLastOwner
	case err != nil:
		return err
	}
	ids := append(gone.SessionIDs, gone.APIKeyIDs...)
	for _, id := range gone.JWTKeyIDs {
		ids = append(ids, jwtKeyTag+id)
	}
	s.announce(ctx, ws, ids)
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: ws, Actor: p.Subject, Action: AuditMemberRemove, Target: userID,
		Details: map[string]string{"email": gone.User.Email, "role": gone.User.Role,
			"sessions": strconv.Itoa(len(gone.SessionIDs)), "api_keys": strconv.Itoa(len(gone.APIKeyIDs)),
			"jwt_keys": strconv.Itoa(len(gone.JWTKeyIDs))}})
	return nil
}

// actsAsOwner reports whether p may make, unmake or remove owners: the
// instance admin, or an owner of their workspace.
func (s *Service) actsAsOwner(ctx context.Context, p Principal) (bool, error) {
	if p.IsAdmin() {
		return true, nil
	}
	me, err := s.store.GetUser(ctx, p.Subject)
	if err != nil {
		return false, err
	}
	return me.Role == store.RoleOwner, nil
}

// memberToManage is member userID of workspace ws, for p to act on: p
// must manage the workspace, and only an owner (or the instance admin)
// acts on an owner ("only an owner can " + what).
func (s *Service) memberToManage(ctx context.Context, p Principal, ws, userID, what string) (store.User, error) {
	if err := s.canManage(ctx, p, ws); err != nil {
		return store.User{}, err
	}
	target, err := s.store.GetUser(ctx, userID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && target.WorkspaceID != ws) {
		return store.User{}, ErrNotFound
	} else if err != nil {
		return store.User{}, err
	}
	if target.Role == store.RoleOwner {
		if owner, err := s.actsAsOwner(ctx, p); err != nil {
			return store.User{}, err
		} else if !owner {
			return store.User{}, errorf(CodeForbidden, "only an owner can %s", what)
		}
	}
	return target, nil
}
