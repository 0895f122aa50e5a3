package sqlite

import (
	"context"

	"github.com/sigil-auth/sigil/internal/store"
)

// jwtKeyCols are the columns scanJWTKey reads, in its order. user_id is
// NULL for keys the instance admin created.
const jwtKeyCols = `id, workspace_id, user_id, name, secret, scopes, created_at`

var (
	qCreateJWTKey = writeQuery(`INSERT INTO jwt_keys (` + jwtKeyCols + `) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	qGetJWTKey    = readQuery(`SELECT ` + jwtKeyCols + ` FROM jwt_keys WHERE id = ?`)
	qListJWTKeys  = readQuery(`SELECT ` + jwtKeyCols + ` FROM jwt_keys WHERE workspace_id = ?
		ORDER BY created_at DESC, id DESC`)
	qDeleteJWTKey = writeQuery(`DELETE FROM jwt_keys WHERE id = ?`)
)

func scanJWTKey(row scanner) (store.JWTKey, error) {
	var k store.JWTKey
	err := row.Scan(&k.ID, &k.WorkspaceID, (*text)(&k.UserID), &k.Name, &k.Secret,
		(*scopes)(&k.Scopes), (*instant)(&k.CreatedAt))
	return k, err
}

// CreateJWTKey stores k. A taken id is ErrConflict; an unknown workspace,
// or an unknown creator when UserID is not "", ErrNotFound.
func (s *Store) CreateJWTKey(ctx context.Context, k store.JWTKey) error {
	err := s.writeExec(ctx, qCreateJWTKey, k.ID, k.WorkspaceID, nullText(k.UserID), k.Name,
		k.Secret, encodeScopes(k.Scopes), micros(k.CreatedAt))
	return wrap("create jwt key", err)
}

// GetJWTKey returns the key with that id (the JWT kid), or ErrNotFound.
func (s *Store) GetJWTKey(ctx context.Context, id string) (store.JWTKey, error) {
	k, err := scanJWTKey(s.queryRow(ctx, qGetJWTKey, id))
	return k, wrap("get jwt key", err)
}

// ListJWTKeys returns the workspace's keys, newest (CreatedAt, then ID)
// first.
func (s *Store) ListJWTKeys(ctx context.Context, workspaceID string) ([]store.JWTKey, error) {
	keys, err := list(ctx, s, qListJWTKeys, scanJWTKey, workspaceID)
	return keys, wrap("list jwt keys", err)
}

// DeleteJWTKey removes the key; an unknown id is ErrNotFound.
func (s *Store) DeleteJWTKey(ctx context.Context, id string) error {
	return wrap("delete jwt key", s.writeAffected(ctx, qDeleteJWTKey, id))
}
