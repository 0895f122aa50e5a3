-- Store contract v3: browser sign-in (Sigil as an OAuth2 / OpenID
-- provider). Apps (OAuth2 clients), authorization codes, the branding of
-- a workspace's hosted pages, and the app a session was issued to. The
-- PostgreSQL backend has a migration of the same version and name.
-- Conventions as in 00001 and 00002; string lists (redirect URIs, login
-- methods) are JSON array text like scope lists.

-- +goose Up
-- '' = Sigil's default look.
ALTER TABLE workspaces ADD COLUMN display_name TEXT NOT NULL DEFAULT '';
ALTER TABLE workspaces ADD COLUMN logo_url     TEXT NOT NULL DEFAULT '';
ALTER TABLE workspaces ADD COLUMN accent_color TEXT NOT NULL DEFAULT '';

-- secret_hash is NULL for public apps (PKCE only). The index serves
-- ListApps' order.
CREATE TABLE apps (
    id                         TEXT    PRIMARY KEY,
    workspace_id               TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name                       TEXT    NOT NULL,
    redirect_uris              TEXT    NOT NULL DEFAULT '[]',
    post_logout_redirect_uris  TEXT    NOT NULL DEFAULT '[]',
    login_methods              TEXT    NOT NULL DEFAULT '[]',
    token_endpoint_auth_method TEXT    NOT NULL,
    id_token_alg               TEXT    NOT NULL,
    secret_hash                BLOB,
    created_at                 INTEGER NOT NULL,
    updated_at                 INTEGER NOT NULL
) STRICT;
CREATE INDEX apps_workspace_created_idx ON apps (workspace_id, created_at, id);

-- NULL for sessions not issued to an app. No foreign key: a session keeps
-- naming the app it was issued to after DeleteApp (the contract lets the
-- sessions stay, and a refresh should not silently lose its client
-- binding), so no sessions index on app_id is needed either.
ALTER TABLE sessions ADD COLUMN app_id TEXT;

-- A code lives about a minute and DeleteExpired clears it, so the table
-- stays small: the cascades from apps and users scan it rather than pay
-- an index on every insert. session_id (NULL until redeemed) references
-- nothing: the session may be cleaned up before the code.
CREATE TABLE authorization_codes (
    hash           BLOB    PRIMARY KEY,
    app_id         TEXT    NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    user_id        TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    workspace_id   TEXT    NOT NULL,
    redirect_uri   TEXT    NOT NULL,
    code_challenge TEXT    NOT NULL,
    scopes         TEXT    NOT NULL DEFAULT '[]',
    nonce          TEXT    NOT NULL,
    method         TEXT    NOT NULL,
    auth_time      INTEGER NOT NULL,
    created_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    redeemed_at    INTEGER,
    session_id     TEXT
) STRICT, WITHOUT ROWID;
CREATE INDEX authorization_codes_expires_idx ON authorization_codes (expires_at);

-- +goose Down
-- Sessions issued to apps stay, as plain sessions of their user.
DROP TABLE authorization_codes;
ALTER TABLE sessions DROP COLUMN app_id;
DROP TABLE apps;
ALTER TABLE workspaces DROP COLUMN accent_color;
ALTER TABLE workspaces DROP COLUMN logo_url;
ALTER TABLE workspaces DROP COLUMN display_name;
