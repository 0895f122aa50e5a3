package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

var publicKeyTests = []test{
	{"AddListNewestFirst", testKeyAddList},
	{"ListUnknownUser", testKeyListUnknown},
	{"AddDuplicate", testKeyAddDuplicate},
	{"AddUnknownUser", testKeyAddUnknownUser},
	{"GetByValue", testKeyGetByValue},
	{"GetUserByKey", testGetUserByKey},
	{"Delete", testKeyDelete},
	{"PasskeysCountAsKeys", testKeyringPasskeys},
	{"ConcurrentLastKeyAndPasskey", testRaceKeyringLast},
	{"Touch", testKeyTouch},
}

func testKeyAddList(t *testing.T, s store.Store) {
	fixture(t, s) // alice-k1 at t0
	k3 := newKey("alice-k3", "alice", at(2*time.Hour))
	k2 := newKey("alice-k2", "alice", at(time.Hour))
	k2.LastUsedAt = ptr(at(90 * time.Minute))
	for _, k := range []store.PublicKey{k3, k2} { // out of order on purpose
		ok(t, "AddPublicKey "+k.ID, s.AddPublicKey(t.Context(), k))
	}
	got, err := s.ListPublicKeys(t.Context(), "alice")
	ok(t, "ListPublicKeys", err)
	diff(t, "ListPublicKeys", []store.PublicKey{k3, k2, newKey("alice-k1", "alice", t0)}, got)
}

func testKeyListUnknown(t *testing.T, s store.Store) {
	got, err := s.ListPublicKeys(t.Context(), "nope")
	ok(t, "ListPublicKeys of unknown user", err)
	if len(got) != 0 {
		t.Errorf("ListPublicKeys of unknown user = %+v, want none", got)
	}
}

func testKeyAddDuplicate(t *testing.T, s store.Store) {
	fixture(t, s)
	mustUser(t, s, "ws", "bob")
	tests := []struct {
		name string
		key  store.PublicKey
		want error
	}{
		{"same id", store.PublicKey{ID: "alice-k1", UserID: "alice", Key: keyBytes("fresh"), CreatedAt: t0}, store.ErrConflict},
		{"same bytes same user", store.PublicKey{ID: "alice-k9", UserID: "alice", Key: keyBytes("alice-k1"), CreatedAt: t0}, store.ErrConflict},
		{"same bytes other user", store.PublicKey{ID: "bob-k9", UserID: "bob", Key: keyBytes("alice-k1"), CreatedAt: t0}, nil},
	}
	for _, tt := range tests {
		wantErr(t, "AddPublicKey "+tt.name, s.AddPublicKey(t.Context(), tt.key), tt.want)
	}
	keys, err := s.ListPublicKeys(t.Context(), "alice")
	ok(t, "ListPublicKeys", err)
	if len(keys) != 1 {
		t.Errorf("alice has %d keys after refused adds, want 1", len(keys))
	}
}

func testKeyAddUnknownUser(t *testing.T, s store.Store) {
	err := s.AddPublicKey(t.Context(), newKey("k", "nope", t0))
	wantErr(t, "AddPublicKey for unknown user", err, store.ErrNotFound)
}

func testKeyGetByValue(t *testing.T, s store.Store) {
	fixture(t, s)
	mustUser(t, s, "ws", "bob")
	k2 := newKey("alice-k2", "alice", at(time.Hour))
	ok(t, "AddPublicKey", s.AddPublicKey(t.Context(), k2))
	got, err := s.GetPublicKeyByValue(t.Context(), "alice", k2.Key)
	ok(t, "GetPublicKeyByValue", err)
	diff(t, "GetPublicKeyByValue", k2, got)
	tests := []struct {
		name, user string
		key        []byte
	}{
		{"other user's key", "alice", keyBytes("bob-k1")},
		{"key of alice asked for bob", "bob", k2.Key},
		{"unknown bytes", "alice", keyBytes("nope")},
		{"unknown user", "nope", k2.Key},
	}
	for _, tt := range tests {
		_, err := s.GetPublicKeyByValue(t.Context(), tt.user, tt.key)
		wantErr(t, "GetPublicKeyByValue "+tt.name, err, store.ErrNotFound)
	}
}

