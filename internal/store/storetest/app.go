package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

var appTests = []test{
	{"CreateGetRoundTrip", testAppRoundTrip},
	{"Duplicate", testAppDuplicate},
	{"UnknownWorkspace", testAppUnknownWorkspace},
	{"GetUnknown", testAppGetUnknown},
	{"ListNewestFirst", testAppList},
	{"Update", testAppUpdate},
	{"UpdateFnError", testAppUpdateFnError},
	{"UpdateUnknown", testAppUpdateUnknown},
	{"Delete", testAppDelete},
}

// newApp is a confidential app of ws (client_secret_basic, a secret hash,
// two redirect URIs).
func newApp(id, ws string, created time.Time) store.App {
	return store.App{
		ID: id, WorkspaceID: ws, Name: "App " + id,
		RedirectURIs:            []string{"https://" + id + ".example/cb", "http://127.0.0.1:8080/cb"},
		PostLogoutRedirectURIs:  []string{"https://" + id + ".example/"},
		TokenEndpointAuthMethod: "client_secret_basic",
		IDTokenAlg:              "RS256",
		LoginMethods:            []string{"password", "passkey"},
		SecretHash:              hash("client-secret:" + id),
		CreatedAt:               created,
		UpdatedAt:               created,
	}
}

func mustApps(t *testing.T, s store.Store, apps ...store.App) {
	t.Helper()
	for _, a := range apps {
		ok(t, "CreateApp "+a.ID, s.CreateApp(t.Context(), a))
	}
}

// checkApp compares GetApp's answer with want.
func checkApp(t *testing.T, s store.Store, want store.App) {
	t.Helper()
	got, err := s.GetApp(t.Context(), want.ID)
	ok(t, "GetApp "+want.ID, err)
	diff(t, "stored app "+want.ID, want, got)
}

func testAppRoundTrip(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "ws")
	confidential := newApp("web", "ws", t0.In(time.FixedZone("E", -5*3600)))
	confidential.UpdatedAt = at(time.Minute)
	// A public single-page app: no secret, no lists beyond one redirect.
	public := store.App{ID: "spa", WorkspaceID: "ws", Name: "SPA",
		RedirectURIs: []string{"https://spa.example/cb"}, TokenEndpointAuthMethod: "none",
		IDTokenAlg: "EdDSA", CreatedAt: at(time.Hour), UpdatedAt: at(time.Hour)}
	mustApps(t, s, confidential, public)
	confidential.CreatedAt = t0
	checkApp(t, s, confidential)
	checkApp(t, s, public)
}

func testAppDuplicate(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "ws")
	mustWorkspace(t, s, "ws-2")
	orig := newApp("a1", "ws", t0)
	mustApps(t, s, orig)
	dup := newApp("a1", "ws-2", at(time.Hour)) // ids are global, not per workspace
	dup.Name = "other"
	wantErr(t, "CreateApp duplicate id", s.CreateApp(t.Context(), dup), store.ErrConflict)
	checkApp(t, s, orig)
}

func testAppUnknownWorkspace(t *testing.T, s store.Store) {
	err := s.CreateApp(t.Context(), newApp("a1", "nope", t0))
	wantErr(t, "CreateApp in unknown workspace", err, store.ErrNotFound)
	_, err = s.GetApp(t.Context(), "a1")
	wantErr(t, "GetApp of refused app", err, store.ErrNotFound)
}

func testAppGetUnknown(t *testing.T, s store.Store) {
	_, err := s.GetApp(t.Context(), "nope")
	wantErr(t, "GetApp unknown", err, store.ErrNotFound)
}

func testAppList(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "ws")
	mustWorkspace(t, s, "ws-2")
	a1 := newApp("a1", "ws", t0)
	a2 := newApp("B2", "ws", at(time.Hour))
	a3 := newApp("a3", "ws", at(time.Hour)) // ties with "B2": bytewise "a3" > "B2"
	a4 := newApp("a4", "ws-2", at(2*time.Hour))
	mustApps(t, s, a2, a4, a1, a3)
	tests := []struct {
		ws   string
		want []store.App
	}{
		{"ws", []store.App{a3, a2, a1}},
		{"ws-2", []store.App{a4}},
		{"nope", nil},
		{"", []store.App{a4, a3, a2, a1}}, // every workspace's
	}
	for _, tt := range tests {
		got, err := s.ListApps(t.Context(), tt.ws)
		ok(t, "ListApps "+tt.ws, err)
		diff(t, "ListApps "+tt.ws, tt.want, got)
	}
}

