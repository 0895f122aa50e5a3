package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

var removalTests = []test{
	{"TakesEverythingOfTheUser", testDeleteUser},
	{"UnknownOrOtherWorkspace", testDeleteUserUnknown},
	{"LastOwnerStays", testDeleteLastOwner},
	{"RaceTwoOwners", testRaceDeleteOwners},
	{"DemoteLastOwner", testDemoteLastOwner},
	{"RaceDemoteOwners", testRaceDemoteOwners},
}

// promote makes user id an owner.
func promote(t *testing.T, s store.Store, id string) {
	t.Helper()
	_, err := s.UpdateUser(t.Context(), id, func(u *store.User) error { u.Role = store.RoleOwner; return nil })
	ok(t, "UpdateUser "+id, err)
}

// testDeleteUser: bob goes with his keyring, sessions, one-time tokens,
// API keys (and their sessions) and JWT keys; alice's things stay; the
// answer names what went. A revoked session is not named (nothing to
// announce), but goes too.
func testDeleteUser(t *testing.T, s store.Store) {
	fixture(t, s)
	bob := mustUser(t, s, "ws", "bob")
	mustSession(t, s, newSession("s-bob", "bob", "ws", t0))
	mustSession(t, s, newSession("s-bob-old", "bob", "ws", t0))
	ok(t, "RevokeSession", s.RevokeSession(t.Context(), "s-bob-old", at(time.Minute)))
	mustSession(t, s, newSession("s-alice", "alice", "ws", t0))
	mustAPIKey(t, s, newAPIKey("k-bob", "ws", "bob", t0))
	mustAPIKey(t, s, newAPIKey("k-alice", "ws", "alice", t0))
	mustPut(t, s, apiKeySession("s-k-bob", "k-bob", "bob", "ws", t0))
	mustJWTKeys(t, s, newJWTKey("j-bob", "ws", "bob", t0), newJWTKey("j-alice", "ws", "alice", t0))
	ok(t, "CreateOneTimeToken", s.CreateOneTimeToken(t.Context(), newOTT("bob", "bob", "reset", at(time.Hour))))

	got, err := s.DeleteUser(t.Context(), "ws", "bob")
	ok(t, "DeleteUser", err)
	slices.Sort(got.SessionIDs)
	diff(t, "removed", store.RemovedUser{User: bob, SessionIDs: []string{"s-bob", "s-k-bob"},
		APIKeyIDs: []string{"k-bob"}, JWTKeyIDs: []string{"j-bob"}}, got)

	_, err = s.GetUser(t.Context(), "bob")
	wantErr(t, "GetUser bob", err, store.ErrNotFound)
	keys, err := s.ListPublicKeys(t.Context(), "bob")
	ok(t, "ListPublicKeys bob", err)
	diff(t, "bob's keyring", []store.PublicKey(nil), keys)
	for _, id := range []string{"s-bob", "s-bob-old", "s-k-bob"} {
		_, err := s.GetSession(t.Context(), id)
		wantErr(t, "GetSession "+id, err, store.ErrNotFound)
	}
	_, err = s.GetRefreshToken(t.Context(), hash("rt:s-bob:0"))
	wantErr(t, "GetRefreshToken of bob's session", err, store.ErrNotFound)
	_, err = s.GetAPIKey(t.Context(), "k-bob")
	wantErr(t, "GetAPIKey k-bob", err, store.ErrNotFound)
	_, err = s.GetJWTKey(t.Context(), "j-bob")
	wantErr(t, "GetJWTKey j-bob", err, store.ErrNotFound)
	_, err = s.ConsumeOneTimeToken(t.Context(), hash("ott:bob"))
	wantErr(t, "ConsumeOneTimeToken of bob's", err, store.ErrNotFound)

	_, err = s.GetSession(t.Context(), "s-alice")
	ok(t, "GetSession s-alice", err)
	_, err = s.GetAPIKey(t.Context(), "k-alice")
	ok(t, "GetAPIKey k-alice", err)
	_, err = s.GetJWTKey(t.Context(), "j-alice")
	ok(t, "GetJWTKey j-alice", err)
	// The id is free again.
	mustUser(t, s, "ws", "bob")
}

