package postgres

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigil-auth/sigil/internal/store"
)

// credentialCols are a passkey's columns as scanFactor reads them after
// the factor's (all NULL for a factor of another kind).
const credentialCols = `w.credential_id, w.public_key, w.rp_id, w.aaguid, w.sign_count, w.backup_eligible,
	w.backup_state, w.transports, w.attachment`

const insertCredential = `INSERT INTO webauthn_credentials (factor_id, user_id, credential_id, public_key,
	rp_id, aaguid, sign_count, backup_eligible, backup_state, transports, attachment)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`

// credentialRow scans the nullable credential columns.
type credentialRow struct {
	id, key, aaguid          []byte
	rpID, transp, attachment *string
	count                    *int64
	be, bs                   *bool
}

func (c *credentialRow) dest() []any {
	return []any{&c.id, &c.key, &c.rpID, &c.aaguid, &c.count, &c.be, &c.bs, &c.transp, &c.attachment}
}

// credential is the scanned credential, or nil for a factor without one.
func (c *credentialRow) credential() *store.WebAuthnCredential {
	if c.id == nil || c.count == nil || c.be == nil || c.bs == nil || c.rpID == nil || c.transp == nil || c.attachment == nil {
		return nil
	}
	w := &store.WebAuthnCredential{CredentialID: c.id, PublicKey: c.key, RPID: *c.rpID, AAGUID: c.aaguid,
		SignCount: *c.count, BackupEligible: *c.be, BackupState: *c.bs, Attachment: *c.attachment}
	if *c.transp != "" {
		w.Transports = strings.Split(*c.transp, ",")
	}
	return w
}

func credentialArgs(f store.Factor) []any {
	w := f.WebAuthn
	return []any{f.ID, f.UserID, w.CredentialID, w.PublicKey, w.RPID, w.AAGUID, w.SignCount,
		w.BackupEligible, w.BackupState, strings.Join(w.Transports, ","), w.Attachment}
}

// GetFactorByCredential finds the passkey factor with that credential id.
func (s *Store) GetFactorByCredential(ctx context.Context, credentialID []byte) (store.Factor, error) {
	f, err := scanFactor(s.pool.QueryRow(ctx, `SELECT `+factorCols+factorFrom+`WHERE w.credential_id = $1`, credentialID))
	return f, mapErr("get factor by credential", err)
}

// UseWebAuthnCredential stores a use's counter and backup state, only if
// the counter moved forward (or is and stays 0), and touches the factor,
// in one statement: of concurrent uses with one count, the row lock makes
// the second re-check its condition against the first's count and fail.
func (s *Store) UseWebAuthnCredential(ctx context.Context, userID, factorID string, signCount int64, backupState bool, now time.Time) error {
	var id string
	err := s.pool.QueryRow(ctx, `WITH upd AS (
			UPDATE webauthn_credentials SET sign_count = $3, backup_state = $4
			WHERE factor_id = $2 AND user_id = $1 AND (sign_count < $3 OR (sign_count = 0 AND $3 = 0))
			RETURNING factor_id)
		UPDATE factors SET last_used_at = $5 WHERE id = (SELECT factor_id FROM upd) RETURNING id`,
		userID, factorID, signCount, backupState, now).Scan(&id)
	if !errors.Is(err, pgx.ErrNoRows) {
		return mapErr("use webauthn credential", err)
	}
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM webauthn_credentials
		WHERE factor_id = $1 AND user_id = $2)`, factorID, userID).Scan(&exists); err != nil {
		return mapErr("use webauthn credential", err)
	}
	if !exists {
		return store.ErrNotFound
	}
	return store.ErrConflict
}

// ListFactorKinds maps the workspace's users with confirmed factors to
// their kinds.
func (s *Store) ListFactorKinds(ctx context.Context, workspaceID string) (map[string][]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT f.user_id, f.kind FROM factors f JOIN users u ON u.id = f.user_id
		WHERE u.workspace_id = $1 AND f.confirmed_at IS NOT NULL ORDER BY f.user_id, f.kind`, workspaceID)
	if err != nil {
		return nil, mapErr("list factor kinds", err)
	}
	out := map[string][]string{}
	var user, kind string
	_, err = pgx.ForEachRow(rows, []any{&user, &kind}, func() error {
		out[user] = append(out[user], kind)
		return nil
	})
	return out, mapErr("list factor kinds", err)
}

// DeleteFactors removes every factor of the user (ON DELETE CASCADE takes
// their codes, steps and credentials).
func (s *Store) DeleteFactors(ctx context.Context, userID string) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM factors WHERE user_id = $1`, userID)
	return int(tag.RowsAffected()), mapErr("delete factors", err)
}
