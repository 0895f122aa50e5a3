-- Store contract v4: instance admins and first-run setup. The SQLite
-- backend has a migration of the same version and name. Conventions as in
-- 00001 and 00002.
-- Rolling upgrade: safe while v3 replicas serve: adds a table and a column
-- with a constant default (old replicas know no instance admins).

-- +goose Up
-- true = the operator made this account an instance admin (`sigil admin
-- grant`, or the first-run setup). No index: nothing looks users up by it.
ALTER TABLE users ADD COLUMN instance_admin boolean NOT NULL DEFAULT false;

-- The first-run setup link's token (SHA-256), at most one row: id is
-- always 1, so a new token replaces the old one in place and concurrent
-- setups contend for the same row lock. It has no user to reference,
-- hence a table of its own rather than one_time_tokens.
CREATE TABLE setup_token (
    id         smallint    PRIMARY KEY CHECK (id = 1),
    hash       bytea       NOT NULL,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL
);

-- +goose Down
DROP TABLE setup_token;
ALTER TABLE users DROP COLUMN instance_admin;
