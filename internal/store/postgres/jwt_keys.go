package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/sigil-auth/sigil/internal/store"
)

// jwtKeyCols selects a JWT key; user_id is NULL for keys the instance
// admin created, read back as "".
const jwtKeyCols = `id, workspace_id, coalesce(user_id, ''), name, secret, scopes, created_at`

// CreateJWTKey stores k (Secret is ciphertext). A taken id is
// ErrConflict; an unknown workspace or creator ErrNotFound.
func (s *Store) CreateJWTKey(ctx context.Context, k store.JWTKey) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO jwt_keys (id, workspace_id, user_id, name, secret,
			scopes, created_at)
		VALUES ($1, $2, nullif($3::text, ''), $4, $5, $6, $7)`,
		k.ID, k.WorkspaceID, k.UserID, k.Name, k.Secret, k.Scopes, k.CreatedAt)
	return mapErr("create jwt key", err)
}

// GetJWTKey returns the key with that id (the JWT "kid").
func (s *Store) GetJWTKey(ctx context.Context, id string) (store.JWTKey, error) {
	k, err := scanJWTKey(s.pool.QueryRow(ctx, `SELECT `+jwtKeyCols+` FROM jwt_keys WHERE id = $1`, id))
	return k, mapErr("get jwt key", err)
}

// ListJWTKeys returns the workspace's keys, newest first (ties by id,
// bytewise).
func (s *Store) ListJWTKeys(ctx context.Context, workspaceID string) ([]store.JWTKey, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+jwtKeyCols+` FROM jwt_keys
		WHERE workspace_id = $1 ORDER BY created_at DESC, id COLLATE "C" DESC`, workspaceID)
	keys, err := pgx.AppendRows([]store.JWTKey(nil), rows, func(r pgx.CollectableRow) (store.JWTKey, error) {
		return scanJWTKey(r)
	})
	return keys, mapErr("list jwt keys", err)
}

// DeleteJWTKey removes the key. An unknown id is ErrNotFound.
func (s *Store) DeleteJWTKey(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM jwt_keys WHERE id = $1`, id)
	return errAffected("delete jwt key", tag, err, store.ErrNotFound)
}

func scanJWTKey(row pgx.Row) (store.JWTKey, error) {
	var k store.JWTKey
	err := row.Scan(&k.ID, &k.WorkspaceID, &k.UserID, &k.Name, &k.Secret, &k.Scopes, &k.CreatedAt)
	return k, err
}
