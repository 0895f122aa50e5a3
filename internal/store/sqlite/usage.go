package sqlite

import (
	"context"
	"database/sql"
	"strconv"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

var (
	// qAddUsage is an upsert that adds: two replicas' deltas to one bucket
	// both count.
	qAddUsage = writeQuery(`INSERT INTO usage_stats (workspace_id, hour, kind, count)
		VALUES (?, ?, ?, ?)
		ON CONFLICT (workspace_id, hour, kind) DO UPDATE SET count = count + excluded.count`)
	qListUsage = readQuery(`SELECT workspace_id, hour, kind, count FROM usage_stats
		WHERE workspace_id = ? AND hour >= ? ORDER BY hour, kind`)
	// The workspace's keys by api_keys_workspace_created_idx; the
	// lifetime tests are residual. Expiry is inclusive: a key revoked or
	// expired at since was not usable after it.
	qListAPIKeySpans = readQuery(`SELECT created_at, expires_at, revoked_at FROM api_keys
		WHERE workspace_id = ?1 AND (revoked_at IS NULL OR revoked_at > ?2)
		AND (expires_at IS NULL OR expires_at > ?2)
		ORDER BY created_at, id`)
	// qDeleteUsage takes now, like DeleteExpired's other statements.
	qDeleteUsage = writeQuery(`DELETE FROM usage_stats WHERE hour < ?1 - ` +
		strconv.FormatInt(store.UsageRetention.Microseconds(), 10))
)

// AddUsage adds the deltas in one transaction (one hand-off to the
// writer), one prepared upsert per delta. No deltas is a no-op.
func (s *Store) AddUsage(ctx context.Context, deltas ...store.UsageCount) error {
	if len(deltas) == 0 {
		return nil
	}
	err := s.write(ctx, func(t tx) error {
		st := t.stmt(qAddUsage)
		for _, d := range deltas {
			if _, err := st.ExecContext(t.ctx, d.WorkspaceID, micros(d.Hour), d.Kind, d.Count); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("add usage", err)
}

// ListUsage returns the workspace's buckets from since on, by hour and
// kind.
func (s *Store) ListUsage(ctx context.Context, workspaceID string, since time.Time) ([]store.UsageCount, error) {
	out, err := list(ctx, s, qListUsage, func(row scanner) (store.UsageCount, error) {
		var u store.UsageCount
		err := row.Scan(&u.WorkspaceID, (*instant)(&u.Hour), &u.Kind, &u.Count)
		return u, err
	}, workspaceID, micros(since))
	return out, wrap("list usage", err)
}

// ListAPIKeySpans returns the lifetimes of the workspace's keys that were
// still usable after since, oldest first.
func (s *Store) ListAPIKeySpans(ctx context.Context, workspaceID string, since time.Time) ([]store.APIKeySpan, error) {
	out, err := list(ctx, s, qListAPIKeySpans, func(row scanner) (store.APIKeySpan, error) {
		var k store.APIKeySpan
		var expires, revoked sql.NullInt64
		err := row.Scan((*instant)(&k.CreatedAt), &expires, &revoked)
		k.ExpiresAt, k.RevokedAt = fromNullMicros(expires), fromNullMicros(revoked)
		return k, err
	}, workspaceID, micros(since))
	return out, wrap("list api key spans", err)
}
