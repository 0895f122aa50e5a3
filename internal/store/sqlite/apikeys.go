package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

// apiKeyCols are the columns scanAPIKey reads, in its order. user_id is
// NULL for keys the instance admin created.
const apiKeyCols = `id, workspace_id, user_id, name, prefix, hash, scopes, created_at,
	expires_at, revoked_at, last_used_at`

var (
	qCreateAPIKey = writeQuery(`INSERT INTO api_keys (` + apiKeyCols + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	qGetAPIKey       = readQuery(`SELECT ` + apiKeyCols + ` FROM api_keys WHERE id = ?`)
	qGetAPIKeyByHash = readQuery(`SELECT ` + apiKeyCols + ` FROM api_keys WHERE hash = ?`)
	// Two list statements rather than one with "? = '' OR user_id = ?":
	// each gets its own index (SQLite plans once, at prepare).
	qListAPIKeys = readQuery(`SELECT ` + apiKeyCols + ` FROM api_keys
		WHERE workspace_id = ? ORDER BY created_at DESC, id DESC`)
	qListUserAPIKeys = readQuery(`SELECT ` + apiKeyCols + ` FROM api_keys
		WHERE user_id = ? AND workspace_id = ? ORDER BY created_at DESC, id DESC`)
	// qLoadAPIKey is qGetAPIKey inside UpdateAPIKey's transaction.
	qLoadAPIKey   = writeQuery(`SELECT ` + apiKeyCols + ` FROM api_keys WHERE id = ?`)
	qUpdateAPIKey = writeQuery(`UPDATE api_keys SET name = ?, expires_at = ?, revoked_at = ?
		WHERE id = ? RETURNING ` + apiKeyCols)
	qTouchAPIKey = writeQuery(`UPDATE api_keys SET last_used_at = ? WHERE id = ?`)
)

func scanAPIKey(row scanner) (store.APIKey, error) {
	var k store.APIKey
	var expires, revoked, lastUsed sql.NullInt64
	err := row.Scan(&k.ID, &k.WorkspaceID, (*text)(&k.UserID), &k.Name, &k.Prefix, &k.Hash,
		(*scopes)(&k.Scopes), (*instant)(&k.CreatedAt), &expires, &revoked, &lastUsed)
	k.ExpiresAt, k.RevokedAt = fromNullMicros(expires), fromNullMicros(revoked)
	k.LastUsedAt = fromNullMicros(lastUsed)
	return k, err
}

// CreateAPIKey stores k. A taken id or hash is ErrConflict; an unknown
// workspace, or an unknown creator when UserID is not "", ErrNotFound.
func (s *Store) CreateAPIKey(ctx context.Context, k store.APIKey) error {
	err := s.writeExec(ctx, qCreateAPIKey, k.ID, k.WorkspaceID, nullText(k.UserID), k.Name,
		k.Prefix, k.Hash, encodeScopes(k.Scopes), micros(k.CreatedAt),
		nullMicros(k.ExpiresAt), nullMicros(k.RevokedAt), nullMicros(k.LastUsedAt))
	return wrap("create api key", err)
}

// GetAPIKey returns the key with that id, revoked or not, or ErrNotFound.
func (s *Store) GetAPIKey(ctx context.Context, id string) (store.APIKey, error) {
	k, err := scanAPIKey(s.queryRow(ctx, qGetAPIKey, id))
	return k, wrap("get api key", err)
}

// GetAPIKeyByHash returns the key whose hash is hash, or ErrNotFound.
func (s *Store) GetAPIKeyByHash(ctx context.Context, hash []byte) (store.APIKey, error) {
	k, err := scanAPIKey(s.queryRow(ctx, qGetAPIKeyByHash, hash))
	return k, wrap("get api key by hash", err)
}

// ListAPIKeys returns the workspace's keys, only userID's when userID is
// not "", newest (CreatedAt, then ID) first, revoked ones included.
func (s *Store) ListAPIKeys(ctx context.Context, workspaceID, userID string) ([]store.APIKey, error) {
	var keys []store.APIKey
	var err error
	if userID == "" {
		keys, err = list(ctx, s, qListAPIKeys, scanAPIKey, workspaceID)
	} else {
		keys, err = list(ctx, s, qListUserAPIKeys, scanAPIKey, userID, workspaceID)
	}
	return keys, wrap("list api keys", err)
}

// UpdateAPIKey loads the key, applies fn and stores Name, ExpiresAt and
// RevokedAt in one immediate transaction; changes to other fields are
// ignored. fn runs on the writer goroutine inside that transaction: it must
// be quick and must not call the Store (that would deadlock). fn's error is
// returned as is; an unknown id is ErrNotFound (fn not called).
func (s *Store) UpdateAPIKey(ctx context.Context, id string, fn func(*store.APIKey) error) (store.APIKey, error) {
	var out store.APIKey
	err := s.write(ctx, func(t tx) error {
		k, err := scanAPIKey(t.queryRow(qLoadAPIKey, id))
		if err != nil {
			return wrap("update api key", err)
		}
		if err := fn(&k); err != nil {
			return err // the caller's own error, unwrapped
		}
		out, err = scanAPIKey(t.queryRow(qUpdateAPIKey, k.Name, nullMicros(k.ExpiresAt),
			nullMicros(k.RevokedAt), id))
		return wrap("update api key", err)
	})
	if err != nil {
		return store.APIKey{}, err
	}
	return out, nil
}

// TouchAPIKey sets the key's LastUsedAt to at; an unknown id is
// ErrNotFound.
func (s *Store) TouchAPIKey(ctx context.Context, id string, at time.Time) error {
	return wrap("touch api key", s.writeAffected(ctx, qTouchAPIKey, micros(at), id))
}
