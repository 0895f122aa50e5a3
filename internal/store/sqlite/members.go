package sqlite

import (
	"context"
	"fmt"

	"github.com/sigil-auth/sigil/internal/store"
)

// Users as members of a workspace: lookup by email, listing, updates.

var (
	// qUsersByEmail uses users_email_workspace_idx: email leads it.
	qUsersByEmail = readQuery(`SELECT ` + userCols + ` FROM users WHERE email = ?
		ORDER BY created_at, id`)
	// ListUsers pages newest first by (created_at, id), scanning
	// users_workspace_created_idx backwards; the cursor is a user id,
	// resolved to its position in the subquery.
	qListUsers = readQuery(`SELECT ` + userCols + ` FROM users WHERE workspace_id = ?1
		ORDER BY created_at DESC, id DESC LIMIT ?2`)
	qListUsersAfter = readQuery(`SELECT ` + userCols + ` FROM users WHERE workspace_id = ?1
		AND (created_at, id) < (SELECT created_at, id FROM users WHERE id = ?2 AND workspace_id = ?1)
		ORDER BY created_at DESC, id DESC LIMIT ?3`)
	qMemberExists = readQuery(`SELECT EXISTS (SELECT 1 FROM users WHERE id = ? AND workspace_id = ?)`)
	// qLoadUser is qGetUser inside UpdateUser's transaction.
	qLoadUser   = writeQuery(`SELECT ` + userCols + ` FROM users WHERE id = ?`)
	qUpdateUser = writeQuery(`UPDATE users SET role = ?, scopes = ?, email = ?, password_hash = ?,
		email_verified = ?, instance_admin = ?, name = ? WHERE id = ? RETURNING ` + userCols)
)

// GetUsersByEmail returns the users with exactly that email, in every
// workspace, oldest (CreatedAt, then ID) first. "" finds nobody: users
// without an email store NULL.
func (s *Store) GetUsersByEmail(ctx context.Context, email string) ([]store.User, error) {
	users, err := list(ctx, s, qUsersByEmail, scanUser, email)
	return users, wrap("get users by email", err)
}

// ListUsers returns up to limit (all when limit <= 0) users of the
// workspace newest first, in descending (CreatedAt, ID) order, starting
// after the user whose id is after ("" from the start). An after that is
// no user of the workspace is ErrNotFound; that is only checked when the
// page comes back empty, so a full page costs one query.
func (s *Store) ListUsers(ctx context.Context, workspaceID, after string, limit int) ([]store.User, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	if after == "" {
		users, err := list(ctx, s, qListUsers, scanUser, workspaceID, limit)
		return users, wrap("list users", err)
	}
	users, err := list(ctx, s, qListUsersAfter, scanUser, workspaceID, after, limit)
	if err != nil || len(users) > 0 {
		return users, wrap("list users", err)
	}
	var exists bool
	if err := s.queryRow(ctx, qMemberExists, after, workspaceID).Scan(&exists); err != nil {
		return nil, wrap("list users", err)
	}
	if !exists {
		return nil, wrap("list users: cursor", store.ErrNotFound)
	}
	return nil, nil
}

// UpdateUser loads the user, applies fn and stores Role, Scopes, Email,
// PasswordHash, EmailVerified and InstanceAdmin in one immediate transaction, so
// concurrent updaters serialise and none is lost; changes to other fields
// are ignored. fn runs on the writer goroutine inside that transaction: it
// must be quick and must not call the Store (that would deadlock). fn's
// error is returned as is; an unknown id is ErrNotFound (fn not called);
// an email another user of the workspace has is ErrConflict.
func (s *Store) UpdateUser(ctx context.Context, id string, fn func(*store.User) error) (store.User, error) {
	var out store.User
	err := s.write(ctx, func(t tx) error {
		u, err := scanUser(t.queryRow(qLoadUser, id))
		if err != nil {
			return wrap("update user", err)
		}
		wasOwner, ws := u.Role == store.RoleOwner, u.WorkspaceID // fn may not move the user
		if err := fn(&u); err != nil {
			return err // the caller's own error, unwrapped
		}
		if wasOwner && u.Role != store.RoleOwner {
			// One writer: no other transaction runs between this count
			// and the update.
			var others int
			if err := t.queryRow(qOtherOwners, ws, store.RoleOwner, id).Scan(&others); err != nil {
				return wrap("update user", err)
			}
			if others == 0 {
				return fmt.Errorf("sqlite: update user: the last owner: %w", store.ErrConflict)
			}
		}
		out, err = scanUser(t.queryRow(qUpdateUser, u.Role, encodeScopes(u.Scopes),
			nullText(u.Email), nullText(u.PasswordHash), u.EmailVerified, u.InstanceAdmin, u.Name, id))
		return wrap("update user", err)
	})
	if err != nil {
		return store.User{}, err
	}
	return out, nil
}
