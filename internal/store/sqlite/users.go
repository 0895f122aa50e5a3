package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

// userCols are the columns scanUser reads, in its order.
const userCols = `id, workspace_id, role, scopes, created_at, email, password_hash, email_verified,
	instance_admin, name`

var (
	// qCreateUser decides the role in the INSERT itself: the first user of
	// a workspace becomes its owner. The writer lock held by the immediate
	// transaction makes the EXISTS check and the insert one atomic step.
	qCreateUser = writeQuery(`INSERT INTO users (` + userCols + `)
		VALUES (?1, ?2,
			CASE WHEN EXISTS (SELECT 1 FROM users WHERE workspace_id = ?2) THEN ?3 ELSE '` +
		store.RoleOwner + `' END,
			?4, ?5, ?6, ?7, ?8, ?9, ?10)
		RETURNING role`)
	qGetUser    = readQuery(`SELECT ` + userCols + ` FROM users WHERE id = ?`)
	qUserExists = readQuery(`SELECT EXISTS (SELECT 1 FROM users WHERE id = ?)`)
)

func scanUser(row scanner) (store.User, error) {
	var u store.User
	err := row.Scan(userDest(&u)...)
	return u, err
}

// userDest are the scan targets of userCols, in order, then after.
func userDest(u *store.User, after ...any) []any {
	return append([]any{&u.ID, &u.WorkspaceID, &u.Role, (*scopes)(&u.Scopes), (*instant)(&u.CreatedAt),
		(*text)(&u.Email), (*text)(&u.PasswordHash), &u.EmailVerified, &u.InstanceAdmin, &u.Name}, after...)
}

// CreateUser stores u and, if firstKey is not nil, that key (its UserID
// is set to u.ID) in one transaction. A taken user or key id, or an email
// another user of the workspace has, is ErrConflict and stores nothing; an
// unknown workspace is ErrNotFound. The first user of a workspace gets
// RoleOwner, later ones keep u.Role; the stored user is returned.
func (s *Store) CreateUser(ctx context.Context, u store.User, firstKey *store.PublicKey) (store.User, error) {
	err := s.write(ctx, func(t tx) error {
		err := insertUser(t, &u)
		if err != nil || firstKey == nil {
			return err
		}
		k := *firstKey
		k.UserID = u.ID
		_, err = t.exec(qAddPublicKey, addKeyArgs(k)...)
		return err
	})
	if err != nil {
		return store.User{}, wrap("create user", err)
	}
	u.CreatedAt = fromMicros(micros(u.CreatedAt))
	return u, nil
}

// insertUser runs qCreateUser for u in t and sets u.Role to the role
// stored.
func insertUser(t tx, u *store.User) error {
	return t.queryRow(qCreateUser, u.ID, u.WorkspaceID, u.Role,
		encodeScopes(u.Scopes), micros(u.CreatedAt), nullText(u.Email),
		nullText(u.PasswordHash), u.EmailVerified, u.InstanceAdmin, u.Name).Scan(&u.Role)
}

// GetUser returns the user with that id, or ErrNotFound.
func (s *Store) GetUser(ctx context.Context, id string) (store.User, error) {
	u, err := scanUser(s.queryRow(ctx, qGetUser, id))
	return u, wrap("get user", err)
}

// UserExists reports whether a user has that id.
func (s *Store) UserExists(ctx context.Context, id string) (bool, error) {
	var exists bool
	err := s.queryRow(ctx, qUserExists, id).Scan(&exists)
	return exists, wrap("user exists", err)
}

const keyCols = `id, user_id, key, created_at, last_used_at`

var (
	qAddPublicKey  = writeQuery(`INSERT INTO public_keys (` + keyCols + `) VALUES (?, ?, ?, ?, ?)`)
	qListKeys      = readQuery(`SELECT ` + keyCols + ` FROM public_keys WHERE user_id = ? ORDER BY created_at DESC, id DESC`)
	qGetKeyByValue = readQuery(`SELECT ` + keyCols + ` FROM public_keys WHERE user_id = ? AND key = ?`)
	qGetUserByKey  = readQuery(`SELECT ` + qualify("u", userCols) + `, ` + qualify("k", keyCols) + `
		FROM public_keys k JOIN users u ON u.id = k.user_id WHERE k.user_id = ? AND k.key = ?`)
	// qCountKeys counts the user's keys: public keys and passkeys.
	qCountKeys = writeQuery(`SELECT (SELECT count(*) FROM public_keys WHERE user_id = ?1) +
		(SELECT count(*) FROM factors WHERE user_id = ?1 AND kind = '` + store.FactorWebAuthn + `')`)
	qDeleteKey     = writeQuery(`DELETE FROM public_keys WHERE user_id = ? AND id = ?`)
	qDeletePasskey = writeQuery(`DELETE FROM factors WHERE user_id = ? AND id = ? AND kind = '` + store.FactorWebAuthn + `'`)
	qTouchKey      = writeQuery(`UPDATE public_keys SET last_used_at = ? WHERE id = ?`)
)

