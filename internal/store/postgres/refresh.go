package postgres

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sigil-auth/sigil/internal/store"
)

// childTTLSQL is a rotated session's child lifetime as an interval, for
// both refresh statements (f: the token's row with the workspace's
// refresh_ttl and the session's method): the workspace's refresh_ttl (ns)
// when set, else $4[the position of the method's first factor in $5], else
// $6 — the rule of store.RefreshRotation.ChildExpiry.
const childTTLSQL = `(CASE WHEN f.refresh_ttl > 0 THEN f.refresh_ttl
	ELSE coalesce(($4::bigint[])[array_position($5::text[],
		split_part(split_part(f.method, '+', 1), ':', 1))], $6) END) / 1000 * interval '1 microsecond'`

// refreshSessionSQL is whole refreshes in one statement, so one round
// trip and one commit for all the refreshes of a batch (refreshBatcher).
// p is the batch: presented hash ($1), child hash ($2) and time ($3) of
// each refresh, numbered. f reads each presented token with its session,
// the user's scopes now and the workspace's refresh_ttl, sorted by
// session so concurrent batches lock sessions in one order; its lookups
// are LATERAL … LIMIT 1 and scalar subqueries, so each is an index probe
// whatever the planner thinks of the batch's size (a join let it hash a
// sequential scan of refresh_tokens). r rotates a
// session only if the token is its current generation and it is live at
// that refresh's time (conditions as authn checks them: now < expires_at,
// now < refresh_expires_at); c stores the child only for the row r moved,
// living childTTLSQL.
//
// Two tokens of one session in a batch (a parent and its child) join the
// session twice, but only the current one matches r's WHERE; the batcher
// never puts one token twice in a batch. A concurrent rotation of the same
// session in another statement: PostgreSQL re-checks r's WHERE on the
// winner's row version (generation is then f's + 1), so the loser moves
// nothing and returns f as its snapshot saw it; the caller re-reads.
const refreshSessionSQL = `WITH p AS (
		SELECT * FROM unnest($1::bytea[], $2::bytea[], $3::timestamptz[]) WITH ORDINALITY
			AS p(presented, child, rot_at, ord)),
	f AS (
		SELECT p.ord, p.child, p.rot_at, t.hash, t.session_id, t.generation AS token_gen,
			t.created_at AS token_created, s.*,
			(SELECT u.scopes FROM users u WHERE u.id = s.user_id) AS user_scopes,
			(SELECT w.refresh_ttl FROM workspaces w WHERE w.id = s.workspace_id) AS refresh_ttl
		FROM p
		CROSS JOIN LATERAL (SELECT * FROM refresh_tokens WHERE hash = p.presented LIMIT 1) t
		CROSS JOIN LATERAL (SELECT * FROM sessions WHERE id = t.session_id LIMIT 1) s
		ORDER BY s.id),
	r AS (
		UPDATE sessions s SET generation = s.generation + 1, rotated_at = f.rot_at,
			refresh_expires_at = least(s.expires_at, f.rot_at + ` + childTTLSQL + `)
		FROM f
		WHERE s.id = f.session_id AND s.generation = f.token_gen AND s.revoked_at IS NULL
			AND f.rot_at < s.expires_at AND f.rot_at < s.refresh_expires_at
		RETURNING s.id AS rotated_id, s.generation AS child_gen, s.refresh_expires_at AS child_expires_at),
	c AS (
		INSERT INTO refresh_tokens (hash, session_id, generation, created_at)
		SELECT f.child, r.rotated_id, r.child_gen, f.rot_at
		FROM r JOIN f ON f.session_id = r.rotated_id AND f.token_gen = r.child_gen - 1)
	SELECT f.ord, f.hash, f.session_id, f.token_gen, f.token_created, ` + sessionCols + `,
		f.user_scopes, r.child_expires_at
	FROM f LEFT JOIN r ON r.rotated_id = f.session_id AND r.child_gen = f.token_gen + 1`

