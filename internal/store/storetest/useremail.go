package storetest

import (
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

// phc is a stand-in for an argon2id PHC string (the store never parses it).
const phc = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaGhhc2hoYXNo"

// pwUser is a password user (no key) of ws created at created.
func pwUser(id, ws, email string, created time.Time) store.User {
	return store.User{ID: id, WorkspaceID: ws, Role: store.RoleMember,
		Scopes: []string{"read"}, CreatedAt: created,
		Email: email, PasswordHash: phc + id, EmailVerified: true}
}

// mustPwUser creates u without a key and returns the stored user.
func mustPwUser(t *testing.T, s store.Store, u store.User) store.User {
	t.Helper()
	got, err := s.CreateUser(t.Context(), u, nil)
	ok(t, "CreateUser "+u.ID, err)
	return got
}

func testUserPasswordFields(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "ws")
	tests := []struct {
		name string
		u    store.User
	}{
		{"verified", pwUser("alice", "ws", "alice@example.com", t0)},
		{"unverified", func() store.User {
			u := pwUser("bob", "ws", "bob@example.com", t0)
			u.EmailVerified = false
			return u
		}()},
		{"hash without email", store.User{ID: "carol", WorkspaceID: "ws",
			Role: store.RoleMember, CreatedAt: t0, PasswordHash: phc}},
	}
	for _, tt := range tests {
		created := mustPwUser(t, s, tt.u)
		want := tt.u
		want.Role = created.Role // the first one became the owner
		diff(t, "CreateUser result "+tt.name, want, created)
		got, err := s.GetUser(t.Context(), tt.u.ID)
		ok(t, "GetUser "+tt.name, err)
		diff(t, "GetUser "+tt.name, want, got)
	}
}

func testUserEmailUnique(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "ws")
	mustWorkspace(t, s, "ws-2")
	steps := []struct {
		name string
		u    store.User
		want error
	}{
		{"first", pwUser("a1", "ws", "x@example.com", t0), nil},
		{"same email, other workspace", pwUser("a2", "ws-2", "x@example.com", t0), nil},
		{"same email, same workspace", pwUser("a3", "ws", "x@example.com", t0), store.ErrConflict},
		{"other email, same workspace", pwUser("a4", "ws", "y@example.com", t0), nil},
		// Key-pair users have no email: any number of them per workspace.
		{"no email", store.User{ID: "k1", WorkspaceID: "ws", Role: store.RoleMember, CreatedAt: t0}, nil},
		{"no email again", store.User{ID: "k2", WorkspaceID: "ws", Role: store.RoleMember, CreatedAt: t0}, nil},
	}
	for _, st := range steps {
		_, err := s.CreateUser(t.Context(), st.u, nil)
		wantErr(t, "CreateUser "+st.name, err, st.want)
		exists, err := s.UserExists(t.Context(), st.u.ID)
		ok(t, "UserExists", err)
		if exists != (st.want == nil) {
			t.Errorf("%s: user %s exists = %v", st.name, st.u.ID, exists)
		}
	}
}

func testUsersByEmail(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "ws")
	mustWorkspace(t, s, "ws-2")
	mustWorkspace(t, s, "ws-3")
	// Created newest first on purpose: the order is by CreatedAt, then ID.
	newer := mustPwUser(t, s, pwUser("newer", "ws", "x@example.com", at(time.Hour)))
	tieB := mustPwUser(t, s, pwUser("tie-b", "ws-3", "x@example.com", t0))
	tieA := mustPwUser(t, s, pwUser("tie-a", "ws-2", "x@example.com", t0))
	other := mustPwUser(t, s, pwUser("other", "ws", "y@example.com", t0))
	mustUser(t, s, "ws", "keypair")
	tests := []struct {
		email string
		want  []store.User
	}{
		{"x@example.com", []store.User{tieA, tieB, newer}},
		{"y@example.com", []store.User{other}},
		{"nobody@example.com", nil},
		{"", nil}, // key-pair users have no email to find them by
	}
	for _, tt := range tests {
		got, err := s.GetUsersByEmail(t.Context(), tt.email)
		ok(t, "GetUsersByEmail "+tt.email, err)
		diff(t, "GetUsersByEmail "+tt.email, tt.want, got)
	}
}

// listZoo stores five users of ws whose ID order differs from their
// creation order (two share a CreatedAt) and one user of ws-2; it returns
// the ws users in list order, newest first.
func listZoo(t *testing.T, s store.Store) []store.User {
	t.Helper()
	mustWorkspace(t, s, "ws")
	mustWorkspace(t, s, "ws-2")
	mustPwUser(t, s, pwUser("elsewhere", "ws-2", "e@example.com", t0))
	created := map[string]time.Time{
		"u-e": t0, "u-a": at(time.Minute), "u-d": at(2 * time.Minute),
		"u-b": at(2 * time.Minute), "u-c": at(3 * time.Minute),
	}
	byID := map[string]store.User{}
	for _, id := range []string{"u-c", "u-b", "u-e", "u-d", "u-a"} {
		u := store.User{ID: id, WorkspaceID: "ws", Role: store.RoleMember,
			Scopes: []string{"read"}, CreatedAt: created[id]}
		if id == "u-a" {
			u.Email, u.PasswordHash = "a@example.com", phc
		}
		byID[id] = mustPwUser(t, s, u)
	}
	var list []store.User
	for _, id := range []string{"u-c", "u-d", "u-b", "u-a", "u-e"} { // the tie: larger id first
		list = append(list, byID[id])
	}
	return list
}

func testListUsers(t *testing.T, s store.Store) {
	all := listZoo(t, s)
	tests := []struct {
		name  string
		after string
		limit int
		want  []store.User
	}{
		{"first page", "", 2, all[0:2]},
		{"second page", "u-d", 2, all[2:4]},
		{"last page", "u-a", 2, all[4:]},
		{"cursor on a CreatedAt tie", "u-d", 1, all[2:3]},
		{"past the end", "u-e", 2, nil},
		{"no limit", "", 0, all},
		{"negative limit", "u-c", -1, all[1:]},
		{"limit above count", "", 100, all},
	}
	for _, tt := range tests {
		got, err := s.ListUsers(t.Context(), "ws", tt.after, tt.limit)
		ok(t, "ListUsers "+tt.name, err)
		diff(t, "ListUsers "+tt.name, tt.want, got)
	}
	// A user who joins between two pages heads the first page and leaves
	// the next one as it was: the cursor is a position, not an offset.
	newest := mustPwUser(t, s, store.User{ID: "u-0", WorkspaceID: "ws", Role: store.RoleMember,
		Scopes: []string{"read"}, CreatedAt: at(time.Hour)})
	got, err := s.ListUsers(t.Context(), "ws", "", 1)
	ok(t, "ListUsers after a join", err)
	diff(t, "ListUsers first page after a join", []store.User{newest}, got)
	got, err = s.ListUsers(t.Context(), "ws", "u-d", 2)
	ok(t, "ListUsers after a join", err)
	diff(t, "ListUsers second page after a join", all[2:4], got)
	got, err = s.ListUsers(t.Context(), "nope", "", 10)
	ok(t, "ListUsers of unknown workspace", err)
	diff(t, "ListUsers of unknown workspace", []store.User(nil), got)
}

func testListUsersBadCursor(t *testing.T, s store.Store) {
	listZoo(t, s)
	for _, after := range []string{"nope", "elsewhere"} { // unknown; of ws-2
		_, err := s.ListUsers(t.Context(), "ws", after, 10)
		wantErr(t, "ListUsers after "+after, err, store.ErrNotFound)
	}
}
