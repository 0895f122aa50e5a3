package authn

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

// Instance admins: accounts the operator marks (`sigil admin grant`, or
// the first-run setup) whose browser sessions administer the instance on
// the dashboard: the workspace list and creating workspaces. On the JSON
// API the admin token stays the only instance-admin credential; see
// Principal.InstanceAdmin for why.

// canAdministerInstance allows the admin token, and a principal marked
// InstanceAdmin whose account still is one in the store (so a revocation
// applies to the very next action, whatever a replica has cached).
func (s *Service) canAdministerInstance(ctx context.Context, p Principal) error {
	if p.IsAdmin() {
		return nil
	}
	if !p.InstanceAdmin || p.Kind != KindUser {
		return ErrForbidden
	}
	u, err := s.store.GetUser(ctx, p.Subject)
	if errors.Is(err, store.ErrNotFound) {
		return ErrForbidden
	} else if err != nil {
		return err
	}
	if !u.InstanceAdmin {
		return ErrForbidden
	}
	return nil
}

// WorkspaceSummary is one row of the instance admin's workspace list.
type WorkspaceSummary struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Members   int       `json:"members"`
	APIKeys   int       `json:"api_keys"` // live ones: neither revoked nor expired
	CreatedAt time.Time `json:"created_at"`
}

// ListWorkspaces lists every workspace of the instance, newest first,
// with its member and live API-key counts (instance admins only).
func (s *Service) ListWorkspaces(ctx context.Context, p Principal) ([]WorkspaceSummary, error) {
	if err := s.canAdministerInstance(ctx, p); err != nil {
		return nil, err
	}
	stats, err := s.store.ListWorkspaceStats(ctx, s.now())
	if err != nil {
		return nil, err
	}
	out := make([]WorkspaceSummary, len(stats))
	for i, w := range stats {
		out[i] = WorkspaceSummary{ID: w.ID, Name: w.Name, Members: w.Members, APIKeys: w.APIKeys, CreatedAt: w.CreatedAt.UTC()}
	}
	return out, nil
}

// InstanceAdminChange is what SetInstanceAdmin did.
type InstanceAdminChange struct {
	UserID      string
	Email       string
	WorkspaceID string
	// Changed is false when the account already was (or was not) an
	// instance admin: nothing was written or audited.
	Changed bool
}

// operatorActor is the audit actor of the operator's commands, which act
// on the database directly rather than with a credential.
const operatorActor = "operator"

// SetInstanceAdmin makes an account an instance admin (admin true) or
// takes that away, for the operator's `sigil admin grant|revoke`: there
// is no principal, whoever can run it on the database may. account is an
// email (normalised; workspaceID picks among several workspaces' accounts
// with it) or a user id. The change is audited in the account's
// workspace.
func (s *Service) SetInstanceAdmin(ctx context.Context, account, workspaceID string, admin bool) (InstanceAdminChange, error) {
	u, err := s.findAccount(ctx, account, workspaceID)
	if err != nil {
		return InstanceAdminChange{}, err
	}
	changed := false
	u, err = s.store.UpdateUser(ctx, u.ID, func(x *store.User) error {
		changed = x.InstanceAdmin != admin
		x.InstanceAdmin = admin
		return nil
	})
	if err != nil {
		return InstanceAdminChange{}, err
	}
	if changed {
		action := AuditInstanceAdminGrant
		if !admin {
			action = AuditInstanceAdminRevoke
		}
		s.audit(ctx, netip.Addr{}, store.AuditEvent{WorkspaceID: u.WorkspaceID, Actor: operatorActor, Action: action,
			Target: u.ID, Details: map[string]string{"via": "sigil admin"}})
	}
	return InstanceAdminChange{UserID: u.ID, Email: u.Email, WorkspaceID: u.WorkspaceID, Changed: changed}, nil
}

// findAccount resolves an operator's account argument (see
// SetInstanceAdmin). Several accounts with one email and no workspaceID
// is a conflict naming their workspaces.
func (s *Service) findAccount(ctx context.Context, account, workspaceID string) (store.User, error) {
	account = strings.TrimSpace(account)
	if !strings.Contains(account, "@") {
		u, err := s.store.GetUser(ctx, account)
		if errors.Is(err, store.ErrNotFound) || (err == nil && workspaceID != "" && u.WorkspaceID != workspaceID) {
			return store.User{}, errorf(CodeNotFound, "no account has the user id %q", account)
		}
		return u, err
	}
	email, err := NormalizeEmail(account)
	if err != nil {
		return store.User{}, err
	}
	users, err := s.store.GetUsersByEmail(ctx, email)
	if err != nil {
		return store.User{}, err
	}
	if workspaceID != "" {
		users = slices.DeleteFunc(users, func(u store.User) bool { return u.WorkspaceID != workspaceID })
	}
	switch len(users) {
	case 0:
		return store.User{}, errorf(CodeNotFound, "no account uses %s", email)
	case 1:
		return users[0], nil
	}
	ws := make([]string, len(users))
	for i, u := range users {
		ws[i] = u.WorkspaceID
	}
	return store.User{}, errorf(CodeConflict, "%d accounts use %s, in workspaces %s; name the workspace",
		len(users), email, strings.Join(ws, ", "))
}
