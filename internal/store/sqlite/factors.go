package sqlite

import (
	"context"
	"database/sql"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

// factorCols are the columns scanFactor reads, in its order: the
// factor, the count of a recovery factor's unused codes, and a passkey's
// credential (NULLs for other kinds), from factorFrom.
const (
	factorCols = `f.id, f.user_id, f.kind, f.name, f.secret, f.created_at, f.confirmed_at, f.last_used_at,
	(SELECT count(*) FROM recovery_codes c WHERE c.factor_id = f.id), ` + credentialCols
	factorFrom = ` FROM factors f LEFT JOIN webauthn_credentials w ON w.factor_id = f.id `
)

var (
	qCreateFactor = writeQuery(`INSERT INTO factors (id, user_id, kind, name, secret, created_at, confirmed_at, last_used_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	qListFactors     = readQuery(`SELECT ` + factorCols + factorFrom + `WHERE f.user_id = ? ORDER BY f.created_at DESC, f.id DESC`)
	qGetFactor       = readQuery(`SELECT ` + factorCols + factorFrom + `WHERE f.user_id = ? AND f.id = ?`)
	qDeleteFactor    = writeQuery(`DELETE FROM factors WHERE user_id = ? AND id = ?`)
	qDeleteRecovery  = writeQuery(`DELETE FROM factors WHERE user_id = ? AND kind = '` + store.FactorRecovery + `'`)
	qAddRecoveryCode = writeQuery(`INSERT INTO recovery_codes (hash, factor_id, user_id) VALUES (?, ?, ?)`)
	// qUseStep inserts the step only for a TOTP factor of that user: no
	// row inserted means no such factor; a taken key is the replay.
	qUseStep = writeQuery(`INSERT INTO totp_steps (factor_id, step, expires_at)
		SELECT id, ?3, ?4 FROM factors WHERE id = ?2 AND user_id = ?1 AND kind = '` + store.FactorTOTP + `'`)
	qTouchFactor = writeQuery(`UPDATE factors SET last_used_at = ?2, confirmed_at = coalesce(confirmed_at, ?2)
		WHERE id = ?1`)
	qUseRecoveryCode = writeQuery(`DELETE FROM recovery_codes WHERE user_id = ? AND hash = ? RETURNING factor_id`)
	qDeleteSteps     = writeQuery(`DELETE FROM totp_steps WHERE expires_at <= ?`)
)

func scanFactor(row scanner) (store.Factor, error) {
	var f store.Factor
	var confirmed, used sql.NullInt64
	var c credentialRow
	err := row.Scan(append([]any{&f.ID, &f.UserID, &f.Kind, &f.Name, &f.Secret, (*instant)(&f.CreatedAt),
		&confirmed, &used, &f.Remaining}, c.dest()...)...)
	f.ConfirmedAt, f.LastUsedAt, f.WebAuthn = fromNullMicros(confirmed), fromNullMicros(used), c.credential()
	return f, err
}

func factorArgs(f store.Factor) []any {
	return []any{f.ID, f.UserID, f.Kind, f.Name, blob(f.Secret), micros(f.CreatedAt),
		nullMicros(f.ConfirmedAt), nullMicros(f.LastUsedAt)}
}

// CreateFactor stores f; a taken id is ErrConflict, an unknown user
// ErrNotFound.
func (s *Store) CreateFactor(ctx context.Context, f store.Factor) error {
	err := s.write(ctx, func(t tx) error {
		if _, err := t.exec(qCreateFactor, factorArgs(f)...); err != nil || f.WebAuthn == nil {
			return err
		}
		_, err := t.exec(qCreateCredential, credentialArgs(f)...)
		return err
	})
	return wrap("create factor", err)
}

// ListFactors returns the user's factors, newest first (ties by id,
// bytewise, larger first).
func (s *Store) ListFactors(ctx context.Context, userID string) ([]store.Factor, error) {
	out, err := list(ctx, s, qListFactors, scanFactor, userID)
	return out, wrap("list factors", err)
}

// GetFactor returns factor id of the user.
func (s *Store) GetFactor(ctx context.Context, userID, id string) (store.Factor, error) {
	f, err := scanFactor(s.queryRow(ctx, qGetFactor, userID, id))
	if err != nil {
		return store.Factor{}, wrap("get factor", err)
	}
	return f, nil
}

// DeleteFactor removes factor id of the user with its codes and steps.
func (s *Store) DeleteFactor(ctx context.Context, userID, id string) error {
	return wrap("delete factor", s.writeAffected(ctx, qDeleteFactor, userID, id))
}

// UseTOTPStep records a used step and touches the factor in one
// transaction: the primary key (factor_id, step) refuses a replay.
func (s *Store) UseTOTPStep(ctx context.Context, userID, factorID string, step int64, expiresAt, now time.Time) error {
	err := s.write(ctx, func(t tx) error {
		if err := t.execAffected(qUseStep, userID, factorID, step, micros(expiresAt)); err != nil {
			return err
		}
		_, err := t.exec(qTouchFactor, factorID, micros(now))
		return err
	})
	return wrap("use totp step", err)
}

// ReplaceRecoveryCodes stores f and its codes in place of the user's
// earlier recovery codes, in one transaction.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, f store.Factor, hashes [][]byte) error {
	err := s.write(ctx, func(t tx) error {
		if _, err := t.exec(qDeleteRecovery, f.UserID); err != nil {
			return err
		}
		if _, err := t.exec(qCreateFactor, factorArgs(f)...); err != nil {
			return err
		}
		for _, h := range hashes {
			if _, err := t.exec(qAddRecoveryCode, h, f.ID, f.UserID); err != nil {
				return err
			}
		}
		return nil
	})
	return wrap("replace recovery codes", err)
}

// UseRecoveryCode deletes an unused code (single use: DELETE … RETURNING
// gives the row to one caller only) and touches its factor.
func (s *Store) UseRecoveryCode(ctx context.Context, userID string, hash []byte, now time.Time) (store.Factor, error) {
	var id string
	err := s.write(ctx, func(t tx) error {
		if err := t.queryRow(qUseRecoveryCode, userID, hash).Scan(&id); err != nil {
			return err
		}
		_, err := t.exec(qTouchFactor, id, micros(now))
		return err
	})
	if err != nil {
		return store.Factor{}, wrap("use recovery code", err)
	}
	return s.GetFactor(ctx, userID, id)
}
