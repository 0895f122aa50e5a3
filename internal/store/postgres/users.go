package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/sigil-auth/sigil/internal/store"
)

// userCols selects a user. An empty Email or PasswordHash is stored as
// NULL (so key-pair users never collide on the per-workspace email index)
// and read back as "".
const userCols = `id, workspace_id, role, scopes, coalesce(email, ''),
	coalesce(password_hash, ''), email_verified, created_at, instance_admin, name`

// CreateUser stores u and, if firstKey is not nil, that key (its UserID is
// set to u.ID). The first user of a workspace becomes its owner. Race
// freedom: the workspace row is locked (FOR NO KEY UPDATE, which still
// lets other transactions check foreign keys against it) before its users
// are counted, so concurrent CreateUser calls on one workspace serialise
// and exactly one sees it empty. An unknown workspace is ErrNotFound; a
// taken user id (or key id), or an email already used in the workspace,
// is ErrConflict.
func (s *Store) CreateUser(ctx context.Context, u store.User, firstKey *store.PublicKey) (store.User, error) {
	var out store.User
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockRow(ctx, tx, "workspaces", u.WorkspaceID); err != nil {
			return mapErr("create user: workspace", err)
		}
		var hasUsers bool
		err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE workspace_id = $1)`,
			u.WorkspaceID).Scan(&hasUsers)
		if err != nil {
			return mapErr("create user", err)
		}
		if !hasUsers {
			u.Role = store.RoleOwner
		}
		if out, err = insertUser(ctx, tx, u); err != nil {
			return mapErr("create user", err)
		}
		if firstKey == nil {
			return nil
		}
		k := *firstKey
		k.UserID = u.ID
		return insertPublicKey(ctx, tx, k)
	})
	if err != nil {
		return store.User{}, err
	}
	return out, nil
}

// insertUser stores u as given (role included) in tx.
func insertUser(ctx context.Context, tx pgx.Tx, u store.User) (store.User, error) {
	return scanUser(tx.QueryRow(ctx, `INSERT INTO users (id, workspace_id, role,
			scopes, email, password_hash, email_verified, created_at, instance_admin, name)
		VALUES ($1, $2, $3, $4, nullif($5::text, ''), nullif($6::text, ''), $7, $8, $9, $10)
		RETURNING `+userCols,
		u.ID, u.WorkspaceID, u.Role, u.Scopes, u.Email, u.PasswordHash, u.EmailVerified, u.CreatedAt,
		u.InstanceAdmin, u.Name))
}

// GetUser returns the user with that id.
func (s *Store) GetUser(ctx context.Context, id string) (store.User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userCols+` FROM users WHERE id = $1`, id))
	return u, mapErr("get user", err)
}

// UserExists reports whether a user has that id.
func (s *Store) UserExists(ctx context.Context, id string) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)`, id).Scan(&ok)
	return ok, mapErr("user exists", err)
}

// GetUsersByEmail returns the users with that email in every workspace,
// oldest first (ties by id). "" matches nobody: it is stored as NULL.
func (s *Store) GetUsersByEmail(ctx context.Context, email string) ([]store.User, error) {
	rows, _ := s.pool.Query(ctx, `SELECT `+userCols+` FROM users
		WHERE email = $1 ORDER BY created_at, id COLLATE "C"`, email)
	users, err := pgx.AppendRows([]store.User(nil), rows, scanUserRow)
	return users, mapErr("get users by email", err)
}

