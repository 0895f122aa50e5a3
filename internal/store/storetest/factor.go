package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

var factorTests = []test{
	{"CreateListGetDelete", testFactorCRUD},
	{"ListNewestFirst", testFactorList},
	{"OtherUsersFactor", testFactorOtherUser},
	{"TOTPStepOnce", testFactorStepOnce},
	{"TOTPStepUnknownFactor", testFactorStepUnknown},
	{"RecoveryCodesSingleUse", testFactorRecoveryOnce},
	{"RecoveryCodesReplaced", testFactorRecoveryReplaced},
	{"GoWithTheUser", testFactorUserRemoved},
	{"UsedStepsExpire", testFactorStepsExpire},
	{"ConcurrentStepOneWinner", testRaceTOTPStep},
	{"ConcurrentRecoveryCodeOneWinner", testRaceRecoveryCode},
}

func newTOTP(id, userID string) store.Factor {
	return store.Factor{ID: id, UserID: userID, Kind: store.FactorTOTP, Name: "Authenticator app",
		Secret: []byte("sealed:" + id), CreatedAt: t0}
}

func newRecovery(id, userID string) store.Factor {
	return store.Factor{ID: id, UserID: userID, Kind: store.FactorRecovery, Name: "Recovery codes",
		CreatedAt: t0, ConfirmedAt: ptr(t0)}
}

// recoveryHashes are n stand-ins for hashed recovery codes of set name.
func recoveryHashes(name string, n int) [][]byte {
	out := make([][]byte, n)
	for i := range out {
		out[i] = hash(fmt.Sprint("rc:", name, i))
	}
	return out
}

func testFactorCRUD(t *testing.T, s store.Store) {
	fixture(t, s)
	f := newTOTP("fac-1", "alice")
	ok(t, "CreateFactor", s.CreateFactor(t.Context(), f))
	wantErr(t, "CreateFactor same id", s.CreateFactor(t.Context(), f), store.ErrConflict)
	wantErr(t, "CreateFactor unknown user", s.CreateFactor(t.Context(), newTOTP("fac-x", "nobody")), store.ErrNotFound)
	got, err := s.GetFactor(t.Context(), "alice", f.ID)
	ok(t, "GetFactor", err)
	diff(t, "stored factor", f, got)
	rc := newRecovery("fac-2", "alice")
	rc.CreatedAt = at(time.Second)
	ok(t, "ReplaceRecoveryCodes", s.ReplaceRecoveryCodes(t.Context(), rc, recoveryHashes("a", 10)))
	list, err := s.ListFactors(t.Context(), "alice")
	ok(t, "ListFactors", err)
	rc.Remaining = 10
	diff(t, "factors, newest first", []store.Factor{rc, f}, list)
	ok(t, "DeleteFactor", s.DeleteFactor(t.Context(), "alice", f.ID))
	wantErr(t, "DeleteFactor again", s.DeleteFactor(t.Context(), "alice", f.ID), store.ErrNotFound)
	_, err = s.GetFactor(t.Context(), "alice", f.ID)
	wantErr(t, "GetFactor deleted", err, store.ErrNotFound)
}

// testFactorList: newest first, whatever order the factors were stored in
// and whatever their ids; a CreatedAt tie goes to the bytewise larger id
// ("a2" > "B1"), as in every newest-first list.
func testFactorList(t *testing.T, s store.Store) {
	fixture(t, s)
	mustUser(t, s, "ws", "bob")
	oldest := newTOTP("fac-z", "alice")
	tieB, tieA := newPasskey("B1", "alice", "cred-B1"), newPasskey("a2", "alice", "cred-a2")
	tieB.CreatedAt, tieA.CreatedAt = at(time.Minute), at(time.Minute)
	newest := newPasskey("fac-a", "alice", "cred-fac-a")
	newest.CreatedAt = at(time.Hour)
	for _, f := range []store.Factor{tieB, newest, oldest, tieA, newTOTP("bob-1", "bob")} {
		ok(t, "CreateFactor "+f.ID, s.CreateFactor(t.Context(), f))
	}
	list, err := s.ListFactors(t.Context(), "alice")
	ok(t, "ListFactors", err)
	diff(t, "factors, newest first", []store.Factor{newest, tieA, tieB, oldest}, list)
}

