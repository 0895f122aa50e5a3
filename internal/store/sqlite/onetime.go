package sqlite

import (
	"context"

	"github.com/sigil-auth/sigil/internal/store"
)

var (
	qCreateOTT = writeQuery(`INSERT INTO one_time_tokens (hash, user_id, purpose, expires_at, created_at)
		VALUES (?, ?, ?, ?, ?)`)
	// DELETE … RETURNING is one statement: of concurrent consumers exactly
	// one gets the row.
	qConsumeOTT = writeQuery(`DELETE FROM one_time_tokens WHERE hash = ?
		RETURNING hash, user_id, purpose, expires_at, created_at`)
)

// CreateOneTimeToken stores tok; a taken hash is ErrConflict, an unknown
// user ErrNotFound.
func (s *Store) CreateOneTimeToken(ctx context.Context, tok store.OneTimeToken) error {
	err := s.writeExec(ctx, qCreateOTT, tok.Hash, tok.UserID, tok.Purpose,
		micros(tok.ExpiresAt), micros(tok.CreatedAt))
	return wrap("create one-time token", err)
}

// ConsumeOneTimeToken deletes and returns the token with that hash,
// expired or not; a missing one is ErrNotFound.
func (s *Store) ConsumeOneTimeToken(ctx context.Context, hash []byte) (store.OneTimeToken, error) {
	var tok store.OneTimeToken
	err := s.write(ctx, func(t tx) error {
		return t.queryRow(qConsumeOTT, hash).Scan(&tok.Hash, &tok.UserID, &tok.Purpose,
			(*instant)(&tok.ExpiresAt), (*instant)(&tok.CreatedAt))
	})
	if err != nil {
		return store.OneTimeToken{}, wrap("consume one-time token", err)
	}
	return tok, nil
}
