package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigil-auth/sigil/internal/store"
)

// PutAPIKeySession inserts sess or, when a session with its id exists,
// replaces every column of it in the same statement (so RevokedAt,
// Generation and the times are sess's, and an ended exchange session
// starts afresh). Exchange sessions have no refresh tokens, so there are
// none to drop.
//
// Only a session of an API key is ever replaced: an id that belongs to a
// key-pair or password session (a caller bug) is ErrConflict and changes
// nothing, rather than turning that session into a key's and orphaning
// its refresh tokens. An unknown key (or none: APIKeyID ""), user or
// workspace is ErrNotFound.
func (s *Store) PutAPIKeySession(ctx context.Context, sess store.Session) error {
	if sess.APIKeyID == "" {
		return fmt.Errorf("postgres: put api key session %q: no APIKeyID: %w", sess.ID, store.ErrNotFound)
	}
	tag, err := s.pool.Exec(ctx, sessionInsert+` ON CONFLICT (id) DO UPDATE SET
			user_id = excluded.user_id, workspace_id = excluded.workspace_id,
			method = excluded.method, scopes = excluded.scopes,
			created_at = excluded.created_at, expires_at = excluded.expires_at,
			refresh_expires_at = excluded.refresh_expires_at,
			generation = excluded.generation, rotated_at = excluded.rotated_at,
			revoked_at = excluded.revoked_at, api_key_id = excluded.api_key_id,
			app_id = excluded.app_id
		WHERE sessions.api_key_id IS NOT NULL`, sessionArgs(sess)...)
	return errAffected("put api key session", tag, err, store.ErrConflict)
}

// RevokeAPIKeySessions revokes the key's live sessions (not revoked,
// ExpiresAt after now) and returns their ids, newest first. An unknown
// key has none.
func (s *Store) RevokeAPIKeySessions(ctx context.Context, keyID string, now time.Time) ([]string, error) {
	rows, _ := s.pool.Query(ctx, `WITH r AS (
			UPDATE sessions SET revoked_at = $2
			WHERE api_key_id = $1 AND revoked_at IS NULL AND expires_at > $2
			RETURNING id, created_at)
		SELECT id FROM r ORDER BY created_at DESC, id DESC`, keyID, now)
	ids, err := pgx.AppendRows([]string(nil), rows, pgx.RowTo[string])
	return ids, mapErr("revoke api key sessions", err)
}
