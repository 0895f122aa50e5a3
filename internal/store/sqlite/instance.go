package sqlite

import (
	"context"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

// The instance as a whole: the workspace list of the instance admin, and
// the first-run setup token (a one-row table, see migration 00004).

var (
	// qWorkspaceStats counts with correlated subqueries, each served by
	// the index that leads with workspace_id (users_workspace_created_idx,
	// api_keys_workspace_created_idx).
	qWorkspaceStats = readQuery(`SELECT w.id, w.name, w.created_at,
		(SELECT count(*) FROM users u WHERE u.workspace_id = w.id),
		(SELECT count(*) FROM api_keys k WHERE k.workspace_id = w.id AND k.revoked_at IS NULL
			AND (k.expires_at IS NULL OR k.expires_at > ?1))
		FROM workspaces w ORDER BY w.created_at DESC, w.id DESC`)
	qAnyUser       = writeQuery(`SELECT EXISTS (SELECT 1 FROM users)`)
	qPutSetupToken = writeQuery(`INSERT INTO setup_token (id, hash, expires_at, created_at)
		VALUES (1, ?1, ?2, ?3) ON CONFLICT (id) DO UPDATE SET hash = ?1, expires_at = ?2, created_at = ?3`)
	qClearSetupToken = writeQuery(`DELETE FROM setup_token`)
	qGetSetupToken   = readQuery(`SELECT hash, expires_at, created_at FROM setup_token
		WHERE hash = ? AND NOT EXISTS (SELECT 1 FROM users)`)
	qTakeSetupToken = writeQuery(`DELETE FROM setup_token WHERE hash = ? AND expires_at > ? RETURNING id`)
)

// ListWorkspaceStats returns every workspace, newest (CreatedAt, then ID)
// first, with its member count and its count of API keys live at now.
func (s *Store) ListWorkspaceStats(ctx context.Context, now time.Time) ([]store.WorkspaceStats, error) {
	out, err := list(ctx, s, qWorkspaceStats, func(row scanner) (store.WorkspaceStats, error) {
		var w store.WorkspaceStats
		err := row.Scan(&w.ID, &w.Name, (*instant)(&w.CreatedAt), &w.Members, &w.APIKeys)
		return w, err
	}, micros(now))
	return out, wrap("list workspace stats", err)
}

// PutSetupToken replaces the setup token with t while there is no user;
// once there is one it clears the token (committed) and reports
// ErrConflict.
func (s *Store) PutSetupToken(ctx context.Context, t store.SetupToken) error {
	taken := false
	err := s.write(ctx, func(x tx) error {
		if err := x.queryRow(qAnyUser).Scan(&taken); err != nil {
			return err
		}
		if taken {
			_, err := x.exec(qClearSetupToken)
			return err
		}
		_, err := x.exec(qPutSetupToken, t.Hash, micros(t.ExpiresAt), micros(t.CreatedAt))
		return err
	})
	if err == nil && taken {
		err = store.ErrConflict
	}
	return wrap("put setup token", err)
}

// GetSetupToken returns the setup token whose hash is hash, expired or
// not, while the instance has no user; otherwise ErrNotFound.
func (s *Store) GetSetupToken(ctx context.Context, hash []byte) (store.SetupToken, error) {
	var t store.SetupToken
	err := s.queryRow(ctx, qGetSetupToken, hash).Scan(&t.Hash, (*instant)(&t.ExpiresAt), (*instant)(&t.CreatedAt))
	if err != nil {
		return store.SetupToken{}, wrap("get setup token", err)
	}
	return t, nil
}

// CompleteSetup takes the unexpired setup token whose hash is hash and
// creates w and u, in one write: the writer serialises concurrent setups,
// and the first to delete the token is the only one that finds it.
func (s *Store) CompleteSetup(ctx context.Context, hash []byte, now time.Time, w store.Workspace, u store.User) (store.User, error) {
	err := s.write(ctx, func(t tx) error {
		var id int64
		if err := t.queryRow(qTakeSetupToken, hash, micros(now)).Scan(&id); err != nil {
			return err // no rows: ErrNotFound
		}
		var taken bool
		if err := t.queryRow(qAnyUser).Scan(&taken); err != nil {
			return err
		}
		if taken {
			return store.ErrConflict
		}
		if _, err := t.exec(qCreateWorkspace, createWorkspaceArgs(w)...); err != nil {
			return err
		}
		return insertUser(t, &u)
	})
	if err != nil {
		return store.User{}, wrap("complete setup", err)
	}
	u.CreatedAt = fromMicros(micros(u.CreatedAt))
	return u, nil
}
