package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

var (
	qCreateCode = writeQuery(`INSERT INTO auth_codes (hash, user_id, expires_at) VALUES (?, ?, ?)`)
)

// CreateAuthCode stores c; a taken hash is ErrConflict. The user need not
// exist yet (registration asks for a code first).
func (s *Store) CreateAuthCode(ctx context.Context, c store.AuthCode) error {
	return wrap("create auth code", s.writeExec(ctx, qCreateCode, c.Hash, c.UserID, micros(c.ExpiresAt)))
}

// sessionCols are the columns scanSession reads and sessionArgs writes,
// in their order. user_id is NULL for sessions of admin-created API keys,
// api_key_id NULL for login sessions, app_id NULL unless an authorization
// code exchange made the session.
const sessionCols = `id, user_id, workspace_id, method, scopes, created_at, expires_at,
	refresh_expires_at, generation, rotated_at, revoked_at, api_key_id, app_id, client_ip, user_agent`

var (
	qCreateSession = writeQuery(`INSERT INTO sessions (` + sessionCols + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	qCreateRefresh = writeQuery(`INSERT INTO refresh_tokens (hash, session_id, generation, created_at)
		VALUES (?, ?, ?, ?)`)
	qGetSession = readQuery(`SELECT ` + sessionCols + ` FROM sessions WHERE id = ?`)
	// A user's sessions are the login sessions: those of the user's API
	// keys belong to the key (ListSessions, RevokeUserSessions).
	qListSessions = readQuery(`SELECT ` + sessionCols + ` FROM sessions
		WHERE user_id = ? AND api_key_id IS NULL AND revoked_at IS NULL AND expires_at > ?
		ORDER BY created_at DESC, id DESC`)
	qGetRefresh = readQuery(`SELECT hash, session_id, generation, created_at
		FROM refresh_tokens WHERE hash = ?`)
	qGetRefreshSession = readQuery(`SELECT t.hash, t.session_id, t.generation, t.created_at, ` +
		qualify("s", sessionCols) + `, coalesce(u.scopes, '[]')
		FROM refresh_tokens t JOIN sessions s ON s.id = t.session_id
		LEFT JOIN users u ON u.id = s.user_id WHERE t.hash = ?`)
	// qRevokeSession keeps the first revocation time.
	qRevokeSession = writeQuery(`UPDATE sessions SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`)
	qRevokeUser    = writeQuery(`UPDATE sessions SET revoked_at = ?1
		WHERE user_id = ?2 AND api_key_id IS NULL AND revoked_at IS NULL AND expires_at > ?1
		RETURNING id`)
)

func scanSession(row scanner) (store.Session, error) {
	var s store.Session
	var revoked sql.NullInt64
	err := row.Scan(sessionDest(&s, &revoked)...)
	s.RevokedAt = fromNullMicros(revoked)
	return s, err
}

// sessionDest are the scan targets of sessionCols, in order, after
// before; revoked_at goes to revoked (the caller converts it).
func sessionDest(s *store.Session, revoked *sql.NullInt64, before ...any) []any {
	return append(before, &s.ID, (*text)(&s.UserID), &s.WorkspaceID, &s.Method, (*scopes)(&s.Scopes),
		(*instant)(&s.CreatedAt), (*instant)(&s.ExpiresAt), (*instant)(&s.RefreshExpiresAt),
		&s.Generation, (*instant)(&s.RotatedAt), revoked, (*text)(&s.APIKeyID),
		(*text)(&s.AppID), &s.ClientIP, &s.UserAgent)
}

// sessionArgs are sess's values for sessionCols. userID is passed by the
// caller: CreateSession keeps "" (the foreign key then refuses it), an
// API-key session stores NULL.
func sessionArgs(sess store.Session, userID any) []any {
	return []any{sess.ID, userID, sess.WorkspaceID, sess.Method,
		encodeScopes(sess.Scopes), micros(sess.CreatedAt), micros(sess.ExpiresAt),
		micros(sess.RefreshExpiresAt), sess.Generation, micros(sess.RotatedAt),
		nullMicros(sess.RevokedAt), nullText(sess.APIKeyID), nullText(sess.AppID), sess.ClientIP, sess.UserAgent}
}

// CreateSession stores sess and its first refresh token, at sess's
// Generation (0 for a new session) and created at sess.CreatedAt, in one
// transaction. A taken session id or token hash is ErrConflict and stores
// nothing; an unknown user or workspace is ErrNotFound.
func (s *Store) CreateSession(ctx context.Context, sess store.Session, refreshHash []byte, usedCodes ...store.AuthCode) error {
	err := s.write(ctx, func(t tx) error {
		for _, c := range usedCodes {
			if _, err := t.exec(qCreateCode, c.Hash, c.UserID, micros(c.ExpiresAt)); err != nil {
				return err
			}
		}
		return createSession(t, sess, refreshHash)
	})
	return wrap("create session", err)
}

// createSession stores sess and its first refresh token in t: the part of
// CreateSession that RedeemAuthorizationCode shares.
func createSession(t tx, sess store.Session, refreshHash []byte) error {
	if _, err := t.exec(qCreateSession, sessionArgs(sess, sess.UserID)...); err != nil {
		return err
	}
	_, err := t.exec(qCreateRefresh, refreshHash, sess.ID, sess.Generation, micros(sess.CreatedAt))
	return err
}

// GetSession returns the session, revoked or not, or ErrNotFound.
func (s *Store) GetSession(ctx context.Context, id string) (store.Session, error) {
	sess, err := scanSession(s.queryRow(ctx, qGetSession, id))
	return sess, wrap("get session", err)
}

// ListSessions returns the user's login sessions (not those of API keys)
// that are not revoked and have now < ExpiresAt, newest first.
func (s *Store) ListSessions(ctx context.Context, userID string, now time.Time) ([]store.Session, error) {
	sessions, err := list(ctx, s, qListSessions, scanSession, userID, micros(now))
	return sessions, wrap("list sessions", err)
}

// GetRefreshToken returns the token with that hash, of any generation.
func (s *Store) GetRefreshToken(ctx context.Context, hash []byte) (store.RefreshToken, error) {
	var rt store.RefreshToken
	err := s.queryRow(ctx, qGetRefresh, hash).Scan(&rt.Hash, &rt.SessionID, &rt.Generation,
		(*instant)(&rt.CreatedAt))
	return rt, wrap("get refresh token", err)
}

// GetRefreshSession returns the token with that hash, its session and
// its user's scopes, in one query.
func (s *Store) GetRefreshSession(ctx context.Context, hash []byte) (store.RefreshToken, store.Session, error) {
	var rt store.RefreshToken
	var sess store.Session
	var revoked sql.NullInt64
	dest := sessionDest(&sess, &revoked, &rt.Hash, &rt.SessionID, &rt.Generation, (*instant)(&rt.CreatedAt))
	err := s.queryRow(ctx, qGetRefreshSession, hash).Scan(append(dest, (*scopes)(&sess.UserScopes))...)
	if err != nil {
		return store.RefreshToken{}, store.Session{}, wrap("get refresh session", err)
	}
	sess.RevokedAt = fromNullMicros(revoked)
	return rt, sess, nil
}

// RevokeSession marks the session revoked at now unless it already is;
// an unknown id is ErrNotFound.
func (s *Store) RevokeSession(ctx context.Context, id string, now time.Time) error {
	return wrap("revoke session", s.writeAffected(ctx, qRevokeSession, micros(now), id))
}

// RevokeUserSessions revokes the user's live login sessions in one
// statement and returns their ids (in no particular order). Sessions of
// the user's API keys stay: they end with the key.
func (s *Store) RevokeUserSessions(ctx context.Context, userID string, now time.Time) ([]string, error) {
	var ids []string
	err := s.write(ctx, func(t tx) (err error) {
		ids, err = t.strings(qRevokeUser, micros(now), userID)
		return err
	})
	if err != nil {
		return nil, wrap("revoke user sessions", err)
	}
	return ids, nil
}
