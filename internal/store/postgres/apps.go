package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"github.com/sigil-auth/sigil/internal/store"
)

// appCols selects an app; the lists are text[] (NULL reads as a nil
// slice), secret_hash is NULL for public apps.
const appCols = `id, workspace_id, name, redirect_uris, post_logout_redirect_uris,
	login_methods, token_endpoint_auth_method, id_token_alg, secret_hash, created_at, updated_at`

// CreateApp stores a. A taken id is ErrConflict, an unknown workspace
// ErrNotFound.
func (s *Store) CreateApp(ctx context.Context, a store.App) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO apps (`+appCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		a.ID, a.WorkspaceID, a.Name, a.RedirectURIs, a.PostLogoutRedirectURIs, a.LoginMethods,
		a.TokenEndpointAuthMethod, a.IDTokenAlg, a.SecretHash, a.CreatedAt, a.UpdatedAt)
	return mapErr("create app", err)
}

// GetApp returns the app with that id (the client_id).
func (s *Store) GetApp(ctx context.Context, id string) (store.App, error) {
	a, err := scanApp(s.pool.QueryRow(ctx, `SELECT `+appCols+` FROM apps WHERE id = $1`, id))
	return a, mapErr("get app", err)
}

// ListApps returns the workspace's apps (every app for ""), newest first
// (ties by id, bytewise); an unknown workspace has none.
func (s *Store) ListApps(ctx context.Context, workspaceID string) ([]store.App, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+appCols+` FROM apps
		WHERE $1 = '' OR workspace_id = $1 ORDER BY created_at DESC, id COLLATE "C" DESC`, workspaceID)
	apps, err := pgx.AppendRows([]store.App(nil), rows, func(r pgx.CollectableRow) (store.App, error) {
		return scanApp(r)
	})
	return apps, mapErr("list apps", err)
}

// UpdateApp locks the app's row, lets fn edit a copy and writes back every
// field but ID, WorkspaceID and CreatedAt, which keep their stored values;
// it returns the stored app. fn's error is returned unwrapped; an unknown
// id is ErrNotFound (fn not called).
func (s *Store) UpdateApp(ctx context.Context, id string, fn func(*store.App) error) (store.App, error) {
	var out store.App
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		a, err := scanApp(tx.QueryRow(ctx,
			`SELECT `+appCols+` FROM apps WHERE id = $1 FOR NO KEY UPDATE`, id))
		if err != nil {
			return mapErr("update app", err)
		}
		if err := fn(&a); err != nil {
			return err // the caller's own error, unwrapped
		}
		out, err = scanApp(tx.QueryRow(ctx, `UPDATE apps SET name = $2, redirect_uris = $3,
				post_logout_redirect_uris = $4, login_methods = $5,
				token_endpoint_auth_method = $6, id_token_alg = $7, secret_hash = $8,
				updated_at = $9
			WHERE id = $1 RETURNING `+appCols,
			id, a.Name, a.RedirectURIs, a.PostLogoutRedirectURIs, a.LoginMethods,
			a.TokenEndpointAuthMethod, a.IDTokenAlg, a.SecretHash, a.UpdatedAt))
		return mapErr("update app", err)
	})
	if err != nil {
		return store.App{}, err
	}
	return out, nil
}

// DeleteApp removes the app and, by the foreign key's cascade, its
// authorization codes; its sessions stay. An unknown id is ErrNotFound.
func (s *Store) DeleteApp(ctx context.Context, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM apps WHERE id = $1`, id)
	return errAffected("delete app", tag, err, store.ErrNotFound)
}

func scanApp(row pgx.Row) (store.App, error) {
	var a store.App
	err := row.Scan(&a.ID, &a.WorkspaceID, &a.Name, &a.RedirectURIs, &a.PostLogoutRedirectURIs,
		&a.LoginMethods, &a.TokenEndpointAuthMethod, &a.IDTokenAlg, &a.SecretHash,
		&a.CreatedAt, &a.UpdatedAt)
	return a, err
}
