package sqlite

import (
	"context"

	"github.com/sigil-auth/sigil/internal/store"
)

// appCols are the columns scanApp reads, in its order. The three URI and
// method lists use the scope-list codec (JSON array text); secret_hash is
// NULL for public apps.
const appCols = `id, workspace_id, name, redirect_uris, post_logout_redirect_uris,
	login_methods, token_endpoint_auth_method, id_token_alg, secret_hash, created_at, updated_at`

var (
	qCreateApp = writeQuery(`INSERT INTO apps (` + appCols + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	qGetApp   = readQuery(`SELECT ` + appCols + ` FROM apps WHERE id = ?`)
	qListApps = readQuery(`SELECT ` + appCols + ` FROM apps WHERE ?1 = '' OR workspace_id = ?1
		ORDER BY created_at DESC, id DESC`)
	// qLoadApp is qGetApp inside UpdateApp's transaction.
	qLoadApp = writeQuery(`SELECT ` + appCols + ` FROM apps WHERE id = ?`)
	// qUpdateApp writes every field but id, workspace_id and created_at,
	// which therefore stay whatever fn did to them.
	qUpdateApp = writeQuery(`UPDATE apps SET name = ?, redirect_uris = ?,
		post_logout_redirect_uris = ?, login_methods = ?, token_endpoint_auth_method = ?,
		id_token_alg = ?, secret_hash = ?, updated_at = ?
		WHERE id = ? RETURNING ` + appCols)
	qDeleteApp = writeQuery(`DELETE FROM apps WHERE id = ?`)
)

func scanApp(row scanner) (store.App, error) {
	var a store.App
	err := row.Scan(&a.ID, &a.WorkspaceID, &a.Name, (*scopes)(&a.RedirectURIs),
		(*scopes)(&a.PostLogoutRedirectURIs), (*scopes)(&a.LoginMethods),
		&a.TokenEndpointAuthMethod, &a.IDTokenAlg, &a.SecretHash,
		(*instant)(&a.CreatedAt), (*instant)(&a.UpdatedAt))
	return a, err
}

// CreateApp stores a. A taken id is ErrConflict, an unknown workspace
// ErrNotFound.
func (s *Store) CreateApp(ctx context.Context, a store.App) error {
	err := s.writeExec(ctx, qCreateApp, a.ID, a.WorkspaceID, a.Name,
		encodeScopes(a.RedirectURIs), encodeScopes(a.PostLogoutRedirectURIs),
		encodeScopes(a.LoginMethods), a.TokenEndpointAuthMethod, a.IDTokenAlg,
		blob(a.SecretHash), micros(a.CreatedAt), micros(a.UpdatedAt))
	return wrap("create app", err)
}

// GetApp returns the app with that id (the client_id), or ErrNotFound.
func (s *Store) GetApp(ctx context.Context, id string) (store.App, error) {
	a, err := scanApp(s.queryRow(ctx, qGetApp, id))
	return a, wrap("get app", err)
}

// ListApps returns the workspace's apps (every app for ""), newest
// (CreatedAt, then ID) first; an unknown workspace has none.
func (s *Store) ListApps(ctx context.Context, workspaceID string) ([]store.App, error) {
	apps, err := list(ctx, s, qListApps, scanApp, workspaceID)
	return apps, wrap("list apps", err)
}

// UpdateApp loads the app, applies fn and stores every field but ID,
// WorkspaceID and CreatedAt in one immediate transaction, and returns the
// stored app. fn runs on the writer goroutine inside that transaction: it
// must be quick and must not call the Store (that would deadlock). fn's
// error is returned as is; an unknown id is ErrNotFound (fn not called).
func (s *Store) UpdateApp(ctx context.Context, id string, fn func(*store.App) error) (store.App, error) {
	var out store.App
	err := s.write(ctx, func(t tx) error {
		a, err := scanApp(t.queryRow(qLoadApp, id))
		if err != nil {
			return wrap("update app", err)
		}
		if err := fn(&a); err != nil {
			return err // the caller's own error, unwrapped
		}
		out, err = scanApp(t.queryRow(qUpdateApp, a.Name, encodeScopes(a.RedirectURIs),
			encodeScopes(a.PostLogoutRedirectURIs), encodeScopes(a.LoginMethods),
			a.TokenEndpointAuthMethod, a.IDTokenAlg, blob(a.SecretHash), micros(a.UpdatedAt), id))
		return wrap("update app", err)
	})
	if err != nil {
		return store.App{}, err
	}
	return out, nil
}

// DeleteApp removes the app and, by the foreign key's cascade, its
// authorization codes; its sessions stay. An unknown id is ErrNotFound.
func (s *Store) DeleteApp(ctx context.Context, id string) error {
	return wrap("delete app", s.writeAffected(ctx, qDeleteApp, id))
}
