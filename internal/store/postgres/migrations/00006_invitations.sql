-- Store contract: invitations by email (issue 10). The SQLite backend has
-- a migration of the same version and name. Conventions as in 00001 and
-- 00002.
-- Rolling upgrade: safe while v5 replicas serve: adds a table only.

-- +goose Up
-- hash is the SHA-256 of the emailed token. invited_by and accepted_by
-- reference nothing: an invitation outlives the user who sent it and the
-- member it made (both may be removed later). Rows are kept after use or
-- expiry; the index serves ListInvitations' order (ties by id, bytewise),
-- scanned backwards.
CREATE TABLE invitations (
    id           text PRIMARY KEY,
    workspace_id text NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    email        text NOT NULL,
    role         text NOT NULL,
    hash         bytea NOT NULL UNIQUE,
    invited_by   text,
    created_at   timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    accepted_at  timestamptz,
    accepted_by  text,
    revoked_at   timestamptz
);
CREATE INDEX invitations_workspace_created_idx ON invitations (workspace_id, created_at, id COLLATE "C");

-- +goose Down
DROP TABLE invitations;
