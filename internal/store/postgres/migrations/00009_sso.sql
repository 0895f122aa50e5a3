-- Store contract v9: single sign-on connections and the identities they
-- link (issue 9, API.md §12). The SQLite backend has a migration of the
-- same version and name; see it for what each column means.
-- Rolling upgrade: safe while v8 replicas serve: adds tables only. The
-- cascades that take a removed user's or connection's identities run in
-- the database, so removals on an old replica keep them right. An old
-- replica has no SSO routes: point sign-ins at connections once every
-- replica runs a release that has them.

-- +goose Up
CREATE TABLE sso_connections (
    id           text        PRIMARY KEY,
    workspace_id text        NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    kind         text        NOT NULL,
    name         text        NOT NULL,
    default_role text        NOT NULL,
    config       bytea,
    secrets      bytea,
    metadata     bytea,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX sso_connections_workspace_idx ON sso_connections (workspace_id, created_at);

CREATE TABLE sso_domains (
    domain        text PRIMARY KEY,
    connection_id text NOT NULL REFERENCES sso_connections (id) ON DELETE CASCADE
);
CREATE INDEX sso_domains_connection_idx ON sso_domains (connection_id);

CREATE TABLE sso_identities (
    connection_id text        NOT NULL REFERENCES sso_connections (id) ON DELETE CASCADE,
    subject       text        NOT NULL,
    user_id       text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email         text        NOT NULL DEFAULT '',
    name          text        NOT NULL DEFAULT '',
    created_at    timestamptz NOT NULL,
    last_login_at timestamptz NOT NULL,
    PRIMARY KEY (connection_id, subject)
);
CREATE INDEX sso_identities_user_idx ON sso_identities (user_id);

-- +goose Down
DROP TABLE sso_identities;
DROP TABLE sso_domains;
DROP TABLE sso_connections;
