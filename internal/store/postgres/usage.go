package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigil-auth/sigil/internal/store"
)

// AddUsage adds the deltas in one statement (atomic, one round trip): the
// columns travel as arrays, deltas of one bucket are summed first (an
// upsert may not touch a row twice), and the rows are written in key
// order, so two replicas flushing overlapping buckets lock them in the
// same order and never deadlock. The upsert adds to what other replicas
// wrote. No deltas is a no-op.
func (s *Store) AddUsage(ctx context.Context, deltas ...store.UsageCount) error {
	if len(deltas) == 0 {
		return nil
	}
	n := len(deltas)
	ws, kinds, hours, counts := make([]string, n), make([]string, n), make([]time.Time, n), make([]int64, n)
	for i, d := range deltas {
		ws[i], hours[i], kinds[i], counts[i] = d.WorkspaceID, d.Hour, d.Kind, d.Count
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO usage_stats (workspace_id, hour, kind, count)
		SELECT ws, h, k, sum(n) FROM unnest($1::text[], $2::timestamptz[], $3::text[], $4::bigint[]) AS d (ws, h, k, n)
		GROUP BY ws, h, k ORDER BY ws, h, k
		ON CONFLICT (workspace_id, hour, kind) DO UPDATE SET count = usage_stats.count + excluded.count`,
		ws, hours, kinds, counts)
	return mapErr("add usage", err)
}

// ListUsage returns the workspace's buckets from since on, by hour and
// kind (bytewise).
func (s *Store) ListUsage(ctx context.Context, workspaceID string, since time.Time) ([]store.UsageCount, error) {
	rows, _ := s.pool.Query(ctx, `SELECT workspace_id, hour, kind, count FROM usage_stats
		WHERE workspace_id = $1 AND hour >= $2 ORDER BY hour, kind COLLATE "C"`, workspaceID, since)
	out, err := pgx.AppendRows([]store.UsageCount(nil), rows, func(r pgx.CollectableRow) (store.UsageCount, error) {
		var u store.UsageCount
		err := r.Scan(&u.WorkspaceID, &u.Hour, &u.Kind, &u.Count)
		return u, err
	})
	return out, mapErr("list usage", err)
}

// ListAPIKeySpans returns the lifetimes of the workspace's keys still
// usable after since (expiry is inclusive), oldest first (ties by id,
// bytewise).
func (s *Store) ListAPIKeySpans(ctx context.Context, workspaceID string, since time.Time) ([]store.APIKeySpan, error) {
	rows, _ := s.pool.Query(ctx, `SELECT created_at, expires_at, revoked_at FROM api_keys
		WHERE workspace_id = $1 AND (revoked_at IS NULL OR revoked_at > $2)
		AND (expires_at IS NULL OR expires_at > $2)
		ORDER BY created_at, id COLLATE "C"`, workspaceID, since)
	out, err := pgx.AppendRows([]store.APIKeySpan(nil), rows, func(r pgx.CollectableRow) (store.APIKeySpan, error) {
		var k store.APIKeySpan
		err := r.Scan(&k.CreatedAt, &k.ExpiresAt, &k.RevokedAt)
		return k, err
	})
	return out, mapErr("list api key spans", err)
}
