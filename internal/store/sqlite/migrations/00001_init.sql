-- Sigil's initial schema (SQLite). Conventions:
--   * instants are INTEGER unix microseconds UTC, NULL where the record's
--     field is a nil pointer;
--   * durations are INTEGER nanoseconds (time.Duration), 0 = unset, except
--     refresh_grace where NULL = unset and 0 = grace off;
--   * scope lists are JSON array text;
--   * secrets are never stored: *_hash columns hold SHA-256, private_key
--     holds AES-GCM ciphertext.

-- +goose Up
CREATE TABLE workspaces (
    id              TEXT    PRIMARY KEY,
    name            TEXT    NOT NULL,
    join_code_hash  BLOB    UNIQUE,
    default_scopes  TEXT    NOT NULL DEFAULT '[]',
    access_ttl      INTEGER NOT NULL DEFAULT 0,
    refresh_ttl     INTEGER NOT NULL DEFAULT 0,
    session_max_age INTEGER NOT NULL DEFAULT 0,
    refresh_grace   INTEGER,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
) STRICT;

-- email and password_hash serve password login (later); login by email
-- names no workspace, so an email is unique across the instance.
CREATE TABLE users (
    id            TEXT    PRIMARY KEY,
    workspace_id  TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    role          TEXT    NOT NULL,
    scopes        TEXT    NOT NULL DEFAULT '[]',
    email         TEXT,
    password_hash TEXT,
    created_at    INTEGER NOT NULL
) STRICT;
CREATE INDEX users_workspace_idx ON users (workspace_id);
CREATE UNIQUE INDEX users_email_idx ON users (email) WHERE email IS NOT NULL;

-- UNIQUE (user_id, key) serves GetPublicKeyByValue and keeps a key once
-- per keyring; the second index serves ListPublicKeys' order.
CREATE TABLE public_keys (
    id           TEXT    PRIMARY KEY,
    user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key          BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER,
    UNIQUE (user_id, key)
) STRICT;
CREATE INDEX public_keys_user_created_idx ON public_keys (user_id, created_at, id);

-- No foreign key on user_id: codes are issued before registration.
CREATE TABLE auth_codes (
    hash       BLOB    PRIMARY KEY,
    user_id    TEXT    NOT NULL,
    expires_at INTEGER NOT NULL
) STRICT, WITHOUT ROWID;
CREATE INDEX auth_codes_expires_idx ON auth_codes (expires_at);

CREATE TABLE sessions (
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
CREATE INDEX sessions_user_created_idx ON sessions (user_id, created_at);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);
CREATE INDEX sessions_revoked_idx ON sessions (revoked_at) WHERE revoked_at IS NOT NULL;

-- One token per (session, generation); old generations stay until their
-- session goes, so a replayed token is recognised as reuse.
CREATE TABLE refresh_tokens (
    hash       BLOB    PRIMARY KEY,
    session_id TEXT    NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    generation INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (session_id, generation)
) STRICT, WITHOUT ROWID;

CREATE TABLE signing_keys (
    id            TEXT    PRIMARY KEY,
    algorithm     TEXT    NOT NULL,
    private_key   BLOB    NOT NULL,
    public_key    BLOB    NOT NULL,
    created_at    INTEGER NOT NULL,
    active_from   INTEGER NOT NULL,
    retired_at    INTEGER,
    publish_until INTEGER
) STRICT;

-- +goose Down
DROP TABLE signing_keys;
DROP TABLE refresh_tokens;
DROP TABLE sessions;
DROP TABLE auth_codes;
DROP TABLE public_keys;
DROP TABLE users;
DROP TABLE workspaces;
