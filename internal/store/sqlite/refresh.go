package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

var (
	// qRotate is the conditional write that decides a refresh race: only
	// a caller that still sees the session at fromGen, unrevoked, moves it.
	qRotate = writeQuery(`UPDATE sessions
		SET generation = generation + 1, rotated_at = ?, refresh_expires_at = ?
		WHERE id = ? AND generation = ? AND revoked_at IS NULL`)
	qSessionExists = writeQuery(`SELECT EXISTS (SELECT 1 FROM sessions WHERE id = ?)`)
	// qFindRefresh is qGetRefreshSession with the workspace's refresh_ttl,
	// read inside RefreshSession's transaction.
	qFindRefresh = writeQuery(`SELECT t.hash, t.session_id, t.generation, t.created_at, ` +
		qualify("s", sessionCols) + `, coalesce(u.scopes, '[]'), w.refresh_ttl
		FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
		JOIN workspaces w ON w.id = s.workspace_id
		LEFT JOIN users u ON u.id = s.user_id WHERE t.hash = ?`)
	// qRevertRotation and qDeleteChild undo a rotation (RevertRotation).
	qRevertRotation = writeQuery(`UPDATE sessions SET generation = ?, rotated_at = ?, refresh_expires_at = ?
		WHERE id = ? AND generation = ?`)
	qDeleteChild = writeQuery(`DELETE FROM refresh_tokens WHERE hash = ? AND session_id = ? AND generation = ?`)
)

// RefreshSession reads the token with its session and rotates it, as
// store.Store says, in one write transaction: the writer runs one at a
// time, so no other rotation can come between the read and the write.
func (s *Store) RefreshSession(ctx context.Context, r store.RefreshRotation) (store.Refreshed, error) {
	var out store.Refreshed
	err := s.write(ctx, func(t tx) error {
		out = store.Refreshed{}
		rt, sess := &out.Token, &out.Session
		var revoked sql.NullInt64
		var wsTTL int64
		dest := sessionDest(sess, &revoked, &rt.Hash, &rt.SessionID, &rt.Generation, (*instant)(&rt.CreatedAt))
		err := t.queryRow(qFindRefresh, r.Hash).Scan(append(dest, (*scopes)(&sess.UserScopes), &wsTTL)...)
		if err != nil {
			return err
		}
		sess.RevokedAt = fromNullMicros(revoked)
		if rt.Generation != sess.Generation || sess.RevokedAt != nil ||
			!r.Now.Before(sess.ExpiresAt) || !r.Now.Before(sess.RefreshExpiresAt) {
			return nil
		}
		exp := r.ChildExpiry(time.Duration(wsTTL), sess.Method, sess.ExpiresAt)
		if _, err := t.exec(qRotate, micros(r.Now), micros(exp), sess.ID, sess.Generation); err != nil {
			return err
		}
		if _, err := t.exec(qCreateRefresh, r.ChildHash, sess.ID, sess.Generation+1, micros(r.Now)); err != nil {
			return err
		}
		out.Rotated, out.ChildExpiresAt = true, fromMicros(micros(exp))
		return nil
	})
	if err != nil {
		return store.Refreshed{}, wrap("refresh session", err)
	}
	return out, nil
}

// RevertRotation moves the session back to parent's generation and times
// and deletes the child, in one transaction, if the session is still at
// the child's generation; otherwise ErrConflict.
func (s *Store) RevertRotation(ctx context.Context, parent store.Session, childHash []byte) error {
	err := s.write(ctx, func(t tx) error {
		res, err := t.exec(qRevertRotation, parent.Generation, micros(parent.RotatedAt),
			micros(parent.RefreshExpiresAt), parent.ID, parent.Generation+1)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return err
			}
			return store.ErrConflict
		}
		_, err = t.exec(qDeleteChild, childHash, parent.ID, parent.Generation+1)
		return err
	})
	return wrap("revert rotation", err)
}

// RotateRefresh moves the session from fromGen to fromGen+1 and stores
// childHash as that generation's token, in one transaction. A session at
// another generation or revoked is ErrConflict, an unknown one
// ErrNotFound, a taken childHash ErrConflict; each changes nothing.
func (s *Store) RotateRefresh(ctx context.Context, sessionID string, fromGen int64, childHash []byte, now, refreshExpiresAt time.Time) error {
	err := s.write(ctx, func(t tx) error {
		res, err := t.exec(qRotate, micros(now), micros(refreshExpiresAt), sessionID, fromGen)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			if err != nil {
				return err
			}
			return rotateRefusal(t, sessionID)
		}
		_, err = t.exec(qCreateRefresh, childHash, sessionID, fromGen+1, micros(now))
		return err
	})
	return wrap("rotate refresh", err)
}

// rotateRefusal tells a lost race or revoked session (ErrConflict) from an
// unknown one (ErrNotFound). It runs only on the failure path.
func rotateRefusal(t tx, sessionID string) error {
	var exists bool
	if err := t.queryRow(qSessionExists, sessionID).Scan(&exists); err != nil {
		return err
	}
	if exists {
		return store.ErrConflict
	}
	return store.ErrNotFound
}
