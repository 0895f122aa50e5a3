-- Store contract v10: passkeys (WebAuthn credentials). The SQLite backend
-- has a migration of the same version and name; see it for what each
-- column means. Version 9 is another branch's (SSO).
-- Rolling upgrade: safe while v8 replicas serve: adds a table only. An
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

-- +goose Down
DROP TABLE webauthn_credentials;
