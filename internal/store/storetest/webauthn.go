package storetest

import (
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

var webauthnTests = []test{
	{"CreateListGetByCredential", testPasskeyCRUD},
	{"CredentialIDUnique", testPasskeyUnique},
	{"SignCount", testPasskeyCounter},
	{"BackupStateMayChange", testPasskeyBackupState},
	{"UseUnknown", testPasskeyUnknown},
	{"GoWithTheFactor", testPasskeyDeleted},
	{"ConcurrentCountOneWinner", testRacePasskeyCount},
	{"FactorKindsAndReset", testFactorKindsAndReset},
}

func newPasskey(id, userID, credID string) store.Factor {
	return store.Factor{ID: id, UserID: userID, Kind: store.FactorWebAuthn, Name: "YubiKey " + id,
		CreatedAt: t0, ConfirmedAt: ptr(t0), WebAuthn: &store.WebAuthnCredential{
			CredentialID: []byte(credID), PublicKey: []byte("cose:" + credID), RPID: "sigil.example",
			AAGUID: make([]byte, 16), SignCount: 7, BackupEligible: true, BackupState: false,
			Transports: []string{"internal", "hybrid"}, Attachment: "platform"}}
}

func testPasskeyCRUD(t *testing.T, s store.Store) {
	fixture(t, s)
	totp := newTOTP("fac-0", "alice")
	ok(t, "CreateFactor totp", s.CreateFactor(t.Context(), totp))
	pk := newPasskey("fac-1", "alice", "cred-1")
	pk.CreatedAt = at(time.Second)
	ok(t, "CreateFactor passkey", s.CreateFactor(t.Context(), pk))
	bare := newPasskey("fac-2", "alice", "cred-2")
	bare.CreatedAt, bare.WebAuthn.AAGUID, bare.WebAuthn.Transports, bare.WebAuthn.Attachment = at(2*time.Second), nil, nil, ""
	ok(t, "CreateFactor passkey without transports", s.CreateFactor(t.Context(), bare))
	list, err := s.ListFactors(t.Context(), "alice")
	ok(t, "ListFactors", err)
	diff(t, "factors with their credentials, newest first", []store.Factor{bare, pk, totp}, list)
	got, err := s.GetFactor(t.Context(), "alice", pk.ID)
	ok(t, "GetFactor", err)
	diff(t, "GetFactor", pk, got)
	got, err = s.GetFactorByCredential(t.Context(), []byte("cred-2"))
	ok(t, "GetFactorByCredential", err)
	diff(t, "GetFactorByCredential", bare, got)
	_, err = s.GetFactorByCredential(t.Context(), []byte("cred-x"))
	wantErr(t, "GetFactorByCredential unknown", err, store.ErrNotFound)
}

func testPasskeyUnique(t *testing.T, s store.Store) {
	fixture(t, s)
	mustUser(t, s, "ws", "bob")
	ok(t, "CreateFactor", s.CreateFactor(t.Context(), newPasskey("fac-1", "alice", "cred-1")))
	wantErr(t, "the same credential for another user",
		s.CreateFactor(t.Context(), newPasskey("fac-2", "bob", "cred-1")), store.ErrConflict)
	// Nothing of the refused factor was stored.
	_, err := s.GetFactor(t.Context(), "bob", "fac-2")
	wantErr(t, "GetFactor of the refused factor", err, store.ErrNotFound)
	wantErr(t, "a passkey for an unknown user",
		s.CreateFactor(t.Context(), newPasskey("fac-3", "nobody", "cred-3")), store.ErrNotFound)
}

func testPasskeyCounter(t *testing.T, s store.Store) {
	fixture(t, s)
	pk := newPasskey("fac-1", "alice", "cred-1") // count 7
	zero := newPasskey("fac-2", "alice", "cred-2")
	zero.WebAuthn.SignCount = 0
	ok(t, "CreateFactor", s.CreateFactor(t.Context(), pk))
	ok(t, "CreateFactor zero", s.CreateFactor(t.Context(), zero))
	tests := []struct {
		name   string
		id     string
		count  int64
		want   error
		stored int64
	}{
		{"forward", pk.ID, 9, nil, 9},
		{"the same count again", pk.ID, 9, store.ErrConflict, 9},
		{"backwards", pk.ID, 3, store.ErrConflict, 9},
		{"zero after a count", pk.ID, 0, store.ErrConflict, 9},
		{"far forward", pk.ID, 1<<32 - 1, nil, 1<<32 - 1},
		{"a counter that stays 0", zero.ID, 0, nil, 0},
		{"and again", zero.ID, 0, nil, 0},
		{"a counter that starts counting", zero.ID, 1, nil, 1},
		{"and then is 0", zero.ID, 0, store.ErrConflict, 1},
	}
	for i, tt := range tests {
		now := at(time.Duration(i+1) * time.Minute).Truncate(time.Microsecond) // as stored
		wantErr(t, tt.name, s.UseWebAuthnCredential(t.Context(), "alice", tt.id, tt.count, false, now), tt.want)
		got, err := s.GetFactor(t.Context(), "alice", tt.id)
		ok(t, "GetFactor", err)
		if got.WebAuthn.SignCount != tt.stored {
			t.Errorf("%s: stored count %d, want %d", tt.name, got.WebAuthn.SignCount, tt.stored)
		}
		if tt.want == nil && (got.LastUsedAt == nil || !got.LastUsedAt.Equal(now)) {
			t.Errorf("%s: LastUsedAt %v, want %v", tt.name, got.LastUsedAt, now)
		}
	}
}

func testPasskeyBackupState(t *testing.T, s store.Store) {
	fixture(t, s)
	pk := newPasskey("fac-1", "alice", "cred-1")
	ok(t, "CreateFactor", s.CreateFactor(t.Context(), pk))
	for i, bs := range []bool{true, false, true} {
		ok(t, "UseWebAuthnCredential", s.UseWebAuthnCredential(t.Context(), "alice", pk.ID, int64(10+i), bs, t0))
		got, err := s.GetFactor(t.Context(), "alice", pk.ID)
		ok(t, "GetFactor", err)
		if got.WebAuthn.BackupState != bs || !got.WebAuthn.BackupEligible {
			t.Errorf("use %d: BE %v BS %v, want BE true BS %v", i, got.WebAuthn.BackupEligible, got.WebAuthn.BackupState, bs)
		}
	}
}

func testPasskeyUnknown(t *testing.T, s store.Store) {
	fixture(t, s)
	mustUser(t, s, "ws", "bob")
	ok(t, "CreateFactor", s.CreateFactor(t.Context(), newPasskey("fac-1", "alice", "cred-1")))
	ok(t, "CreateFactor totp", s.CreateFactor(t.Context(), newTOTP("fac-2", "alice")))
	for _, tt := range []struct{ name, user, id string }{
		{"unknown factor", "alice", "fac-x"},
		{"another user's passkey", "bob", "fac-1"},
		{"a factor of another kind", "alice", "fac-2"},
	} {
		wantErr(t, tt.name, s.UseWebAuthnCredential(t.Context(), tt.user, tt.id, 100, false, t0), store.ErrNotFound)
	}
}

func testPasskeyDeleted(t *testing.T, s store.Store) {
	fixture(t, s)
	pk := newPasskey("fac-1", "alice", "cred-1")
	ok(t, "CreateFactor", s.CreateFactor(t.Context(), pk))
	ok(t, "DeleteFactor", s.DeleteFactor(t.Context(), "alice", pk.ID))
	_, err := s.GetFactorByCredential(t.Context(), []byte("cred-1"))
	wantErr(t, "GetFactorByCredential after DeleteFactor", err, store.ErrNotFound)
	// The credential id is free again: the same authenticator may enrol anew.
	ok(t, "CreateFactor again", s.CreateFactor(t.Context(), newPasskey("fac-2", "alice", "cred-1")))
}

func testRacePasskeyCount(t *testing.T, s store.Store) {
	fixture(t, s)
	pk := newPasskey("fac-1", "alice", "cred-1")
	ok(t, "CreateFactor", s.CreateFactor(t.Context(), pk))
	errs := Race(20, func(int) error {
		return s.UseWebAuthnCredential(t.Context(), "alice", pk.ID, 8, true, t0)
	})
	oneWinner(t, "UseWebAuthnCredential", errs, store.ErrConflict)
}

func testFactorKindsAndReset(t *testing.T, s store.Store) {
	fixture(t, s)
	mustUser(t, s, "ws", "bob")
	mustUser(t, s, "ws", "carol")
	mustWorkspace(t, s, "other")
	mustUser(t, s, "other", "dave")
	ok(t, "CreateFactor", s.CreateFactor(t.Context(), newPasskey("fac-1", "alice", "cred-1")))
	ok(t, "CreateFactor", s.CreateFactor(t.Context(), newPasskey("fac-2", "alice", "cred-2")))
	totp := newTOTP("fac-3", "alice")
	totp.ConfirmedAt = ptr(t0)
	ok(t, "CreateFactor", s.CreateFactor(t.Context(), totp))
	ok(t, "ReplaceRecoveryCodes", s.ReplaceRecoveryCodes(t.Context(), newRecovery("fac-4", "alice"), recoveryHashes("a", 3)))
	ok(t, "CreateFactor pending", s.CreateFactor(t.Context(), newTOTP("fac-5", "bob"))) // pending: not counted
	ok(t, "CreateFactor", s.CreateFactor(t.Context(), newPasskey("fac-6", "dave", "cred-6")))
	got, err := s.ListFactorKinds(t.Context(), "ws")
	ok(t, "ListFactorKinds", err)
	diff(t, "factor kinds", map[string][]string{"alice": {store.FactorRecovery, store.FactorTOTP, store.FactorWebAuthn}}, got)
	n, err := s.DeleteFactors(t.Context(), "alice")
	ok(t, "DeleteFactors", err)
	if n != 4 {
		t.Errorf("DeleteFactors removed %d, want 4", n)
	}
	_, err = s.GetFactorByCredential(t.Context(), []byte("cred-1"))
	wantErr(t, "a reset passkey", err, store.ErrNotFound)
	if _, err := s.UseRecoveryCode(t.Context(), "alice", recoveryHashes("a", 3)[0], t0); err == nil {
		t.Error("a recovery code of a reset person still works")
	}
	n, err = s.DeleteFactors(t.Context(), "carol")
	ok(t, "DeleteFactors of none", err)
	if n != 0 {
		t.Errorf("DeleteFactors of none removed %d", n)
	}
	if got, _ := s.ListFactorKinds(t.Context(), "other"); len(got["dave"]) != 1 {
		t.Errorf("another workspace's factors: %v", got)
	}
}
