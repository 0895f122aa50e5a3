package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

// credentialCols are a passkey's columns as scanFactor reads them after
// the factor's (all NULL for a factor of another kind).
const credentialCols = `w.credential_id, w.public_key, w.rp_id, w.aaguid, w.sign_count, w.backup_eligible,
	w.backup_state, w.transports, w.attachment`

var (
	qCreateCredential = writeQuery(`INSERT INTO webauthn_credentials (factor_id, user_id, credential_id, public_key,
		rp_id, aaguid, sign_count, backup_eligible, backup_state, transports, attachment)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	qFactorByCredential = readQuery(`SELECT ` + factorCols + factorFrom + `WHERE w.credential_id = ?`)
	// qUseCredential moves the counter forward only (or keeps a counter
	// that is and stays 0); no row changed is a clone, a replay, or no
	// such passkey.
	qUseCredential = writeQuery(`UPDATE webauthn_credentials SET sign_count = ?3, backup_state = ?4
		WHERE factor_id = ?2 AND user_id = ?1 AND (sign_count < ?3 OR (sign_count = 0 AND ?3 = 0))`)
	qCredentialExists = writeQuery(`SELECT count(*) FROM webauthn_credentials WHERE factor_id = ? AND user_id = ?`)
	qFactorKinds      = readQuery(`SELECT DISTINCT f.user_id, f.kind FROM factors f JOIN users u ON u.id = f.user_id
		WHERE u.workspace_id = ? AND f.confirmed_at IS NOT NULL ORDER BY f.user_id, f.kind`)
	qDeleteFactors = writeQuery(`DELETE FROM factors WHERE user_id = ?`)
)

// credentialRow scans the nullable credential columns.
type credentialRow struct {
	id, key, aaguid []byte
	rpID, transp    sql.NullString
	attachment      sql.NullString
	count           sql.NullInt64
	be, bs          sql.NullBool
}

func (c *credentialRow) dest() []any {
	return []any{&c.id, &c.key, &c.rpID, &c.aaguid, &c.count, &c.be, &c.bs, &c.transp, &c.attachment}
}

// credential is the scanned credential, or nil for a factor without one.
func (c *credentialRow) credential() *store.WebAuthnCredential {
	if c.id == nil {
		return nil
	}
	return &store.WebAuthnCredential{CredentialID: c.id, PublicKey: c.key, RPID: c.rpID.String, AAGUID: c.aaguid,
		SignCount: c.count.Int64, BackupEligible: c.be.Bool, BackupState: c.bs.Bool,
		Transports: splitList(c.transp.String), Attachment: c.attachment.String}
}

func credentialArgs(f store.Factor) []any {
	w := f.WebAuthn
	return []any{f.ID, f.UserID, w.CredentialID, w.PublicKey, w.RPID, blob(w.AAGUID), w.SignCount,
		w.BackupEligible, w.BackupState, strings.Join(w.Transports, ","), w.Attachment}
}

// splitList is the inverse of strings.Join(list, ","), with "" as none.
func splitList(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// GetFactorByCredential finds the passkey factor with that credential id.
func (s *Store) GetFactorByCredential(ctx context.Context, credentialID []byte) (store.Factor, error) {
	f, err := scanFactor(s.queryRow(ctx, qFactorByCredential, credentialID))
	if err != nil {
		return store.Factor{}, wrap("get factor by credential", err)
	}
	return f, nil
}

// UseWebAuthnCredential stores a use's counter and backup state if the
// counter moved forward, and touches the factor, in one transaction.
func (s *Store) UseWebAuthnCredential(ctx context.Context, userID, factorID string, signCount int64, backupState bool, now time.Time) error {
	err := s.write(ctx, func(t tx) error {
		res, err := t.exec(qUseCredential, userID, factorID, signCount, backupState)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			var exists int
			if err := t.queryRow(qCredentialExists, factorID, userID).Scan(&exists); err != nil {
				return err
			}
			if exists == 0 {
				return store.ErrNotFound
			}
			return store.ErrConflict
		}
		_, err = t.exec(qTouchFactor, factorID, micros(now))
		return err
	})
	return wrap("use webauthn credential", err)
}

// ListFactorKinds maps the workspace's users with confirmed factors to
// their kinds.
func (s *Store) ListFactorKinds(ctx context.Context, workspaceID string) (map[string][]string, error) {
	type pair struct{ user, kind string }
	rows, err := list(ctx, s, qFactorKinds, func(r scanner) (pair, error) {
		var p pair
		return p, r.Scan(&p.user, &p.kind)
	}, workspaceID)
	if err != nil {
		return nil, wrap("list factor kinds", err)
	}
	out := map[string][]string{}
	for _, p := range rows {
		out[p.user] = append(out[p.user], p.kind)
	}
	return out, nil
}

// DeleteFactors removes every factor of the user.
func (s *Store) DeleteFactors(ctx context.Context, userID string) (int, error) {
	var n int64
	err := s.write(ctx, func(t tx) error {
		res, err := t.exec(qDeleteFactors, userID)
		if err == nil {
			n, err = res.RowsAffected()
		}
		return err
	})
	return int(n), wrap("delete factors", err)
}
