package storetest

import (
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

var signingKeyTests = []test{
	{"CreateListNewestFirst", testSigningCreateList},
	{"ListEmpty", testSigningListEmpty},
	{"Duplicate", testSigningDuplicate},
	{"Update", testSigningUpdate},
	{"UpdateUnknown", testSigningUpdateUnknown},
	{"Delete", testSigningDelete},
}

func newSigningKey(id string, created time.Time) store.SigningKey {
	return store.SigningKey{
		ID: id, Algorithm: "EdDSA",
		PrivateKey: hash("private:" + id), PublicKey: hash("public:" + id),
		CreatedAt: created, ActiveFrom: created.Add(time.Hour),
	}
}

func mustSigningKeys(t *testing.T, s store.Store, keys ...store.SigningKey) {
	t.Helper()
	for _, k := range keys {
		ok(t, "CreateSigningKey "+k.ID, s.CreateSigningKey(t.Context(), k))
	}
}

func testSigningCreateList(t *testing.T, s store.Store) {
	k1 := newSigningKey("k1", t0)
	k1.RetiredAt, k1.PublishUntil = ptr(at(48*time.Hour)), ptr(at(72*time.Hour))
	k2 := newSigningKey("k2", at(24*time.Hour))
	k2.Algorithm = "ES256"
	k3 := newSigningKey("k3", at(48*time.Hour))
	mustSigningKeys(t, s, k2, k3, k1) // out of order on purpose
	got, err := s.ListSigningKeys(t.Context())
	ok(t, "ListSigningKeys", err)
	diff(t, "ListSigningKeys", []store.SigningKey{k3, k2, k1}, got)
}

func testSigningListEmpty(t *testing.T, s store.Store) {
	got, err := s.ListSigningKeys(t.Context())
	ok(t, "ListSigningKeys", err)
	if len(got) != 0 {
		t.Errorf("ListSigningKeys on an empty store = %+v", got)
	}
}

func testSigningDuplicate(t *testing.T, s store.Store) {
	mustSigningKeys(t, s, newSigningKey("k1", t0))
	err := s.CreateSigningKey(t.Context(), newSigningKey("k1", at(time.Hour)))
	wantErr(t, "CreateSigningKey duplicate", err, store.ErrConflict)
}

func testSigningUpdate(t *testing.T, s store.Store) {
	orig := newSigningKey("k1", t0)
	mustSigningKeys(t, s, orig)
	tests := []struct {
		name                    string
		retiredAt, publishUntil *time.Time
	}{
		{"retire", ptr(at(time.Hour)), ptr(at(26 * time.Hour))},
		{"move", ptr(at(2 * time.Hour)), ptr(at(27 * time.Hour))},
		{"clear", nil, nil},
	}
	for _, tt := range tests {
		// Only RetiredAt and PublishUntil are stored; the rest is ignored.
		upd := newSigningKey("k1", at(99*time.Hour))
		upd.Algorithm, upd.PrivateKey = "ES256", hash("other")
		upd.RetiredAt, upd.PublishUntil = tt.retiredAt, tt.publishUntil
		ok(t, "UpdateSigningKey "+tt.name, s.UpdateSigningKey(t.Context(), upd))
		want := orig
		want.RetiredAt, want.PublishUntil = tt.retiredAt, tt.publishUntil
		got, err := s.ListSigningKeys(t.Context())
		ok(t, "ListSigningKeys", err)
		diff(t, "key after "+tt.name, []store.SigningKey{want}, got)
	}
}

func testSigningUpdateUnknown(t *testing.T, s store.Store) {
	err := s.UpdateSigningKey(t.Context(), newSigningKey("nope", t0))
	wantErr(t, "UpdateSigningKey unknown", err, store.ErrNotFound)
}

func testSigningDelete(t *testing.T, s store.Store) {
	k1, k2 := newSigningKey("k1", t0), newSigningKey("k2", at(time.Hour))
	mustSigningKeys(t, s, k1, k2)
	ok(t, "DeleteSigningKey", s.DeleteSigningKey(t.Context(), "k1"))
	wantErr(t, "DeleteSigningKey again", s.DeleteSigningKey(t.Context(), "k1"), store.ErrNotFound)
	got, err := s.ListSigningKeys(t.Context())
	ok(t, "ListSigningKeys", err)
	diff(t, "keys after delete", []store.SigningKey{k2}, got)
}
