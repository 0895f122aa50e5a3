-- Store contract v8: second factors (issue 11, API.md §13). The SQLite
-- backend has a migration of the same version and name; see it for what
-- each column means.
-- Rolling upgrade: safe while v7 replicas serve: adds tables only. The
-- feature is not: an old replica ignores factors and signs a person with
-- TOTP in on the password alone, so enrol only once every replica runs a
-- release that has them (docs/architecture.md; TestRollingUpgrade shows it).

-- +goose Up
CREATE TABLE factors (
    id           text        PRIMARY KEY,
    user_id      text        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         text        NOT NULL,
    name         text        NOT NULL,
    secret       bytea,
    created_at   timestamptz NOT NULL,
    confirmed_at timestamptz,
    last_used_at timestamptz
);
CREATE INDEX factors_user_idx ON factors (user_id, created_at);

CREATE TABLE recovery_codes (
    hash      bytea NOT NULL,
    factor_id text  NOT NULL REFERENCES factors (id) ON DELETE CASCADE,
    user_id   text  NOT NULL,
    PRIMARY KEY (user_id, hash)
);
CREATE INDEX recovery_codes_factor_idx ON recovery_codes (factor_id);

CREATE TABLE totp_steps (
    factor_id  text        NOT NULL REFERENCES factors (id) ON DELETE CASCADE,
    step       bigint      NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (factor_id, step)
);
CREATE INDEX totp_steps_expires_idx ON totp_steps (expires_at);

-- +goose Down
DROP TABLE totp_steps;
DROP TABLE recovery_codes;
DROP TABLE factors;