// refreshOneSQL is refreshSessionSQL for one refresh ($1 presented, $2 its
// time, $3 the child): what a refresh alone is written with, cheaper for
// PostgreSQL than a batch of one (no array to unnest, sort or join back).
const refreshOneSQL = `WITH f AS (
		SELECT t.hash, t.session_id, t.generation AS token_gen, t.created_at AS token_created,
			s.*, u.scopes AS user_scopes, w.refresh_ttl
		FROM refresh_tokens t
		JOIN sessions s ON s.id = t.session_id
		JOIN workspaces w ON w.id = s.workspace_id
		LEFT JOIN users u ON u.id = s.user_id
		WHERE t.hash = $1),
	r AS (
		UPDATE sessions s SET generation = s.generation + 1, rotated_at = $2,
			refresh_expires_at = least(s.expires_at, $2 + ` + childTTLSQL + `)
		FROM f
		WHERE s.id = f.session_id AND s.generation = f.token_gen AND s.revoked_at IS NULL
			AND $2 < s.expires_at AND $2 < s.refresh_expires_at
		RETURNING s.id AS rotated_id, s.generation AS child_gen, s.refresh_expires_at AS child_expires_at),
	c AS (
		INSERT INTO refresh_tokens (hash, session_id, generation, created_at)
		SELECT $3, rotated_id, child_gen, $2 FROM r)
	SELECT 1, f.hash, f.session_id, f.token_gen, f.token_created, ` + sessionCols + `,
		f.user_scopes, r.child_expires_at
	FROM f LEFT JOIN r ON true`

// RefreshSession reads and rotates in one statement (refreshSessionSQL),
// together with the refreshes other requests ask for at the same time
// (refreshBatcher).
func (s *Store) RefreshSession(ctx context.Context, r store.RefreshRotation) (store.Refreshed, error) {
	return s.refresh.do(ctx, r)
}

// refreshBatcher is group commit for refreshes. A refresh costs
// PostgreSQL little work but a whole transaction: a round trip, a commit
// and its WAL flush, which on a busy server cost more CPU than the
// rotation itself. So refreshes asked for while others are being written
// wait for them and then go together, in one statement: up to
// maxRefreshBatch, at most maxRefreshRunning statements at once. An idle
// server writes a refresh at once, alone, in the caller's goroutine and
// with the one-refresh statement; the busier it is, the more each
// statement carries. One statement at a time made the most of two cores:
// measured at 10 connections, 183–199 µs of Sigil's CPU and 128–131 µs of
// PostgreSQL's per refresh, 3,178–3,280 refreshes/s, against 212–232 +
// 195–210 µs and 2,761–2,968/s with two at a time (and one lane cannot
// deadlock with itself; another replica's batches lock sessions in the
// same order). A batch that fails (a taken child hash, a deadlock
// with another writer, a lost connection) is retried one refresh at a
// time, so each refresh gets its own answer, as if it had been alone.
type refreshBatcher struct {
	pool *pgxpool.Pool

	mu      sync.Mutex
	queue   []*refreshCall
	running int

	batches, largest int // statements started, and the most refreshes one carried
}

type refreshCall struct {
	ctx  context.Context
	r    store.RefreshRotation
	out  store.Refreshed
	err  error
	done chan struct{}
}

const (
	maxRefreshBatch   = 64
	maxRefreshRunning = 1
)

// do queues r and waits for its answer or ctx. A refresh its caller gave
// up on may still be written (as when a client goes away after the
// commit): its token then rotated, as the caller was told nothing.
func (b *refreshBatcher) do(ctx context.Context, r store.RefreshRotation) (store.Refreshed, error) {
	c := &refreshCall{ctx: ctx, r: r, done: make(chan struct{})}
	b.mu.Lock()
	if b.running < maxRefreshRunning && len(b.queue) == 0 {
		// Nobody waits and the lane is free: write it here, at once, as
		// a statement of its own (no hand-over to another goroutine,
		// which costs an idle server more than the batch saves).
		b.beginLocked(1)
		b.mu.Unlock()
		if err := b.write(ctx, []*refreshCall{c}); err != nil {
			c.err = err
		}
		b.end()
		return c.out, c.err
	}
	b.queue = append(b.queue, c)
	b.startLocked()
	b.mu.Unlock()
	select {
	case <-c.done:
		return c.out, c.err
	case <-ctx.Done():
		return store.Refreshed{}, fmt.Errorf("postgres: refresh session: %w", ctx.Err())
	}
}

// startLocked starts a batch of the queue if one may run.
func (b *refreshBatcher) startLocked() {
	if b.running >= maxRefreshRunning || len(b.queue) == 0 {
		return
	}
	batch := b.takeLocked()
	if len(batch) == 0 {
		return // every queued caller gave up
	}
	b.beginLocked(len(batch))
	go func() {
		b.run(batch)
		b.end()
	}()
}

// beginLocked takes the lane for a statement of n refreshes.
func (b *refreshBatcher) beginLocked(n int) {
	b.running++
	b.batches, b.largest = b.batches+1, max(b.largest, n)
}

// end gives the lane back and starts a batch of those who came meanwhile.
func (b *refreshBatcher) end() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.running--
	b.startLocked()
}

