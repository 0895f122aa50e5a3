package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

// The instance: instance-admin accounts, the workspace list with its
// counts, and the first-run setup token.
var instanceTests = []test{
	{"InstanceAdminRoundTrip", testInstanceAdminFlag},
	{"WorkspaceStats", testWorkspaceStats},
	{"SetupTokenLifecycle", testSetupTokenLifecycle},
	{"SetupTokenDiesWithFirstUser", testSetupTokenDiesWithUsers},
	{"CompleteSetupIsAtomic", testCompleteSetupAtomic},
	{"ConcurrentSetupsOneWinner", testRaceCompleteSetup},
}

func testInstanceAdminFlag(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "ws")
	u, err := s.CreateUser(ctx, store.User{ID: "root", WorkspaceID: "ws", Role: store.RoleMember,
		Email: "root@example.com", InstanceAdmin: true, CreatedAt: t0}, nil)
	ok(t, "CreateUser", err)
	if !u.InstanceAdmin {
		t.Error("CreateUser returned InstanceAdmin false")
	}
	plain := mustUser(t, s, "ws", "plain")
	if plain.InstanceAdmin {
		t.Error("a user created without the flag is an instance admin")
	}
	for _, want := range []bool{false, true} {
		got, err := s.UpdateUser(ctx, "root", func(u *store.User) error { u.InstanceAdmin = want; return nil })
		ok(t, "UpdateUser", err)
		stored, err := s.GetUser(ctx, "root")
		ok(t, "GetUser", err)
		byEmail, err := s.GetUsersByEmail(ctx, "root@example.com")
		ok(t, "GetUsersByEmail", err)
		listed, err := s.ListUsers(ctx, "ws", "", 0)
		ok(t, "ListUsers", err)
		// listed is newest first; both were made at t0, so by ID descending:
		// root, then plain.
		if got.InstanceAdmin != want || stored.InstanceAdmin != want || len(byEmail) != 1 ||
			byEmail[0].InstanceAdmin != want || len(listed) != 2 || listed[0].InstanceAdmin != want || listed[1].InstanceAdmin {
			t.Errorf("after setting InstanceAdmin=%v: update %v, get %v, by email %v, list %v",
				want, got.InstanceAdmin, stored.InstanceAdmin, byEmail, listed)
		}
	}
}

func testWorkspaceStats(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := at(time.Hour)
	got, err := s.ListWorkspaceStats(ctx, now)
	ok(t, "ListWorkspaceStats (empty)", err)
	diff(t, "no workspaces", []store.WorkspaceStats{}, got)

	full := newWorkspace("full")
	empty := newWorkspace("empty")
	empty.CreatedAt = at(time.Minute) // newer: listed first
	twin := newWorkspace("twin")      // same instant as full, larger id: before it
	for _, w := range []store.Workspace{full, empty, twin} {
		ok(t, "CreateWorkspace "+w.ID, s.CreateWorkspace(ctx, w))
	}
	mustUser(t, s, "full", "alice")
	mustUser(t, s, "full", "bob")
	mustUser(t, s, "twin", "carol")
	keys := []struct {
		id               string
		expires, revoked *time.Time
	}{
		{"live", nil, nil},
		{"live-until-later", ptr(now.Add(time.Second)), nil},
		{"expired", ptr(now), nil}, // expiry is exclusive: dead at its instant
		{"revoked", nil, ptr(at(0))},
	}
	for _, k := range keys {
		key := newAPIKey(k.id, "full", "alice", t0)
		key.ExpiresAt, key.RevokedAt = k.expires, k.revoked
		mustAPIKey(t, s, key)
	}
	mustAPIKey(t, s, newAPIKey("other", "twin", "", t0))

	got, err = s.ListWorkspaceStats(ctx, now)
	ok(t, "ListWorkspaceStats", err)
	want := []store.WorkspaceStats{
		{ID: "empty", Name: empty.Name, CreatedAt: empty.CreatedAt},
		{ID: "twin", Name: twin.Name, CreatedAt: t0, Members: 1, APIKeys: 1},
		{ID: "full", Name: full.Name, CreatedAt: t0, Members: 2, APIKeys: 2},
	}
	diff(t, "ListWorkspaceStats", want, got)
}

// setupWS and setupUser are what a first-run setup creates.
func setupWS(id string) store.Workspace { return newWorkspace(id) }

func setupUser(id, ws string) store.User {
	return store.User{ID: id, WorkspaceID: ws, Role: store.RoleOwner, Scopes: []string{"read", "write"},
		Email: id + "@example.com", PasswordHash: "phc", InstanceAdmin: true, CreatedAt: t0}
}

