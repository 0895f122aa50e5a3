package storetest

import (
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

var jwtKeyTests = []test{
	{"CreateGetRoundTrip", testJWTKeyRoundTrip},
	{"Duplicate", testJWTKeyDuplicate},
	{"UnknownWorkspaceOrUser", testJWTKeyUnknownParent},
	{"GetUnknown", testJWTKeyGetUnknown},
	{"ListNewestFirst", testJWTKeyList},
	{"Delete", testJWTKeyDelete},
}

func newJWTKey(id, ws, user string, created time.Time) store.JWTKey {
	return store.JWTKey{ID: id, WorkspaceID: ws, UserID: user, Name: "jwt " + id,
		Secret: append(hash("secret:"+id), 0, 1, 2), Scopes: []string{"read", "geofences:" + id}, CreatedAt: created}
}

func mustJWTKeys(t *testing.T, s store.Store, keys ...store.JWTKey) {
	t.Helper()
	for _, k := range keys {
		ok(t, "CreateJWTKey "+k.ID, s.CreateJWTKey(t.Context(), k))
	}
}

func testJWTKeyRoundTrip(t *testing.T, s store.Store) {
	fixture(t, s)
	user := newJWTKey("6f1c0a52-0000-4000-8000-000000000001", "ws", "alice", t0.In(time.FixedZone("V", 7200)))
	admin := newJWTKey("admin-key", "ws", "", at(time.Minute))
	mustJWTKeys(t, s, user, admin)
	user.CreatedAt = t0
	for _, want := range []store.JWTKey{user, admin} {
		got, err := s.GetJWTKey(t.Context(), want.ID)
		ok(t, "GetJWTKey "+want.ID, err)
		diff(t, "GetJWTKey "+want.ID, want, got)
	}
}

func testJWTKeyDuplicate(t *testing.T, s store.Store) {
	fixture(t, s)
	orig := newJWTKey("k1", "ws", "alice", t0)
	mustJWTKeys(t, s, orig)
	dup := newJWTKey("k1", "ws", "", at(time.Hour))
	dup.Secret = hash("other")
	wantErr(t, "CreateJWTKey duplicate id", s.CreateJWTKey(t.Context(), dup), store.ErrConflict)
	got, err := s.GetJWTKey(t.Context(), "k1")
	ok(t, "GetJWTKey", err)
	diff(t, "key after refused duplicate", orig, got)
}

func testJWTKeyUnknownParent(t *testing.T, s store.Store) {
	fixture(t, s)
	for name, k := range map[string]store.JWTKey{
		"unknown workspace": newJWTKey("k1", "nope", "", t0),
		"unknown user":      newJWTKey("k2", "ws", "nope", t0),
	} {
		wantErr(t, "CreateJWTKey with "+name, s.CreateJWTKey(t.Context(), k), store.ErrNotFound)
		_, err := s.GetJWTKey(t.Context(), k.ID)
		wantErr(t, "GetJWTKey of refused key", err, store.ErrNotFound)
	}
}

func testJWTKeyGetUnknown(t *testing.T, s store.Store) {
	_, err := s.GetJWTKey(t.Context(), "nope")
	wantErr(t, "GetJWTKey unknown", err, store.ErrNotFound)
}

func testJWTKeyList(t *testing.T, s store.Store) {
	fixture(t, s)
	mustWorkspace(t, s, "ws-2")
	k1 := newJWTKey("k1", "ws", "alice", t0)
	k2 := newJWTKey("k2", "ws", "", at(time.Hour))
	k3 := newJWTKey("k3", "ws", "alice", at(time.Hour)) // ties with k2: id decides
	k4 := newJWTKey("k4", "ws-2", "", at(2*time.Hour))
	mustJWTKeys(t, s, k2, k4, k1, k3)
	tests := []struct {
		ws   string
		want []store.JWTKey
	}{
		{"ws", []store.JWTKey{k3, k2, k1}},
		{"ws-2", []store.JWTKey{k4}},
		{"nope", nil},
	}
	for _, tt := range tests {
		got, err := s.ListJWTKeys(t.Context(), tt.ws)
		ok(t, "ListJWTKeys "+tt.ws, err)
		diff(t, "ListJWTKeys "+tt.ws, tt.want, got)
	}
}

func testJWTKeyDelete(t *testing.T, s store.Store) {
	fixture(t, s)
	k1, k2 := newJWTKey("k1", "ws", "alice", t0), newJWTKey("k2", "ws", "", at(time.Hour))
	mustJWTKeys(t, s, k1, k2)
	ok(t, "DeleteJWTKey", s.DeleteJWTKey(t.Context(), "k1"))
	wantErr(t, "DeleteJWTKey again", s.DeleteJWTKey(t.Context(), "k1"), store.ErrNotFound)
	wantErr(t, "DeleteJWTKey unknown", s.DeleteJWTKey(t.Context(), "nope"), store.ErrNotFound)
	_, err := s.GetJWTKey(t.Context(), "k1")
	wantErr(t, "GetJWTKey of deleted key", err, store.ErrNotFound)
	got, err := s.ListJWTKeys(t.Context(), "ws")
	ok(t, "ListJWTKeys", err)
	diff(t, "keys after delete", []store.JWTKey{k2}, got)
}
