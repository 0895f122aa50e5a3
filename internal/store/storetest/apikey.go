package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

var apiKeyTests = []test{
	{"CreateGetRoundTrip", testAPIKeyRoundTrip},
	{"Duplicate", testAPIKeyDuplicate},
	{"UnknownWorkspaceOrUser", testAPIKeyUnknownParent},
	{"GetUnknown", testAPIKeyGetUnknown},
	{"ListNewestFirst", testAPIKeyList},
	{"Update", testAPIKeyUpdate},
	{"UpdateFnError", testAPIKeyUpdateFnError},
	{"UpdateUnknown", testAPIKeyUpdateUnknown},
	{"Touch", testAPIKeyTouch},
}

// newAPIKey is a live key of ws created by user ("" = the admin).
func newAPIKey(id, ws, user string, created time.Time) store.APIKey {
	return store.APIKey{ID: id, WorkspaceID: ws, UserID: user, Name: "key " + id,
		Prefix: "sgk_" + id, Hash: hash("apikey:" + id), Scopes: []string{"read", "write"},
		CreatedAt: created}
}

func mustAPIKey(t *testing.T, s store.Store, k store.APIKey) store.APIKey {
	t.Helper()
	ok(t, "CreateAPIKey "+k.ID, s.CreateAPIKey(t.Context(), k))
	return k
}

// checkAPIKey looks k up by id and by hash and compares both with want.
func checkAPIKey(t *testing.T, s store.Store, want store.APIKey) {
	t.Helper()
	got, err := s.GetAPIKey(t.Context(), want.ID)
	ok(t, "GetAPIKey "+want.ID, err)
	diff(t, "GetAPIKey "+want.ID, want, got)
	got, err = s.GetAPIKeyByHash(t.Context(), want.Hash)
	ok(t, "GetAPIKeyByHash "+want.ID, err)
	diff(t, "GetAPIKeyByHash "+want.ID, want, got)
}

func testAPIKeyRoundTrip(t *testing.T, s store.Store) {
	fixture(t, s)
	full := newAPIKey("full", "ws", "alice", t0.In(time.FixedZone("Z", 3600)))
	full.ExpiresAt, full.RevokedAt = ptr(at(48*time.Hour)), ptr(at(time.Hour))
	full.LastUsedAt = ptr(at(30 * time.Minute))
	admin := newAPIKey("admin", "ws", "", at(time.Minute)) // admin-created
	admin.Scopes = nil
	for _, k := range []store.APIKey{full, admin} {
		mustAPIKey(t, s, k)
	}
	full.CreatedAt = t0
	checkAPIKey(t, s, full)
	checkAPIKey(t, s, admin)
}

func testAPIKeyDuplicate(t *testing.T, s store.Store) {
	fixture(t, s)
	orig := mustAPIKey(t, s, newAPIKey("k1", "ws", "alice", t0))
	sameID := newAPIKey("k1", "ws", "alice", t0)
	sameID.Hash = hash("another key")
	sameHash := newAPIKey("k2", "ws", "alice", t0)
	sameHash.Hash = orig.Hash
	for name, k := range map[string]store.APIKey{"same id": sameID, "same hash": sameHash} {
		wantErr(t, "CreateAPIKey "+name, s.CreateAPIKey(t.Context(), k), store.ErrConflict)
	}
	checkAPIKey(t, s, orig)
	_, err := s.GetAPIKey(t.Context(), "k2")
	wantErr(t, "GetAPIKey of refused key", err, store.ErrNotFound)
}

func testAPIKeyUnknownParent(t *testing.T, s store.Store) {
	fixture(t, s)
	for name, k := range map[string]store.APIKey{
		"unknown workspace": newAPIKey("k1", "nope", "", t0),
		"unknown user":      newAPIKey("k2", "ws", "nope", t0),
	} {
		wantErr(t, "CreateAPIKey with "+name, s.CreateAPIKey(t.Context(), k), store.ErrNotFound)
		_, err := s.GetAPIKey(t.Context(), k.ID)
		wantErr(t, "GetAPIKey of refused key", err, store.ErrNotFound)
	}
}

func testAPIKeyGetUnknown(t *testing.T, s store.Store) {
	_, err := s.GetAPIKey(t.Context(), "nope")
	wantErr(t, "GetAPIKey unknown", err, store.ErrNotFound)
	_, err = s.GetAPIKeyByHash(t.Context(), hash("nope"))
	wantErr(t, "GetAPIKeyByHash unknown", err, store.ErrNotFound)
}

