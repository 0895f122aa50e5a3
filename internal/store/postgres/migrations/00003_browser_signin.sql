-- Store contract v3: browser sign-in (Sigil as an OAuth2 / OpenID
-- provider). Apps (OAuth2 clients), authorization codes, the branding of
-- a workspace's hosted pages, and the app a session was issued to. The
-- SQLite backend has a migration of the same version and name.
-- Conventions as in 00001 and 00002; string lists (redirect URIs, login
-- methods) are text[] like scope lists.
-- Rolling upgrade: safe while v2 replicas serve: adds tables, a nullable
-- column and columns with constant defaults, which v2 never reads.

-- +goose Up
-- '' = Sigil's default look.
ALTER TABLE workspaces
    ADD COLUMN display_name text NOT NULL DEFAULT '',
    ADD COLUMN logo_url     text NOT NULL DEFAULT '',
    ADD COLUMN accent_color text NOT NULL DEFAULT '';

-- secret_hash is NULL for public apps (PKCE only). The index serves
-- ListApps' order (ties by id, bytewise), scanned backwards.
CREATE TABLE apps (
    id                         text PRIMARY KEY,
    workspace_id               text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name                       text NOT NULL,
    redirect_uris              text[],
    post_logout_redirect_uris  text[],
    login_methods              text[],
    token_endpoint_auth_method text NOT NULL,
    id_token_alg               text NOT NULL,
    secret_hash                bytea,
    created_at                 timestamptz NOT NULL,
    updated_at                 timestamptz NOT NULL
);
CREATE INDEX apps_workspace_created_idx ON apps (workspace_id, created_at, id COLLATE "C");

-- NULL for sessions not issued to an app. No foreign key: a session keeps
-- naming the app it was issued to after DeleteApp (the contract lets the
-- sessions stay, and a refresh should not silently lose its client
-- binding).
ALTER TABLE sessions ADD COLUMN app_id text;

-- A code lives about a minute and DeleteExpired clears it, so the table
-- stays small: the cascades from apps and users scan it rather than pay
-- an index on every insert. session_id (NULL until redeemed) references
-- nothing: the session may be cleaned up before the code.
CREATE TABLE authorization_codes (
    hash           bytea PRIMARY KEY,
    app_id         text NOT NULL REFERENCES apps (id) ON DELETE CASCADE,
    user_id        text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    workspace_id   text NOT NULL,
    redirect_uri   text NOT NULL,
    code_challenge text NOT NULL,
    scopes         text[],
    nonce          text NOT NULL,
    method         text NOT NULL,
    auth_time      timestamptz NOT NULL,
    created_at     timestamptz NOT NULL,
    expires_at     timestamptz NOT NULL,
    redeemed_at    timestamptz,
    session_id     text
);
CREATE INDEX authorization_codes_expires_at_idx ON authorization_codes (expires_at);

-- +goose Down
-- Sessions issued to apps stay, as plain sessions of their user.
DROP TABLE authorization_codes;
ALTER TABLE sessions DROP COLUMN app_id;
DROP TABLE apps;
ALTER TABLE workspaces
    DROP COLUMN accent_color,
    DROP COLUMN logo_url,
    DROP COLUMN display_name;
