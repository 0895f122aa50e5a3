-- Store contract v8: second factors (issue 11, API.md §13). The
-- PostgreSQL backend has a migration of the same version and name.
-- Conventions as in 00001 and 00002 (times are Unix microseconds).

-- +goose Up
-- A person's second factors. kind is 'totp' or 'recovery'. A TOTP
-- factor's secret is AES-GCM sealed under the master key (its id is the
-- associated data); a recovery factor has none (its codes are in
-- recovery_codes). confirmed_at is NULL while a TOTP enrolment waits for
-- its first code; a recovery factor is confirmed when made.
CREATE TABLE factors (
    id           TEXT    PRIMARY KEY,
    user_id      TEXT    NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind         TEXT    NOT NULL,
    name         TEXT    NOT NULL,
    secret       BLOB,
    created_at   INTEGER NOT NULL,
    confirmed_at INTEGER,
    last_used_at INTEGER
) STRICT;
CREATE INDEX factors_user_idx ON factors (user_id, created_at);

-- Recovery codes, as SHA-256 of the code; a used code's row is deleted.
CREATE TABLE recovery_codes (
    hash      BLOB NOT NULL,
    factor_id TEXT NOT NULL REFERENCES factors (id) ON DELETE CASCADE,
    user_id   TEXT NOT NULL,
    PRIMARY KEY (user_id, hash)
) STRICT;
CREATE INDEX recovery_codes_factor_idx ON recovery_codes (factor_id);

-- The TOTP time steps already accepted, one row each: the primary key
-- makes a replayed code (its step) fail on every replica. Rows go once
-- the step is out of the accepted window (expires_at).
CREATE TABLE totp_steps (
    factor_id  TEXT    NOT NULL REFERENCES factors (id) ON DELETE CASCADE,
    step       INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (factor_id, step)
) STRICT;
CREATE INDEX totp_steps_expires_idx ON totp_steps (expires_at);

-- +goose Down
DROP TABLE totp_steps;
DROP TABLE recovery_codes;
DROP TABLE factors;