func testAPIKeyList(t *testing.T, s store.Store) {
	fixture(t, s)
	mustUser(t, s, "ws", "bob")
	mustWorkspace(t, s, "ws-2")
	mustUser(t, s, "ws-2", "carol")
	k1 := newAPIKey("k1", "ws", "alice", t0)
	k2 := newAPIKey("k2", "ws", "bob", at(time.Hour))
	k3 := newAPIKey("k3", "ws", "", at(2*time.Hour))
	k3.RevokedAt = ptr(at(3 * time.Hour)) // revoked keys are listed too
	// k4 ties with k2 on CreatedAt: the id decides.
	k4 := newAPIKey("k4", "ws", "alice", at(time.Hour))
	k5 := newAPIKey("k5", "ws-2", "carol", at(time.Hour))
	for _, k := range []store.APIKey{k3, k1, k5, k2, k4} {
		mustAPIKey(t, s, k)
	}
	tests := []struct {
		ws, user string
		want     []store.APIKey
	}{
		{"ws", "", []store.APIKey{k3, k4, k2, k1}},
		{"ws", "alice", []store.APIKey{k4, k1}},
		{"ws", "bob", []store.APIKey{k2}},
		{"ws", "carol", nil},
		{"ws-2", "", []store.APIKey{k5}},
		{"nope", "", nil},
	}
	for _, tt := range tests {
		got, err := s.ListAPIKeys(t.Context(), tt.ws, tt.user)
		ok(t, "ListAPIKeys "+tt.ws+"/"+tt.user, err)
		diff(t, "ListAPIKeys "+tt.ws+"/"+tt.user, tt.want, got)
	}
}

func testAPIKeyUpdate(t *testing.T, s store.Store) {
	fixture(t, s)
	mustUser(t, s, "ws", "bob")
	orig := newAPIKey("k1", "ws", "alice", t0)
	orig.LastUsedAt = ptr(at(time.Minute))
	mustAPIKey(t, s, orig)
	var seen store.APIKey
	got, err := s.UpdateAPIKey(t.Context(), "k1", func(k *store.APIKey) error {
		seen = *k
		k.Name, k.ExpiresAt, k.RevokedAt = "renamed", ptr(at(time.Hour)), ptr(at(2*time.Hour))
		// Not updatable: ignored.
		k.ID, k.WorkspaceID, k.UserID, k.Prefix = "k9", "ws-2", "bob", "other"
		k.Hash, k.Scopes, k.CreatedAt = hash("other"), []string{"admin"}, at(time.Hour)
		k.LastUsedAt = nil
		return nil
	})
	ok(t, "UpdateAPIKey", err)
	diff(t, "fn's view of the stored key", orig, seen)
	want := orig
	want.Name, want.ExpiresAt, want.RevokedAt = "renamed", ptr(at(time.Hour)), ptr(at(2*time.Hour))
	diff(t, "UpdateAPIKey result", want, got)
	checkAPIKey(t, s, want)

	// nil clears the optional times.
	got, err = s.UpdateAPIKey(t.Context(), "k1", func(k *store.APIKey) error {
		k.ExpiresAt, k.RevokedAt = nil, nil
		return nil
	})
	ok(t, "UpdateAPIKey clearing", err)
	want.ExpiresAt, want.RevokedAt = nil, nil
	diff(t, "UpdateAPIKey result after clearing", want, got)
	checkAPIKey(t, s, want)
}

func testAPIKeyUpdateFnError(t *testing.T, s store.Store) {
	fixture(t, s)
	orig := mustAPIKey(t, s, newAPIKey("k1", "ws", "alice", t0))
	boom := errors.New("boom")
	_, err := s.UpdateAPIKey(t.Context(), "k1", func(k *store.APIKey) error {
		k.RevokedAt = ptr(at(time.Hour))
		return boom
	})
	wantErr(t, "UpdateAPIKey with failing fn", err, boom)
	checkAPIKey(t, s, orig)
}

func testAPIKeyUpdateUnknown(t *testing.T, s store.Store) {
	called := false
	_, err := s.UpdateAPIKey(t.Context(), "nope", func(*store.APIKey) error {
		called = true
		return nil
	})
	wantErr(t, "UpdateAPIKey unknown", err, store.ErrNotFound)
	if called {
		t.Error("fn was called for an unknown key")
	}
}

func testAPIKeyTouch(t *testing.T, s store.Store) {
	fixture(t, s)
	want := newAPIKey("k1", "ws", "alice", t0)
	want.RevokedAt = ptr(at(time.Second)) // touching does not care
	mustAPIKey(t, s, want)
	for _, when := range []time.Time{at(time.Hour), at(time.Minute)} {
		ok(t, "TouchAPIKey", s.TouchAPIKey(t.Context(), "k1", when))
		want.LastUsedAt = ptr(when)
		checkAPIKey(t, s, want)
	}
	wantErr(t, "TouchAPIKey unknown", s.TouchAPIKey(t.Context(), "nope", t0), store.ErrNotFound)
}
