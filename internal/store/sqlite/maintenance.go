package sqlite

import (
	"context"
	"time"
)

// A session is past use when it is revoked or now >= its ExpiresAt; its
// refresh tokens go with it. The tokens are deleted explicitly (not by the
// foreign key's cascade) so that they are counted.
// The UNION lets each half use its own index (sessions_expires_idx and
// the partial sessions_revoked_idx) where an OR would scan the table.
const pastUse = `SELECT id FROM sessions WHERE expires_at <= ?1
	UNION ALL SELECT id FROM sessions WHERE revoked_at IS NOT NULL`

var (
	qDeleteCodes      = writeQuery(`DELETE FROM auth_codes WHERE expires_at <= ?1`)
	qDeleteAuthzCodes = writeQuery(`DELETE FROM authorization_codes WHERE expires_at <= ?1`)
	qDeleteOTTs       = writeQuery(`DELETE FROM one_time_tokens WHERE expires_at <= ?1`)
	qDeleteTokens     = writeQuery(`DELETE FROM refresh_tokens WHERE session_id IN (` + pastUse + `)`)
	qDeleteSession    = writeQuery(`DELETE FROM sessions WHERE id IN (` + pastUse + `)`)
)

// DeleteExpired removes, in one transaction, the auth codes, authorization
// codes (redeemed or not) and one-time tokens with ExpiresAt <= now, the
// sessions past use (API-key sessions included) with all their refresh
// tokens, and the usage buckets older than store.UsageRetention, and
// returns the number of rows removed from the six tables. API keys, JWT
// keys, apps and audit events stay.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time) (int64, error) {
	var total int64
	err := s.write(ctx, func(t tx) error {
		for _, q := range []*query{qDeleteCodes, qDeleteAuthzCodes, qDeleteOTTs, qDeleteSteps, qDeleteTokens, qDeleteSession, qDeleteUsage} {
			res, err := t.exec(q, micros(now))
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			total += n
		}
		return nil
	})
	if err != nil {
		return 0, wrap("delete expired", err)
	}
	return total, nil
}
