package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/sigil-auth/sigil/internal/store"
)

const userCols = `id, workspace_id, role, scopes, created_at`

// CreateUser stores u and, if firstKey is not nil, that key (its UserID is
// set to u.ID). The first user of a workspace becomes its owner. Race
// freedom: the workspace row is locked (FOR NO KEY UPDATE, which still
// lets other transactions check foreign keys against it) before its users
// are counted, so concurrent CreateUser calls on one workspace serialise
// and exactly one sees it empty. An unknown workspace is ErrNotFound; a
// taken user id (or key id) is ErrConflict.
func (s *Store) CreateUser(ctx context.Context, u store.User, firstKey *store.PublicKey) (store.User, error) {
	var out store.User
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockRow(ctx, tx, "workspaces", u.WorkspaceID); err != nil {
			return mapErr("create user: workspace", err)
		}
		var hasUsers bool
		err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE workspace_id = $1)`,
			u.WorkspaceID).Scan(&hasUsers)
		if err != nil {
			return mapErr("create user", err)
		}
		if !hasUsers {
			u.Role = store.RoleOwner
		}
		out, err = scanUser(tx.QueryRow(ctx, `INSERT INTO users (`+userCols+`)
			VALUES ($1, $2, $3, $4, $5) RETURNING `+userCols,
			u.ID, u.WorkspaceID, u.Role, u.Scopes, u.CreatedAt))
		if err != nil {
			return mapErr("create user", err)
		}
		if firstKey == nil {
			return nil
		}
		k := *firstKey
		k.UserID = u.ID
		return insertPublicKey(ctx, tx, k)
	})
	if err != nil {
		return store.User{}, err
	}
	return out, nil
}

// GetUser returns the user with that id.
func (s *Store) GetUser(ctx context.Context, id string) (store.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, id))
	return u, mapErr("get user", err)
}

// UserExists reports whether a user has that id.
func (s *Store) UserExists(ctx context.Context, id string) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)`, id).Scan(&ok)
	return ok, mapErr("user exists", err)
}

// lockRow locks the row of table with that id until tx ends (pgx.ErrNoRows
// if there is none). It must be its own statement: under READ COMMITTED a
// later statement takes a fresh snapshot and so sees everything committed
// by the transaction that held the lock before us, whereas subqueries of
// the locking statement itself would still read the old snapshot.
// FOR NO KEY UPDATE does not block foreign-key checks against the row.
func lockRow(ctx context.Context, tx pgx.Tx, table, id string) error {
	var one int
	return tx.QueryRow(ctx, `SELECT 1 FROM `+table+` WHERE id = $1 FOR NO KEY UPDATE`, id).Scan(&one)
}

func scanUser(row pgx.Row) (store.User, error) {
	var u store.User
	err := row.Scan(&u.ID, &u.WorkspaceID, &u.Role, &u.Scopes, &u.CreatedAt)
	return u, err
}

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

// DeletePublicKey removes one key of the user. Locking the user row first
// serialises deletes on one keyring, so two concurrent deletes of its last
// two keys cannot both pass the "not the last key" check. An unknown user
// or key is ErrNotFound; the last key is ErrConflict.
func (s *Store) DeletePublicKey(ctx context.Context, userID, keyID string) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockRow(ctx, tx, "users", userID); err != nil {
			return mapErr("delete public key", err)
		}
		var keys int
		var found bool
		err := tx.QueryRow(ctx, `SELECT count(*), coalesce(bool_or(id = $2), false)
			FROM public_keys WHERE user_id = $1`, userID, keyID).Scan(&keys, &found)
		switch {
		case err != nil:
			return mapErr("delete public key", err)
		case !found:
			return fmt.Errorf("postgres: delete public key: %w", store.ErrNotFound)
		case keys <= 1:
			return fmt.Errorf("postgres: delete public key: last key: %w", store.ErrConflict)
		}
		_, err = tx.Exec(ctx, `DELETE FROM public_keys WHERE user_id = $1 AND id = $2`, userID, keyID)
		return mapErr("delete public key", err)
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