// GetUserByKey is GetPublicKeyByValue plus the key's user, and finds
// nothing in exactly the cases GetPublicKeyByValue finds nothing.
func testGetUserByKey(t *testing.T, s store.Store) {
	alice := fixture(t, s)
	mustUser(t, s, "ws", "bob")
	k2 := newKey("alice-k2", "alice", at(time.Hour))
	k2.LastUsedAt = ptr(at(2 * time.Hour))
	ok(t, "AddPublicKey", s.AddPublicKey(t.Context(), k2))
	u, k, err := s.GetUserByKey(t.Context(), "alice", k2.Key)
	ok(t, "GetUserByKey", err)
	diff(t, "GetUserByKey key", k2, k)
	diff(t, "GetUserByKey user", alice, u)
	_, k, err = s.GetUserByKey(t.Context(), "alice", keyBytes("alice-k1"))
	ok(t, "GetUserByKey of the first key", err)
	diff(t, "GetUserByKey first key", newKey("alice-k1", "alice", t0), k)
	tests := []struct {
		name, user string
		key        []byte
	}{
		{"other user's key", "alice", keyBytes("bob-k1")},
		{"key of alice asked for bob", "bob", k2.Key},
		{"unknown bytes", "alice", keyBytes("nope")},
		{"unknown user", "nope", k2.Key},
	}
	for _, tt := range tests {
		_, _, err := s.GetUserByKey(t.Context(), tt.user, tt.key)
		wantErr(t, "GetUserByKey "+tt.name, err, store.ErrNotFound)
	}
}

func testKeyDelete(t *testing.T, s store.Store) {
	fixture(t, s)
	mustUser(t, s, "ws", "bob")
	ok(t, "AddPublicKey", s.AddPublicKey(t.Context(), newKey("alice-k2", "alice", at(time.Hour))))
	steps := []struct {
		name, user, key string
		want            error
	}{
		{"unknown id", "alice", "nope", store.ErrNotFound},
		{"other user's key", "alice", "bob-k1", store.ErrNotFound},
		{"one of two", "alice", "alice-k2", nil},
		{"again", "alice", "alice-k2", store.ErrNotFound},
		{"last key", "alice", "alice-k1", store.ErrConflict},
	}
	for _, st := range steps {
		wantErr(t, "DeletePublicKey "+st.name, s.DeletePublicKey(t.Context(), st.user, st.key), st.want)
	}
	for user, want := range map[string]string{"alice": "alice-k1", "bob": "bob-k1"} {
		keys, err := s.ListPublicKeys(t.Context(), user)
		ok(t, "ListPublicKeys "+user, err)
		if len(keys) != 1 || keys[0].ID != want {
			t.Errorf("keys of %s = %+v, want only %s", user, keys, want)
		}
	}
}

