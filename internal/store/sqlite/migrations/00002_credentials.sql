-- Store contract v2: passwords, API keys, JWT keys, members, audit.
-- Conventions as in 00001; in addition, optional text ("" in Go: email,
-- password_hash, sessions.user_id for admin-created API keys, api_key_id)
-- is NULL, never ''.

-- +goose Up
ALTER TABLE workspaces ADD COLUMN jwt_max_lifetime INTEGER NOT NULL DEFAULT 0;

-- Emails are unique per workspace, not per instance. email leads the
-- unique index so that it also serves GetUsersByEmail (login by email names
-- no workspace); (workspace_id, created_at, id) serves ListUsers' order and
-- CreateUser's "has the workspace users yet?".
ALTER TABLE users ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0;
DROP INDEX users_email_idx;
DROP INDEX users_workspace_idx;
CREATE UNIQUE INDEX users_email_workspace_idx ON users (email, workspace_id) WHERE email IS NOT NULL;
CREATE INDEX users_workspace_created_idx ON users (workspace_id, created_at, id);

CREATE TABLE one_time_tokens (
    hash       BLOB    PRIMARY KEY,
    user_id    TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT    NOT NULL,
    expires_at INTEGER NOT NULL,
    created_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX one_time_tokens_expires_idx ON one_time_tokens (expires_at);
CREATE INDEX one_time_tokens_user_idx ON one_time_tokens (user_id);

-- user_id is the creator, NULL for the instance admin. A creator's keys go
-- with the creator (and their sessions with the keys).
CREATE TABLE api_keys (
    id           TEXT    PRIMARY KEY,
    workspace_id TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      TEXT    REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    prefix       TEXT    NOT NULL,
    hash         BLOB    NOT NULL UNIQUE,
    scopes       TEXT    NOT NULL DEFAULT '[]',
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER,
    revoked_at   INTEGER,
    last_used_at INTEGER
) STRICT;
CREATE INDEX api_keys_workspace_created_idx ON api_keys (workspace_id, created_at, id);
CREATE INDEX api_keys_user_created_idx ON api_keys (user_id, created_at, id) WHERE user_id IS NOT NULL;

CREATE TABLE jwt_keys (
    id           TEXT    PRIMARY KEY,
    workspace_id TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      TEXT    REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL,
    secret       BLOB    NOT NULL,
    scopes       TEXT    NOT NULL DEFAULT '[]',
    created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX jwt_keys_workspace_created_idx ON jwt_keys (workspace_id, created_at, id);
CREATE INDEX jwt_keys_user_idx ON jwt_keys (user_id) WHERE user_id IS NOT NULL;

-- No foreign key: the log outlives what it describes. workspace_id is ''
-- for instance-level events (NOT NULL keeps the (workspace_id, id) index
-- simple). ids are sortable, so rows arrive in key order. details is a
-- JSON object, NULL when empty.
CREATE TABLE audit_events (
    id           TEXT    PRIMARY KEY,
    workspace_id TEXT    NOT NULL,
    time         INTEGER NOT NULL,
    actor        TEXT    NOT NULL,
    action       TEXT    NOT NULL,
    target       TEXT    NOT NULL,
    method       TEXT    NOT NULL,
    client_ip    TEXT    NOT NULL,
    details      TEXT
) STRICT, WITHOUT ROWID;
CREATE INDEX audit_events_workspace_idx ON audit_events (workspace_id, id);

-- sessions.user_id becomes nullable and api_key_id is added. SQLite cannot
-- drop NOT NULL in place, so sessions is rebuilt. refresh_tokens, its only
-- child, is rebuilt with it: dropping the old sessions table with foreign
-- keys on (they are, per connection, and PRAGMA foreign_keys is a no-op
-- inside goose's transaction) would otherwise cascade-delete every
-- refresh token. RENAME rewrites refresh_tokens_new's REFERENCES
-- sessions_new to sessions.
CREATE TABLE sessions_new (
    id                 TEXT    PRIMARY KEY,
    user_id            TEXT    REFERENCES users (id) ON DELETE CASCADE,
    workspace_id       TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    method             TEXT    NOT NULL,
    scopes             TEXT    NOT NULL DEFAULT '[]',
    created_at         INTEGER NOT NULL,
    expires_at         INTEGER NOT NULL,
    refresh_expires_at INTEGER NOT NULL,
    generation         INTEGER NOT NULL DEFAULT 0,
    rotated_at         INTEGER NOT NULL,
    revoked_at         INTEGER,
    api_key_id         TEXT    REFERENCES api_keys (id) ON DELETE CASCADE
) STRICT, WITHOUT ROWID;
INSERT INTO sessions_new (id, user_id, workspace_id, method, scopes, created_at, expires_at,
        refresh_expires_at, generation, rotated_at, revoked_at)
    SELECT id, user_id, workspace_id, method, scopes, created_at, expires_at,
        refresh_expires_at, generation, rotated_at, revoked_at FROM sessions;
CREATE TABLE refresh_tokens_new (
    hash       BLOB    PRIMARY KEY,
    session_id TEXT    NOT NULL REFERENCES sessions_new (id) ON DELETE CASCADE,
    generation INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (session_id, generation)
) STRICT, WITHOUT ROWID;
INSERT INTO refresh_tokens_new (hash, session_id, generation, created_at)
    SELECT hash, session_id, generation, created_at FROM refresh_tokens;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
ALTER TABLE sessions_new RENAME TO sessions;
ALTER TABLE refresh_tokens_new RENAME TO refresh_tokens;
CREATE INDEX sessions_user_created_idx ON sessions (user_id, created_at);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);
CREATE INDEX sessions_revoked_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX sessions_api_key_idx ON sessions (api_key_id) WHERE api_key_id IS NOT NULL;

-- +goose Down
-- API-key sessions cannot exist in version 1 (user_id NOT NULL, no key).
DELETE FROM sessions WHERE api_key_id IS NOT NULL;
CREATE TABLE sessions_old (
    id                 TEXT    PRIMARY KEY,
    user_id            TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    workspace_id       TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    method             TEXT    NOT NULL,
    scopes             TEXT    NOT NULL DEFAULT '[]',
    created_at         INTEGER NOT NULL,
    expires_at         INTEGER NOT NULL,
    refresh_expires_at INTEGER NOT NULL,
    generation         INTEGER NOT NULL DEFAULT 0,
    rotated_at         INTEGER NOT NULL,
    revoked_at         INTEGER
) STRICT, WITHOUT ROWID;
INSERT INTO sessions_old SELECT id, user_id, workspace_id, method, scopes, created_at, expires_at,
    refresh_expires_at, generation, rotated_at, revoked_at FROM sessions;
CREATE TABLE refresh_tokens_old (
    hash       BLOB    PRIMARY KEY,
    session_id TEXT    NOT NULL REFERENCES sessions_old (id) ON DELETE CASCADE,
    generation INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (session_id, generation)
) STRICT, WITHOUT ROWID;
INSERT INTO refresh_tokens_old SELECT hash, session_id, generation, created_at FROM refresh_tokens;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
ALTER TABLE sessions_old RENAME TO sessions;
ALTER TABLE refresh_tokens_old RENAME TO refresh_tokens;
CREATE INDEX sessions_user_created_idx ON sessions (user_id, created_at);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);
CREATE INDEX sessions_revoked_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;
DROP TABLE audit_events;
DROP TABLE jwt_keys;
DROP TABLE api_keys;
DROP TABLE one_time_tokens;
DROP INDEX users_workspace_created_idx;
DROP INDEX users_email_workspace_idx;
-- Fails if two workspaces share an email by now: that is the data loss a
-- downgrade would cause, so it must not pass silently.
CREATE UNIQUE INDEX users_email_idx ON users (email) WHERE email IS NOT NULL;
CREATE INDEX users_workspace_idx ON users (workspace_id);
ALTER TABLE users DROP COLUMN email_verified;
ALTER TABLE workspaces DROP COLUMN jwt_max_lifetime;
