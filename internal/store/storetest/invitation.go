package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

var invitationTests = []test{
	{"CreateGetRoundTrip", testInvitationRoundTrip},
	{"Duplicate", testInvitationDuplicate},
	{"UnknownWorkspace", testInvitationUnknownWorkspace},
	{"ListNewestFirst", testInvitationList},
	{"Revoke", testInvitationRevoke},
	{"Accept", testInvitationAccept},
	{"AcceptRefused", testInvitationAcceptRefused},
	{"AcceptFirstUserOwns", testInvitationAcceptFirstUser},
	{"KeptByDeleteExpired", testInvitationKept},
	{"RaceAcceptOnce", testRaceAcceptInvitation},
	{"RaceAcceptOrRevoke", testRaceAcceptOrRevoke},
}

// newInvitation is a pending invitation of ws for email, sent by alice,
// created at t0 and expiring a week later.
func newInvitation(id, ws, email string) store.Invitation {
	return store.Invitation{ID: id, WorkspaceID: ws, Email: email, Role: store.RoleAdmin,
		Hash: hash("invite:" + id), InvitedBy: "alice", CreatedAt: t0, ExpiresAt: at(7 * 24 * time.Hour)}
}

func mustInvitation(t *testing.T, s store.Store, inv store.Invitation) store.Invitation {
	t.Helper()
	ok(t, "CreateInvitation "+inv.ID, s.CreateInvitation(t.Context(), inv))
	return inv
}

// checkInvitation reads inv by id and by hash and compares both with want.
func checkInvitation(t *testing.T, s store.Store, want store.Invitation) {
	t.Helper()
	got, err := s.GetInvitation(t.Context(), want.ID)
	ok(t, "GetInvitation "+want.ID, err)
	diff(t, "invitation by id", want, got)
	got, err = s.GetInvitationByHash(t.Context(), want.Hash)
	ok(t, "GetInvitationByHash "+want.ID, err)
	diff(t, "invitation by hash", want, got)
}

// invitee is the user an acceptance of an invitation of ws creates.
func invitee(id, ws, email string) store.User {
	return pwUser(id, ws, email, at(time.Hour))
}

func testInvitationRoundTrip(t *testing.T, s store.Store) {
	fixture(t, s)
	inv := newInvitation("inv-1", "ws", "bob@example.com")
	inv.CreatedAt = t0.In(time.FixedZone("E", 3600)) // stored and read back in UTC
	mustInvitation(t, s, inv)
	inv.CreatedAt = inv.CreatedAt.UTC()
	checkInvitation(t, s, inv)
	// The instance admin invites too: no inviter.
	byAdmin := newInvitation("inv-2", "ws", "cy@example.com")
	byAdmin.InvitedBy = ""
	checkInvitation(t, s, mustInvitation(t, s, byAdmin))
	_, err := s.GetInvitation(t.Context(), "nope")
	wantErr(t, "GetInvitation unknown", err, store.ErrNotFound)
	_, err = s.GetInvitationByHash(t.Context(), hash("nope"))
	wantErr(t, "GetInvitationByHash unknown", err, store.ErrNotFound)
}

func testInvitationDuplicate(t *testing.T, s store.Store) {
	fixture(t, s)
	inv := mustInvitation(t, s, newInvitation("inv-1", "ws", "bob@example.com"))
	sameID := newInvitation("inv-1", "ws", "cy@example.com")
	wantErr(t, "CreateInvitation taken id", s.CreateInvitation(t.Context(), sameID), store.ErrConflict)
	sameHash := newInvitation("inv-2", "ws", "cy@example.com")
	sameHash.Hash = inv.Hash
	wantErr(t, "CreateInvitation taken hash", s.CreateInvitation(t.Context(), sameHash), store.ErrConflict)
	checkInvitation(t, s, inv)
}

func testInvitationUnknownWorkspace(t *testing.T, s store.Store) {
	err := s.CreateInvitation(t.Context(), newInvitation("inv-1", "nope", "bob@example.com"))
	wantErr(t, "CreateInvitation in an unknown workspace", err, store.ErrNotFound)
}