// takeLocked removes the next batch from the queue: calls in order, at
// most maxRefreshBatch, each token once, all with the first's lifetimes
// (they are one set of statement parameters). The rest stay queued in
// order. Calls whose callers gave up are dropped.
func (b *refreshBatcher) takeLocked() []*refreshCall {
	var batch []*refreshCall
	rest := b.queue[:0]
	for _, c := range b.queue {
		switch {
		case c.ctx.Err() != nil:
			c.err = c.ctx.Err()
			close(c.done)
		case len(batch) < maxRefreshBatch && (len(batch) == 0 || sameBatch(batch, c)):
			batch = append(batch, c)
		default:
			rest = append(rest, c)
		}
	}
	clear(b.queue[len(rest):]) // no stale pointers beyond the kept calls
	b.queue = rest
	return batch
}

// sameBatch reports whether c may join batch: a token not already in it,
// the same lifetimes as its first call.
func sameBatch(batch []*refreshCall, c *refreshCall) bool {
	first := batch[0].r
	if c.r.DefaultChildTTL != first.DefaultChildTTL || !maps.Equal(c.r.ChildTTL, first.ChildTTL) {
		return false
	}
	for _, o := range batch {
		if bytes.Equal(o.r.Hash, c.r.Hash) {
			return false
		}
	}
	return true
}

// refreshTimeout bounds one batch's statement: its callers wait at most
// their own contexts, but the connection is held until it ends.
const refreshTimeout = 30 * time.Second

// run writes batch and answers each call. A failed batch of several is
// retried one call at a time. A retry of a batch that did commit (its
// answer lost with the connection) finds each token already rotated, as a
// lost race does, and the caller takes the grace path to the same child.
func (b *refreshBatcher) run(batch []*refreshCall) {
	ctx, cancel := context.WithTimeout(context.Background(), refreshTimeout)
	defer cancel()
	if err := b.write(ctx, batch); err != nil && len(batch) == 1 {
		batch[0].err = err
	} else if err != nil {
		for _, c := range batch {
			if err := b.write(ctx, []*refreshCall{c}); err != nil {
				c.err = err
			}
		}
	}
	for _, c := range batch {
		close(c.done)
	}
}

// write runs refreshSessionSQL for batch and sets each call's out, or its
// err to store.ErrNotFound for a token not found. It returns the
// statement's error, then no call's out is set.
func (b *refreshBatcher) write(ctx context.Context, batch []*refreshCall) error {
	first := batch[0].r
	methods, ttls := make([]string, 0, len(first.ChildTTL)), make([]int64, 0, len(first.ChildTTL))
	for m, d := range first.ChildTTL {
		methods, ttls = append(methods, m), append(ttls, int64(d))
	}
	var rows pgx.Rows
	if len(batch) == 1 {
		rows, _ = b.pool.Query(ctx, refreshOneSQL, first.Hash, first.Now, first.ChildHash, ttls, methods,
			int64(first.DefaultChildTTL))
	} else {
		presented, children := make([][]byte, len(batch)), make([][]byte, len(batch))
		ats := make([]time.Time, len(batch))
		for i, c := range batch {
			presented[i], children[i], ats[i] = c.r.Hash, c.r.ChildHash, c.r.Now
		}
		rows, _ = b.pool.Query(ctx, refreshSessionSQL, presented, children, ats, ttls, methods,
			int64(first.DefaultChildTTL))
	}
	outs := make([]store.Refreshed, len(batch))
	found := make([]bool, len(batch))
	var ord int64
	var childExp *time.Time
	for rows.Next() {
		var out store.Refreshed
		t, sess := &out.Token, &out.Session
		dest := sessionDest(sess, &ord, &t.Hash, &t.SessionID, &t.Generation, &t.CreatedAt)
		if err := rows.Scan(append(dest, &sess.UserScopes, &childExp)...); err != nil {
			rows.Close()
			return mapErr("refresh session", err)
		}
		if len(sess.UserScopes) == 0 {
			sess.UserScopes = nil // '{}' and NULL alike, as SQLite reads them
		}
		if childExp != nil {
			out.Rotated, out.ChildExpiresAt = true, *childExp
		}
		i := int(ord) - 1
		if i < 0 || i >= len(batch) {
			rows.Close()
			return errors.New("postgres: refresh session: a row for no refresh of the batch")
		}
		outs[i], found[i] = out, true
	}
	if err := rows.Err(); err != nil {
		return mapErr("refresh session", err)
	}
	for i, c := range batch {
		if found[i] {
			c.out = outs[i]
		} else {
			c.err = fmt.Errorf("postgres: refresh session: %w", store.ErrNotFound)
		}
	}
	return nil
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
