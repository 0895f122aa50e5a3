-- Store contract v10: passkeys (WebAuthn credentials) as second factors
-- and for passwordless sign-in (issue 11, API.md §13). The PostgreSQL
-- backend has a migration of the same version and name. Version 9 is
-- reserved for another branch (SSO): goose refuses a missing lower
-- version once a higher one is applied, so 9 must ship with or before 10.
-- Conventions as in 00001 and 00002 (times are Unix microseconds).

-- +goose Up
-- The public part of a passkey, one row per factor of kind 'webauthn'
-- (the factor row holds its name, created and last-used times).
-- credential_id is the authenticator's id for it, unique in the
-- instance: a passwordless sign-in finds the person by it. public_key is
-- the COSE key. sign_count only moves forward (a counter that stays 0 is
-- allowed). backup_eligible never changes for a credential; backup_state
-- may (a passkey synced later). rp_id is the relying party the
-- credential was made for; transports a comma-separated list.
CREATE TABLE webauthn_credentials (
    factor_id       TEXT    PRIMARY KEY REFERENCES factors (id) ON DELETE CASCADE,
    user_id         TEXT    NOT NULL,
    credential_id   BLOB    NOT NULL UNIQUE,
    public_key      BLOB    NOT NULL,
    rp_id           TEXT    NOT NULL,
    aaguid          BLOB,
    sign_count      INTEGER NOT NULL,
    backup_eligible INTEGER NOT NULL,
    backup_state    INTEGER NOT NULL,
    transports      TEXT    NOT NULL,
    attachment      TEXT    NOT NULL
) STRICT;
CREATE INDEX webauthn_credentials_user_idx ON webauthn_credentials (user_id);

-- A workspace's second-factor policy (API.md §13): 'none', 'admins'
-- (owners and admins) or 'all'; require_mfa_since is when it last became
-- stricter, the start of the people's grace period to enrol.
ALTER TABLE workspaces ADD COLUMN require_mfa TEXT NOT NULL DEFAULT 'none';
ALTER TABLE workspaces ADD COLUMN require_mfa_since INTEGER;

-- +goose Down
ALTER TABLE workspaces DROP COLUMN require_mfa_since;
ALTER TABLE workspaces DROP COLUMN require_mfa;
DROP TABLE webauthn_credentials;