func testSetupTokenLifecycle(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := store.SetupToken{Hash: hash("setup:a"), ExpiresAt: at(time.Hour), CreatedAt: t0}
	b := store.SetupToken{Hash: hash("setup:b"), ExpiresAt: at(2 * time.Hour), CreatedAt: at(time.Minute)}
	_, err := s.GetSetupToken(ctx, a.Hash)
	wantErr(t, "GetSetupToken before any", err, store.ErrNotFound)
	ok(t, "PutSetupToken a", s.PutSetupToken(ctx, a))
	got, err := s.GetSetupToken(ctx, a.Hash)
	ok(t, "GetSetupToken a", err)
	diff(t, "setup token a", a, got)

	// A new token replaces the old one: only the newest works.
	ok(t, "PutSetupToken b", s.PutSetupToken(ctx, b))
	_, err = s.GetSetupToken(ctx, a.Hash)
	wantErr(t, "GetSetupToken a after b", err, store.ErrNotFound)
	got, err = s.GetSetupToken(ctx, b.Hash)
	ok(t, "GetSetupToken b", err)
	diff(t, "setup token b", b, got)

	w, u := setupWS("first"), setupUser("root", "first")
	_, err = s.CompleteSetup(ctx, a.Hash, at(time.Minute), w, u)
	wantErr(t, "CompleteSetup with the replaced token", err, store.ErrNotFound)
	_, err = s.CompleteSetup(ctx, b.Hash, b.ExpiresAt, w, u)
	wantErr(t, "CompleteSetup at expiry", err, store.ErrNotFound)

	created, err := s.CompleteSetup(ctx, b.Hash, at(time.Hour), w, u)
	ok(t, "CompleteSetup", err)
	diff(t, "CompleteSetup user", u, created)
	stored, err := s.GetUser(ctx, "root")
	ok(t, "GetUser root", err)
	diff(t, "stored first user", u, stored)
	ws, err := s.GetWorkspace(ctx, "first")
	ok(t, "GetWorkspace first", err)
	diff(t, "stored workspace", w, ws)

	_, err = s.GetSetupToken(ctx, b.Hash)
	wantErr(t, "GetSetupToken after setup", err, store.ErrNotFound)
	_, err = s.CompleteSetup(ctx, b.Hash, at(time.Hour), setupWS("again"), setupUser("again", "again"))
	wantErr(t, "CompleteSetup twice", err, store.ErrNotFound)
}

func testSetupTokenDiesWithUsers(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := store.SetupToken{Hash: hash("setup:a"), ExpiresAt: at(time.Hour), CreatedAt: t0}
	ok(t, "PutSetupToken", s.PutSetupToken(ctx, a))
	fixture(t, s) // an account made some other way (the admin token's API)
	_, err := s.GetSetupToken(ctx, a.Hash)
	wantErr(t, "GetSetupToken once a user exists", err, store.ErrNotFound)
	_, err = s.CompleteSetup(ctx, a.Hash, t0, setupWS("first"), setupUser("root", "first"))
	wantErr(t, "CompleteSetup once a user exists", err, store.ErrConflict)
	_, err = s.GetWorkspace(ctx, "first")
	wantErr(t, "workspace of a refused setup", err, store.ErrNotFound)
	b := store.SetupToken{Hash: hash("setup:b"), ExpiresAt: at(time.Hour), CreatedAt: t0}
	wantErr(t, "PutSetupToken once a user exists", s.PutSetupToken(ctx, b), store.ErrConflict)
	_, err = s.GetSetupToken(ctx, b.Hash)
	wantErr(t, "GetSetupToken of a refused token", err, store.ErrNotFound)
}

func testCompleteSetupAtomic(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustWorkspace(t, s, "taken") // a workspace without users
	a := store.SetupToken{Hash: hash("setup:a"), ExpiresAt: at(time.Hour), CreatedAt: t0}
	ok(t, "PutSetupToken", s.PutSetupToken(ctx, a))
	_, err := s.CompleteSetup(ctx, a.Hash, t0, setupWS("taken"), setupUser("root", "taken"))
	wantErr(t, "CompleteSetup with a taken workspace id", err, store.ErrConflict)
	if _, err := s.GetSetupToken(ctx, a.Hash); err != nil {
		t.Fatalf("the token of a failed setup is gone: %v", err)
	}
	_, err = s.GetUser(ctx, "root")
	wantErr(t, "user of a failed setup", err, store.ErrNotFound)
	_, err = s.CompleteSetup(ctx, a.Hash, t0, setupWS("first"), setupUser("root", "first"))
	ok(t, "CompleteSetup after the failure", err)
}

// testRaceCompleteSetup: many setups with the one token at once; exactly
// one creates its workspace and account.
func testRaceCompleteSetup(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := store.SetupToken{Hash: hash("setup:a"), ExpiresAt: at(time.Hour), CreatedAt: t0}
	ok(t, "PutSetupToken", s.PutSetupToken(ctx, a))
	const n = 8
	errs := Race(n, func(i int) error {
		id := fmt.Sprint("ws-", i)
		_, err := s.CompleteSetup(ctx, a.Hash, t0, setupWS(id), setupUser(fmt.Sprint("root-", i), id))
		return err
	})
	w := oneWinner(t, "CompleteSetup", errs, store.ErrNotFound)
	stats, err := s.ListWorkspaceStats(ctx, t0)
	ok(t, "ListWorkspaceStats", err)
	if len(stats) != 1 || stats[0].ID != fmt.Sprint("ws-", w) || stats[0].Members != 1 {
		t.Errorf("after the race: %+v, want only ws-%d with one member", stats, w)
	}
}
