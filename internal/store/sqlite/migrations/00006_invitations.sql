-- Store contract: invitations by email (issue 10). The PostgreSQL
-- backend has a migration of the same version and name. Conventions as in
-- 00001 and 00002.

-- +goose Up
-- hash is the SHA-256 of the emailed token. invited_by and accepted_by
-- reference nothing: an invitation outlives the user who sent it and the
-- member it made (both may be removed later). Rows are kept after use or
-- expiry; the index serves ListInvitations' order.
CREATE TABLE invitations (
    id           TEXT    PRIMARY KEY,
    workspace_id TEXT    NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    email        TEXT    NOT NULL,
    role         TEXT    NOT NULL,
    hash         BLOB    NOT NULL UNIQUE,
    invited_by   TEXT,
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    accepted_at  INTEGER,
    accepted_by  TEXT,
    revoked_at   INTEGER
) STRICT;
CREATE INDEX invitations_workspace_created_idx ON invitations (workspace_id, created_at, id);

-- +goose Down
DROP TABLE invitations;
