-- Store contract v7: where a session started — the client address and
-- the User-Agent of the request that made it — for the sessions list
-- ("Chrome on macOS, 203.0.113.7"). The SQLite backend has a migration
-- of the same version and name. '' = not known (sessions made before this
-- migration, and API-key exchanges). Adding a column with a constant
-- default rewrites no rows, so old replicas keep serving meanwhile.
-- Rolling upgrade: safe while v6 replicas serve: adds columns with constant
-- defaults only (sessions an old replica starts have no origin).

-- +goose Up
ALTER TABLE sessions
    ADD COLUMN client_ip  text NOT NULL DEFAULT '',
    ADD COLUMN user_agent text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE sessions
    DROP COLUMN user_agent,
    DROP COLUMN client_ip;
