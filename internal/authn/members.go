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

// Member is one entry of GET /v1/workspaces/{id}/members.
type Member struct {
	UserID    string    `json:"user_id"`
	Email     string    `json:"email,omitempty"`
	Role      string    `json:"role"`
	Scopes    []string  `json:"scopes"`
	CreatedAt time.Time `json:"created_at"`
	// Factors are the kinds of the member's active second factors
	// ("recovery", "totp", "webauthn"), for admins to see who has one.
	Factors []string `json:"factors"`
}

func memberOf(u store.User) Member {
	sc := u.Scopes
	if sc == nil {
		sc = []string{}
	}
	return Member{UserID: u.ID, Email: u.Email, Role: u.Role, Scopes: sc, CreatedAt: u.CreatedAt.UTC(), Factors: []string{}}
}

// ListMembers lists a workspace's members (its admins and the instance
// admin), newest first, after the user id cursor.
func (s *Service) ListMembers(ctx context.Context, p Principal, ws, after string, limit int) ([]Member, error) {
	if err := s.canManage(ctx, p, ws); err != nil {
		return nil, err
	}
	users, err := s.store.ListUsers(ctx, ws, after, limit)
	if errors.Is(err, store.ErrNotFound) {
		return nil, invalid("cursor is not valid")
	} else if err != nil {
		return nil, err
	}
	kinds, err := s.store.ListFactorKinds(ctx, ws)
	if err != nil {
		return nil, err
	}
	out := make([]Member, len(users))
	for i, u := range users {
		out[i] = memberOf(u)
		if k, ok := kinds[u.ID]; ok {
			out[i].Factors = k
		}
	}
	return out, nil
}

// MemberPatch is PATCH /v1/workspaces/{id}/members/{user}.
type MemberPatch struct {
	Role   *string   `json:"role"`
	Scopes *[]string `json:"scopes"`
}

// UpdateMember changes a member's role or scopes. Only an owner (or the
// instance admin) makes or unmakes owners, and the last owner stays one.
// New scopes apply to sessions started from then on, and at once to the
// API keys and JWT keys the member created (rescopeCredentials).
func (s *Service) UpdateMember(ctx context.Context, ip netip.Addr, p Principal, ws, userID string, in MemberPatch) (Member, error) {
	if err := s.canManage(ctx, p, ws); err != nil {
		return Member{}, err
	}
	actorIsOwner, err := s.actsAsOwner(ctx, p)
	if err != nil {
		return Member{}, err
	}
	var scopes []string
	if in.Scopes != nil {
		if scopes, err = cleanScopes(*in.Scopes); err != nil {
			return Member{}, err
		}
	}
	if in.Role != nil && !slices.Contains([]string{store.RoleOwner, store.RoleAdmin, store.RoleMember}, *in.Role) {
		return Member{}, invalid("role must be owner, admin or member")
	}
	if in.Role != nil {
		target, err := s.store.GetUser(ctx, userID)
		if errors.Is(err, store.ErrNotFound) || (err == nil && target.WorkspaceID != ws) {
			return Member{}, ErrNotFound
		} else if err != nil {
			return Member{}, err
		}
		if !actorIsOwner && (target.Role == store.RoleOwner || *in.Role == store.RoleOwner) {
			return Member{}, errorf(CodeForbidden, "only an owner can make or unmake owners")
		}
		if *in.Role != store.RoleOwner {
			if err := s.keepAnOwner(ctx, ws, userID); err != nil {
				return Member{}, err
			}
		}
	}
	var before []string // the scopes the update replaced
	u, err := s.store.UpdateUser(ctx, userID, func(u *store.User) error {
		if u.WorkspaceID != ws {
			return ErrNotFound
		}
		before = u.Scopes
		if in.Role != nil && *in.Role != u.Role {
			if !actorIsOwner && (u.Role == store.RoleOwner || *in.Role == store.RoleOwner) {
				return errorf(CodeForbidden, "only an owner can make or unmake owners")
			}
			u.Role = *in.Role
		}
		if in.Scopes != nil {
			u.Scopes = scopes
		}
		return nil
	})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return Member{}, ErrNotFound
	case errors.Is(err, store.ErrConflict):
		// keepAnOwner above saw another owner, but a concurrent change
		// took it: the store's own check in the update's transaction.
		return Member{}, ErrLastOwner
	case err != nil:
		return Member{}, err
	}
	if in.Scopes != nil {
		s.rescopeCredentials(ctx, u, before)
	}
	details := map[string]string{"role": u.Role, "scopes": strings.Join(u.Scopes, " ")}
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: ws, Actor: p.Subject, Action: AuditMemberUpdate, Target: userID, Details: details})
	return memberOf(u), nil
}

// keepAnOwner refuses demoting userID if it is the workspace's only
// owner. (A race between two demotions of two owners is possible; an
// instance admin can restore an owner.)
func (s *Service) keepAnOwner(ctx context.Context, ws, userID string) error {
	u, err := s.store.GetUser(ctx, userID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && u.WorkspaceID != ws) {
		return ErrNotFound
	} else if err != nil || u.Role != store.RoleOwner {
		return err
	}
	owners, after := 0, ""
	for {
		page, err := s.store.ListUsers(ctx, ws, after, 200)
		if err != nil {
			return err
		}
		for _, m := range page {
			if m.Role == store.RoleOwner {
				owners++
			}
		}
		if len(page) < 200 || owners > 1 {
			break
		}
		after = page[len(page)-1].ID
	}
	if owners < 2 {
		return ErrLastOwner
	}
	return nil
}

// AuditQuery is GET /v1/audit.
type AuditQuery struct {
	WorkspaceID, Action, Actor, Cursor string
	Limit                              int
}

// AuditEntry is one audit event as the API shows it.
type AuditEntry struct {
	ID          string            `json:"id"`
	Time        time.Time         `json:"time"`
	WorkspaceID string            `json:"workspace_id"`
	Actor       string            `json:"actor"`
	Action      string            `json:"action"`
	Target      string            `json:"target"`
	Method      string            `json:"method,omitempty"`
	ClientIP    string            `json:"client_ip,omitempty"`
	Details     map[string]string `json:"details,omitempty"`
}

// ListAudit returns audit events, newest first: workspace admins see
// their workspace's, the instance admin any (or all).
func (s *Service) ListAudit(ctx context.Context, p Principal, q AuditQuery) ([]AuditEntry, error) {
	if !p.IsAdmin() {
		if q.WorkspaceID == "" {
			q.WorkspaceID = p.WorkspaceID
		}
		if err := s.canManage(ctx, p, q.WorkspaceID); err != nil {
			return nil, err
		}
	}
	events, err := s.store.ListAudit(ctx, store.AuditFilter{WorkspaceID: q.WorkspaceID, Action: q.Action, Actor: q.Actor,
		Before: q.Cursor, Limit: q.Limit})
	if err != nil {
		return nil, err
	}
	out := make([]AuditEntry, len(events))
	for i, e := range events {
		out[i] = AuditEntry{ID: e.ID, Time: e.Time.UTC(), WorkspaceID: e.WorkspaceID, Actor: e.Actor, Action: e.Action,
			Target: e.Target, Method: e.Method, ClientIP: e.ClientIP, Details: e.Details}
	}
	return out, nil
}
