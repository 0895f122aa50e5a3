package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pressly/goose/v3"

	"github.com/sigil-auth/sigil/internal/store"
)

// gooseProvider opens the embedded migrations on db.
func gooseProvider(t *testing.T, db *sql.DB) *goose.Provider {
	t.Helper()
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db, fsys)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// v1Rows are a workspace, a user with an email, a session and its two
// refresh tokens, written with version 1's columns.
var v1Rows = []string{
	`INSERT INTO workspaces (id, name, created_at, updated_at) VALUES ('ws', 'WS', 1, 2)`,
	`INSERT INTO users (id, workspace_id, role, email, password_hash, created_at)
		VALUES ('alice', 'ws', 'owner', 'a@example.com', 'phc', 3)`,
	`INSERT INTO sessions (id, user_id, workspace_id, method, created_at, expires_at,
		refresh_expires_at, generation, rotated_at) VALUES ('s1', 'alice', 'ws', 'pubkey', 4, 9000000, 8000000, 1, 5)`,
	`INSERT INTO refresh_tokens (hash, session_id, generation, created_at) VALUES (x'00', 's1', 0, 4), (x'01', 's1', 1, 5)`,
}

// TestMigrateFromV1 upgrades a version-1 database holding data: the
// rebuild of sessions must carry every row, and must not lose the refresh
// tokens to the foreign key's cascade.
func TestMigrateFromV1(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v1.db")
	db, err := openPool(t.Context(), path+"?"+dsnParams, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := gooseProvider(t, db).UpTo(t.Context(), 1); err != nil {
		t.Fatalf("migrate to v1: %v", err)
	}
	for _, q := range v1Rows {
		if _, err := db.ExecContext(t.Context(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatalf("Open (migrating to v2): %v", err)
	}
	defer s.Close()
	ctx := t.Context()
	sess, err := s.GetSession(ctx, "s1")
	want := store.Session{ID: "s1", UserID: "alice", WorkspaceID: "ws", Method: "pubkey",
		CreatedAt: fromMicros(4), ExpiresAt: fromMicros(9000000), RefreshExpiresAt: fromMicros(8000000),
		Generation: 1, RotatedAt: fromMicros(5)}
	if d := cmp.Diff(want, sess); err != nil || d != "" {
		t.Errorf("session after migration: %v (-want +got):\n%s", err, d)
	}
	for gen, h := range [][]byte{{0}, {1}} {
		rt, err := s.GetRefreshToken(ctx, h)
		if err != nil || rt.SessionID != "s1" || rt.Generation != int64(gen) {
			t.Errorf("refresh token of generation %d after migration: %+v, %v", gen, rt, err)
		}
	}
	u, err := s.GetUser(ctx, "alice")
	if err != nil || u.Email != "a@example.com" || u.PasswordHash != "phc" || u.EmailVerified {
		t.Errorf("user after migration: %+v, %v", u, err)
	}
	checkForeignKeys(t, s)
}

// checkForeignKeys checks that the rebuilt tables' foreign keys hold, that
// refresh_tokens now references the rebuilt sessions table (RENAME rewrote
// it), and that maintenance still finds s1's tokens.
func checkForeignKeys(t *testing.T, s *Store) {
	t.Helper()
	rows, err := s.r.QueryContext(t.Context(), `PRAGMA foreign_key_check`)
	if err != nil {
		t.Fatal(err)
	}
	if rows.Next() {
		t.Error("PRAGMA foreign_key_check reports violations")
	}
	rows.Close()
	var ddl string
	err = s.r.QueryRowContext(t.Context(),
		`SELECT sql FROM sqlite_schema WHERE name = 'refresh_tokens'`).Scan(&ddl)
	if err != nil {
		t.Fatal(err)
	}
	if want := `REFERENCES "sessions" (id)`; !strings.Contains(ddl, want) {
		t.Errorf("refresh_tokens does not say %q:\n%s", want, ddl)
	}
	now := time.UnixMicro(1e7)
	if err := s.RevokeSession(t.Context(), "s1", now); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeleteExpired(t.Context(), now); err != nil || n != 3 {
		t.Errorf("DeleteExpired = %d, %v; want 3 (a session and 2 refresh tokens)", n, err)
	}
}

// TestMigrateDownAndUp runs 00002's Down on a database with v2 data and
// Up again: the downgrade must leave a working version 1 (API-key
// sessions dropped, login sessions and their tokens kept).
func TestMigrateDownAndUp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v2.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	mustV2Data(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := openPool(ctx, path+"?"+dsnParams, 1)
	if err != nil {
		t.Fatal(err)
	}
	p := gooseProvider(t, db)
	if _, err := p.DownTo(ctx, 1); err != nil {
		t.Fatalf("down to v1: %v", err)
	}
	var sessions, tokens int
	err = db.QueryRowContext(ctx, `SELECT (SELECT count(*) FROM sessions), (SELECT count(*) FROM refresh_tokens)`).
		Scan(&sessions, &tokens)
	if err != nil || sessions != 1 || tokens != 1 {
		t.Errorf("after down: %d sessions, %d refresh tokens, %v; want 1, 1", sessions, tokens, err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// mustV2Data stores a login session and an API-key session.
func mustV2Data(t *testing.T, s *Store) {
	t.Helper()
	ctx, now := t.Context(), time.UnixMicro(1e6).UTC()
	err := s.CreateWorkspace(ctx, store.Workspace{ID: "ws", Name: "WS", CreatedAt: now, UpdatedAt: now})
	if err == nil {
		_, err = s.CreateUser(ctx, store.User{ID: "alice", WorkspaceID: "ws", CreatedAt: now}, nil)
	}
	sess := store.Session{ID: "s1", UserID: "alice", WorkspaceID: "ws", Method: "pubkey",
		CreatedAt: now, ExpiresAt: now.Add(time.Hour), RefreshExpiresAt: now, RotatedAt: now}
	if err == nil {
		err = s.CreateSession(ctx, sess, []byte{1})
	}
	if err == nil {
		err = s.CreateAPIKey(ctx, store.APIKey{ID: "k", WorkspaceID: "ws", Hash: []byte{2}, CreatedAt: now})
	}
	if err == nil {
		sess.ID, sess.UserID, sess.APIKeyID = "s2", "", "k"
		err = s.PutAPIKeySession(ctx, sess)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestMigrate3DownAndUp runs 00003's Down on a database holding an app,
// a redeemed authorization code, the session it started and workspace
// branding, then Up again: the session must survive as a plain session
// of its user (with its refresh token), the rest goes.
func TestMigrate3DownAndUp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v3.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	mustV2Data(t, s)
	mustV3Data(t, s)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	db, err := openPool(ctx, path+"?"+dsnParams, 1)
	if err != nil {
		t.Fatal(err)
	}
	p := gooseProvider(t, db)
	if _, err := p.DownTo(ctx, 2); err != nil {
		t.Fatalf("down to v2: %v", err)
	}
	if _, err := p.Up(ctx); err != nil {
		t.Fatalf("up again: %v", err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sess, err := s.GetSession(ctx, "s3")
	if err != nil || sess.UserID != "alice" || sess.AppID != "" {
		t.Errorf("app session after down and up: %+v, %v; want alice's, without app", sess, err)
	}
	if rt, err := s.GetRefreshToken(ctx, []byte{3}); err != nil || rt.SessionID != "s3" {
		t.Errorf("its refresh token: %+v, %v", rt, err)
	}
	if w, err := s.GetWorkspace(ctx, "ws"); err != nil || w.DisplayName != "" {
		t.Errorf("workspace after down and up: %+v, %v; want no branding", w, err)
	}
	if _, err := s.GetApp(ctx, "app"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetApp after down and up: %v, want ErrNotFound", err)
	}
	var violations int
	err = s.r.QueryRowContext(ctx, `SELECT count(*) FROM pragma_foreign_key_check`).Scan(&violations)
	if err != nil || violations != 0 {
		t.Errorf("foreign key check: %d violations, %v", violations, err)
	}
}

// mustV3Data brands workspace "ws" and stores app "app" with a code
// redeemed into session s3 (refresh token {3}).
func mustV3Data(t *testing.T, s *Store) {
	t.Helper()
	ctx, now := t.Context(), time.UnixMicro(1e6).UTC()
	_, err := s.UpdateWorkspace(ctx, "ws", func(w *store.Workspace) error {
		w.DisplayName, w.LogoURL, w.AccentColor = "WS", "https://ws.example/logo.png", "#000000"
		return nil
	})
	if err == nil {
		err = s.CreateApp(ctx, store.App{ID: "app", WorkspaceID: "ws", Name: "App",
			TokenEndpointAuthMethod: "none", IDTokenAlg: "EdDSA", CreatedAt: now, UpdatedAt: now})
	}
	code := store.AuthorizationCode{Hash: []byte{9}, AppID: "app", UserID: "alice", WorkspaceID: "ws",
		AuthTime: now, CreatedAt: now, ExpiresAt: now.Add(time.Minute)}
	if err == nil {
		err = s.CreateAuthorizationCode(ctx, code)
	}
	if err == nil {
		sess := store.Session{ID: "s3", UserID: "alice", WorkspaceID: "ws", Method: "pwd", AppID: "app",
			CreatedAt: now, ExpiresAt: now.Add(time.Hour), RefreshExpiresAt: now, RotatedAt: now}
		_, err = s.RedeemAuthorizationCode(ctx, code.Hash, sess, []byte{3}, now)
	}
	if err != nil {
		t.Fatal(err)
	}
}