func testFactorOtherUser(t *testing.T, s store.Store) {
	fixture(t, s)
	mustUser(t, s, "ws", "bob")
	f := newTOTP("fac-1", "alice")
	ok(t, "CreateFactor", s.CreateFactor(t.Context(), f))
	_, err := s.GetFactor(t.Context(), "bob", f.ID)
	wantErr(t, "GetFactor as bob", err, store.ErrNotFound)
	wantErr(t, "DeleteFactor as bob", s.DeleteFactor(t.Context(), "bob", f.ID), store.ErrNotFound)
	wantErr(t, "UseTOTPStep as bob", s.UseTOTPStep(t.Context(), "bob", f.ID, 7, at(time.Minute), t0), store.ErrNotFound)
	list, err := s.ListFactors(t.Context(), "bob")
	ok(t, "ListFactors bob", err)
	diff(t, "bob's factors", []store.Factor(nil), list)
}

// The first use of a step confirms a pending factor and touches it; the
// same step again is a replay, another step is fine.
func testFactorStepOnce(t *testing.T, s store.Store) {
	fixture(t, s)
	f := newTOTP("fac-1", "alice")
	ok(t, "CreateFactor", s.CreateFactor(t.Context(), f))
	ok(t, "UseTOTPStep", s.UseTOTPStep(t.Context(), "alice", f.ID, 100, at(time.Minute), at(time.Second)))
	wantErr(t, "UseTOTPStep replay", s.UseTOTPStep(t.Context(), "alice", f.ID, 100, at(time.Minute), at(2*time.Second)), store.ErrConflict)
	got, err := s.GetFactor(t.Context(), "alice", f.ID)
	ok(t, "GetFactor", err)
	f.ConfirmedAt, f.LastUsedAt = ptr(at(time.Second)), ptr(at(time.Second))
	diff(t, "factor after first use", f, got)
	ok(t, "UseTOTPStep next step", s.UseTOTPStep(t.Context(), "alice", f.ID, 101, at(time.Minute), at(30*time.Second)))
	got, err = s.GetFactor(t.Context(), "alice", f.ID)
	ok(t, "GetFactor", err)
	f.LastUsedAt = ptr(at(30 * time.Second)) // ConfirmedAt stays the first use
	diff(t, "factor after second use", f, got)
}

func testFactorStepUnknown(t *testing.T, s store.Store) {
	fixture(t, s)
	wantErr(t, "UseTOTPStep unknown", s.UseTOTPStep(t.Context(), "alice", "nope", 1, at(time.Minute), t0), store.ErrNotFound)
	rc := newRecovery("fac-rc", "alice")
	ok(t, "ReplaceRecoveryCodes", s.ReplaceRecoveryCodes(t.Context(), rc, recoveryHashes("a", 1)))
	wantErr(t, "UseTOTPStep on recovery factor", s.UseTOTPStep(t.Context(), "alice", rc.ID, 1, at(time.Minute), t0), store.ErrNotFound)
}

func testFactorRecoveryOnce(t *testing.T, s store.Store) {
	fixture(t, s)
	mustUser(t, s, "ws", "bob")
	rc := newRecovery("fac-rc", "alice")
	codes := recoveryHashes("a", 10)
	ok(t, "ReplaceRecoveryCodes", s.ReplaceRecoveryCodes(t.Context(), rc, codes))
	_, err := s.UseRecoveryCode(t.Context(), "bob", codes[3], t0)
	wantErr(t, "UseRecoveryCode as bob", err, store.ErrNotFound)
	got, err := s.UseRecoveryCode(t.Context(), "alice", codes[3], at(time.Hour))
	ok(t, "UseRecoveryCode", err)
	rc.LastUsedAt, rc.Remaining = ptr(at(time.Hour)), 9
	diff(t, "factor after a use", rc, got)
	_, err = s.UseRecoveryCode(t.Context(), "alice", codes[3], at(time.Hour))
	wantErr(t, "UseRecoveryCode again", err, store.ErrNotFound)
	_, err = s.UseRecoveryCode(t.Context(), "alice", hash("never issued"), t0)
	wantErr(t, "UseRecoveryCode unknown", err, store.ErrNotFound)
}

