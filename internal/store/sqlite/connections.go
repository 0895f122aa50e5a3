package sqlite

import (
	"context"
	"slices"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

// connectionCols are the columns scanConnection reads, in its order; the
// last is the connection's domains as a JSON array (sorted when scanned).
const connectionCols = `c.id, c.workspace_id, c.kind, c.name, c.default_role, c.config, c.secrets,
	c.metadata, c.created_at, c.updated_at,
	(SELECT json_group_array(d.domain) FROM sso_domains d WHERE d.connection_id = c.id)`

var (
	qCreateConnection = writeQuery(`INSERT INTO sso_connections (id, workspace_id, kind, name,
		default_role, config, secrets, metadata, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	qAddDomain       = writeQuery(`INSERT INTO sso_domains (domain, connection_id) VALUES (?, ?)`)
	qDeleteDomains   = writeQuery(`DELETE FROM sso_domains WHERE connection_id = ?`)
	qGetConnection   = readQuery(`SELECT ` + connectionCols + ` FROM sso_connections c WHERE c.id = ?`)
	qListConnections = readQuery(`SELECT ` + connectionCols + ` FROM sso_connections c
		WHERE c.workspace_id = ? ORDER BY c.created_at DESC, c.id DESC`)
	qGetConnectionByDomain = readQuery(`SELECT ` + connectionCols + `
		FROM sso_domains x JOIN sso_connections c ON c.id = x.connection_id WHERE x.domain = ?`)
	// qLoadConnection is qGetConnection inside UpdateConnection's
	// transaction.
	qLoadConnection   = writeQuery(`SELECT ` + connectionCols + ` FROM sso_connections c WHERE c.id = ?`)
	qUpdateConnection = writeQuery(`UPDATE sso_connections SET name = ?, default_role = ?, config = ?,
		secrets = ?, metadata = ?, updated_at = ? WHERE id = ?`)
	qDeleteConnection = writeQuery(`DELETE FROM sso_connections WHERE id = ? AND workspace_id = ?`)
)

func scanConnection(row scanner) (store.Connection, error) {
	var c store.Connection
	err := row.Scan(&c.ID, &c.WorkspaceID, &c.Kind, &c.Name, &c.DefaultRole, &c.Config, &c.Secrets,
		&c.Metadata, (*instant)(&c.CreatedAt), (*instant)(&c.UpdatedAt), (*scopes)(&c.Domains))
	slices.Sort(c.Domains)
	return c, err
}

// putDomains replaces the domains connection id routes with domains (a
// domain listed twice is stored once). A domain another connection
// routes is a primary key violation: ErrConflict.
func putDomains(t tx, id string, domains []string) error {
	if _, err := t.exec(qDeleteDomains, id); err != nil {
		return err
	}
	for _, d := range slices.Compact(slices.Sorted(slices.Values(domains))) {
		if _, err := t.exec(qAddDomain, d, id); err != nil {
			return err
		}
	}
	return nil
}

// CreateConnection stores c with its domains in one transaction. A taken
// id, or a domain another connection routes, is ErrConflict; an unknown
// workspace ErrNotFound.
func (s *Store) CreateConnection(ctx context.Context, c store.Connection) error {
	err := s.write(ctx, func(t tx) error {
		_, err := t.exec(qCreateConnection, c.ID, c.WorkspaceID, c.Kind, c.Name, c.DefaultRole,
			blob(c.Config), blob(c.Secrets), blob(c.Metadata), micros(c.CreatedAt), micros(c.UpdatedAt))
		if err != nil {
			return err
		}
		return putDomains(t, c.ID, c.Domains)
	})
	return wrap("create connection", err)
}

// GetConnection returns the connection with that id, or ErrNotFound.
func (s *Store) GetConnection(ctx context.Context, id string) (store.Connection, error) {
	c, err := scanConnection(s.queryRow(ctx, qGetConnection, id))
	return c, wrap("get connection", err)
}

// ListConnections returns the workspace's connections, newest first
// (ties by id, bytewise, larger first).
func (s *Store) ListConnections(ctx context.Context, workspaceID string) ([]store.Connection, error) {
	out, err := list(ctx, s, qListConnections, scanConnection, workspaceID)
	return out, wrap("list connections", err)
}

// GetConnectionByDomain returns the connection that routes domain, or
// ErrNotFound.
func (s *Store) GetConnectionByDomain(ctx context.Context, domain string) (store.Connection, error) {
	c, err := scanConnection(s.queryRow(ctx, qGetConnectionByDomain, domain))
	return c, wrap("get connection by domain", err)
}

// UpdateConnection loads the connection, applies fn and stores the result
// with its domains in one immediate transaction, so concurrent updaters
// serialise and none is lost. fn runs on the writer goroutine inside that
// transaction: it must be quick and must not call the Store. ID,
// WorkspaceID, Kind and CreatedAt are not updatable; a domain another
// connection routes is ErrConflict. fn's own error comes back unwrapped.
func (s *Store) UpdateConnection(ctx context.Context, id string, fn func(*store.Connection) error) (store.Connection, error) {
	var out store.Connection
	err := s.write(ctx, func(t tx) error {
		c, err := scanConnection(t.queryRow(qLoadConnection, id))
		if err != nil {
			return wrap("update connection", err)
		}
		if err := fn(&c); err != nil {
			return err
		}
		_, err = t.exec(qUpdateConnection, c.Name, c.DefaultRole, blob(c.Config), blob(c.Secrets),
			blob(c.Metadata), micros(c.UpdatedAt), id)
		if err == nil {
			err = putDomains(t, id, c.Domains)
		}
		if err == nil {
			out, err = scanConnection(t.queryRow(qLoadConnection, id))
		}
		return wrap("update connection", err)
	})
	if err != nil {
		return store.Connection{}, err
	}
	return out, nil
}

// DeleteConnection removes connection id of workspace workspaceID; the
// foreign keys' cascades take its domains and identities.
func (s *Store) DeleteConnection(ctx context.Context, workspaceID, id string) error {
	return wrap("delete connection", s.writeAffected(ctx, qDeleteConnection, id, workspaceID))
}

// identityCols are the columns of an identity, in identityDest's order.
const identityCols = `i.connection_id, i.subject, i.user_id, i.email, i.name, i.created_at, i.last_login_at`

var (
	qGetIdentityUser = readQuery(`SELECT ` + qualify("u", userCols) + `, ` + identityCols + `
		FROM sso_identities i JOIN users u ON u.id = i.user_id
		WHERE i.connection_id = ? AND i.subject = ?`)
	// qLinkIdentity inserts the identity only if the user and the
	// connection exist and belong to one workspace: no row inserted means
	// an unknown user or connection; a taken key is a linked identity.
	qLinkIdentity = writeQuery(`INSERT INTO sso_identities (connection_id, subject, user_id, email,
			name, created_at, last_login_at)
		SELECT c.id, ?2, u.id, ?4, ?5, ?6, ?7
		FROM sso_connections c JOIN users u ON u.workspace_id = c.workspace_id
		WHERE c.id = ?1 AND u.id = ?3`)
	qTouchIdentity = writeQuery(`UPDATE sso_identities SET email = ?, last_login_at = ?
		WHERE connection_id = ? AND subject = ?`)
)

func identityDest(i *store.Identity) []any {
	return []any{&i.ConnectionID, &i.Subject, &i.UserID, &i.Email, &i.Name,
		(*instant)(&i.CreatedAt), (*instant)(&i.LastLoginAt)}
}

// GetIdentityUser returns identity (connectionID, subject) and its user in
// one query, or ErrNotFound.
func (s *Store) GetIdentityUser(ctx context.Context, connectionID, subject string) (store.Identity, store.User, error) {
	var i store.Identity
	var u store.User
	err := s.queryRow(ctx, qGetIdentityUser, connectionID, subject).Scan(userDest(&u, identityDest(&i)...)...)
	if err != nil {
		return store.Identity{}, store.User{}, wrap("get identity user", err)
	}
	return i, u, nil
}

// linkIdentity runs qLinkIdentity for id in t.
func linkIdentity(t tx, id store.Identity) error {
	return t.execAffected(qLinkIdentity, id.ConnectionID, id.Subject, id.UserID, id.Email, id.Name,
		micros(id.CreatedAt), micros(id.LastLoginAt))
}

// LinkIdentity stores id for user id.UserID. A taken (connection,
// subject) is ErrConflict; an unknown user or connection, or a user of
// another workspace than the connection's, ErrNotFound.
func (s *Store) LinkIdentity(ctx context.Context, id store.Identity) error {
	return wrap("link identity", s.write(ctx, func(t tx) error { return linkIdentity(t, id) }))
}

// CreateIdentityUser creates u as CreateUser does (without a key) and
// links id (its UserID set to u.ID) to it in one transaction: a taken
// user id, email or identity is ErrConflict and stores nothing; an
// unknown workspace or connection, or a connection of another workspace,
// is ErrNotFound.
func (s *Store) CreateIdentityUser(ctx context.Context, u store.User, id store.Identity) (store.User, error) {
	err := s.write(ctx, func(t tx) error {
		if err := insertUser(t, &u); err != nil {
			return err
		}
		id.UserID = u.ID
		return linkIdentity(t, id)
	})
	if err != nil {
		return store.User{}, wrap("create identity user", err)
	}
	u.CreatedAt = fromMicros(micros(u.CreatedAt))
	return u, nil
}

// TouchIdentity sets the identity's Email and LastLoginAt; an unknown
// identity is ErrNotFound.
func (s *Store) TouchIdentity(ctx context.Context, connectionID, subject, email string, at time.Time) error {
	return wrap("touch identity", s.writeAffected(ctx, qTouchIdentity, email, micros(at), connectionID, subject))
}
