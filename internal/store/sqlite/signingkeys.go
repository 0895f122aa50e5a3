package sqlite

import (
	"context"
	"database/sql"

	"github.com/sigil-auth/sigil/internal/store"
)

const signingKeyCols = `id, algorithm, private_key, public_key, created_at, active_from,
	retired_at, publish_until`

var (
	qCreateSigningKey = writeQuery(`INSERT INTO signing_keys (` + signingKeyCols + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	qListSigningKeys = readQuery(`SELECT ` + signingKeyCols + ` FROM signing_keys
		ORDER BY created_at DESC, id DESC`)
	qUpdateSigningKey = writeQuery(`UPDATE signing_keys SET retired_at = ?, publish_until = ? WHERE id = ?`)
	qDeleteSigningKey = writeQuery(`DELETE FROM signing_keys WHERE id = ?`)
)

// CreateSigningKey stores k; a taken id is ErrConflict.
func (s *Store) CreateSigningKey(ctx context.Context, k store.SigningKey) error {
	err := s.writeExec(ctx, qCreateSigningKey, k.ID, k.Algorithm, k.PrivateKey, k.PublicKey,
		micros(k.CreatedAt), micros(k.ActiveFrom), nullMicros(k.RetiredAt), nullMicros(k.PublishUntil))
	return wrap("create signing key", err)
}

// ListSigningKeys returns every key, newest CreatedAt first.
func (s *Store) ListSigningKeys(ctx context.Context) ([]store.SigningKey, error) {
	rows, err := s.stmt(qListSigningKeys).QueryContext(ctx)
	if err != nil {
		return nil, wrap("list signing keys", err)
	}
	defer rows.Close()
	var keys []store.SigningKey
	for rows.Next() {
		var k store.SigningKey
		var retired, until sql.NullInt64
		err := rows.Scan(&k.ID, &k.Algorithm, &k.PrivateKey, &k.PublicKey,
			(*instant)(&k.CreatedAt), (*instant)(&k.ActiveFrom), &retired, &until)
		if err != nil {
			return nil, wrap("list signing keys", err)
		}
		k.RetiredAt, k.PublishUntil = fromNullMicros(retired), fromNullMicros(until)
		keys = append(keys, k)
	}
	return keys, wrap("list signing keys", rows.Err())
}

// UpdateSigningKey stores k.RetiredAt and k.PublishUntil (nil clears
// them) and nothing else; an unknown id is ErrNotFound.
func (s *Store) UpdateSigningKey(ctx context.Context, k store.SigningKey) error {
	err := s.writeAffected(ctx, qUpdateSigningKey, nullMicros(k.RetiredAt), nullMicros(k.PublishUntil), k.ID)
	return wrap("update signing key", err)
}

// DeleteSigningKey removes the key; an unknown id is ErrNotFound.
func (s *Store) DeleteSigningKey(ctx context.Context, id string) error {
	return wrap("delete signing key", s.writeAffected(ctx, qDeleteSigningKey, id))
}
