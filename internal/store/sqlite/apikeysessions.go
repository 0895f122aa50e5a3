package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

// Sessions made by exchanging an API key: no refresh token, api_key_id
// set, user_id NULL when the instance admin created the key.

var (
	// qPutAPIKeySession is an upsert that replaces every column, but only
	// of an API-key session: a login session under that id matches no row
	// of the DO UPDATE's WHERE and so changes nothing (0 rows affected).
	qPutAPIKeySession = writeQuery(`INSERT INTO sessions (` + sessionCols + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET user_id = excluded.user_id,
			workspace_id = excluded.workspace_id, method = excluded.method,
			scopes = excluded.scopes, created_at = excluded.created_at,
			expires_at = excluded.expires_at, refresh_expires_at = excluded.refresh_expires_at,
			generation = excluded.generation, rotated_at = excluded.rotated_at,
			revoked_at = excluded.revoked_at, api_key_id = excluded.api_key_id,
			app_id = excluded.app_id
		WHERE sessions.api_key_id IS NOT NULL`)
	qRevokeAPIKey = writeQuery(`UPDATE sessions SET revoked_at = ?1
		WHERE api_key_id = ?2 AND revoked_at IS NULL AND expires_at > ?1 RETURNING id`)
)

// PutAPIKeySession inserts sess or replaces every field of the API-key
// session with its ID (a revoked or expired exchange session starts
// afresh; RevokedAt is stored as given). It never replaces a login
// session: that is ErrConflict. An APIKeyID that is "" or unknown, or an
// unknown non-empty UserID, is ErrNotFound.
func (s *Store) PutAPIKeySession(ctx context.Context, sess store.Session) error {
	if sess.APIKeyID == "" {
		return fmt.Errorf("sqlite: put api key session: %w (no APIKeyID)", store.ErrNotFound)
	}
	err := s.write(ctx, func(t tx) error {
		err := t.execAffected(qPutAPIKeySession, sessionArgs(sess, nullText(sess.UserID))...)
		if errors.Is(err, store.ErrNotFound) {
			return store.ErrConflict // the id is a login session's
		}
		return err
	})
	return wrap("put api key session", err)
}

// RevokeAPIKeySessions revokes the key's live sessions (not revoked,
// now < ExpiresAt) in one statement and returns their ids (in no
// particular order); an unknown key has none.
func (s *Store) RevokeAPIKeySessions(ctx context.Context, keyID string, now time.Time) ([]string, error) {
	var ids []string
	err := s.write(ctx, func(t tx) (err error) {
		ids, err = t.strings(qRevokeAPIKey, micros(now), keyID)
		return err
	})
	if err != nil {
		return nil, wrap("revoke api key sessions", err)
	}
	return ids, nil
}
