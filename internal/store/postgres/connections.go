package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigil-auth/sigil/internal/store"
)

// connectionCols selects a connection of alias c; the last column is its
// domains, sorted bytewise.
const connectionCols = `c.id, c.workspace_id, c.kind, c.name, c.default_role, c.config, c.secrets,
	c.metadata, c.created_at, c.updated_at,
	array(SELECT d.domain FROM sso_domains d WHERE d.connection_id = c.id ORDER BY d.domain COLLATE "C")`

func scanConnection(row pgx.Row) (store.Connection, error) {
	var c store.Connection
	err := row.Scan(&c.ID, &c.WorkspaceID, &c.Kind, &c.Name, &c.DefaultRole, &c.Config, &c.Secrets,
		&c.Metadata, &c.CreatedAt, &c.UpdatedAt, &c.Domains)
	if len(c.Domains) == 0 {
		c.Domains = nil // array() of no rows is '{}'
	}
	return c, err
}

// putDomains replaces the domains connection id routes with domains (a
// domain listed twice is stored once). A domain another connection
// routes is a unique violation: ErrConflict; of two transactions adding
// one domain, the second waits for the first and then fails so.
func putDomains(ctx context.Context, tx pgx.Tx, id string, domains []string) error {
	if _, err := tx.Exec(ctx, `DELETE FROM sso_domains WHERE connection_id = $1`, id); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO sso_domains (domain, connection_id)
		SELECT DISTINCT d, $2 FROM unnest($1::text[]) AS d`, domains, id)
	return err
}

// CreateConnection stores c with its domains in one transaction. A taken
// id, or a domain another connection routes, is ErrConflict; an unknown
// workspace ErrNotFound.
func (s *Store) CreateConnection(ctx context.Context, c store.Connection) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO sso_connections (id, workspace_id, kind, name, default_role,
				config, secrets, metadata, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			c.ID, c.WorkspaceID, c.Kind, c.Name, c.DefaultRole, c.Config, c.Secrets, c.Metadata,
			c.CreatedAt, c.UpdatedAt)
		if err != nil {
			return err
		}
		return putDomains(ctx, tx, c.ID, c.Domains)
	})
	return mapErr("create connection", err)
}

// GetConnection returns the connection with that id.
func (s *Store) GetConnection(ctx context.Context, id string) (store.Connection, error) {
	c, err := scanConnection(s.pool.QueryRow(ctx, `SELECT `+connectionCols+`
		FROM sso_connections c WHERE c.id = $1`, id))
	return c, mapErr("get connection", err)
}

// ListConnections returns the workspace's connections, newest first (ties
// by id, bytewise, larger first).
func (s *Store) ListConnections(ctx context.Context, workspaceID string) ([]store.Connection, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+connectionCols+` FROM sso_connections c
		WHERE c.workspace_id = $1 ORDER BY c.created_at DESC, c.id COLLATE "C" DESC`, workspaceID)
	out, err := pgx.AppendRows([]store.Connection(nil), rows,
		func(r pgx.CollectableRow) (store.Connection, error) { return scanConnection(r) })
	return out, mapErr("list connections", err)
}

// GetConnectionByDomain returns the connection that routes domain.
func (s *Store) GetConnectionByDomain(ctx context.Context, domain string) (store.Connection, error) {
	c, err := scanConnection(s.pool.QueryRow(ctx, `SELECT `+connectionCols+`
		FROM sso_domains x JOIN sso_connections c ON c.id = x.connection_id WHERE x.domain = $1`, domain))
	return c, mapErr("get connection by domain", err)
}

// UpdateConnection locks the row (FOR NO KEY UPDATE: identities may
// still be linked to it meanwhile), then reads it, so concurrent updaters
// queue and each sees the last one's domains; it lets fn edit a copy and
// writes the mutable fields and the domains back. ID, WorkspaceID, Kind
// and CreatedAt are not fn's to change. A domain another connection
// routes is ErrConflict; fn's own error comes back unwrapped.
func (s *Store) UpdateConnection(ctx context.Context, id string, fn func(*store.Connection) error) (store.Connection, error) {
	var out store.Connection
	get := `SELECT ` + connectionCols + ` FROM sso_connections c WHERE c.id = $1`
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockRow(ctx, tx, "sso_connections", id); err != nil {
			return mapErr("update connection", err)
		}
		c, err := scanConnection(tx.QueryRow(ctx, get, id))
		if err != nil {
			return mapErr("update connection", err)
		}
		if err := fn(&c); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `UPDATE sso_connections SET name = $2, default_role = $3, config = $4,
			secrets = $5, metadata = $6, updated_at = $7 WHERE id = $1`,
			id, c.Name, c.DefaultRole, c.Config, c.Secrets, c.Metadata, c.UpdatedAt)
		if err == nil {
			err = putDomains(ctx, tx, id, c.Domains)
		}
		if err == nil {
			out, err = scanConnection(tx.QueryRow(ctx, get, id))
		}
		return mapErr("update connection", err)
	})
	if err != nil {
		return store.Connection{}, err
	}
	return out, nil
}

// DeleteConnection removes connection id of workspace workspaceID; the
// foreign keys' cascades take its domains and identities.
func (s *Store) DeleteConnection(ctx context.Context, workspaceID, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM sso_connections WHERE id = $1 AND workspace_id = $2`, id, workspaceID)
	return errAffected("delete connection", tag, err, store.ErrNotFound)
}

