-- Sigil's PostgreSQL schema, version 1. The SQLite backend has a migration
-- of the same version and name (internal/store/migrations_test.go checks).
--
-- Conventions: ids are text (chosen by the caller); secrets arrive hashed
-- (bytea SHA-256); times are timestamptz (microseconds, returned as UTC);
-- durations are bigint nanoseconds (time.Duration), NULL or 0 meaning
-- "unset" as documented on store.Workspace; scope lists are text[] where
-- NULL round-trips a nil slice and '{}' an empty one.
-- Rolling upgrade: nothing to be safe against: the first version, no older
-- replica exists.

-- +goose Up
CREATE TABLE workspaces (
    id              text PRIMARY KEY,
    name            text NOT NULL,
    -- NULL when no join code is set; UNIQUE ignores NULLs.
    join_code_hash  bytea UNIQUE,
    default_scopes  text[],
    access_ttl      bigint NOT NULL DEFAULT 0,
    refresh_ttl     bigint NOT NULL DEFAULT 0,
    session_max_age bigint NOT NULL DEFAULT 0,
    -- NULL = unset (default grace); 0 = grace off.
    refresh_grace   bigint,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);

CREATE TABLE users (
    id            text PRIMARY KEY,
    workspace_id  text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    role          text NOT NULL,
    scopes        text[],
    -- For password login (later); unused by store version 1.
    email         text,
    password_hash text,
    created_at    timestamptz NOT NULL
);
-- CreateUser asks "does the workspace have users yet?".
CREATE INDEX users_workspace_id_idx ON users (workspace_id);
-- Login by email names no workspace, so an email is unique across the
-- instance (as in the SQLite schema). Case-sensitive: callers normalise.
CREATE UNIQUE INDEX users_email_idx ON users (email) WHERE email IS NOT NULL;

CREATE TABLE public_keys (
    id           text PRIMARY KEY,
    user_id      text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key          bytea NOT NULL,
    created_at   timestamptz NOT NULL,
    last_used_at timestamptz,
    -- A key sits on a user's keyring at most once; this index also serves
    -- ListPublicKeys (user_id prefix) and GetPublicKeyByValue.
    UNIQUE (user_id, key)
);

-- No foreign key to users: a challenge may be issued for an id before the
-- caller knows whether it exists, and codes are short-lived.
CREATE TABLE auth_codes (
    hash       bytea PRIMARY KEY,
    user_id    text NOT NULL,
    expires_at timestamptz NOT NULL
);
CREATE INDEX auth_codes_expires_at_idx ON auth_codes (expires_at);

CREATE TABLE sessions (
    id                 text PRIMARY KEY,
    user_id            text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    workspace_id       text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    method             text NOT NULL,
    scopes             text[],
    created_at         timestamptz NOT NULL,
    expires_at         timestamptz NOT NULL,
    refresh_expires_at timestamptz NOT NULL,
    generation         bigint NOT NULL,
    rotated_at         timestamptz NOT NULL,
    revoked_at         timestamptz
);
-- ListSessions / RevokeUserSessions; DeleteExpired (expired or revoked).
CREATE INDEX sessions_user_id_created_at_idx ON sessions (user_id, created_at DESC);
CREATE INDEX sessions_workspace_id_idx ON sessions (workspace_id);
CREATE INDEX sessions_expires_at_idx ON sessions (expires_at);
CREATE INDEX sessions_revoked_at_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE refresh_tokens (
    hash       bytea PRIMARY KEY,
    session_id text NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    generation bigint NOT NULL,
    created_at timestamptz NOT NULL,
    -- One token per generation; RotateRefresh's conditional update keeps
    -- this true, the constraint proves it. Also the session_id index.
    UNIQUE (session_id, generation)
);

CREATE TABLE signing_keys (
    id            text PRIMARY KEY,
    algorithm     text NOT NULL,
    private_key   bytea NOT NULL,
    public_key    bytea NOT NULL,
    created_at    timestamptz NOT NULL,
    active_from   timestamptz NOT NULL,
    retired_at    timestamptz,
    publish_until timestamptz
);
CREATE INDEX signing_keys_created_at_idx ON signing_keys (created_at DESC);

-- +goose Down
DROP TABLE signing_keys;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE auth_codes;
DROP TABLE public_keys;
DROP TABLE users;
DROP TABLE workspaces;
