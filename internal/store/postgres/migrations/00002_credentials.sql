-- Store contract v2: passwords, one-time tokens, API keys, JWT keys and
-- the audit log. The SQLite backend has a migration of the same version
-- and name. Conventions as in 00001; in addition, ids that are ordered or
-- paged on are compared bytewise (COLLATE "C"), as SQLite's BINARY does,
-- whatever the database's locale: "lexically larger" must mean the same
-- in both backends.
-- Rolling upgrade: NOT safe while v1 replicas serve: sessions.user_id becomes
-- nullable, and a v1 replica, which scans it into a string, answers 500 for
-- a token of a session made from an admin-created API key on a v2 replica;
-- stop every v1 replica before migrating (only early development ran v1).

-- +goose Up
ALTER TABLE workspaces ADD COLUMN jwt_max_lifetime bigint NOT NULL DEFAULT 0;

-- Emails are unique per workspace, not per instance: one person may hold
-- accounts in several workspaces (login then asks which). "" is stored as
-- NULL, so key-pair users (no email) never collide.
ALTER TABLE users ADD COLUMN email_verified boolean NOT NULL DEFAULT false;
DROP INDEX users_email_idx;
CREATE UNIQUE INDEX users_workspace_email_idx ON users (workspace_id, email)
    WHERE email IS NOT NULL;
-- GetUsersByEmail looks across workspaces.
CREATE INDEX users_email_lookup_idx ON users (email) WHERE email IS NOT NULL;
-- ListUsers pages by (created_at, id); the prefix also serves CreateUser's
-- "does the workspace have users?", so the plain workspace index goes.
CREATE INDEX users_workspace_created_idx ON users (workspace_id, created_at, id COLLATE "C");
DROP INDEX users_workspace_id_idx;

CREATE TABLE one_time_tokens (
    hash       bytea PRIMARY KEY,
    user_id    text NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    text NOT NULL,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX one_time_tokens_user_id_idx ON one_time_tokens (user_id);
CREATE INDEX one_time_tokens_expires_at_idx ON one_time_tokens (expires_at);

-- user_id is the creator, NULL for keys the instance admin created.
CREATE TABLE api_keys (
    id           text PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      text REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL,
    prefix       text NOT NULL,
    hash         bytea NOT NULL UNIQUE,
    scopes       text[],
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz
);
CREATE INDEX api_keys_workspace_created_idx ON api_keys (workspace_id, created_at DESC);
CREATE INDEX api_keys_user_id_idx ON api_keys (user_id) WHERE user_id IS NOT NULL;

-- A session made by exchanging an API key belongs to the key: api_key_id
-- is set, and user_id is the key's creator or NULL (admin-created key).
ALTER TABLE sessions ALTER COLUMN user_id DROP NOT NULL;
ALTER TABLE sessions ADD COLUMN api_key_id text REFERENCES api_keys (id) ON DELETE CASCADE;
CREATE INDEX sessions_api_key_id_idx ON sessions (api_key_id) WHERE api_key_id IS NOT NULL;

CREATE TABLE jwt_keys (
    id           text PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      text REFERENCES users (id) ON DELETE CASCADE,
    name         text NOT NULL,
    secret       bytea NOT NULL,
    scopes       text[],
    created_at   timestamptz NOT NULL
);
CREATE INDEX jwt_keys_workspace_created_idx ON jwt_keys (workspace_id, created_at DESC);
CREATE INDEX jwt_keys_user_id_idx ON jwt_keys (user_id) WHERE user_id IS NOT NULL;

-- No foreign keys: the log outlives what it names. workspace_id is ''
-- for instance-level events. Ids are caller-generated and sortable.
CREATE TABLE audit_events (
    id           text COLLATE "C" PRIMARY KEY,
    workspace_id text NOT NULL,
    time         timestamptz NOT NULL,
    actor        text NOT NULL,
    action       text NOT NULL,
    target       text NOT NULL,
    method       text NOT NULL,
    client_ip    text NOT NULL,
    details      jsonb
);
CREATE INDEX audit_events_workspace_id_idx ON audit_events (workspace_id, id);

-- +goose Down
DROP TABLE audit_events;
DROP TABLE jwt_keys;
-- Sessions of API keys have no place in the version 1 schema.
DELETE FROM sessions WHERE api_key_id IS NOT NULL OR user_id IS NULL;
ALTER TABLE sessions DROP COLUMN api_key_id;
ALTER TABLE sessions ALTER COLUMN user_id SET NOT NULL;
DROP TABLE api_keys;
DROP TABLE one_time_tokens;
CREATE INDEX users_workspace_id_idx ON users (workspace_id);
DROP INDEX users_workspace_created_idx;
DROP INDEX users_email_lookup_idx;
DROP INDEX users_workspace_email_idx;
-- Fails if an email is now used in two workspaces: resolve that first.
CREATE UNIQUE INDEX users_email_idx ON users (email) WHERE email IS NOT NULL;
ALTER TABLE users DROP COLUMN email_verified;
ALTER TABLE workspaces DROP COLUMN jwt_max_lifetime;
