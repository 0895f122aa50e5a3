package postgres

import (
	"context"

	"github.com/sigil-auth/sigil/internal/store"
)

// CreateOneTimeToken stores t. A hash already stored is ErrConflict; an
// unknown user ErrNotFound.
func (s *Store) CreateOneTimeToken(ctx context.Context, t store.OneTimeToken) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO one_time_tokens
		(hash, user_id, purpose, expires_at, created_at) VALUES ($1, $2, $3, $4, $5)`,
		t.Hash, t.UserID, t.Purpose, t.ExpiresAt, t.CreatedAt)
	return mapErr("create one-time token", err)
}

// ConsumeOneTimeToken deletes the token and returns it, expired or not.
// One statement: of concurrent consumers the first deletes the row, the
// others wait on its lock, then find it gone and get ErrNotFound.
func (s *Store) ConsumeOneTimeToken(ctx context.Context, hash []byte) (store.OneTimeToken, error) {
	var t store.OneTimeToken
	err := s.pool.QueryRow(ctx, `DELETE FROM one_time_tokens WHERE hash = $1
		RETURNING hash, user_id, purpose, expires_at, created_at`, hash).
		Scan(&t.Hash, &t.UserID, &t.Purpose, &t.ExpiresAt, &t.CreatedAt)
	if err != nil {
		return store.OneTimeToken{}, mapErr("consume one-time token", err)
	}
	return t, nil
}
