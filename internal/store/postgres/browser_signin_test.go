package postgres_test

import (
	"errors"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/store/postgres"
)

// TestMigrate3DownAndUp undoes 00003 on a schema holding an app, a
// redeemed authorization code, the session it started and workspace
// branding, and applies it again: the session survives as a plain session
// of its user, with its refresh token; the rest goes.
func TestMigrate3DownAndUp(t *testing.T) {
	dsn := freshSchema(t)
	s, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	fixture(t, s)
	v3Data(t, s)
	s.Close()

	p := gooseProvider(t, dsn)
	if _, err := p.DownTo(t.Context(), 2); err != nil {
		t.Fatalf("down to 2: %v", err)
	}
	if _, err := p.Up(t.Context()); err != nil {
		t.Fatalf("up again: %v", err)
	}
	s, err = postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	sess, err := s.GetSession(ctx, "s3")
	if err != nil || sess.UserID != "u" || sess.AppID != "" {
		t.Errorf("app session after down and up: %+v, %v; want u's, without app", sess, err)
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
}

// v3Data brands workspace "ws" and stores app "app" with a code redeemed
// by user "u" into session s3 (refresh token {3}).
func v3Data(t *testing.T, s store.Store) {
	t.Helper()
	ctx := t.Context()
	_, err := s.UpdateWorkspace(ctx, "ws", func(w *store.Workspace) error {
		w.DisplayName, w.LogoURL, w.AccentColor = "WS", "https://ws.example/logo.png", "#000000"
		return nil
	})
	if err == nil {
		err = s.CreateApp(ctx, store.App{ID: "app", WorkspaceID: "ws", Name: "App",
			TokenEndpointAuthMethod: "none", IDTokenAlg: "EdDSA", CreatedAt: t0, UpdatedAt: t0})
	}
	code := store.AuthorizationCode{Hash: []byte{9}, AppID: "app", UserID: "u", WorkspaceID: "ws",
		AuthTime: t0, CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)}
	if err == nil {
		err = s.CreateAuthorizationCode(ctx, code)
	}
	if err == nil {
		sess := store.Session{ID: "s3", UserID: "u", WorkspaceID: "ws", Method: "pwd", AppID: "app",
			CreatedAt: t0, ExpiresAt: t0.Add(time.Hour), RefreshExpiresAt: t0, RotatedAt: t0}
		_, err = s.RedeemAuthorizationCode(ctx, code.Hash, sess, []byte{3}, t0)
	}
	if err != nil {
		t.Fatal(err)
	}
}