func testInvitationList(t *testing.T, s store.Store) {
	fixture(t, s)
	mustWorkspace(t, s, "other")
	var want []store.Invitation
	for i, d := range []time.Duration{0, time.Minute, time.Minute, 2 * time.Minute} {
		inv := newInvitation(fmt.Sprint("inv-", i), "ws", fmt.Sprint(i, "@example.com"))
		inv.CreatedAt = at(d)
		want = append([]store.Invitation{mustInvitation(t, s, inv)}, want...)
	}
	// Ties (inv-1, inv-2) come newest id first, as every newest-first list.
	mustInvitation(t, s, newInvitation("inv-other", "other", "x@example.com"))
	got, err := s.ListInvitations(t.Context(), "ws")
	ok(t, "ListInvitations", err)
	diff(t, "invitations newest first", want, got)
	got, err = s.ListInvitations(t.Context(), "nope")
	ok(t, "ListInvitations of an unknown workspace", err)
	diff(t, "invitations of an unknown workspace", []store.Invitation(nil), got)
}

func testInvitationRevoke(t *testing.T, s store.Store) {
	fixture(t, s)
	inv := mustInvitation(t, s, newInvitation("inv-1", "ws", "bob@example.com"))
	got, err := s.RevokeInvitation(t.Context(), inv.ID, at(time.Minute))
	ok(t, "RevokeInvitation", err)
	inv.RevokedAt = ptr(at(time.Minute))
	diff(t, "revoked invitation", inv, got)
	checkInvitation(t, s, inv)
	_, err = s.RevokeInvitation(t.Context(), inv.ID, at(time.Hour))
	wantErr(t, "RevokeInvitation again", err, store.ErrConflict)
	checkInvitation(t, s, inv) // the first time stays
	_, err = s.RevokeInvitation(t.Context(), "nope", at(time.Hour))
	wantErr(t, "RevokeInvitation unknown", err, store.ErrNotFound)

	// An expired invitation may still be revoked; an accepted one not.
	old := newInvitation("inv-old", "ws", "old@example.com")
	old.ExpiresAt = at(time.Minute)
	mustInvitation(t, s, old)
	_, err = s.RevokeInvitation(t.Context(), old.ID, at(time.Hour))
	ok(t, "RevokeInvitation expired", err)
	used := mustInvitation(t, s, newInvitation("inv-used", "ws", "used@example.com"))
	_, err = s.AcceptInvitation(t.Context(), used.ID, invitee("bob", "ws", used.Email), at(time.Hour))
	ok(t, "AcceptInvitation", err)
	_, err = s.RevokeInvitation(t.Context(), used.ID, at(2*time.Hour))
	wantErr(t, "RevokeInvitation accepted", err, store.ErrConflict)
}

func testInvitationAccept(t *testing.T, s store.Store) {
	fixture(t, s)
	inv := mustInvitation(t, s, newInvitation("inv-1", "ws", "bob@example.com"))
	u := invitee("bob", "ws", inv.Email)
	u.Role = inv.Role
	got, err := s.AcceptInvitation(t.Context(), inv.ID, u, at(time.Hour))
	ok(t, "AcceptInvitation", err)
	diff(t, "created user", u, got)
	stored, err := s.GetUser(t.Context(), "bob")
	ok(t, "GetUser", err)
	diff(t, "stored user", u, stored)
	inv.AcceptedAt, inv.AcceptedBy = ptr(at(time.Hour)), "bob"
	checkInvitation(t, s, inv)
	_, err = s.AcceptInvitation(t.Context(), inv.ID, invitee("bob2", "ws", "bob2@example.com"), at(2*time.Hour))
	wantErr(t, "AcceptInvitation again", err, store.ErrConflict)
	_, err = s.GetUser(t.Context(), "bob2")
	wantErr(t, "GetUser of the refused acceptance's user", err, store.ErrNotFound)
}

