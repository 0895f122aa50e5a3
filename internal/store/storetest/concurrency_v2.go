package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

func testRaceConsumeOTT(t *testing.T, s store.Store) {
	fixture(t, s)
	tok := newOTT("t", "alice", "reset", at(time.Hour))
	ok(t, "CreateOneTimeToken", s.CreateOneTimeToken(t.Context(), tok))
	got := make([]store.OneTimeToken, 20)
	errs := Race(len(got), func(i int) (err error) {
		got[i], err = s.ConsumeOneTimeToken(t.Context(), tok.Hash)
		return err
	})
	winner := oneWinner(t, "ConsumeOneTimeToken", errs, store.ErrNotFound)
	diff(t, "the winner's token", tok, got[winner])
}

// Each updater appends its own scope: a lost update would drop one.
func testRaceUpdateUser(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "ws")
	mustPwUser(t, s, store.User{ID: "alice", WorkspaceID: "ws", CreatedAt: t0})
	const n = 20
	errs := Race(n, func(i int) error {
		_, err := s.UpdateUser(t.Context(), "alice", func(u *store.User) error {
			u.Scopes = append(u.Scopes, fmt.Sprint("s-", i))
			return nil
		})
		return err
	})
	var want []string
	for i, err := range errs {
		ok(t, fmt.Sprint("UpdateUser ", i), err)
		want = append(want, fmt.Sprint("s-", i))
	}
	got, err := s.GetUser(t.Context(), "alice")
	ok(t, "GetUser", err)
	slices.Sort(want)
	slices.Sort(got.Scopes)
	diff(t, "scopes after concurrent updates", want, got.Scopes)
}

func testRaceCreateEmail(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "ws")
	errs := Race(20, func(i int) error {
		_, err := s.CreateUser(t.Context(), pwUser(fmt.Sprint("u-", i), "ws", "x@example.com", t0), nil)
		return err
	})
	winner := oneWinner(t, "CreateUser", errs, store.ErrConflict)
	checkEmailOwner(t, s, "x@example.com", fmt.Sprint("u-", winner))
}

func testRaceUpdateEmail(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "ws")
	const n = 20
	for i := range n {
		mustPwUser(t, s, pwUser(fmt.Sprint("u-", i), "ws", fmt.Sprint(i, "@example.com"), t0))
	}
	errs := Race(n, func(i int) error {
		_, err := s.UpdateUser(t.Context(), fmt.Sprint("u-", i), func(u *store.User) error {
			u.Email = "x@example.com"
			return nil
		})
		return err
	})
	winner := oneWinner(t, "UpdateUser", errs, store.ErrConflict)
	checkEmailOwner(t, s, "x@example.com", fmt.Sprint("u-", winner))
}

// checkEmailOwner checks that exactly user id has email.
func checkEmailOwner(t *testing.T, s store.Store, email, id string) {
	t.Helper()
	users, err := s.GetUsersByEmail(t.Context(), email)
	ok(t, "GetUsersByEmail", err)
	if len(users) != 1 || users[0].ID != id {
		t.Errorf("users with %s = %+v, want only the winner %s", email, users, id)
	}
}

// Concurrent exchanges of one key put the same session id: all succeed,
// one of them is stored whole.
func testRacePutAPIKeySession(t *testing.T, s store.Store) {
	akFixture(t, s)
	variant := func(i int) store.Session {
		return apiKeySession("s1", "k-alice", "alice", "ws", at(time.Duration(i)*time.Minute))
	}
	errs := Race(20, func(i int) error { return s.PutAPIKeySession(t.Context(), variant(i)) })
	for i, err := range errs {
		ok(t, fmt.Sprint("PutAPIKeySession ", i), err)
	}
	got, err := s.GetSession(t.Context(), "s1")
	ok(t, "GetSession", err)
	i := int(got.CreatedAt.Sub(t0).Round(time.Minute) / time.Minute)
	diff(t, "stored session", variant(i), got)
}
