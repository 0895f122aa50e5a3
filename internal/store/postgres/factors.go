package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigil-auth/sigil/internal/store"
)

// factorCols selects a factor; the next column counts a recovery
// factor's unused codes, and a passkey's credential follows (NULLs for
// other kinds), from factorFrom.
const (
	factorCols = `f.id, f.user_id, f.kind, f.name, f.secret, f.created_at, f.confirmed_at, f.last_used_at,
	(SELECT count(*) FROM recovery_codes c WHERE c.factor_id = f.id), ` + credentialCols
	factorFrom = ` FROM factors f LEFT JOIN webauthn_credentials w ON w.factor_id = f.id `
)

func scanFactor(row pgx.Row) (store.Factor, error) {
	var f store.Factor
	var c credentialRow
	err := row.Scan(append([]any{&f.ID, &f.UserID, &f.Kind, &f.Name, &f.Secret, &f.CreatedAt, &f.ConfirmedAt,
		&f.LastUsedAt, &f.Remaining}, c.dest()...)...)
	f.WebAuthn = c.credential()
	return f, err
}

const insertFactor = `INSERT INTO factors (id, user_id, kind, name, secret, created_at, confirmed_at, last_used_at)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`

// touchFactor marks a factor used at $2 (and confirmed, if it was not).
const touchFactor = `UPDATE factors SET last_used_at = $2, confirmed_at = coalesce(confirmed_at, $2) WHERE id = $1`

func factorArgs(f store.Factor) []any {
	return []any{f.ID, f.UserID, f.Kind, f.Name, f.Secret, f.CreatedAt, f.ConfirmedAt, f.LastUsedAt}
}

// CreateFactor stores f; a taken id is ErrConflict, an unknown user
// ErrNotFound.
func (s *Store) CreateFactor(ctx context.Context, f store.Factor) error {
	if f.WebAuthn == nil {
		_, err := s.pool.Exec(ctx, insertFactor, factorArgs(f)...)
		return mapErr("create factor", err)
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, insertFactor, factorArgs(f)...); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, insertCredential, credentialArgs(f)...)
		return err
	})
	return mapErr("create factor", err)
}

// ListFactors returns the user's factors, newest first (ties by id,
// bytewise, larger first).
func (s *Store) ListFactors(ctx context.Context, userID string) ([]store.Factor, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+factorCols+factorFrom+`WHERE f.user_id = $1
		ORDER BY f.created_at DESC, f.id COLLATE "C" DESC`, userID)
	if err != nil {
		return nil, mapErr("list factors", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.Factor, error) { return scanFactor(r) })
	return out, mapErr("list factors", err)
}

// GetFactor returns factor id of the user.
func (s *Store) GetFactor(ctx context.Context, userID, id string) (store.Factor, error) {
	f, err := scanFactor(s.pool.QueryRow(ctx, `SELECT `+factorCols+factorFrom+`
		WHERE f.user_id = $1 AND f.id = $2`, userID, id))
	return f, mapErr("get factor", err)
}

// DeleteFactor removes factor id of the user with its codes and steps
// (ON DELETE CASCADE).
func (s *Store) DeleteFactor(ctx context.Context, userID, id string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM factors WHERE user_id = $1 AND id = $2`, userID, id)
	return errAffected("delete factor", tag, err, store.ErrNotFound)
}

// UseTOTPStep records a used step and touches the factor in one
// statement: the primary key (factor_id, step) refuses a replay, and of
// concurrent inserts of one key the second waits for the first and then
// fails with a unique violation.
func (s *Store) UseTOTPStep(ctx context.Context, userID, factorID string, step int64, expiresAt, now time.Time) error {
	tag, err := s.pool.Exec(ctx, `WITH ins AS (
			INSERT INTO totp_steps (factor_id, step, expires_at)
			SELECT id, $3, $4 FROM factors WHERE id = $2 AND user_id = $1 AND kind = '`+store.FactorTOTP+`'
			RETURNING factor_id)
		UPDATE factors SET last_used_at = $5, confirmed_at = coalesce(confirmed_at, $5)
		WHERE id = (SELECT factor_id FROM ins)`, userID, factorID, step, expiresAt, now)
	return errAffected("use totp step", tag, err, store.ErrNotFound)
}

// ReplaceRecoveryCodes stores f and its codes in place of the user's
// earlier recovery codes, in one transaction.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, f store.Factor, hashes [][]byte) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM factors WHERE user_id = $1 AND kind = '`+store.FactorRecovery+`'`, f.UserID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, insertFactor, factorArgs(f)...); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO recovery_codes (hash, factor_id, user_id)
			SELECT h, $2, $3 FROM unnest($1::bytea[]) AS h`, hashes, f.ID, f.UserID)
		return err
	})
	return mapErr("replace recovery codes", err)
}

// UseRecoveryCode deletes an unused code and touches its factor in one
// statement; of concurrent uses the first deletes the row, the others
// find it gone.
func (s *Store) UseRecoveryCode(ctx context.Context, userID string, hash []byte, now time.Time) (store.Factor, error) {
	var id string
	err := s.pool.QueryRow(ctx, `WITH del AS (
			DELETE FROM recovery_codes WHERE user_id = $1 AND hash = $2 RETURNING factor_id)
		UPDATE factors SET last_used_at = $3 WHERE id = (SELECT factor_id FROM del) RETURNING id`,
		userID, hash, now).Scan(&id)
	if err != nil {
		return store.Factor{}, mapErr("use recovery code", err)
	}
	return s.GetFactor(ctx, userID, id)
}