func testDeleteUserUnknown(t *testing.T, s store.Store) {
	fixture(t, s)
	mustWorkspace(t, s, "other")
	mustUser(t, s, "other", "oscar")
	for _, tt := range []struct{ ws, id string }{{"ws", "nope"}, {"ws", "oscar"}, {"nope", "alice"}} {
		_, err := s.DeleteUser(t.Context(), tt.ws, tt.id)
		wantErr(t, "DeleteUser "+tt.ws+"/"+tt.id, err, store.ErrNotFound)
	}
	_, err := s.GetUser(t.Context(), "oscar")
	ok(t, "GetUser oscar", err)
}

func testDeleteLastOwner(t *testing.T, s store.Store) {
	fixture(t, s) // alice owns ws
	mustUser(t, s, "ws", "bob")
	_, err := s.DeleteUser(t.Context(), "ws", "alice")
	wantErr(t, "DeleteUser of the only owner", err, store.ErrConflict)
	_, err = s.GetUser(t.Context(), "alice")
	ok(t, "GetUser alice", err)
	promote(t, s, "bob")
	_, err = s.DeleteUser(t.Context(), "ws", "alice")
	ok(t, "DeleteUser of an owner beside another", err)
	_, err = s.DeleteUser(t.Context(), "ws", "bob")
	wantErr(t, "DeleteUser of the owner left", err, store.ErrConflict)
}

// Two owners removed at once: one removal wins, the workspace keeps the
// other owner.
func testRaceDeleteOwners(t *testing.T, s store.Store) {
	fixture(t, s)
	mustUser(t, s, "ws", "bob")
	promote(t, s, "bob")
	ids := []string{"alice", "bob"}
	errs := Race(2, func(i int) error {
		_, err := s.DeleteUser(t.Context(), "ws", ids[i])
		return err
	})
	winner := oneWinner(t, "DeleteUser", errs, store.ErrConflict)
	u, err := s.GetUser(t.Context(), ids[1-winner])
	ok(t, "GetUser of the owner left", err)
	if u.Role != store.RoleOwner {
		t.Errorf("the user left is %s, want owner", u.Role)
	}
}

// testDemoteLastOwner: UpdateUser refuses to take the owner role from a
// workspace's last owner (ErrConflict, nothing changed); with a second
// owner it may.
func testDemoteLastOwner(t *testing.T, s store.Store) {
	fixture(t, s)
	mustUser(t, s, "ws", "bob")
	promote(t, s, "alice")
	demote := func(id string) error {
		_, err := s.UpdateUser(t.Context(), id, func(u *store.User) error { u.Role = store.RoleAdmin; return nil })
		return err
	}
	wantErr(t, "demoting the last owner", demote("alice"), store.ErrConflict)
	if u, err := s.GetUser(t.Context(), "alice"); err != nil || u.Role != store.RoleOwner {
		t.Errorf("alice after a refused demotion: %s, %v", u.Role, err)
	}
	promote(t, s, "bob")
	ok(t, "demoting one of two owners", demote("alice"))
	wantErr(t, "demoting the owner left", demote("bob"), store.ErrConflict)
}

// testRaceDemoteOwners: two owners demoted at once, each by the other:
// exactly one demotion passes and an owner remains.
func testRaceDemoteOwners(t *testing.T, s store.Store) {
	fixture(t, s)
	mustUser(t, s, "ws", "bob")
	promote(t, s, "alice")
	promote(t, s, "bob")
	ids := []string{"alice", "bob"}
	errs := Race(2, func(i int) error {
		_, err := s.UpdateUser(t.Context(), ids[i], func(u *store.User) error { u.Role = store.RoleMember; return nil })
		return err
	})
	winner := oneWinner(t, "UpdateUser", errs, store.ErrConflict)
	u, err := s.GetUser(t.Context(), ids[1-winner])
	ok(t, "GetUser of the owner left", err)
	if u.Role != store.RoleOwner {
		t.Errorf("the user left is %s, want owner", u.Role)
	}
}