// ListUsers pages through a workspace's users newest first, in
// descending (created_at, id) order, ids compared bytewise. The cursor
// after is the id of the last user of the previous page; the page holds
// the users that sort after it (older, or as old with a smaller id). An
// after that is not a user of the workspace is ErrNotFound (there is no
// position to continue from); that is only checked when the page comes
// back empty, so a page costs one round trip. limit <= 0 means no limit.
func (s *Store) ListUsers(ctx context.Context, workspaceID, after string, limit int) ([]store.User, error) {
	var lim *int
	if limit > 0 {
		lim = &limit
	}
	rows, _ := s.pool.Query(ctx, `SELECT `+userCols+` FROM users
		WHERE workspace_id = $1 AND ($2 = '' OR (created_at, id COLLATE "C") <
			(SELECT created_at, id FROM users WHERE id = $2 AND workspace_id = $1))
		ORDER BY created_at DESC, id COLLATE "C" DESC LIMIT $3`, workspaceID, after, lim)
	users, err := pgx.AppendRows([]store.User(nil), rows, scanUserRow)
	if err != nil || len(users) > 0 || after == "" {
		return users, mapErr("list users", err)
	}
	var known bool
	err = s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users
		WHERE id = $1 AND workspace_id = $2)`, after, workspaceID).Scan(&known)
	if err == nil && !known {
		return nil, fmt.Errorf("postgres: list users: cursor %q: %w", after, store.ErrNotFound)
	}
	return users, mapErr("list users", err)
}

// UpdateUser locks the user row, lets fn edit a copy and writes back
// Role, Scopes, Email, PasswordHash, EmailVerified and InstanceAdmin; the id, workspace
// and CreatedAt are not fn's to change. Concurrent updaters of one user
// queue on the row lock, so none loses another's change. fn's error is
// returned unwrapped; an unknown user is ErrNotFound, an email already
// used in the workspace ErrConflict.
func (s *Store) UpdateUser(ctx context.Context, id string, fn func(*store.User) error) (store.User, error) {
	var out store.User
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// The workspace row first, as DeleteUser takes it: demotions and
		// removals of a workspace's owners queue behind each other, so
		// the "another owner stays" count below cannot be stale.
		var ws string
		if err := tx.QueryRow(ctx, `SELECT workspace_id FROM users WHERE id = $1`, id).Scan(&ws); err != nil {
			return mapErr("update user", err)
		}
		if err := lockRow(ctx, tx, "workspaces", ws); err != nil {
			return mapErr("update user: workspace", err)
		}
		u, err := scanUser(tx.QueryRow(ctx,
			`SELECT `+userCols+` FROM users WHERE id = $1 FOR NO KEY UPDATE`, id))
		if err != nil {
			return mapErr("update user", err)
		}
		wasOwner := u.Role == store.RoleOwner
		if err := fn(&u); err != nil {
			return err
		}
		if wasOwner && u.Role != store.RoleOwner {
			var others int
			if err := tx.QueryRow(ctx, `SELECT count(*) FROM users WHERE workspace_id = $1 AND role = $2 AND id <> $3`,
				ws, store.RoleOwner, id).Scan(&others); err != nil {
				return mapErr("update user", err)
			}
			if others == 0 {
				return fmt.Errorf("postgres: update user: the last owner: %w", store.ErrConflict)
			}
		}
		out, err = scanUser(tx.QueryRow(ctx, `UPDATE users SET role = $2, scopes = $3,
				email = nullif($4::text, ''), password_hash = nullif($5::text, ''),
				email_verified = $6, instance_admin = $7, name = $8
			WHERE id = $1 RETURNING `+userCols,
			id, u.Role, u.Scopes, u.Email, u.PasswordHash, u.EmailVerified, u.InstanceAdmin, u.Name))
		return mapErr("update user", err)
	})
	if err != nil {
		return store.User{}, err
	}
	return out, nil
}

// lockRow locks the row of table with that id until tx ends (pgx.ErrNoRows
// if there is none). It must be its own statement: under READ COMMITTED a
// later statement takes a fresh snapshot and so sees everything committed
// by the transaction that held the lock before us, whereas subqueries of
// the locking statement itself would still read the old snapshot.
// FOR NO KEY UPDATE does not block foreign-key checks against the row.
func lockRow(ctx context.Context, tx pgx.Tx, table, id string) error {
	var one int
	return tx.QueryRow(ctx, `SELECT 1 FROM `+table+` WHERE id = $1 FOR NO KEY UPDATE`, id).Scan(&one)
}

func scanUser(row pgx.Row) (store.User, error) {
	var u store.User
	err := row.Scan(userDest(&u)...)
	return u, err
}

// userDest are the scan targets of userCols, in order, then after.
func userDest(u *store.User, after ...any) []any {
	return append([]any{&u.ID, &u.WorkspaceID, &u.Role, &u.Scopes, &u.Email,
		&u.PasswordHash, &u.EmailVerified, &u.CreatedAt, &u.InstanceAdmin, &u.Name}, after...)
}

func scanUserRow(row pgx.CollectableRow) (store.User, error) { return scanUser(row) }
