package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigil-auth/sigil/internal/store"
)

// CreateAuthCode stores c; a hash already stored is ErrConflict.
func (s *Store) CreateAuthCode(ctx context.Context, c store.AuthCode) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO auth_codes (hash, user_id, expires_at)
		VALUES ($1, $2, $3)`, c.Hash, c.UserID, c.ExpiresAt)
	return mapErr("create auth code", err)
}

// sessionCols selects a session; sessionInsert stores one from
// sessionArgs ($1…$15). user_id, api_key_id and app_id are NULL when "":
// a session of an admin-created API key has no user, only sessions made
// from an API key name one, and only those made by an authorization code
// exchange name an app.
const (
	sessionCols = `id, coalesce(user_id, ''), workspace_id, method, scopes, created_at,
	expires_at, refresh_expires_at, generation, rotated_at, revoked_at, coalesce(api_key_id, ''),
	coalesce(app_id, ''), client_ip, user_agent`
	sessionInsert = `INSERT INTO sessions (id, user_id, workspace_id, method, scopes,
		created_at, expires_at, refresh_expires_at, generation, rotated_at, revoked_at, api_key_id,
		app_id, client_ip, user_agent)
	VALUES ($1, nullif($2::text, ''), $3, $4, $5, $6, $7, $8, $9, $10, $11, nullif($12::text, ''),
		nullif($13::text, ''), $14, $15)`
	// createSessionSQL stores a session (sessionArgs) and its first
	// refresh token ($16: the hash; generation and time are the
	// session's) in one statement.
	createSessionSQL = `WITH s AS (` + sessionInsert + `
			RETURNING id, generation, created_at)
		INSERT INTO refresh_tokens (hash, session_id, generation, created_at)
		SELECT $16, id, generation, created_at FROM s`
	// createSessionCodesSQL is createSessionSQL that also records used
	// auth codes ($17…$19: hashes, user ids, expiries as arrays). Every
	// data-modifying WITH part runs to completion whether or not the main
	// query reads it, and a statement is atomic: a code already recorded
	// (unique violation) stores nothing.
	createSessionCodesSQL = `WITH c AS (INSERT INTO auth_codes (hash, user_id, expires_at)
			SELECT * FROM unnest($17::bytea[], $18::text[], $19::timestamptz[])),
		s AS (` + sessionInsert + `
			RETURNING id, generation, created_at)
		INSERT INTO refresh_tokens (hash, session_id, generation, created_at)
		SELECT $16, id, generation, created_at FROM s`
)

func sessionArgs(s store.Session) []any {
	return []any{s.ID, s.UserID, s.WorkspaceID, s.Method, s.Scopes, s.CreatedAt,
		s.ExpiresAt, s.RefreshExpiresAt, s.Generation, s.RotatedAt, s.RevokedAt, s.APIKeyID,
		s.AppID, s.ClientIP, s.UserAgent}
}

// createSession runs createSessionSQL on db: the part of CreateSession
// that RedeemAuthorizationCode shares.
func createSession(ctx context.Context, db execer, sess store.Session, refreshHash []byte) error {
	_, err := db.Exec(ctx, createSessionSQL, append(sessionArgs(sess), refreshHash)...)
	return err
}

// CreateSession stores the session and its first refresh token (of the
// session's generation, 0 for a new one, created at s.CreatedAt) in one
// statement, so in one round trip and atomically. A taken session id or
// refresh hash is ErrConflict.
//
// usedCodes travel as arrays in the same statement (one round trip per
// login, not a transaction of four), so a replayed code (ErrConflict)
// refuses the session with it.
func (s *Store) CreateSession(ctx context.Context, sess store.Session, refreshHash []byte, usedCodes ...store.AuthCode) error {
	if len(usedCodes) == 0 {
		return mapErr("create session", createSession(ctx, s.pool, sess, refreshHash))
	}
	n := len(usedCodes)
	hashes, users, expiries := make([][]byte, n), make([]string, n), make([]time.Time, n)
	for i, c := range usedCodes {
		hashes[i], users[i], expiries[i] = c.Hash, c.UserID, c.ExpiresAt
	}
	_, err := s.pool.Exec(ctx, createSessionCodesSQL,
		append(sessionArgs(sess), refreshHash, hashes, users, expiries)...)
	return mapErr("create session", err)
}

// GetSession returns the session with that id, revoked or not.
func (s *Store) GetSession(ctx context.Context, id string) (store.Session, error) {
	sess, err := scanSession(s.pool.QueryRow(ctx,
		`SELECT `+sessionCols+` FROM sessions WHERE id = $1`, id))
	return sess, mapErr("get session", err)
}

// ListSessions returns the user's live sessions (not revoked, ExpiresAt
// after now), newest first, ties by id. Sessions made from an API key are
// left out: they belong to the key, not to the user who created it.
func (s *Store) ListSessions(ctx context.Context, userID string, now time.Time) ([]store.Session, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+sessionCols+` FROM sessions
		WHERE user_id = $1 AND api_key_id IS NULL AND revoked_at IS NULL AND expires_at > $2
		ORDER BY created_at DESC, id DESC`, userID, now)
	list, err := pgx.AppendRows([]store.Session(nil), rows, func(r pgx.CollectableRow) (store.Session, error) {
		return scanSession(r)
	})
	return list, mapErr("list sessions", err)
}

func scanSession(row pgx.Row) (store.Session, error) {
	var s store.Session
	err := row.Scan(sessionDest(&s)...)
	return s, err
}

// sessionDest are the scan targets of sessionCols, in order; extra
// targets before them are kept.
func sessionDest(s *store.Session, before ...any) []any {
	return append(before, &s.ID, &s.UserID, &s.WorkspaceID, &s.Method, &s.Scopes, &s.CreatedAt,
		&s.ExpiresAt, &s.RefreshExpiresAt, &s.Generation, &s.RotatedAt, &s.RevokedAt, &s.APIKeyID,
		&s.AppID, &s.ClientIP, &s.UserAgent)
}

// GetRefreshToken finds the refresh token with that hash, of any
// generation.
func (s *Store) GetRefreshToken(ctx context.Context, hash []byte) (store.RefreshToken, error) {
	var t store.RefreshToken
	err := s.pool.QueryRow(ctx, `SELECT hash, session_id, generation, created_at
		FROM refresh_tokens WHERE hash = $1`, hash).
		Scan(&t.Hash, &t.SessionID, &t.Generation, &t.CreatedAt)
	if err != nil {
		return store.RefreshToken{}, mapErr("get refresh token", err)
	}
	return t, nil
}

// getRefreshSessionSQL joins a refresh token to its session and the
// session's user (for the user's scopes now). The LATERAL subquery reads
// sessionCols unqualified (its own scope comes first) and the user's
// scopes with a scalar subquery: three primary-key lookups in one plan.
const getRefreshSessionSQL = `SELECT t.hash, t.session_id, t.generation, t.created_at, s.*
	FROM refresh_tokens t, LATERAL (SELECT ` + sessionCols + `,
			(SELECT u.scopes FROM users u WHERE u.id = sessions.user_id)
		FROM sessions WHERE id = t.session_id) s
	WHERE t.hash = $1`

// GetRefreshSession reads the token with that hash and its session in one
// statement, so a refresh costs two round trips: this and RotateRefresh.
func (s *Store) GetRefreshSession(ctx context.Context, hash []byte) (store.RefreshToken, store.Session, error) {
	var t store.RefreshToken
	var sess store.Session
	dest := sessionDest(&sess, &t.Hash, &t.SessionID, &t.Generation, &t.CreatedAt)
	err := s.pool.QueryRow(ctx, getRefreshSessionSQL, hash).Scan(append(dest, &sess.UserScopes)...)
	if err != nil {
		return store.RefreshToken{}, store.Session{}, mapErr("get refresh session", err)
	}
	if len(sess.UserScopes) == 0 {
		sess.UserScopes = nil // '{}' and NULL alike, as SQLite reads them
	}
	return t, sess, nil
}

// RotateRefresh is one statement: the conditional UPDATE moves the session
// to fromGen+1 only if it is still at fromGen and not revoked, and the
// child token is inserted only for the row it returned. Concurrent callers
// with the same fromGen queue on the row lock; PostgreSQL re-checks the
// WHERE clause on the winner's new row version, so the losers update
// nothing and get ErrConflict. A childHash already stored aborts the whole
// statement (ErrConflict too). An unknown session is ErrNotFound.
func (s *Store) RotateRefresh(ctx context.Context, sessionID string, fromGen int64, childHash []byte, now, refreshExpiresAt time.Time) error {
	tag, err := s.pool.Exec(ctx, `WITH s AS (
			UPDATE sessions SET generation = generation + 1, rotated_at = $3,
				refresh_expires_at = $4
			WHERE id = $1 AND generation = $2 AND revoked_at IS NULL
			RETURNING id, generation)
		INSERT INTO refresh_tokens (hash, session_id, generation, created_at)
		SELECT $5, id, generation, $3 FROM s`,
		sessionID, fromGen, now, refreshExpiresAt, childHash)
	if err != nil {
		return mapErr("rotate refresh", err)
	}
	if tag.RowsAffected() == 1 {
		return nil
	}
	// Lost the race, revoked, or no such session: only the last differs.
	var exists bool
	err = s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM sessions WHERE id = $1)`,
		sessionID).Scan(&exists)
	switch {
	case err != nil:
		return mapErr("rotate refresh", err)
	case !exists:
		return fmt.Errorf("postgres: rotate refresh: %w", store.ErrNotFound)
	}
	return fmt.Errorf("postgres: rotate refresh: %w", store.ErrConflict)
}

// RevokeSession sets RevokedAt to now unless it is already set, so the
// first revocation time stays. An unknown session is ErrNotFound.
func (s *Store) RevokeSession(ctx context.Context, id string, now time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE sessions SET revoked_at = coalesce(revoked_at, $2)
		WHERE id = $1`, id, now)
	return errAffected("revoke session", tag, err, store.ErrNotFound)
}

// RevokeUserSessions revokes the user's live sessions (as ListSessions
// sees them: not those of API keys the user created) and returns their
// ids, newest first.
func (s *Store) RevokeUserSessions(ctx context.Context, userID string, now time.Time) ([]string, error) {
	rows, _ := s.pool.Query(ctx, `WITH r AS (
			UPDATE sessions SET revoked_at = $2
			WHERE user_id = $1 AND api_key_id IS NULL AND revoked_at IS NULL AND expires_at > $2
			RETURNING id, created_at)
		SELECT id FROM r ORDER BY created_at DESC, id DESC`, userID, now)
	ids, err := pgx.AppendRows([]string(nil), rows, pgx.RowTo[string])
	return ids, mapErr("revoke user sessions", err)
}
