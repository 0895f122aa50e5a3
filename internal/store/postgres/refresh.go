package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

// refreshSessionSQL is a whole refresh in one statement, so one round trip
// and one commit. f reads the presented token ($1) with its session, the
// user's scopes now and the workspace's refresh_ttl; r rotates the session
// only if the token is its current generation and it is live at $2
// (conditions as authn checks them: now < expires_at, now <
// refresh_expires_at); c stores the child ($3) only for the row r moved.
// The child's lifetime is the workspace's refresh_ttl (ns) when set, else
// $4[the position of the method's first factor in $5], else $6 — the rule
// of store.RefreshRotation.ChildExpiry.
//
// A concurrent rotation of the same parent: PostgreSQL re-checks r's WHERE
// on the winner's row version (generation is then f's + 1), so the loser
// moves nothing and returns f as its snapshot saw it; the caller re-reads.
const refreshSessionSQL = `WITH f AS (
		SELECT t.hash, t.session_id, t.generation AS token_gen, t.created_at AS token_created,
			s.*, u.scopes AS user_scopes, w.refresh_ttl
		FROM refresh_tokens t
		JOIN sessions s ON s.id = t.session_id
		JOIN workspaces w ON w.id = s.workspace_id
		LEFT JOIN users u ON u.id = s.user_id
		WHERE t.hash = $1),
	r AS (
		UPDATE sessions s SET generation = s.generation + 1, rotated_at = $2,
			refresh_expires_at = least(s.expires_at, $2 + (CASE WHEN f.refresh_ttl > 0 THEN f.refresh_ttl
				ELSE coalesce(($4::bigint[])[array_position($5::text[],
					split_part(split_part(f.method, '+', 1), ':', 1))], $6) END) / 1000 * interval '1 microsecond')
		FROM f
		WHERE s.id = f.session_id AND s.generation = f.token_gen AND s.revoked_at IS NULL
			AND $2 < s.expires_at AND $2 < s.refresh_expires_at
		RETURNING s.id AS rotated_id, s.generation AS child_gen, s.refresh_expires_at AS child_expires_at),
	c AS (
		INSERT INTO refresh_tokens (hash, session_id, generation, created_at)
		SELECT $3, rotated_id, child_gen, $2 FROM r)
	SELECT f.hash, f.session_id, f.token_gen, f.token_created, ` + sessionCols + `,
		f.user_scopes, r.child_expires_at
	FROM f LEFT JOIN r ON true`

// RefreshSession reads and rotates in one statement (refreshSessionSQL).
func (s *Store) RefreshSession(ctx context.Context, r store.RefreshRotation) (store.Refreshed, error) {
	var out store.Refreshed
	var childExp *time.Time
	t, sess := &out.Token, &out.Session
	dest := sessionDest(sess, &t.Hash, &t.SessionID, &t.Generation, &t.CreatedAt)
	methods, ttls := make([]string, 0, len(r.ChildTTL)), make([]int64, 0, len(r.ChildTTL))
	for m, d := range r.ChildTTL {
		methods, ttls = append(methods, m), append(ttls, int64(d))
	}
	err := s.pool.QueryRow(ctx, refreshSessionSQL, r.Hash, r.Now, r.ChildHash, ttls, methods,
		int64(r.DefaultChildTTL)).Scan(append(dest, &sess.UserScopes, &childExp)...)
	if err != nil {
		return store.Refreshed{}, mapErr("refresh session", err)
	}
	if len(sess.UserScopes) == 0 {
		sess.UserScopes = nil // '{}' and NULL alike, as SQLite reads them
	}
	if childExp != nil {
		out.Rotated, out.ChildExpiresAt = true, *childExp
	}
	return out, nil
}

// RevertRotation puts the session back to parent's generation and times
// and deletes the child, in one statement, if the session is still at the
// child's generation.
func (s *Store) RevertRotation(ctx context.Context, parent store.Session, childHash []byte) error {
	tag, err := s.pool.Exec(ctx, `WITH r AS (
			UPDATE sessions SET generation = $2, rotated_at = $3, refresh_expires_at = $4
			WHERE id = $1 AND generation = $2 + 1
			RETURNING id, generation + 1 AS child_gen)
		DELETE FROM refresh_tokens t USING r
		WHERE t.hash = $5 AND t.session_id = r.id AND t.generation = r.child_gen`,
		parent.ID, parent.Generation, parent.RotatedAt, parent.RefreshExpiresAt, childHash)
	if err != nil {
		return mapErr("revert rotation", err)
	}
	if tag.RowsAffected() != 1 {
		return fmt.Errorf("postgres: revert rotation: %w", store.ErrConflict)
	}
	return nil
}
