package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/sigil-auth/sigil/internal/store"
)

const signingKeyCols = `id, algorithm, private_key, public_key, created_at,
	active_from, retired_at, publish_until`

// CreateSigningKey stores k; a taken id is ErrConflict.
func (s *Store) CreateSigningKey(ctx context.Context, k store.SigningKey) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO signing_keys (`+signingKeyCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
		k.ID, k.Algorithm, k.PrivateKey, k.PublicKey, k.CreatedAt,
		k.ActiveFrom, k.RetiredAt, k.PublishUntil)
	return mapErr("create signing key", err)
}

// ListSigningKeys returns every key, newest CreatedAt first, ties by id.
func (s *Store) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+signingKeyCols+` FROM signing_keys
		ORDER BY created_at DESC, id DESC`)
	keys, err := pgx.AppendRows([]store.SigningKey(nil), rows, scanSigningKey)
	return keys, mapErr("list signing keys", err)
}

// UpdateSigningKey stores k.RetiredAt and k.PublishUntil; nothing else of
// a key ever changes. An unknown id is ErrNotFound.
func (s *Store) UpdateSigningKey(ctx context.Context, k store.SigningKey) error {
	tag, err := s.pool.Exec(ctx, `UPDATE signing_keys SET retired_at = $2, publish_until = $3
		WHERE id = $1`, k.ID, k.RetiredAt, k.PublishUntil)
	return errAffected("update signing key", tag, err, store.ErrNotFound)
}

// DeleteSigningKey removes the key. An unknown id is ErrNotFound.
func (s *Store) DeleteSigningKey(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM signing_keys WHERE id = $1`, id)
	return errAffected("delete signing key", tag, err, store.ErrNotFound)
}

func scanSigningKey(row pgx.CollectableRow) (store.SigningKey, error) {
	var k store.SigningKey
	err := row.Scan(&k.ID, &k.Algorithm, &k.PrivateKey, &k.PublicKey, &k.CreatedAt,
		&k.ActiveFrom, &k.RetiredAt, &k.PublishUntil)
	return k, err
}