// testKeyringPasskeys: a passkey is a key of the keyring; whichever of
// the two kinds is the user's last key stays.
func testKeyringPasskeys(t *testing.T, s store.Store) {
	fixture(t, s)
	ok(t, "CreateFactor passkey", s.CreateFactor(t.Context(), newPasskey("fac-1", "alice", "cred-1")))
	ok(t, "CreateFactor totp", s.CreateFactor(t.Context(), newTOTP("fac-t", "alice")))
	steps := []struct {
		name, id string
		del      func(ctx context.Context, userID, id string) error
		want     error
	}{
		{"an unknown passkey", "fac-x", s.DeletePasskey, store.ErrNotFound},
		{"a TOTP factor as a passkey", "fac-t", s.DeletePasskey, store.ErrNotFound},
		{"another user's passkey", "fac-1", func(ctx context.Context, _, id string) error { return s.DeletePasskey(ctx, "bob", id) }, store.ErrNotFound},
		{"the public key beside a passkey", "alice-k1", s.DeletePublicKey, nil},
		{"the last key, a passkey", "fac-1", s.DeletePasskey, store.ErrConflict},
	}
	for _, st := range steps {
		wantErr(t, st.name, st.del(t.Context(), "alice", st.id), st.want)
	}
	ok(t, "CreateFactor second passkey", s.CreateFactor(t.Context(), newPasskey("fac-2", "alice", "cred-2")))
	ok(t, "DeletePasskey one of two", s.DeletePasskey(t.Context(), "alice", "fac-1"))
	fs, err := s.ListFactors(t.Context(), "alice")
	ok(t, "ListFactors", err)
	if len(fs) != 2 || fs[0].ID != "fac-t" || fs[1].ID != "fac-2" { // same created_at: larger id first
		t.Errorf("factors after the deletes: %+v, want fac-t and fac-2", fs)
	}
}

// testRaceKeyringLast: concurrent removals of a keyring's last two keys,
// a public key and a passkey, leave one of them: one delete succeeds,
// every other finds the last key (ErrConflict) or nothing (ErrNotFound).
// Several rounds, each with a fresh pair as alice's only keys.
func testRaceKeyringLast(t *testing.T, s store.Store) {
	fixture(t, s)
	for round := range 8 {
		key, pk := fmt.Sprintf("k-%d", round), fmt.Sprintf("fac-%d", round)
		ok(t, "AddPublicKey", s.AddPublicKey(t.Context(), newKey(key, "alice", t0)))
		ok(t, "CreateFactor passkey", s.CreateFactor(t.Context(), newPasskey(pk, "alice", "cred-"+pk)))
		before := keyringOf(t, s, "alice")
		for _, id := range before {
			if id != key && id != pk { // an earlier round's survivor
				del := s.DeletePublicKey
				if strings.HasPrefix(id, "fac-") {
					del = s.DeletePasskey
				}
				ok(t, "delete "+id, del(t.Context(), "alice", id))
			}
		}
		errs := Race(6, func(i int) error {
			if i%2 == 0 {
				return s.DeletePublicKey(t.Context(), "alice", key)
			}
			return s.DeletePasskey(t.Context(), "alice", pk)
		})
		won := 0
		for i, err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound):
				t.Errorf("round %d, delete %d: %v, want success, ErrConflict or ErrNotFound", round, i, err)
			}
		}
		if left := keyringOf(t, s, "alice"); won != 1 || len(left) != 1 {
			t.Fatalf("round %d: %d deletes succeeded, %v left; want 1 and one key left", round, won, left)
		}
	}
}

// keyringOf is the ids of the user's public keys and passkeys.
func keyringOf(t *testing.T, s store.Store, userID string) []string {
	t.Helper()
	keys, err := s.ListPublicKeys(t.Context(), userID)
	ok(t, "ListPublicKeys", err)
	fs, err := s.ListFactors(t.Context(), userID)
	ok(t, "ListFactors", err)
	var ids []string
	for _, k := range keys {
		ids = append(ids, k.ID)
	}
	for _, f := range fs {
		if f.Kind == store.FactorWebAuthn {
			ids = append(ids, f.ID)
		}
	}
	return ids
}

func testKeyTouch(t *testing.T, s store.Store) {
	fixture(t, s)
	for _, when := range []time.Time{at(time.Minute), at(time.Hour)} {
		ok(t, "TouchPublicKey", s.TouchPublicKey(t.Context(), "alice-k1", when))
		got, err := s.GetPublicKeyByValue(t.Context(), "alice", keyBytes("alice-k1"))
		ok(t, "GetPublicKeyByValue", err)
		diff(t, "LastUsedAt", ptr(when), got.LastUsedAt)
	}
	wantErr(t, "TouchPublicKey unknown", s.TouchPublicKey(t.Context(), "nope", t0), store.ErrNotFound)
}
