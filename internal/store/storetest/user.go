package storetest

import (
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

var userTests = []test{
	{"CreateGetRoundTrip", testUserRoundTrip},
	{"FirstUserBecomesOwner", testUserFirstOwner},
	{"WithoutKey", testUserWithoutKey},
	{"ScopesNilEmptyValues", testUserScopes},
	{"DuplicateID", testUserDuplicateID},
	{"UnknownWorkspace", testUserUnknownWorkspace},
	{"KeyConflictIsAtomic", testUserKeyConflictAtomic},
	{"GetUnknown", testUserGetUnknown},
	{"Exists", testUserExists},
	{"PasswordFieldsRoundTrip", testUserPasswordFields},
	{"EmailUniquePerWorkspace", testUserEmailUnique},
	{"GetUsersByEmail", testUsersByEmail},
	{"ListUsersPaging", testListUsers},
	{"ListUsersBadCursor", testListUsersBadCursor},
	{"Update", testUserUpdate},
	{"UpdateEmailConflict", testUserUpdateEmailConflict},
	{"UpdateFnError", testUserUpdateFnError},
	{"UpdateUnknown", testUserUpdateUnknown},
}

func testUserRoundTrip(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "ws")
	u := store.User{ID: "alice", WorkspaceID: "ws", Role: store.RoleOwner,
		Scopes: []string{"read", "write"}, CreatedAt: t0.In(time.FixedZone("X", -7200))}
	k := newKey("alice-k1", "alice", at(time.Second))
	got, err := s.CreateUser(t.Context(), u, &k)
	ok(t, "CreateUser", err)
	want := u
	want.CreatedAt = t0
	diff(t, "CreateUser result", want, got)
	stored, err := s.GetUser(t.Context(), "alice")
	ok(t, "GetUser", err)
	diff(t, "GetUser", want, stored)
	keys, err := s.ListPublicKeys(t.Context(), "alice")
	ok(t, "ListPublicKeys", err)
	diff(t, "first key", []store.PublicKey{k}, keys)
}

func testUserFirstOwner(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "ws")
	mustWorkspace(t, s, "ws-2")
	tests := []struct {
		id, ws, role, want string
	}{
		{"first", "ws", store.RoleMember, store.RoleOwner},
		{"second", "ws", store.RoleAdmin, store.RoleAdmin},
		{"third", "ws", store.RoleMember, store.RoleMember},
		{"other-first", "ws-2", store.RoleAdmin, store.RoleOwner},
		{"other-second", "ws-2", store.RoleMember, store.RoleMember},
	}
	for _, tt := range tests {
		u := store.User{ID: tt.id, WorkspaceID: tt.ws, Role: tt.role, CreatedAt: t0}
		got, err := s.CreateUser(t.Context(), u, nil)
		ok(t, "CreateUser "+tt.id, err)
		if got.Role != tt.want {
			t.Errorf("CreateUser %s returned role %q, want %q", tt.id, got.Role, tt.want)
		}
		stored, err := s.GetUser(t.Context(), tt.id)
		ok(t, "GetUser "+tt.id, err)
		if stored.Role != tt.want {
			t.Errorf("stored role of %s = %q, want %q", tt.id, stored.Role, tt.want)
		}
	}
}

func testUserWithoutKey(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "ws")
	_, err := s.CreateUser(t.Context(), store.User{ID: "u", WorkspaceID: "ws", CreatedAt: t0}, nil)
	ok(t, "CreateUser without key", err)
	keys, err := s.ListPublicKeys(t.Context(), "u")
	ok(t, "ListPublicKeys", err)
	diff(t, "keys of a user created without one", []store.PublicKey(nil), keys)
}

func testUserScopes(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "ws")
	tests := []struct {
		id     string
		scopes []string
	}{
		{"nil", nil},
		{"empty", []string{}},
		{"values", []string{"read", "geofences:read", "a b"}},
	}
	for _, tt := range tests {
		u := store.User{ID: tt.id, WorkspaceID: "ws", Role: store.RoleMember, Scopes: tt.scopes, CreatedAt: t0}
		_, err := s.CreateUser(t.Context(), u, nil)
		ok(t, "CreateUser "+tt.id, err)
		got, err := s.GetUser(t.Context(), tt.id)
		ok(t, "GetUser "+tt.id, err)
		diff(t, "scopes "+tt.id, tt.scopes, got.Scopes)
	}
}

func testUserDuplicateID(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "ws")
	mustWorkspace(t, s, "ws-2")
	mustUser(t, s, "ws", "alice")
	// User ids are global: another workspace cannot take one either.
	for _, ws := range []string{"ws", "ws-2"} {
		k := newKey("alice-k2-"+ws, "alice", t0)
		_, err := s.CreateUser(t.Context(), store.User{ID: "alice", WorkspaceID: ws, CreatedAt: t0}, &k)
		wantErr(t, "CreateUser duplicate in "+ws, err, store.ErrConflict)
	}
	keys, err := s.ListPublicKeys(t.Context(), "alice")
	ok(t, "ListPublicKeys", err)
	if len(keys) != 1 || keys[0].ID != "alice-k1" {
		t.Errorf("refused CreateUser changed the keyring: %+v", keys)
	}
	got, err := s.GetUser(t.Context(), "alice")
	ok(t, "GetUser", err)
	if got.WorkspaceID != "ws" {
		t.Errorf("refused CreateUser moved alice to %q", got.WorkspaceID)
	}
}

func testUserUnknownWorkspace(t *testing.T, s store.Store) {
	k := newKey("u-k1", "u", t0)
	_, err := s.CreateUser(t.Context(), store.User{ID: "u", WorkspaceID: "nope", CreatedAt: t0}, &k)
	wantErr(t, "CreateUser in unknown workspace", err, store.ErrNotFound)
	exists, err := s.UserExists(t.Context(), "u")
	ok(t, "UserExists", err)
	if exists {
		t.Error("user stored despite unknown workspace")
	}
}

// A first key that cannot be stored must leave no user behind.
func testUserKeyConflictAtomic(t *testing.T, s store.Store) {
	fixture(t, s)
	k := newKey("alice-k1", "bob", t0) // key id already taken by alice
	_, err := s.CreateUser(t.Context(), store.User{ID: "bob", WorkspaceID: "ws", CreatedAt: t0}, &k)
	wantErr(t, "CreateUser with taken key id", err, store.ErrConflict)
	exists, err := s.UserExists(t.Context(), "bob")
	ok(t, "UserExists", err)
	if exists {
		t.Error("user bob stored although his first key was refused")
	}
}

func testUserGetUnknown(t *testing.T, s store.Store) {
	_, err := s.GetUser(t.Context(), "nope")
	wantErr(t, "GetUser unknown", err, store.ErrNotFound)
}

func testUserExists(t *testing.T, s store.Store) {
	fixture(t, s)
	for id, want := range map[string]bool{"alice": true, "bob": false, "": false} {
		got, err := s.UserExists(t.Context(), id)
		ok(t, "UserExists "+id, err)
		if got != want {
			t.Errorf("UserExists(%q) = %v, want %v", id, got, want)
		}
	}
}
