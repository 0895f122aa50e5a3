package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigil-auth/sigil/internal/store"
)

// The instance as a whole: the workspace list of the instance admin, and
// the first-run setup token (a one-row table, see migration 00004).

// ListWorkspaceStats returns every workspace, newest first (ties by id,
// bytewise), with its member count and its count of API keys live at now,
// in one query: correlated counts served by the indexes that lead with
// workspace_id.
func (s *Store) ListWorkspaceStats(ctx context.Context, now time.Time) ([]store.WorkspaceStats, error) {
	rows, _ := s.pool.Query(ctx, `SELECT w.id, w.name, w.created_at,
		(SELECT count(*) FROM users u WHERE u.workspace_id = w.id),
		(SELECT count(*) FROM api_keys k WHERE k.workspace_id = w.id AND k.revoked_at IS NULL
			AND (k.expires_at IS NULL OR k.expires_at > $1))
		FROM workspaces w ORDER BY w.created_at DESC, w.id COLLATE "C" DESC`, now)
	out, err := pgx.AppendRows([]store.WorkspaceStats(nil), rows, func(row pgx.CollectableRow) (store.WorkspaceStats, error) {
		var w store.WorkspaceStats
		err := row.Scan(&w.ID, &w.Name, &w.CreatedAt, &w.Members, &w.APIKeys)
		return w, err
	})
	return out, mapErr("list workspace stats", err)
}

// PutSetupToken upserts the one setup-token row while there is no user;
// once there is one it deletes the row (committed) and reports
// ErrConflict. A setup completing at the same time holds the row's lock,
// so the upsert waits for it; the token it then stores is dead anyway,
// since GetSetupToken and CompleteSetup check for users themselves.
func (s *Store) PutSetupToken(ctx context.Context, t store.SetupToken) error {
	taken := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users)`).Scan(&taken); err != nil {
			return err
		}
		if taken {
			_, err := tx.Exec(ctx, `DELETE FROM setup_token`)
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO setup_token (id, hash, expires_at, created_at)
			VALUES (1, $1, $2, $3) ON CONFLICT (id) DO UPDATE
			SET hash = excluded.hash, expires_at = excluded.expires_at, created_at = excluded.created_at`,
			t.Hash, t.ExpiresAt, t.CreatedAt)
		return err
	})
	if err != nil {
		return mapErr("put setup token", err)
	}
	if taken {
		return fmt.Errorf("postgres: put setup token: %w", store.ErrConflict)
	}
	return nil
}

// GetSetupToken returns the setup token whose hash is hash, expired or
// not, while the instance has no user; otherwise ErrNotFound.
func (s *Store) GetSetupToken(ctx context.Context, hash []byte) (store.SetupToken, error) {
	var t store.SetupToken
	err := s.pool.QueryRow(ctx, `SELECT hash, expires_at, created_at FROM setup_token
		WHERE hash = $1 AND NOT EXISTS (SELECT 1 FROM users)`, hash).Scan(&t.Hash, &t.ExpiresAt, &t.CreatedAt)
	if err != nil {
		return store.SetupToken{}, mapErr("get setup token", err)
	}
	return t, nil
}

// CompleteSetup deletes the unexpired setup token whose hash is hash,
// then checks for users and creates w and u, in one transaction. Of
// concurrent setups the first DELETE locks the row; the others wait, then
// find it gone (ErrNotFound). The user check is a statement of its own,
// after the lock, so under READ COMMITTED it sees every user committed
// before.
func (s *Store) CompleteSetup(ctx context.Context, hash []byte, now time.Time, w store.Workspace, u store.User) (store.User, error) {
	var out store.User
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM setup_token WHERE hash = $1 AND expires_at > $2`, hash, now)
		if err != nil {
			return mapErr("complete setup", err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("postgres: complete setup: %w", store.ErrNotFound)
		}
		var taken bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users)`).Scan(&taken); err != nil {
			return mapErr("complete setup", err)
		}
		if taken {
			return fmt.Errorf("postgres: complete setup: %w", store.ErrConflict)
		}
		if _, err := tx.Exec(ctx, insertWorkspace, workspaceArgs(w)...); err != nil {
			return mapErr("complete setup: workspace", err)
		}
		out, err = insertUser(ctx, tx, u)
		return mapErr("complete setup: user", err)
	})
	if err != nil {
		return store.User{}, err
	}
	return out, nil
}
