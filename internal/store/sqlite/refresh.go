package sqlite

import (
	"context"
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
)

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
