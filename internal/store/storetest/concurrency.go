package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

var concurrencyTests = []test{
	{"RotateRefreshOneWinner", testRaceRotate},
	{"RefreshSessionOneRotation", testRaceRefreshSession},
	{"RefreshSessionsTogether", testRaceRefreshSessions},
	{"CreateUserSameID", testRaceCreateUser},
	{"FirstUserOneOwner", testRaceFirstOwner},
	{"LoginsWithOneCode", testRaceUsedCode},
	{"CreateWorkspaceSameJoinCode", testRaceCreateJoinCode},
	{"UpdateWorkspaceSameJoinCode", testRaceUpdateJoinCode},
	{"UpdateWorkspaceNoLostUpdate", testRaceUpdateWorkspace},
	{"ConsumeOneTimeTokenOnce", testRaceConsumeOTT},
	{"UpdateUserNoLostUpdate", testRaceUpdateUser},
	{"CreateUserSameEmail", testRaceCreateEmail},
	{"UpdateUserSameEmail", testRaceUpdateEmail},
	{"PutAPIKeySessionSameID", testRacePutAPIKeySession},
	{"RedeemAuthorizationCodeOnce", testRaceRedeemAuthzCode},
}

// Race runs fn(0..n-1) in n goroutines released together and returns
// their errors by index: the start of any test of concurrent calls.
func Race(n int, fn func(i int) error) []error {
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(i)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// oneWinner checks that exactly one call succeeded and every other one
// failed with loser; it returns the winner's index.
func oneWinner(t *testing.T, what string, errs []error, loser error) int {
	t.Helper()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("%s: calls %d and %d both succeeded", what, winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, loser):
			t.Errorf("%s: call %d failed with %v, want %v", what, i, err, loser)
		}
	}
	if winner < 0 {
		t.Fatalf("%s: no call succeeded", what)
	}
	return winner
}

func testRaceRotate(t *testing.T, s store.Store) {
	fixture(t, s)
	mustSession(t, s, newSession("s1", "alice", "ws", t0))
	child := func(i int) []byte { return hash(fmt.Sprint("child-", i)) }
	errs := Race(50, func(i int) error {
		return s.RotateRefresh(t.Context(), "s1", 0, child(i), at(time.Minute), at(time.Hour))
	})
	winner := oneWinner(t, "RotateRefresh", errs, store.ErrConflict)
	got, err := s.GetSession(t.Context(), "s1")
	ok(t, "GetSession", err)
	if got.Generation != 1 {
		t.Errorf("generation after the race = %d, want 1", got.Generation)
	}
	for i := range errs {
		rt, err := s.GetRefreshToken(t.Context(), child(i))
		switch {
		case i == winner && (err != nil || rt.Generation != 1):
			t.Errorf("winner's child: %+v, %v", rt, err)
		case i != winner && !errors.Is(err, store.ErrNotFound):
			t.Errorf("loser %d's child was stored: %+v, %v", i, rt, err)
		}
	}
}

func testRaceCreateUser(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "ws")
	errs := Race(20, func(i int) error {
		k := newKey(fmt.Sprint("k-", i), "alice", t0)
		_, err := s.CreateUser(t.Context(), store.User{ID: "alice", WorkspaceID: "ws", CreatedAt: t0}, &k)
		return err
	})
	winner := oneWinner(t, "CreateUser", errs, store.ErrConflict)
	keys, err := s.ListPublicKeys(t.Context(), "alice")
	ok(t, "ListPublicKeys", err)
	diff(t, "keyring after the race", []store.PublicKey{newKey(fmt.Sprint("k-", winner), "alice", t0)}, keys)
}

func testRaceFirstOwner(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "ws")
	const n = 20
	errs := Race(n, func(i int) error {
		u := store.User{ID: fmt.Sprint("u-", i), WorkspaceID: "ws", Role: store.RoleMember, CreatedAt: t0}
		_, err := s.CreateUser(t.Context(), u, nil)
		return err
	})
	var roles []string
	for i, err := range errs {
		ok(t, fmt.Sprint("CreateUser u-", i), err)
		u, err := s.GetUser(t.Context(), fmt.Sprint("u-", i))
		ok(t, "GetUser", err)
		roles = append(roles, u.Role)
	}
	slices.Sort(roles)
	want := append(slices.Repeat([]string{store.RoleMember}, n-1), store.RoleOwner) // sorted
	diff(t, "roles after the race", want, roles)
}

// testRaceUsedCode: 20 logins presenting one challenge at once start
// exactly one session.
func testRaceUsedCode(t *testing.T, s store.Store) {
	fixture(t, s)
	c := store.AuthCode{Hash: hash("code"), UserID: "alice", ExpiresAt: at(time.Minute)}
	errs := Race(20, func(i int) error {
		id := fmt.Sprint("s", i)
		return s.CreateSession(t.Context(), newSession(id, "alice", "ws", t0), hash("rt:"+id), c)
	})
	oneWinner(t, "CreateSession with one code", errs, store.ErrConflict)
}

func testRaceCreateJoinCode(t *testing.T, s store.Store) {
	errs := Race(20, func(i int) error {
		w := newWorkspace(fmt.Sprint("ws-", i))
		w.JoinCodeHash = hash("shared join code")
		return s.CreateWorkspace(t.Context(), w)
	})
	winner := oneWinner(t, "CreateWorkspace", errs, store.ErrConflict)
	w, err := s.GetWorkspaceByJoinCode(t.Context(), hash("shared join code"))
	ok(t, "GetWorkspaceByJoinCode", err)
	if want := fmt.Sprint("ws-", winner); w.ID != want {
		t.Errorf("join code belongs to %s, want the winner %s", w.ID, want)
	}
}

func testRaceUpdateJoinCode(t *testing.T, s store.Store) {
	const n = 20
	for i := range n {
		mustWorkspace(t, s, fmt.Sprint("ws-", i))
	}
	errs := Race(n, func(i int) error {
		_, err := s.UpdateWorkspace(t.Context(), fmt.Sprint("ws-", i), func(w *store.Workspace) error {
			w.JoinCodeHash = hash("shared join code")
			return nil
		})
		return err
	})
	winner := oneWinner(t, "UpdateWorkspace", errs, store.ErrConflict)
	w, err := s.GetWorkspaceByJoinCode(t.Context(), hash("shared join code"))
	ok(t, "GetWorkspaceByJoinCode", err)
	if want := fmt.Sprint("ws-", winner); w.ID != want {
		t.Errorf("join code belongs to %s, want the winner %s", w.ID, want)
	}
}

// Each updater appends its own scope: a lost update would drop one.
func testRaceUpdateWorkspace(t *testing.T, s store.Store) {
	w := newWorkspace("ws")
	w.DefaultScopes = nil
	ok(t, "CreateWorkspace", s.CreateWorkspace(t.Context(), w))
	const n = 20
	errs := Race(n, func(i int) error {
		_, err := s.UpdateWorkspace(t.Context(), "ws", func(w *store.Workspace) error {
			w.DefaultScopes = append(w.DefaultScopes, fmt.Sprint("s-", i))
			return nil
		})
		return err
	})
	for i, err := range errs {
		ok(t, fmt.Sprint("UpdateWorkspace ", i), err)
	}
	got, err := s.GetWorkspace(t.Context(), "ws")
	ok(t, "GetWorkspace", err)
	var want []string
	for i := range n {
		want = append(want, fmt.Sprint("s-", i))
	}
	slices.Sort(want)
	slices.Sort(got.DefaultScopes)
	diff(t, "scopes after concurrent updates", want, got.DefaultScopes)
}
