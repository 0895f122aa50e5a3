package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sigil-auth/sigil/internal/store"
)

const keyCols = `id, user_id, key, created_at, last_used_at`

// AddPublicKey adds k to its user's keyring. An unknown user is
// ErrNotFound; a taken key id, or a key already on that keyring, is
// ErrConflict.
func (s *Store) AddPublicKey(ctx context.Context, k store.PublicKey) error {
	return insertPublicKey(ctx, s.pool, k)
}

// execer is what pool and tx have in common for plain statements.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func insertPublicKey(ctx context.Context, db execer, k store.PublicKey) error {
	_, err := db.Exec(ctx, `INSERT INTO public_keys (`+keyCols+`) VALUES ($1, $2, $3, $4, $5)`,
		k.ID, k.UserID, k.Key, k.CreatedAt, k.LastUsedAt)
	return mapErr("add public key", err)
}

// ListPublicKeys returns the user's keys, newest first (ties by id, so
// the order is stable). No keys, or no such user, is an empty list.
func (s *Store) ListPublicKeys(ctx context.Context, userID string) ([]store.PublicKey, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+keyCols+` FROM public_keys
		WHERE user_id = $1 ORDER BY created_at DESC, id DESC`, userID)
	keys, err := pgx.AppendRows([]store.PublicKey(nil), rows, func(r pgx.CollectableRow) (store.PublicKey, error) {
		return scanKey(r)
	})
	return keys, mapErr("list public keys", err)
}

// GetPublicKeyByValue finds the user's key whose raw bytes are key.
func (s *Store) GetPublicKeyByValue(ctx context.Context, userID string, key []byte) (store.PublicKey, error) {
	k, err := scanKey(s.pool.QueryRow(ctx, `SELECT `+keyCols+` FROM public_keys
		WHERE user_id = $1 AND key = $2`, userID, key))
	return k, mapErr("get public key", err)
}

// GetUserByKey finds the user's key whose raw bytes are key and the user
// in one statement (a key-pair login's only read).
func (s *Store) GetUserByKey(ctx context.Context, userID string, key []byte) (store.User, store.PublicKey, error) {
	var u store.User
	var k store.PublicKey
	err := s.pool.QueryRow(ctx, `SELECT u.*, k.id, k.user_id, k.key, k.created_at, k.last_used_at
		FROM public_keys k, LATERAL (SELECT `+userCols+` FROM users WHERE id = k.user_id) u
		WHERE k.user_id = $1 AND k.key = $2`, userID, key).
		Scan(userDest(&u, &k.ID, &k.UserID, &k.Key, &k.CreatedAt, &k.LastUsedAt)...)
	if err != nil {
		return store.User{}, store.PublicKey{}, mapErr("get user by key", err)
	}
	return u, k, nil
}

// DeletePublicKey removes one key of the user. Locking the user row first
// serialises deletes on one keyring, so two concurrent deletes of its last
// two keys cannot both pass the "not the last key" check. An unknown user
// or key is ErrNotFound; the last key is ErrConflict.
func (s *Store) DeletePublicKey(ctx context.Context, userID, keyID string) error {
	return s.deleteKey(ctx, "delete public key", `DELETE FROM public_keys WHERE user_id = $1 AND id = $2`, userID, keyID)
}

// DeletePasskey removes the user's passkey id, never the last key (as
// DeletePublicKey).
func (s *Store) DeletePasskey(ctx context.Context, userID, id string) error {
	return s.deleteKey(ctx, "delete passkey", `DELETE FROM factors WHERE user_id = $1 AND id = $2 AND kind = '`+
		store.FactorWebAuthn+`'`, userID, id)
}

// deleteKey runs del (of one key of the user: a public key or a passkey)
// unless the user would be left without a key: public keys and passkeys
// counted together, under the user row's lock.
func (s *Store) deleteKey(ctx context.Context, op, del, userID, id string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockRow(ctx, tx, "users", userID); err != nil {
			return mapErr(op, err)
		}
		var keys int
		err := tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM public_keys WHERE user_id = $1) +
			(SELECT count(*) FROM factors WHERE user_id = $1 AND kind = '`+store.FactorWebAuthn+`')`, userID).Scan(&keys)
		if err != nil {
			return mapErr(op, err)
		}
		tag, err := tx.Exec(ctx, del, userID, id)
		if err = errAffected(op, tag, err, store.ErrNotFound); err != nil {
			return err
		}
		if keys <= 1 {
			return fmt.Errorf("postgres: %s: last key: %w", op, store.ErrConflict)
		}
		return nil
	})
}

// TouchPublicKey records that the key was used at at. An unknown key is
// ErrNotFound.
func (s *Store) TouchPublicKey(ctx context.Context, keyID string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE public_keys SET last_used_at = $2 WHERE id = $1`, keyID, at)
	return errAffected("touch public key", tag, err, store.ErrNotFound)
}

func scanKey(row pgx.Row) (store.PublicKey, error) {
	var k store.PublicKey
	err := row.Scan(&k.ID, &k.UserID, &k.Key, &k.CreatedAt, &k.LastUsedAt)
	return k, err
}