// Every refusal changes nothing: no user, the invitation as it was.
func testInvitationAcceptRefused(t *testing.T, s store.Store) {
	fixture(t, s)
	mustWorkspace(t, s, "other")
	mustPwUser(t, s, pwUser("taken", "ws", "taken@example.com", t0))
	revoked := mustInvitation(t, s, newInvitation("inv-revoked", "ws", "r@example.com"))
	revokedAt, err := s.RevokeInvitation(t.Context(), revoked.ID, t0)
	ok(t, "RevokeInvitation", err)
	pending := mustInvitation(t, s, newInvitation("inv-pending", "ws", "p@example.com"))
	tests := []struct {
		name string
		id   string
		u    store.User
		now  time.Time
		want error
	}{
		{"unknown", "nope", invitee("u1", "ws", "p@example.com"), at(time.Hour), store.ErrConflict},
		{"revoked", revoked.ID, invitee("u2", "ws", "r@example.com"), at(time.Hour), store.ErrConflict},
		{"expired", pending.ID, invitee("u3", "ws", "p@example.com"), pending.ExpiresAt, store.ErrConflict},
		{"another workspace", pending.ID, invitee("u4", "other", "p@example.com"), at(time.Hour), store.ErrConflict},
		{"taken user id", pending.ID, invitee("taken", "ws", "p@example.com"), at(time.Hour), store.ErrConflict},
		{"taken email", pending.ID, invitee("u5", "ws", "taken@example.com"), at(time.Hour), store.ErrConflict},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.AcceptInvitation(t.Context(), tt.id, tt.u, tt.now)
			wantErr(t, "AcceptInvitation", err, tt.want)
			if tt.u.ID != "taken" {
				_, err = s.GetUser(t.Context(), tt.u.ID)
				wantErr(t, "GetUser of the refused user", err, store.ErrNotFound)
			}
		})
	}
	checkInvitation(t, s, revokedAt)
	checkInvitation(t, s, pending)
}

// An invitation into a workspace without users makes its owner, as the
// first CreateUser does.
func testInvitationAcceptFirstUser(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "ws")
	inv := mustInvitation(t, s, newInvitation("inv-1", "ws", "bob@example.com"))
	got, err := s.AcceptInvitation(t.Context(), inv.ID, invitee("bob", "ws", inv.Email), at(time.Hour))
	ok(t, "AcceptInvitation", err)
	if got.Role != store.RoleOwner {
		t.Errorf("first user's role %q, want owner", got.Role)
	}
}

func testInvitationKept(t *testing.T, s store.Store) {
	fixture(t, s)
	inv := newInvitation("inv-1", "ws", "bob@example.com")
	inv.ExpiresAt = at(time.Minute)
	mustInvitation(t, s, inv)
	_, err := s.DeleteExpired(t.Context(), at(30*24*time.Hour))
	ok(t, "DeleteExpired", err)
	checkInvitation(t, s, inv)
}

func testRaceAcceptInvitation(t *testing.T, s store.Store) {
	fixture(t, s)
	inv := mustInvitation(t, s, newInvitation("inv-1", "ws", "bob@example.com"))
	errs := Race(20, func(i int) error {
		_, err := s.AcceptInvitation(t.Context(), inv.ID, invitee(fmt.Sprint("u-", i), "ws", inv.Email), at(time.Hour))
		return err
	})
	winner := oneWinner(t, "AcceptInvitation", errs, store.ErrConflict)
	checkEmailOwner(t, s, inv.Email, fmt.Sprint("u-", winner))
	got, err := s.GetInvitation(t.Context(), inv.ID)
	ok(t, "GetInvitation", err)
	if got.AcceptedBy != fmt.Sprint("u-", winner) {
		t.Errorf("accepted by %q, want the winner u-%d", got.AcceptedBy, winner)
	}
}

// An acceptance and a revocation racing: exactly one of them happens.
func testRaceAcceptOrRevoke(t *testing.T, s store.Store) {
	fixture(t, s)
	for round := range 5 {
		inv := mustInvitation(t, s, newInvitation(fmt.Sprint("inv-", round), "ws", fmt.Sprint(round, "@example.com")))
		errs := Race(2, func(i int) error {
			if i == 0 {
				_, err := s.AcceptInvitation(t.Context(), inv.ID, invitee(fmt.Sprint("u-", round), "ws", inv.Email), at(time.Hour))
				return err
			}
			_, err := s.RevokeInvitation(t.Context(), inv.ID, at(time.Hour))
			return err
		})
		oneWinner(t, "AcceptInvitation or RevokeInvitation", errs, store.ErrConflict)
		got, err := s.GetInvitation(t.Context(), inv.ID)
		ok(t, "GetInvitation", err)
		if (got.AcceptedAt != nil) == (got.RevokedAt != nil) {
			t.Errorf("round %d: accepted %v, revoked %v: want exactly one", round, got.AcceptedAt, got.RevokedAt)
		}
	}
}
