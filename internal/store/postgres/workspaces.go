package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigil-auth/sigil/internal/store"
)

// workspaceCols ends with created_at, the one column UpdateWorkspace does
// not write, so that the update can take a prefix of workspaceArgs.
const workspaceCols = `id, name, join_code_hash, default_scopes, access_ttl,
	refresh_ttl, session_max_age, refresh_grace, jwt_max_lifetime, display_name, logo_url,
	accent_color, require_mfa, require_mfa_since, updated_at, created_at`

// insertWorkspace stores a workspace from workspaceArgs.
const insertWorkspace = `INSERT INTO workspaces (` + workspaceCols + `)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`

// CreateWorkspace stores w; a taken id or join code hash is ErrConflict.
func (s *Store) CreateWorkspace(ctx context.Context, w store.Workspace) error {
	_, err := s.pool.Exec(ctx, insertWorkspace, workspaceArgs(w)...)
	return mapErr("create workspace", err)
}

// GetWorkspace returns the workspace with that id.
func (s *Store) GetWorkspace(ctx context.Context, id string) (store.Workspace, error) {
	w, err := scanWorkspace(s.pool.QueryRow(ctx,
		`SELECT `+workspaceCols+` FROM workspaces WHERE id = $1`, id))
	return w, mapErr("get workspace", err)
}

// GetWorkspaceByJoinCode returns the workspace whose join code hashes to
// hash. A nil hash matches nothing (NULL never equals).
func (s *Store) GetWorkspaceByJoinCode(ctx context.Context, hash []byte) (store.Workspace, error) {
	w, err := scanWorkspace(s.pool.QueryRow(ctx,
		`SELECT `+workspaceCols+` FROM workspaces WHERE join_code_hash = $1`, hash))
	return w, mapErr("get workspace by join code", err)
}

// UpdateWorkspace locks the row, lets fn edit a copy and writes every
// mutable field back. The id and CreatedAt are not fn's to change: they
// are restored. A join code hash already used elsewhere is ErrConflict.
func (s *Store) UpdateWorkspace(ctx context.Context, id string, fn func(*store.Workspace) error) (store.Workspace, error) {
	var out store.Workspace
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		w, err := scanWorkspace(tx.QueryRow(ctx,
			`SELECT `+workspaceCols+` FROM workspaces WHERE id = $1 FOR NO KEY UPDATE`, id))
		if err != nil {
			return mapErr("update workspace", err)
		}
		if err := fn(&w); err != nil {
			return err // the caller's own error, unwrapped
		}
		w.ID = id
		// Every parameter must appear in the statement, so created_at
		// (the last of workspaceArgs) is left off.
		args := workspaceArgs(w)
		out, err = scanWorkspace(tx.QueryRow(ctx, `UPDATE workspaces SET
			name = $2, join_code_hash = $3, default_scopes = $4, access_ttl = $5,
			refresh_ttl = $6, session_max_age = $7, refresh_grace = $8,
			jwt_max_lifetime = $9, display_name = $10, logo_url = $11, accent_color = $12,
			require_mfa = $13, require_mfa_since = $14, updated_at = $15
			WHERE id = $1 RETURNING `+workspaceCols, args[:len(args)-1]...))
		return mapErr("update workspace", err)
	})
	if err != nil {
		return store.Workspace{}, err
	}
	return out, nil
}

// workspaceArgs lists w's fields in workspaceCols order ($1…$16).
func workspaceArgs(w store.Workspace) []any {
	var grace *int64
	if w.RefreshGrace != nil {
		g := int64(*w.RefreshGrace)
		grace = &g
	}
	return []any{w.ID, w.Name, w.JoinCodeHash, w.DefaultScopes,
		int64(w.AccessTTL), int64(w.RefreshTTL), int64(w.SessionMaxAge), grace,
		int64(w.JWTMaxLifetime), w.DisplayName, w.LogoURL, w.AccentColor, requireMFA(w), w.RequireMFASince,
		w.UpdatedAt, w.CreatedAt}
}

// requireMFA is w's policy as stored: "" is none.
func requireMFA(w store.Workspace) string {
	if w.RequireMFA == "" {
		return store.RequireMFANone
	}
	return w.RequireMFA
}

func scanWorkspace(row pgx.Row) (store.Workspace, error) {
	var (
		w                               store.Workspace
		access, refresh, maxAge, jwtMax int64
		grace                           *int64
	)
	err := row.Scan(&w.ID, &w.Name, &w.JoinCodeHash, &w.DefaultScopes, &access,
		&refresh, &maxAge, &grace, &jwtMax, &w.DisplayName, &w.LogoURL, &w.AccentColor,
		&w.RequireMFA, &w.RequireMFASince, &w.UpdatedAt, &w.CreatedAt)
	if err != nil {
		return store.Workspace{}, err
	}
	if w.RequireMFA == store.RequireMFANone {
		w.RequireMFA = ""
	}
	w.AccessTTL = time.Duration(access)
	w.RefreshTTL = time.Duration(refresh)
	w.SessionMaxAge = time.Duration(maxAge)
	w.JWTMaxLifetime = time.Duration(jwtMax)
	if grace != nil {
		g := time.Duration(*grace)
		w.RefreshGrace = &g
	}
	return w, nil
}
