package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

const workspaceCols = `id, name, join_code_hash, default_scopes, access_ttl,
	refresh_ttl, session_max_age, refresh_grace, created_at, updated_at, jwt_max_lifetime,
	display_name, logo_url, accent_color, require_mfa, require_mfa_since`

var (
	qCreateWorkspace = writeQuery(`INSERT INTO workspaces (` + workspaceCols + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	qGetWorkspace       = readQuery(`SELECT ` + workspaceCols + ` FROM workspaces WHERE id = ?`)
	qGetWorkspaceByCode = readQuery(`SELECT ` + workspaceCols + ` FROM workspaces WHERE join_code_hash = ?`)
	// qLoadWorkspace is qGetWorkspace inside UpdateWorkspace's transaction.
	qLoadWorkspace   = writeQuery(`SELECT ` + workspaceCols + ` FROM workspaces WHERE id = ?`)
	qUpdateWorkspace = writeQuery(`UPDATE workspaces SET name = ?, join_code_hash = ?,
		default_scopes = ?, access_ttl = ?, refresh_ttl = ?, session_max_age = ?,
		refresh_grace = ?, updated_at = ?, jwt_max_lifetime = ?,
		display_name = ?, logo_url = ?, accent_color = ?, require_mfa = ?, require_mfa_since = ?
		WHERE id = ? RETURNING ` + workspaceCols)
)

func scanWorkspace(row *sql.Row) (store.Workspace, error) {
	var w store.Workspace
	var grace, since sql.NullInt64
	var access, refresh, maxAge, jwtMax int64
	err := row.Scan(&w.ID, &w.Name, &w.JoinCodeHash, (*scopes)(&w.DefaultScopes),
		&access, &refresh, &maxAge, &grace,
		(*instant)(&w.CreatedAt), (*instant)(&w.UpdatedAt), &jwtMax,
		&w.DisplayName, &w.LogoURL, &w.AccentColor, &w.RequireMFA, &since)
	w.RequireMFASince = fromNullMicros(since)
	if w.RequireMFA == store.RequireMFANone {
		w.RequireMFA = ""
	}
	w.AccessTTL, w.RefreshTTL = time.Duration(access), time.Duration(refresh)
	w.SessionMaxAge, w.JWTMaxLifetime = time.Duration(maxAge), time.Duration(jwtMax)
	w.RefreshGrace = fromNullDuration(grace)
	return w, err
}

// CreateWorkspace stores w. A taken id or join code hash is ErrConflict.
func (s *Store) CreateWorkspace(ctx context.Context, w store.Workspace) error {
	err := s.writeExec(ctx, qCreateWorkspace, createWorkspaceArgs(w)...)
	return wrap("create workspace", err)
}

// createWorkspaceArgs are qCreateWorkspace's arguments for w.
func createWorkspaceArgs(w store.Workspace) []any {
	return []any{w.ID, w.Name, blob(w.JoinCodeHash),
		encodeScopes(w.DefaultScopes), int64(w.AccessTTL), int64(w.RefreshTTL),
		int64(w.SessionMaxAge), nullDuration(w.RefreshGrace),
		micros(w.CreatedAt), micros(w.UpdatedAt), int64(w.JWTMaxLifetime),
		w.DisplayName, w.LogoURL, w.AccentColor, requireMFA(w), nullMicros(w.RequireMFASince)}
}

// requireMFA is w's policy as stored: "" is none.
func requireMFA(w store.Workspace) string {
	if w.RequireMFA == "" {
		return store.RequireMFANone
	}
	return w.RequireMFA
}

// GetWorkspace returns the workspace with that id, or ErrNotFound.
func (s *Store) GetWorkspace(ctx context.Context, id string) (store.Workspace, error) {
	w, err := scanWorkspace(s.queryRow(ctx, qGetWorkspace, id))
	return w, wrap("get workspace", err)
}

// GetWorkspaceByJoinCode returns the workspace whose join code hashes to
// hash, or ErrNotFound.
func (s *Store) GetWorkspaceByJoinCode(ctx context.Context, hash []byte) (store.Workspace, error) {
	w, err := scanWorkspace(s.queryRow(ctx, qGetWorkspaceByCode, hash))
	return w, wrap("get workspace by join code", err)
}

// UpdateWorkspace loads the workspace, applies fn and stores the result in
// one immediate transaction, so concurrent updaters serialise and none is
// lost. fn runs on the writer goroutine inside that transaction: it must
// be quick and must not call the Store (that would deadlock). ID and
// CreatedAt are not updatable; a join code hash taken by another workspace
// is ErrConflict.
func (s *Store) UpdateWorkspace(ctx context.Context, id string, fn func(*store.Workspace) error) (store.Workspace, error) {
	var out store.Workspace
	err := s.write(ctx, func(t tx) error {
		w, err := scanWorkspace(t.queryRow(qLoadWorkspace, id))
		if err != nil {
			return wrap("update workspace", err)
		}
		if err := fn(&w); err != nil {
			return err // the caller's own error, unwrapped
		}
		out, err = scanWorkspace(t.queryRow(qUpdateWorkspace, w.Name, blob(w.JoinCodeHash),
			encodeScopes(w.DefaultScopes), int64(w.AccessTTL), int64(w.RefreshTTL),
			int64(w.SessionMaxAge), nullDuration(w.RefreshGrace), micros(w.UpdatedAt),
			int64(w.JWTMaxLifetime), w.DisplayName, w.LogoURL, w.AccentColor, requireMFA(w),
			nullMicros(w.RequireMFASince), id))
		return wrap("update workspace", err)
	})
	if err != nil {
		return store.Workspace{}, err
	}
	return out, nil
}