func testFactorRecoveryReplaced(t *testing.T, s store.Store) {
	fixture(t, s)
	old, codes := newRecovery("fac-1", "alice"), recoveryHashes("old", 10)
	ok(t, "ReplaceRecoveryCodes", s.ReplaceRecoveryCodes(t.Context(), old, codes))
	fresh, freshCodes := newRecovery("fac-2", "alice"), recoveryHashes("new", 10)
	ok(t, "ReplaceRecoveryCodes again", s.ReplaceRecoveryCodes(t.Context(), fresh, freshCodes))
	_, err := s.UseRecoveryCode(t.Context(), "alice", codes[0], t0)
	wantErr(t, "UseRecoveryCode of the replaced set", err, store.ErrNotFound)
	_, err = s.UseRecoveryCode(t.Context(), "alice", freshCodes[0], t0)
	ok(t, "UseRecoveryCode of the new set", err)
	list, err := s.ListFactors(t.Context(), "alice")
	ok(t, "ListFactors", err)
	if len(list) != 1 || list[0].ID != fresh.ID || list[0].Remaining != 9 {
		t.Errorf("factors after replacing = %+v, want only %s with 9 codes left", list, fresh.ID)
	}
}

func testFactorUserRemoved(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "ws")
	mustUser(t, s, "ws", "owner") // the first user is the owner: alice can go
	mustUser(t, s, "ws", "alice")
	f := newTOTP("fac-1", "alice")
	ok(t, "CreateFactor", s.CreateFactor(t.Context(), f))
	ok(t, "UseTOTPStep", s.UseTOTPStep(t.Context(), "alice", f.ID, 1, at(time.Minute), t0))
	ok(t, "ReplaceRecoveryCodes", s.ReplaceRecoveryCodes(t.Context(), newRecovery("fac-2", "alice"), recoveryHashes("a", 2)))
	_, err := s.DeleteUser(t.Context(), "ws", "alice")
	ok(t, "DeleteUser", err)
	list, err := s.ListFactors(t.Context(), "alice")
	ok(t, "ListFactors", err)
	diff(t, "factors of a removed user", []store.Factor(nil), list)
}

// A used step's row goes once past expiresAt; until then it refuses.
func testFactorStepsExpire(t *testing.T, s store.Store) {
	fixture(t, s)
	f := newTOTP("fac-1", "alice")
	ok(t, "CreateFactor", s.CreateFactor(t.Context(), f))
	ok(t, "UseTOTPStep", s.UseTOTPStep(t.Context(), "alice", f.ID, 5, at(time.Minute), t0))
	_, err := s.DeleteExpired(t.Context(), at(time.Minute-time.Microsecond))
	ok(t, "DeleteExpired before", err)
	wantErr(t, "replay before expiry", s.UseTOTPStep(t.Context(), "alice", f.ID, 5, at(time.Minute), t0), store.ErrConflict)
	n, err := s.DeleteExpired(t.Context(), at(time.Minute))
	ok(t, "DeleteExpired", err)
	if n < 1 {
		t.Errorf("DeleteExpired removed %d rows, want the used step", n)
	}
	ok(t, "UseTOTPStep after expiry", s.UseTOTPStep(t.Context(), "alice", f.ID, 5, at(2*time.Minute), t0))
}

// Two replicas checking the same code at once: one step, one winner.
func testRaceTOTPStep(t *testing.T, s store.Store) {
	fixture(t, s)
	f := newTOTP("fac-1", "alice")
	ok(t, "CreateFactor", s.CreateFactor(t.Context(), f))
	errs := Race(20, func(int) error {
		return s.UseTOTPStep(t.Context(), "alice", f.ID, 42, at(time.Minute), t0)
	})
	oneWinner(t, "UseTOTPStep", errs, store.ErrConflict)
}

func testRaceRecoveryCode(t *testing.T, s store.Store) {
	fixture(t, s)
	codes := recoveryHashes("a", 10)
	ok(t, "ReplaceRecoveryCodes", s.ReplaceRecoveryCodes(t.Context(), newRecovery("fac-1", "alice"), codes))
	errs := Race(20, func(int) error {
		_, err := s.UseRecoveryCode(t.Context(), "alice", codes[0], t0)
		return err
	})
	oneWinner(t, "UseRecoveryCode", errs, store.ErrNotFound)
}
