package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigil-auth/sigil/internal/store"
)

// apiKeyCols selects an API key. user_id is NULL for keys the instance
// admin created, read back as "".
const apiKeyCols = `id, workspace_id, coalesce(user_id, ''), name, prefix, hash, scopes,
	created_at, expires_at, revoked_at, last_used_at`

// CreateAPIKey stores k. A taken id or hash is ErrConflict; an unknown
// workspace or creator is ErrNotFound.
func (s *Store) CreateAPIKey(ctx context.Context, k store.APIKey) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO api_keys (id, workspace_id, user_id, name,
			prefix, hash, scopes, created_at, expires_at, revoked_at, last_used_at)
		VALUES ($1, $2, nullif($3::text, ''), $4, $5, $6, $7, $8, $9, $10, $11)`,
		k.ID, k.WorkspaceID, k.UserID, k.Name, k.Prefix, k.Hash, k.Scopes,
		k.CreatedAt, k.ExpiresAt, k.RevokedAt, k.LastUsedAt)
	return mapErr("create api key", err)
}

// GetAPIKey returns the key with that id, revoked or expired or not.
func (s *Store) GetAPIKey(ctx context.Context, id string) (store.APIKey, error) {
	k, err := scanAPIKey(s.pool.QueryRow(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE id = $1`, id))
	return k, mapErr("get api key", err)
}

// GetAPIKeyByHash returns the key whose hash is hash; validity is the
// caller's check.
func (s *Store) GetAPIKeyByHash(ctx context.Context, hash []byte) (store.APIKey, error) {
	k, err := scanAPIKey(s.pool.QueryRow(ctx, `SELECT `+apiKeyCols+` FROM api_keys WHERE hash = $1`, hash))
	return k, mapErr("get api key by hash", err)
}

// ListAPIKeys returns the workspace's keys, or only those userID created
// when it is not "", newest first (ties by id, bytewise), revoked ones
// included.
func (s *Store) ListAPIKeys(ctx context.Context, workspaceID, userID string) ([]store.APIKey, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+apiKeyCols+` FROM api_keys
		WHERE workspace_id = $1 AND ($2 = '' OR user_id = $2)
		ORDER BY created_at DESC, id COLLATE "C" DESC`, workspaceID, userID)
	keys, err := pgx.AppendRows([]store.APIKey(nil), rows, func(r pgx.CollectableRow) (store.APIKey, error) {
		return scanAPIKey(r)
	})
	return keys, mapErr("list api keys", err)
}

// UpdateAPIKey locks the key's row, lets fn edit a copy and writes back
// Name, ExpiresAt and RevokedAt; nothing else of a key changes here
// (LastUsedAt is TouchAPIKey's). fn's error is returned unwrapped; an
// unknown id is ErrNotFound.
func (s *Store) UpdateAPIKey(ctx context.Context, id string, fn func(*store.APIKey) error) (store.APIKey, error) {
	var out store.APIKey
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		k, err := scanAPIKey(tx.QueryRow(ctx,
			`SELECT `+apiKeyCols+` FROM api_keys WHERE id = $1 FOR NO KEY UPDATE`, id))
		if err != nil {
			return mapErr("update api key", err)
		}
		if err := fn(&k); err != nil {
			return err
		}
		out, err = scanAPIKey(tx.QueryRow(ctx, `UPDATE api_keys
			SET name = $2, expires_at = $3, revoked_at = $4
			WHERE id = $1 RETURNING `+apiKeyCols, id, k.Name, k.ExpiresAt, k.RevokedAt))
		return mapErr("update api key", err)
	})
	if err != nil {
		return store.APIKey{}, err
	}
	return out, nil
}

// TouchAPIKey records that the key was used at at. An unknown key is
// ErrNotFound.
func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE api_keys SET last_used_at = $2 WHERE id = $1`, id, at)
	return errAffected("touch api key", tag, err, store.ErrNotFound)
}

func scanAPIKey(row pgx.Row) (store.APIKey, error) {
	var k store.APIKey
	err := row.Scan(&k.ID, &k.WorkspaceID, &k.UserID, &k.Name, &k.Prefix, &k.Hash, &k.Scopes,
		&k.CreatedAt, &k.ExpiresAt, &k.RevokedAt, &k.LastUsedAt)
	return k, err
}
