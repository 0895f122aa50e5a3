-- Store contract v10: passkeys (WebAuthn credentials). The SQLite backend
-- has a migration of the same version and name; see it for what each
-- column means. Version 9 is another branch's (SSO).
-- Rolling upgrade: safe while v8 replicas serve: adds a table and two
-- workspace columns with defaults. An
-- old replica ignores passkeys (it neither offers nor checks them), so
-- enrol passkeys once every replica runs a release that has them.

-- +goose Up
CREATE TABLE webauthn_credentials (
    factor_id       text    PRIMARY KEY REFERENCES factors (id) ON DELETE CASCADE,
    user_id         text    NOT NULL,
    credential_id   bytea   NOT NULL UNIQUE,
    public_key      bytea   NOT NULL,
    rp_id           text    NOT NULL,
    aaguid          bytea,
    sign_count      bigint  NOT NULL,
    backup_eligible boolean NOT NULL,
    backup_state    boolean NOT NULL,
    transports      text    NOT NULL,
    attachment      text    NOT NULL
);
CREATE INDEX webauthn_credentials_user_idx ON webauthn_credentials (user_id);

-- A workspace's second-factor policy (API.md §13): 'none', 'admins'
-- (owners and admins) or 'all'; require_mfa_since is when it last became
-- stricter, the start of the people's grace period to enrol.
ALTER TABLE workspaces ADD COLUMN require_mfa text NOT NULL DEFAULT 'none';
ALTER TABLE workspaces ADD COLUMN require_mfa_since timestamptz;

-- +goose Down
ALTER TABLE workspaces DROP COLUMN require_mfa_since;
ALTER TABLE workspaces DROP COLUMN require_mfa;
DROP TABLE webauthn_credentials;
