-- Store contract v11: a person's name, for OpenID Connect's profile scope
-- (the userinfo and ID token `name`). It comes from the identity provider
-- when single sign-on makes the account. The SQLite backend has a
-- migration of the same version and name. '' = not known.
-- Rolling upgrade: safe while v10 replicas serve: adds a column with a
-- constant default only (accounts an old replica makes have no name).

-- +goose Up
ALTER TABLE users ADD COLUMN name text NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE users DROP COLUMN name;
