package postgres

import (
	"context"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

// DeleteExpired removes, in one statement, the auth codes, authorization
// codes (redeemed or not) and one-time tokens whose ExpiresAt is not after
// now, the sessions (API-key ones too) that are revoked or whose ExpiresAt
// is not after now, all refresh tokens of those sessions, and the usage
// buckets older than store.UsageRetention; it returns how many rows of the
// six tables went. API keys, JWT keys, apps and audit events are kept,
// whatever their age. Refresh tokens of older generations of a live
// session stay: they are how reuse is recognised.
//
// The refresh tokens are deleted explicitly (not left to ON DELETE
// CASCADE, which would run anyway and find nothing) so they are counted.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.pool.QueryRow(ctx, `WITH
		a AS (DELETE FROM auth_codes WHERE expires_at <= $1 RETURNING 1),
		c AS (DELETE FROM authorization_codes WHERE expires_at <= $1 RETURNING 1),
		o AS (DELETE FROM one_time_tokens WHERE expires_at <= $1 RETURNING 1),
		t AS (DELETE FROM totp_steps WHERE expires_at <= $1 RETURNING 1),
		s AS (DELETE FROM sessions
			WHERE expires_at <= $1 OR revoked_at IS NOT NULL RETURNING id),
		r AS (DELETE FROM refresh_tokens WHERE session_id IN (SELECT id FROM s) RETURNING 1),
		u AS (DELETE FROM usage_stats WHERE hour < $2 RETURNING 1)
		SELECT (SELECT count(*) FROM a) + (SELECT count(*) FROM c) + (SELECT count(*) FROM o) + (SELECT count(*) FROM t) +
			(SELECT count(*) FROM s) + (SELECT count(*) FROM r) + (SELECT count(*) FROM u)`,
		now, now.Add(-store.UsageRetention)).Scan(&n)
	return n, mapErr("delete expired", err)
}
