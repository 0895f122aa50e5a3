package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sigil-auth/sigil/internal/store"
)

// invitationCols selects an invitation; invited_by and accepted_by are
// NULL for "none", read back as "".
const invitationCols = `id, workspace_id, email, role, hash, coalesce(invited_by, ''), created_at,
	expires_at, accepted_at, coalesce(accepted_by, ''), revoked_at`

func scanInvitation(row pgx.Row) (store.Invitation, error) {
	var inv store.Invitation
	err := row.Scan(&inv.ID, &inv.WorkspaceID, &inv.Email, &inv.Role, &inv.Hash, &inv.InvitedBy,
		&inv.CreatedAt, &inv.ExpiresAt, &inv.AcceptedAt, &inv.AcceptedBy, &inv.RevokedAt)
	return inv, err
}

// CreateInvitation stores inv. A taken id or hash is ErrConflict; an
// unknown workspace ErrNotFound.
func (s *Store) CreateInvitation(ctx context.Context, inv store.Invitation) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO invitations (id, workspace_id, email, role, hash,
			invited_by, created_at, expires_at, accepted_at, accepted_by, revoked_at)
		VALUES ($1, $2, $3, $4, $5, nullif($6::text, ''), $7, $8, $9, nullif($10::text, ''), $11)`,
		inv.ID, inv.WorkspaceID, inv.Email, inv.Role, inv.Hash, inv.InvitedBy, inv.CreatedAt,
		inv.ExpiresAt, inv.AcceptedAt, inv.AcceptedBy, inv.RevokedAt)
	return mapErr("create invitation", err)
}

// GetInvitation returns the invitation with that id.
func (s *Store) GetInvitation(ctx context.Context, id string) (store.Invitation, error) {
	inv, err := scanInvitation(s.pool.QueryRow(ctx, `SELECT `+invitationCols+` FROM invitations WHERE id = $1`, id))
	return inv, mapErr("get invitation", err)
}

// GetInvitationByHash returns the invitation whose token hashes to hash,
// in whatever state.
func (s *Store) GetInvitationByHash(ctx context.Context, hash []byte) (store.Invitation, error) {
	inv, err := scanInvitation(s.pool.QueryRow(ctx, `SELECT `+invitationCols+` FROM invitations WHERE hash = $1`, hash))
	return inv, mapErr("get invitation by hash", err)
}

// ListInvitations returns the workspace's invitations, newest first (ties
// by id, bytewise).
func (s *Store) ListInvitations(ctx context.Context, workspaceID string) ([]store.Invitation, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+invitationCols+` FROM invitations WHERE workspace_id = $1
		ORDER BY created_at DESC, id COLLATE "C" DESC`, workspaceID)
	list, err := pgx.AppendRows([]store.Invitation(nil), rows, func(r pgx.CollectableRow) (store.Invitation, error) {
		return scanInvitation(r)
	})
	return list, mapErr("list invitations", err)
}

// RevokeInvitation marks the invitation revoked at now unless it was
// accepted or revoked before (ErrConflict); an unknown id is ErrNotFound.
// One conditional statement: of a revocation and an acceptance racing,
// the row lock lets one go first and the other's condition then fails.
func (s *Store) RevokeInvitation(ctx context.Context, id string, now time.Time) (store.Invitation, error) {
	inv, err := scanInvitation(s.pool.QueryRow(ctx, `UPDATE invitations SET revoked_at = $2
		WHERE id = $1 AND accepted_at IS NULL AND revoked_at IS NULL RETURNING `+invitationCols, id, now))
	if !errors.Is(err, pgx.ErrNoRows) {
		return inv, mapErr("revoke invitation", err)
	}
	if _, err := s.GetInvitation(ctx, id); err != nil {
		return store.Invitation{}, err
	}
	return store.Invitation{}, fmt.Errorf("postgres: revoke invitation: %w", store.ErrConflict)
}

// AcceptInvitation marks the invitation accepted and creates u in one
// transaction. The conditional update takes the invitation's row lock:
// a concurrent acceptance waits for it, then finds the row accepted and
// matches nothing (ErrConflict). A refused insert (a taken id or email)
// rolls the acceptance back.
func (s *Store) AcceptInvitation(ctx context.Context, id string, u store.User, now time.Time) (store.User, error) {
	var out store.User
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE invitations SET accepted_at = $1, accepted_by = $2
			WHERE id = $3 AND workspace_id = $4 AND accepted_at IS NULL AND revoked_at IS NULL
				AND expires_at > $1`, now, u.ID, id, u.WorkspaceID)
		if err := errAffected("accept invitation", tag, err, store.ErrConflict); err != nil {
			return err
		}
		out, err = admitUser(ctx, tx, u)
		return mapErr("accept invitation", err)
	})
	if err != nil {
		return store.User{}, err
	}
	return out, nil
}

// admitUser is CreateUser's insert inside tx: the workspace row is locked
// before its users are counted, so of concurrent first users exactly one
// becomes the owner.
func admitUser(ctx context.Context, tx pgx.Tx, u store.User) (store.User, error) {
	if err := lockRow(ctx, tx, "workspaces", u.WorkspaceID); err != nil {
		return store.User{}, err
	}
	var hasUsers bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE workspace_id = $1)`, u.WorkspaceID).Scan(&hasUsers)
	if err != nil {
		return store.User{}, err
	}
	if !hasUsers {
		u.Role = store.RoleOwner
	}
	return insertUser(ctx, tx, u)
}
