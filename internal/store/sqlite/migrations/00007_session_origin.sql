-- Store contract v7: where a session started — the client address and
-- the User-Agent of the request that made it — for the sessions list
-- ("Chrome on macOS, 203.0.113.7"). The PostgreSQL backend has a
-- migration of the same version and name. '' = not known (sessions made
-- before this migration, and API-key exchanges).

-- +goose Up
ALTER TABLE sessions ADD COLUMN client_ip  TEXT NOT NULL DEFAULT '';
ALTER TABLE sessions ADD COLUMN user_agent TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE sessions DROP COLUMN user_agent;
ALTER TABLE sessions DROP COLUMN client_ip;
