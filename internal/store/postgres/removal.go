package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/sigil-auth/sigil/internal/store"
)

// DeleteUser removes user id of workspace workspaceID; the foreign keys'
// cascades take its keyring, sessions (with refresh tokens), one-time
// tokens, authorization codes, and the API keys and JWT keys it created
// (with the keys' sessions). The ids of those credentials are read first
// in the same transaction, for the caller's revocation announcements.
// The workspace row is locked first, so concurrent removals of a
// workspace's owners queue and cannot both pass the "another owner
// stays" check.
func (s *Store) DeleteUser(ctx context.Context, workspaceID, id string) (store.RemovedUser, error) {
	var out store.RemovedUser
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockRow(ctx, tx, "workspaces", workspaceID); err != nil {
			return mapErr("delete user: workspace", err)
		}
		u, err := scanUser(tx.QueryRow(ctx, `SELECT `+userCols+` FROM users
			WHERE id = $1 AND workspace_id = $2 FOR UPDATE`, id, workspaceID))
		if err != nil {
			return mapErr("delete user", err)
		}
		if u.Role == store.RoleOwner {
			var others int
			err := tx.QueryRow(ctx, `SELECT count(*) FROM users WHERE workspace_id = $1 AND role = $2 AND id <> $3`,
				workspaceID, store.RoleOwner, id).Scan(&others)
			if err != nil {
				return mapErr("delete user", err)
			}
			if others == 0 {
				return fmt.Errorf("postgres: delete user: the last owner: %w", store.ErrConflict)
			}
		}
		out = store.RemovedUser{User: u}
		for _, q := range []struct {
			dst  *[]string
			text string
		}{
			{&out.SessionIDs, `SELECT id FROM sessions WHERE revoked_at IS NULL
				AND (user_id = $1 OR api_key_id IN (SELECT id FROM api_keys WHERE user_id = $1))`},
			{&out.APIKeyIDs, `SELECT id FROM api_keys WHERE user_id = $1`},
			{&out.JWTKeyIDs, `SELECT id FROM jwt_keys WHERE user_id = $1`},
		} {
			rows, _ := tx.Query(ctx, q.text, id)
			if *q.dst, err = pgx.AppendRows([]string(nil), rows, pgx.RowTo[string]); err != nil {
				return mapErr("delete user", err)
			}
		}
		_, err = tx.Exec(ctx, `DELETE FROM users WHERE id = $1`, id)
		return mapErr("delete user", err)
	})
	if err != nil {
		return store.RemovedUser{}, err
	}
	return out, nil
}
