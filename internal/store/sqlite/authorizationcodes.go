package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

// authzCodeCols are the columns scanAuthzCode reads, in its order.
// redeemed_at and session_id are NULL until the code is redeemed.
const authzCodeCols = `hash, app_id, user_id, workspace_id, redirect_uri, code_challenge,
	scopes, nonce, method, auth_time, created_at, expires_at, redeemed_at, session_id`

var (
	qCreateAuthzCode = writeQuery(`INSERT INTO authorization_codes (` + authzCodeCols + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	qGetAuthzCode = readQuery(`SELECT ` + authzCodeCols + ` FROM authorization_codes WHERE hash = ?`)
	// qRedeemAuthzCode is the conditional write that decides a redemption
	// race: only the first caller finds redeemed_at NULL.
	qRedeemAuthzCode = writeQuery(`UPDATE authorization_codes SET redeemed_at = ?, session_id = ?
		WHERE hash = ? AND redeemed_at IS NULL RETURNING ` + authzCodeCols)
	// qLoadAuthzCode is qGetAuthzCode inside RedeemAuthorizationCode's
	// transaction, on its failure path.
	qLoadAuthzCode = writeQuery(`SELECT ` + authzCodeCols + ` FROM authorization_codes WHERE hash = ?`)
)

func scanAuthzCode(row scanner) (store.AuthorizationCode, error) {
	var c store.AuthorizationCode
	var redeemed sql.NullInt64
	err := row.Scan(&c.Hash, &c.AppID, &c.UserID, &c.WorkspaceID, &c.RedirectURI,
		&c.CodeChallenge, (*scopes)(&c.Scopes), &c.Nonce, &c.Method, (*instant)(&c.AuthTime),
		(*instant)(&c.CreatedAt), (*instant)(&c.ExpiresAt), &redeemed, (*text)(&c.SessionID))
	c.RedeemedAt = fromNullMicros(redeemed)
	return c, err
}

// CreateAuthorizationCode stores c (RedeemedAt and SessionID as given,
// normally unset). A taken hash is ErrConflict; an unknown app or user
// ErrNotFound.
func (s *Store) CreateAuthorizationCode(ctx context.Context, c store.AuthorizationCode) error {
	err := s.writeExec(ctx, qCreateAuthzCode, c.Hash, c.AppID, c.UserID, c.WorkspaceID,
		c.RedirectURI, c.CodeChallenge, encodeScopes(c.Scopes), c.Nonce, c.Method,
		micros(c.AuthTime), micros(c.CreatedAt), micros(c.ExpiresAt),
		nullMicros(c.RedeemedAt), nullText(c.SessionID))
	return wrap("create authorization code", err)
}

// GetAuthorizationCode returns the code with that hash, redeemed or
// expired or not, or ErrNotFound.
func (s *Store) GetAuthorizationCode(ctx context.Context, hash []byte) (store.AuthorizationCode, error) {
	c, err := scanAuthzCode(s.queryRow(ctx, qGetAuthzCode, hash))
	return c, wrap("get authorization code", err)
}

// RedeemAuthorizationCode marks the code redeemed at now by sess.ID and
// stores sess with its first refresh token (as CreateSession does), in one
// transaction, and returns the code as stored. A code redeemed before is
// ErrConflict, returned as stored (SessionID names the first exchange's
// session), and nothing is written. An unknown hash is ErrNotFound; a
// session CreateSession would refuse (taken id or refresh hash, unknown
// user) fails the whole call, leaving the code unredeemed. Expiry is the
// caller's check.
func (s *Store) RedeemAuthorizationCode(ctx context.Context, hash []byte, sess store.Session, refreshHash []byte, now time.Time) (store.AuthorizationCode, error) {
	var c store.AuthorizationCode
	redeemedBefore := false
	err := s.write(ctx, func(t tx) error {
		var err error
		c, err = scanAuthzCode(t.queryRow(qRedeemAuthzCode, micros(now), sess.ID, hash))
		if errors.Is(err, sql.ErrNoRows) { // redeemed before, or unknown
			if c, err = scanAuthzCode(t.queryRow(qLoadAuthzCode, hash)); err != nil {
				return err
			}
			redeemedBefore = true
			return store.ErrConflict
		}
		if err != nil {
			return err
		}
		return createSession(t, sess, refreshHash)
	})
	switch {
	case err == nil:
		return c, nil
	case redeemedBefore:
		return c, wrap("redeem authorization code", err)
	}
	return store.AuthorizationCode{}, wrap("redeem authorization code", err)
}