func addKeyArgs(k store.PublicKey) []any {
	return []any{k.ID, k.UserID, k.Key, micros(k.CreatedAt), nullMicros(k.LastUsedAt)}
}

type scanner interface{ Scan(dest ...any) error }

func scanKey(row scanner) (store.PublicKey, error) {
	var k store.PublicKey
	var lastUsed sql.NullInt64
	err := row.Scan(&k.ID, &k.UserID, &k.Key, (*instant)(&k.CreatedAt), &lastUsed)
	k.LastUsedAt = fromNullMicros(lastUsed)
	return k, err
}

// AddPublicKey stores k. A taken key id, or key bytes already on the
// user's keyring, is ErrConflict; an unknown user ErrNotFound.
func (s *Store) AddPublicKey(ctx context.Context, k store.PublicKey) error {
	return wrap("add public key", s.writeExec(ctx, qAddPublicKey, addKeyArgs(k)...))
}

// ListPublicKeys returns the user's keys, newest first (none for an
// unknown user).
func (s *Store) ListPublicKeys(ctx context.Context, userID string) ([]store.PublicKey, error) {
	rows, err := s.stmt(qListKeys).QueryContext(ctx, userID)
	if err != nil {
		return nil, wrap("list public keys", err)
	}
	defer rows.Close()
	var keys []store.PublicKey
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, wrap("list public keys", err)
		}
		keys = append(keys, k)
	}
	return keys, wrap("list public keys", rows.Err())
}

// GetPublicKeyByValue returns the user's key with those raw bytes, or
// ErrNotFound.
func (s *Store) GetPublicKeyByValue(ctx context.Context, userID string, key []byte) (store.PublicKey, error) {
	k, err := scanKey(s.queryRow(ctx, qGetKeyByValue, userID, key))
	return k, wrap("get public key", err)
}

// GetUserByKey returns user userID and its key whose raw bytes are key,
// in one query.
func (s *Store) GetUserByKey(ctx context.Context, userID string, key []byte) (store.User, store.PublicKey, error) {
	var u store.User
	var k store.PublicKey
	var lastUsed sql.NullInt64
	err := s.queryRow(ctx, qGetUserByKey, userID, key).
		Scan(userDest(&u, &k.ID, &k.UserID, &k.Key, (*instant)(&k.CreatedAt), &lastUsed)...)
	if err != nil {
		return store.User{}, store.PublicKey{}, wrap("get user by key", err)
	}
	k.LastUsedAt = fromNullMicros(lastUsed)
	return u, k, nil
}

// DeletePublicKey removes the user's key keyID, never the last key.
func (s *Store) DeletePublicKey(ctx context.Context, userID, keyID string) error {
	return wrap("delete public key", s.deleteKey(ctx, qDeleteKey, userID, keyID))
}

// DeletePasskey removes the user's passkey id, never the last key.
func (s *Store) DeletePasskey(ctx context.Context, userID, id string) error {
	return wrap("delete passkey", s.deleteKey(ctx, qDeletePasskey, userID, id))
}

// deleteKey deletes one key of the user with q unless it was the user's
// last. The count and the delete share one (immediate) transaction, so
// two concurrent deletes cannot both pass the "not the last key" check.
func (s *Store) deleteKey(ctx context.Context, q *query, userID, id string) error {
	return s.write(ctx, func(t tx) error {
		var n int64
		if err := t.queryRow(qCountKeys, userID).Scan(&n); err != nil {
			return err
		}
		if err := t.execAffected(q, userID, id); err != nil {
			return err
		}
		if n <= 1 {
			return store.ErrConflict // rolls the delete back
		}
		return nil
	})
}

// TouchPublicKey sets the key's LastUsedAt; an unknown key is ErrNotFound.
func (s *Store) TouchPublicKey(ctx context.Context, keyID string, at time.Time) error {
	return wrap("touch public key", s.writeAffected(ctx, qTouchKey, micros(at), keyID))
}