// GetIdentityUser returns identity (connectionID, subject) and its user
// in one statement.
func (s *Store) GetIdentityUser(ctx context.Context, connectionID, subject string) (store.Identity, store.User, error) {
	var i store.Identity
	var u store.User
	err := s.pool.QueryRow(ctx, `SELECT u.*, i.connection_id, i.subject, i.user_id, i.email, i.name,
			i.created_at, i.last_login_at
		FROM sso_identities i, LATERAL (SELECT `+userCols+` FROM users WHERE id = i.user_id) u
		WHERE i.connection_id = $1 AND i.subject = $2`, connectionID, subject).
		Scan(userDest(&u, &i.ConnectionID, &i.Subject, &i.UserID, &i.Email, &i.Name, &i.CreatedAt, &i.LastLoginAt)...)
	if err != nil {
		return store.Identity{}, store.User{}, mapErr("get identity user", err)
	}
	return i, u, nil
}

// linkIdentity inserts id through db only if its user and connection exist and
// belong to one workspace: no row inserted is ErrNotFound; a taken
// (connection, subject) is a unique violation, ErrConflict.
func linkIdentity(ctx context.Context, db execer, op string, id store.Identity) error {
	tag, err := db.Exec(ctx, `INSERT INTO sso_identities (connection_id, subject, user_id, email, name,
			created_at, last_login_at)
		SELECT c.id, $2, u.id, $4, $5, $6, $7
		FROM sso_connections c JOIN users u ON u.workspace_id = c.workspace_id
		WHERE c.id = $1 AND u.id = $3`,
		id.ConnectionID, id.Subject, id.UserID, id.Email, id.Name, id.CreatedAt, id.LastLoginAt)
	return errAffected(op, tag, err, store.ErrNotFound)
}

// LinkIdentity stores id for user id.UserID. A taken (connection,
// subject) is ErrConflict; an unknown user or connection, or a user of
// another workspace than the connection's, ErrNotFound.
func (s *Store) LinkIdentity(ctx context.Context, id store.Identity) error {
	return linkIdentity(ctx, s.pool, "link identity", id)
}

// CreateIdentityUser creates u as CreateUser does (without a key; the
// workspace row is locked before its users are counted) and links id
// (its UserID set to u.ID) to it in one transaction: a taken user id,
// email or identity is ErrConflict and stores nothing; an unknown
// workspace or connection, or a connection of another workspace, is
// ErrNotFound.
func (s *Store) CreateIdentityUser(ctx context.Context, u store.User, id store.Identity) (store.User, error) {
	var out store.User
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		var err error
		if out, err = admitUser(ctx, tx, u); err != nil {
			return mapErr("create identity user", err)
		}
		id.UserID = out.ID
		return linkIdentity(ctx, tx, "create identity user", id)
	})
	if err != nil {
		return store.User{}, err
	}
	return out, nil
}

// TouchIdentity sets the identity's Email and LastLoginAt.
func (s *Store) TouchIdentity(ctx context.Context, connectionID, subject, email string, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE sso_identities SET email = $3, last_login_at = $4
		WHERE connection_id = $1 AND subject = $2`, connectionID, subject, email, at)
	return errAffected("touch identity", tag, err, store.ErrNotFound)
}
