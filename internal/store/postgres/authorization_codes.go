package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigil-auth/sigil/internal/store"
)

// authzCodeCols selects an authorization code; session_id is NULL until
// the code is redeemed, read back as "".
const authzCodeCols = `hash, app_id, user_id, workspace_id, redirect_uri, code_challenge,
	scopes, nonce, method, auth_time, created_at, expires_at, redeemed_at, coalesce(session_id, '')`

// CreateAuthorizationCode stores c (RedeemedAt and SessionID as given,
// normally unset). A taken hash is ErrConflict; an unknown app or user
// ErrNotFound.
func (s *Store) CreateAuthorizationCode(ctx context.Context, c store.AuthorizationCode) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO authorization_codes (hash, app_id, user_id,
			workspace_id, redirect_uri, code_challenge, scopes, nonce, method, auth_time,
			created_at, expires_at, redeemed_at, session_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, nullif($14::text, ''))`,
		c.Hash, c.AppID, c.UserID, c.WorkspaceID, c.RedirectURI, c.CodeChallenge, c.Scopes,
		c.Nonce, c.Method, c.AuthTime, c.CreatedAt, c.ExpiresAt, c.RedeemedAt, c.SessionID)
	return mapErr("create authorization code", err)
}

// GetAuthorizationCode returns the code with that hash, redeemed or
// expired or not.
func (s *Store) GetAuthorizationCode(ctx context.Context, hash []byte) (store.AuthorizationCode, error) {
	c, err := scanAuthzCode(s.pool.QueryRow(ctx,
		`SELECT `+authzCodeCols+` FROM authorization_codes WHERE hash = $1`, hash))
	if err != nil {
		return store.AuthorizationCode{}, mapErr("get authorization code", err)
	}
	return c, nil
}

// RedeemAuthorizationCode marks the code redeemed at now by sess.ID and
// stores sess with its first refresh token (as CreateSession does), in one
// transaction, and returns the code as stored. The conditional UPDATE
// decides a race: concurrent callers queue on the row lock, PostgreSQL
// re-checks "redeemed_at IS NULL" on the winner's committed row, and the
// losers update nothing. A code redeemed before is ErrConflict, returned
// as stored (SessionID names the first exchange's session), and nothing is
// written. An unknown hash is ErrNotFound; a session CreateSession would
// refuse fails the whole call, leaving the code unredeemed. Expiry is the
// caller's check.
func (s *Store) RedeemAuthorizationCode(ctx context.Context, hash []byte, sess store.Session, refreshHash []byte, now time.Time) (store.AuthorizationCode, error) {
	var c store.AuthorizationCode
	redeemedBefore := false
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		c, err = scanAuthzCode(tx.QueryRow(ctx, `UPDATE authorization_codes
			SET redeemed_at = $2, session_id = $3
			WHERE hash = $1 AND redeemed_at IS NULL RETURNING `+authzCodeCols, hash, now, sess.ID))
		if errors.Is(err, pgx.ErrNoRows) { // redeemed before, or unknown
			// READ COMMITTED: this statement sees the winner's commit.
			c, err = scanAuthzCode(tx.QueryRow(ctx,
				`SELECT `+authzCodeCols+` FROM authorization_codes WHERE hash = $1`, hash))
			if err != nil {
				return err
			}
			redeemedBefore = true
			return fmt.Errorf("postgres: redeem authorization code: %w", store.ErrConflict)
		}
		if err != nil {
			return err
		}
		return createSession(ctx, tx, sess, refreshHash)
	})
	switch {
	case err == nil:
		return c, nil
	case redeemedBefore:
		return c, err
	}
	return store.AuthorizationCode{}, mapErr("redeem authorization code", err)
}

func scanAuthzCode(row pgx.Row) (store.AuthorizationCode, error) {
	var c store.AuthorizationCode
	err := row.Scan(&c.Hash, &c.AppID, &c.UserID, &c.WorkspaceID, &c.RedirectURI,
		&c.CodeChallenge, &c.Scopes, &c.Nonce, &c.Method, &c.AuthTime, &c.CreatedAt,
		&c.ExpiresAt, &c.RedeemedAt, &c.SessionID)
	return c, err
}
