package sqlite

import (
	"context"

	"github.com/sigil-auth/sigil/internal/store"
)

// Removing a member: the user row goes, and the foreign keys' cascades
// take its keyring, sessions (with refresh tokens), one-time tokens,
// authorization codes, and the API keys and JWT keys it created (with the
// keys' sessions). The ids of the credentials are read first, in the same
// transaction, for the caller's revocation announcements.

var (
	qLoadMember = writeQuery(`SELECT ` + userCols + ` FROM users WHERE id = ? AND workspace_id = ?`)
	// qOtherOwners counts the workspace's owners other than the user.
	qOtherOwners  = writeQuery(`SELECT count(*) FROM users WHERE workspace_id = ? AND role = ? AND id <> ?`)
	qUserAPIKeys  = writeQuery(`SELECT id FROM api_keys WHERE user_id = ?`)
	qUserJWTKeys  = writeQuery(`SELECT id FROM jwt_keys WHERE user_id = ?`)
	qUserSessions = writeQuery(`SELECT id FROM sessions WHERE revoked_at IS NULL
		AND (user_id = ?1 OR api_key_id IN (SELECT id FROM api_keys WHERE user_id = ?1))`)
	qDeleteUser = writeQuery(`DELETE FROM users WHERE id = ?`)
)

// DeleteUser removes user id of workspace workspaceID with everything
// that is its own, in one immediate transaction, and returns what went.
// The owner count and the delete share the transaction, so two removals
// cannot both pass the "not the last owner" check.
func (s *Store) DeleteUser(ctx context.Context, workspaceID, id string) (store.RemovedUser, error) {
	var out store.RemovedUser
	err := s.write(ctx, func(t tx) error {
		u, err := scanUser(t.queryRow(qLoadMember, id, workspaceID))
		if err != nil {
			return err
		}
		if u.Role == store.RoleOwner {
			var others int
			if err := t.queryRow(qOtherOwners, workspaceID, store.RoleOwner, id).Scan(&others); err != nil {
				return err
			}
			if others == 0 {
				return store.ErrConflict
			}
		}
		out = store.RemovedUser{User: u}
		if out.SessionIDs, err = t.strings(qUserSessions, id); err != nil {
			return err
		}
		if out.APIKeyIDs, err = t.strings(qUserAPIKeys, id); err != nil {
			return err
		}
		if out.JWTKeyIDs, err = t.strings(qUserJWTKeys, id); err != nil {
			return err
		}
		return t.execAffected(qDeleteUser, id)
	})
	if err != nil {
		return store.RemovedUser{}, wrap("delete user", err)
	}
	return out, nil
}
