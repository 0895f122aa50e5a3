package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

// invitationCols are the columns scanInvitation reads, in its order.
// invited_by and accepted_by are NULL for "none".
const invitationCols = `id, workspace_id, email, role, hash, invited_by, created_at, expires_at,
	accepted_at, accepted_by, revoked_at`

var (
	qCreateInvitation = writeQuery(`INSERT INTO invitations (` + invitationCols + `)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	qGetInvitation       = readQuery(`SELECT ` + invitationCols + ` FROM invitations WHERE id = ?`)
	qGetInvitationByHash = readQuery(`SELECT ` + invitationCols + ` FROM invitations WHERE hash = ?`)
	qListInvitations     = readQuery(`SELECT ` + invitationCols + ` FROM invitations
		WHERE workspace_id = ? ORDER BY created_at DESC, id DESC`)
	// qRevokeInvitation changes only an invitation neither accepted nor
	// revoked; no row back means that, or an unknown id.
	qRevokeInvitation = writeQuery(`UPDATE invitations SET revoked_at = ?1
		WHERE id = ?2 AND accepted_at IS NULL AND revoked_at IS NULL RETURNING ` + invitationCols)
	qInvitationExists = writeQuery(`SELECT EXISTS (SELECT 1 FROM invitations WHERE id = ?)`)
	// qAcceptInvitation is the conditional half of AcceptInvitation: it
	// matches only a pending invitation of the user's workspace.
	qAcceptInvitation = writeQuery(`UPDATE invitations SET accepted_at = ?1, accepted_by = ?2
		WHERE id = ?3 AND workspace_id = ?4 AND accepted_at IS NULL AND revoked_at IS NULL
			AND expires_at > ?1`)
)

func scanInvitation(row scanner) (store.Invitation, error) {
	var inv store.Invitation
	var accepted, revoked sql.NullInt64
	err := row.Scan(&inv.ID, &inv.WorkspaceID, &inv.Email, &inv.Role, &inv.Hash, (*text)(&inv.InvitedBy),
		(*instant)(&inv.CreatedAt), (*instant)(&inv.ExpiresAt), &accepted, (*text)(&inv.AcceptedBy), &revoked)
	inv.AcceptedAt, inv.RevokedAt = fromNullMicros(accepted), fromNullMicros(revoked)
	return inv, err
}

// CreateInvitation stores inv. A taken id or hash is ErrConflict; an
// unknown workspace ErrNotFound.
func (s *Store) CreateInvitation(ctx context.Context, inv store.Invitation) error {
	err := s.writeExec(ctx, qCreateInvitation, inv.ID, inv.WorkspaceID, inv.Email, inv.Role, inv.Hash,
		nullText(inv.InvitedBy), micros(inv.CreatedAt), micros(inv.ExpiresAt), nullMicros(inv.AcceptedAt),
		nullText(inv.AcceptedBy), nullMicros(inv.RevokedAt))
	return wrap("create invitation", err)
}

// GetInvitation returns the invitation with that id, or ErrNotFound.
func (s *Store) GetInvitation(ctx context.Context, id string) (store.Invitation, error) {
	inv, err := scanInvitation(s.queryRow(ctx, qGetInvitation, id))
	return inv, wrap("get invitation", err)
}

// GetInvitationByHash returns the invitation whose token hashes to hash,
// in whatever state, or ErrNotFound.
func (s *Store) GetInvitationByHash(ctx context.Context, hash []byte) (store.Invitation, error) {
	inv, err := scanInvitation(s.queryRow(ctx, qGetInvitationByHash, hash))
	return inv, wrap("get invitation by hash", err)
}

// ListInvitations returns the workspace's invitations, newest first.
func (s *Store) ListInvitations(ctx context.Context, workspaceID string) ([]store.Invitation, error) {
	list, err := list(ctx, s, qListInvitations, scanInvitation, workspaceID)
	return list, wrap("list invitations", err)
}

// RevokeInvitation marks the invitation revoked at now unless it was
// accepted or revoked before (ErrConflict); an unknown id is ErrNotFound.
func (s *Store) RevokeInvitation(ctx context.Context, id string, now time.Time) (store.Invitation, error) {
	var inv store.Invitation
	err := s.write(ctx, func(t tx) error {
		var err error
		inv, err = scanInvitation(t.queryRow(qRevokeInvitation, micros(now), id))
		if !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		var exists bool
		if err := t.queryRow(qInvitationExists, id).Scan(&exists); err != nil {
			return err
		}
		if exists {
			return store.ErrConflict
		}
		return store.ErrNotFound
	})
	if err != nil {
		return store.Invitation{}, wrap("revoke invitation", err)
	}
	return inv, nil
}

// AcceptInvitation marks the invitation accepted and creates u in one
// immediate transaction: the writer lock makes the conditional update and
// the insert one step, so of concurrent acceptances one matches the row
// and the others find it accepted (ErrConflict). A refused insert (a taken
// id or email) rolls the acceptance back.
func (s *Store) AcceptInvitation(ctx context.Context, id string, u store.User, now time.Time) (store.User, error) {
	err := s.write(ctx, func(t tx) error {
		if err := t.execAffected(qAcceptInvitation, micros(now), u.ID, id, u.WorkspaceID); err != nil {
			if errors.Is(err, store.ErrNotFound) {
				return store.ErrConflict
			}
			return err
		}
		return insertUser(t, &u)
	})
	if err != nil {
		return store.User{}, wrap("accept invitation", err)
	}
	u.CreatedAt = fromMicros(micros(u.CreatedAt))
	return u, nil
}
