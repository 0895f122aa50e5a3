package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

func testUserUpdate(t *testing.T, s store.Store) {
	orig := fixture(t, s) // a key-pair user turning into a password user
	mustUser(t, s, "ws", "owen")
	promote(t, s, "owen") // so that alice, the first owner, may become an admin
	var seen store.User
	got, err := s.UpdateUser(t.Context(), "alice", func(u *store.User) error {
		seen = *u
		u.Role, u.Scopes = store.RoleAdmin, []string{"read", "admin"}
		u.Email, u.PasswordHash, u.EmailVerified = "alice@example.com", phc, true
		u.Name = "Alice Liddell"
		// Not updatable: ignored.
		u.ID, u.WorkspaceID, u.CreatedAt = "mallory", "ws-2", at(time.Hour)
		return nil
	})
	ok(t, "UpdateUser", err)
	diff(t, "fn's view of the stored user", orig, seen)
	want := orig
	want.Role, want.Scopes = store.RoleAdmin, []string{"read", "admin"}
	want.Email, want.PasswordHash, want.EmailVerified = "alice@example.com", phc, true
	want.Name = "Alice Liddell"
	diff(t, "UpdateUser result", want, got)
	checkStoredUser(t, s, want)
	byEmail, err := s.GetUsersByEmail(t.Context(), "alice@example.com")
	ok(t, "GetUsersByEmail", err)
	diff(t, "GetUsersByEmail after update", []store.User{want}, byEmail)

	// Clearing the email frees it for another user of the workspace.
	got, err = s.UpdateUser(t.Context(), "alice", func(u *store.User) error {
		u.Email, u.EmailVerified, u.Scopes = "", false, nil
		return nil
	})
	ok(t, "UpdateUser clearing the email", err)
	want.Email, want.EmailVerified, want.Scopes = "", false, nil
	diff(t, "UpdateUser result after clearing", want, got)
	checkStoredUser(t, s, want)
	mustPwUser(t, s, pwUser("bob", "ws", "alice@example.com", t0))
}

// checkStoredUser compares GetUser's answer with want.
func checkStoredUser(t *testing.T, s store.Store, want store.User) {
	t.Helper()
	got, err := s.GetUser(t.Context(), want.ID)
	ok(t, "GetUser "+want.ID, err)
	diff(t, "stored user "+want.ID, want, got)
}

func testUserUpdateEmailConflict(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "ws")
	mustWorkspace(t, s, "ws-2")
	mustPwUser(t, s, pwUser("alice", "ws", "a@example.com", t0))
	bob := mustPwUser(t, s, pwUser("bob", "ws", "b@example.com", t0))
	mustPwUser(t, s, pwUser("carol", "ws-2", "c@example.com", t0))
	_, err := s.UpdateUser(t.Context(), "bob", func(u *store.User) error {
		u.Email, u.Role = "a@example.com", store.RoleAdmin
		return nil
	})
	wantErr(t, "UpdateUser to an email taken in the workspace", err, store.ErrConflict)
	checkStoredUser(t, s, bob) // nothing of the refused update stays

	got, err := s.UpdateUser(t.Context(), "bob", func(u *store.User) error {
		u.Email = "c@example.com" // carol has it, in another workspace
		return nil
	})
	ok(t, "UpdateUser to an email of another workspace", err)
	bob.Email = "c@example.com"
	diff(t, "UpdateUser result", bob, got)
	// Keeping one's own email is no conflict.
	_, err = s.UpdateUser(t.Context(), "bob", func(u *store.User) error {
		u.EmailVerified = false
		return nil
	})
	ok(t, "UpdateUser keeping the email", err)
}

func testUserUpdateFnError(t *testing.T, s store.Store) {
	orig := fixture(t, s)
	boom := errors.New("boom")
	_, err := s.UpdateUser(t.Context(), "alice", func(u *store.User) error {
		u.Role, u.Email = store.RoleMember, "alice@example.com"
		return boom
	})
	wantErr(t, "UpdateUser with failing fn", err, boom)
	checkStoredUser(t, s, orig)
	got, err := s.GetUsersByEmail(t.Context(), "alice@example.com")
	ok(t, "GetUsersByEmail", err)
	diff(t, "users by the aborted email", []store.User(nil), got)
}

func testUserUpdateUnknown(t *testing.T, s store.Store) {
	called := false
	_, err := s.UpdateUser(t.Context(), "nope", func(*store.User) error {
		called = true
		return nil
	})
	wantErr(t, "UpdateUser unknown", err, store.ErrNotFound)
	if called {
		t.Error("fn was called for an unknown user")
	}
}
