-- Store contract v11: a person's name, for OpenID Connect's profile scope
-- (the userinfo and ID token `name`). It comes from the identity provider
-- when single sign-on makes the account. The PostgreSQL backend has a
-- migration of the same version and name. '' = not known.

-- +goose Up
ALTER TABLE users ADD COLUMN name TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE users DROP COLUMN name;