// testAppUpdate changes every field: the mutable ones are stored, ID,
// WorkspaceID and CreatedAt keep their stored values.
func testAppUpdate(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "ws")
	mustWorkspace(t, s, "ws-2")
	orig := newApp("a1", "ws", t0)
	mustApps(t, s, orig)
	var seen store.App
	got, err := s.UpdateApp(t.Context(), "a1", func(a *store.App) error {
		seen = *a
		a.ID, a.WorkspaceID, a.CreatedAt = "other", "ws-2", at(-time.Hour)
		a.Name = "Renamed"
		a.RedirectURIs = []string{"https://new.example/cb"}
		a.PostLogoutRedirectURIs = nil
		a.TokenEndpointAuthMethod, a.IDTokenAlg = "none", "EdDSA"
		a.LoginMethods = []string{"password"}
		a.SecretHash = nil // turned public
		a.UpdatedAt = at(time.Hour)
		return nil
	})
	ok(t, "UpdateApp", err)
	diff(t, "fn's view of the stored app", orig, seen)
	want := orig
	want.Name, want.RedirectURIs, want.PostLogoutRedirectURIs = "Renamed", []string{"https://new.example/cb"}, nil
	want.TokenEndpointAuthMethod, want.IDTokenAlg = "none", "EdDSA"
	want.LoginMethods, want.SecretHash, want.UpdatedAt = []string{"password"}, nil, at(time.Hour)
	diff(t, "UpdateApp result", want, got)
	checkApp(t, s, want)
	_, err = s.GetApp(t.Context(), "other")
	wantErr(t, "GetApp of the id fn set", err, store.ErrNotFound)
	apps, err := s.ListApps(t.Context(), "ws-2")
	ok(t, "ListApps ws-2", err)
	diff(t, "apps of the workspace fn set", []store.App(nil), apps)

	// A secret can be set again (rotated).
	got, err = s.UpdateApp(t.Context(), "a1", func(a *store.App) error {
		a.SecretHash = hash("rotated")
		return nil
	})
	ok(t, "UpdateApp secret", err)
	want.SecretHash = hash("rotated")
	diff(t, "UpdateApp secret result", want, got)
}

func testAppUpdateFnError(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "ws")
	orig := newApp("a1", "ws", t0)
	mustApps(t, s, orig)
	boom := errors.New("boom")
	_, err := s.UpdateApp(t.Context(), "a1", func(a *store.App) error {
		a.Name = "changed"
		return boom
	})
	wantErr(t, "UpdateApp with failing fn", err, boom)
	checkApp(t, s, orig)
}

func testAppUpdateUnknown(t *testing.T, s store.Store) {
	called := false
	_, err := s.UpdateApp(t.Context(), "nope", func(*store.App) error {
		called = true
		return nil
	})
	wantErr(t, "UpdateApp unknown", err, store.ErrNotFound)
	if called {
		t.Error("fn was called for an unknown app")
	}
}

// testAppDelete: the app and its authorization codes go, the sessions
// issued to it stay (with their AppID).
func testAppDelete(t *testing.T, s store.Store) {
	fixture(t, s)
	a1, a2 := newApp("a1", "ws", t0), newApp("a2", "ws", at(time.Hour))
	mustApps(t, s, a1, a2)
	code := mustAuthzCode(t, s, newAuthzCode("code", "a1", "alice", "ws"))
	sess := appSession("s1", "a1")
	_, err := s.RedeemAuthorizationCode(t.Context(), code.Hash, sess, hash("rt:s1"), at(time.Second))
	ok(t, "RedeemAuthorizationCode", err)
	pending := mustAuthzCode(t, s, newAuthzCode("pending", "a1", "alice", "ws"))

	ok(t, "DeleteApp", s.DeleteApp(t.Context(), "a1"))
	wantErr(t, "DeleteApp again", s.DeleteApp(t.Context(), "a1"), store.ErrNotFound)
	wantErr(t, "DeleteApp unknown", s.DeleteApp(t.Context(), "nope"), store.ErrNotFound)
	_, err = s.GetApp(t.Context(), "a1")
	wantErr(t, "GetApp of deleted app", err, store.ErrNotFound)
	got, err := s.ListApps(t.Context(), "ws")
	ok(t, "ListApps", err)
	diff(t, "apps after delete", []store.App{a2}, got)
	for _, c := range []store.AuthorizationCode{code, pending} {
		_, err = s.GetAuthorizationCode(t.Context(), c.Hash)
		wantErr(t, "GetAuthorizationCode of the deleted app's code", err, store.ErrNotFound)
	}
	checkSession(t, s, sess)
}
