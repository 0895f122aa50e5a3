-- Store contract v9: single sign-on connections and the identities they
-- link (issue 9, API.md §12). The PostgreSQL backend has a migration of
-- the same version and name. Conventions as in 00001 and 00002 (times
-- are Unix microseconds).

-- +goose Up
-- A workspace's connection to an identity provider. kind is 'oidc',
-- 'apple' or 'saml'. config (the kind's public settings) and secrets (its
-- secrets, AES-GCM sealed under the master key) are JSON the store does
-- not read; metadata is the last good IdP metadata a SAML connection
-- fetched (NULL until then, and for the other kinds).
CREATE TABLE sso_connections (
    id           TEXT    PRIMARY KEY,
    workspace_id TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    default_role TEXT    NOT NULL,
    config       BLOB,
    secrets      BLOB,
    metadata     BLOB,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX sso_connections_workspace_idx ON sso_connections (workspace_id, created_at);

-- The lower-case email domains a connection routes: the primary key
-- makes a domain route to one connection in the whole instance.
CREATE TABLE sso_domains (
    domain        TEXT NOT NULL PRIMARY KEY,
    connection_id TEXT NOT NULL REFERENCES sso_connections (id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
CREATE INDEX sso_domains_connection_idx ON sso_domains (connection_id);

-- A person at an IdP, (connection_id, subject), linked to one account.
-- email is as the IdP last sent it ('' if none); name the first one it
-- sent. Both the connection and the account take their identities along.
CREATE TABLE sso_identities (
    connection_id TEXT    NOT NULL REFERENCES sso_connections (id) ON DELETE CASCADE,
    subject       TEXT    NOT NULL,
    user_id       TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email         TEXT    NOT NULL DEFAULT '',
    name          TEXT    NOT NULL DEFAULT '',
    created_at    INTEGER NOT NULL,
    last_login_at INTEGER NOT NULL,
    PRIMARY KEY (connection_id, subject)
) STRICT, WITHOUT ROWID;
CREATE INDEX sso_identities_user_idx ON sso_identities (user_id);

-- +goose Down
DROP TABLE sso_identities;
DROP TABLE sso_domains;
DROP TABLE sso_connections;
