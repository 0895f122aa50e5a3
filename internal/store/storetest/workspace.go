package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

var workspaceTests = []test{
	{"CreateGetRoundTrip", testWorkspaceRoundTrip},
	{"RefreshGraceNilZeroSet", testWorkspaceGrace},
	{"DuplicateID", testWorkspaceDuplicateID},
	{"DuplicateJoinCode", testWorkspaceDuplicateJoinCode},
	{"GetUnknown", testWorkspaceGetUnknown},
	{"GetByJoinCode", testWorkspaceByJoinCode},
	{"Update", testWorkspaceUpdate},
	{"UpdateFnError", testWorkspaceUpdateFnError},
	{"UpdateUnknown", testWorkspaceUpdateUnknown},
	{"UpdateJoinCodeConflict", testWorkspaceUpdateConflict},
	{"UpdateBranding", testWorkspaceBranding},
	{"UpdateRequireMFA", testWorkspaceRequireMFA},
}

func testWorkspaceRoundTrip(t *testing.T, s store.Store) {
	// A non-UTC input must come back as the same instant in UTC.
	cet := time.FixedZone("CET", 3600)
	w := store.Workspace{
		ID: "ws-full", Name: "Full", JoinCodeHash: hash("join"),
		DefaultScopes: []string{"read", "write", "geofences:read"},
		AccessTTL:     4 * time.Hour, RefreshTTL: 720 * time.Hour,
		SessionMaxAge: 24 * time.Hour, RefreshGrace: ptr(10 * time.Second),
		JWTMaxLifetime: 15 * time.Minute,
		DisplayName:    "Full Corp", LogoURL: "https://full.example/logo.svg", AccentColor: "#0a7cff",
		CreatedAt: t0.In(cet), UpdatedAt: at(time.Minute).In(cet),
	}
	ok(t, "CreateWorkspace", s.CreateWorkspace(t.Context(), w))
	got, err := s.GetWorkspace(t.Context(), w.ID)
	ok(t, "GetWorkspace", err)
	want := w
	want.CreatedAt, want.UpdatedAt = t0, at(time.Minute)
	diff(t, "GetWorkspace", want, got)
}

func testWorkspaceGrace(t *testing.T, s store.Store) {
	tests := []struct {
		name  string
		grace *time.Duration
	}{
		{"unset", nil},
		{"off", ptr(time.Duration(0))},
		{"ten-seconds", ptr(10 * time.Second)},
	}
	for _, tt := range tests {
		w := newWorkspace("ws-" + tt.name)
		w.RefreshGrace = tt.grace
		ok(t, "CreateWorkspace "+tt.name, s.CreateWorkspace(t.Context(), w))
		got, err := s.GetWorkspace(t.Context(), w.ID)
		ok(t, "GetWorkspace "+tt.name, err)
		diff(t, "RefreshGrace "+tt.name, tt.grace, got.RefreshGrace)
	}
	// Updates move between the three states too.
	for _, tt := range tests {
		got, err := s.UpdateWorkspace(t.Context(), "ws-ten-seconds", func(w *store.Workspace) error {
			w.RefreshGrace = tt.grace
			return nil
		})
		ok(t, "UpdateWorkspace grace "+tt.name, err)
		diff(t, "updated RefreshGrace "+tt.name, tt.grace, got.RefreshGrace)
		stored, err := s.GetWorkspace(t.Context(), "ws-ten-seconds")
		ok(t, "GetWorkspace", err)
		diff(t, "stored RefreshGrace "+tt.name, tt.grace, stored.RefreshGrace)
	}
}

func testWorkspaceDuplicateID(t *testing.T, s store.Store) {
	mustWorkspace(t, s, "ws")
	dup := newWorkspace("ws")
	dup.JoinCodeHash = hash("another join code")
	wantErr(t, "CreateWorkspace duplicate id", s.CreateWorkspace(t.Context(), dup), store.ErrConflict)
}

func testWorkspaceDuplicateJoinCode(t *testing.T, s store.Store) {
	w := mustWorkspace(t, s, "ws-a")
	dup := newWorkspace("ws-b")
	dup.JoinCodeHash = w.JoinCodeHash
	wantErr(t, "CreateWorkspace duplicate join code", s.CreateWorkspace(t.Context(), dup), store.ErrConflict)
	_, err := s.GetWorkspace(t.Context(), "ws-b")
	wantErr(t, "GetWorkspace of refused workspace", err, store.ErrNotFound)
}

func testWorkspaceGetUnknown(t *testing.T, s store.Store) {
	_, err := s.GetWorkspace(t.Context(), "nope")
	wantErr(t, "GetWorkspace unknown", err, store.ErrNotFound)
	_, err = s.GetWorkspaceByJoinCode(t.Context(), hash("nope"))
	wantErr(t, "GetWorkspaceByJoinCode unknown", err, store.ErrNotFound)
}

func testWorkspaceByJoinCode(t *testing.T, s store.Store) {
	a := mustWorkspace(t, s, "ws-a")
	b := mustWorkspace(t, s, "ws-b")
	for _, w := range []store.Workspace{a, b} {
		got, err := s.GetWorkspaceByJoinCode(t.Context(), w.JoinCodeHash)
		ok(t, "GetWorkspaceByJoinCode "+w.ID, err)
		diff(t, "GetWorkspaceByJoinCode "+w.ID, w, got)
	}
}

func testWorkspaceUpdate(t *testing.T, s store.Store) {
	orig := mustWorkspace(t, s, "ws")
	var seen store.Workspace
	got, err := s.UpdateWorkspace(t.Context(), "ws", func(w *store.Workspace) error {
		seen = *w
		w.Name = "Renamed"
		w.JoinCodeHash = hash("new join code")
		w.DefaultScopes = []string{"read"}
		w.AccessTTL, w.RefreshTTL, w.SessionMaxAge = time.Hour, 2*time.Hour, 3*time.Hour
		w.RefreshGrace = ptr(5 * time.Second)
		w.JWTMaxLifetime = time.Hour
		w.UpdatedAt = at(time.Hour)
		return nil
	})
	ok(t, "UpdateWorkspace", err)
	diff(t, "fn's view of the stored workspace", orig, seen)
	want := orig
	want.Name, want.JoinCodeHash, want.DefaultScopes = "Renamed", hash("new join code"), []string{"read"}
	want.AccessTTL, want.RefreshTTL, want.SessionMaxAge = time.Hour, 2*time.Hour, 3*time.Hour
	want.RefreshGrace, want.UpdatedAt = ptr(5*time.Second), at(time.Hour)
	want.JWTMaxLifetime = time.Hour
	diff(t, "UpdateWorkspace result", want, got)
	stored, err := s.GetWorkspace(t.Context(), "ws")
	ok(t, "GetWorkspace", err)
	diff(t, "stored workspace", want, stored)
	// The old join code is dead, the new one finds the workspace.
	_, err = s.GetWorkspaceByJoinCode(t.Context(), orig.JoinCodeHash)
	wantErr(t, "old join code", err, store.ErrNotFound)
	byCode, err := s.GetWorkspaceByJoinCode(t.Context(), hash("new join code"))
	ok(t, "new join code", err)
	diff(t, "workspace by new join code", want, byCode)
}

func testWorkspaceUpdateFnError(t *testing.T, s store.Store) {
	orig := mustWorkspace(t, s, "ws")
	boom := errors.New("boom")
	_, err := s.UpdateWorkspace(t.Context(), "ws", func(w *store.Workspace) error {
		w.Name = "changed"
		return boom
	})
	wantErr(t, "UpdateWorkspace with failing fn", err, boom)
	stored, err := s.GetWorkspace(t.Context(), "ws")
	ok(t, "GetWorkspace", err)
	diff(t, "workspace after aborted update", orig, stored)
}

func testWorkspaceUpdateUnknown(t *testing.T, s store.Store) {
	called := false
	_, err := s.UpdateWorkspace(t.Context(), "nope", func(*store.Workspace) error {
		called = true
		return nil
	})
	wantErr(t, "UpdateWorkspace unknown", err, store.ErrNotFound)
	if called {
		t.Error("fn was called for an unknown workspace")
	}
}

func testWorkspaceUpdateConflict(t *testing.T, s store.Store) {
	a := mustWorkspace(t, s, "ws-a")
	b := mustWorkspace(t, s, "ws-b")
	_, err := s.UpdateWorkspace(t.Context(), "ws-b", func(w *store.Workspace) error {
		w.Name = "stolen"
		w.JoinCodeHash = a.JoinCodeHash
		return nil
	})
	wantErr(t, "UpdateWorkspace to a taken join code", err, store.ErrConflict)
	stored, err := s.GetWorkspace(t.Context(), "ws-b")
	ok(t, "GetWorkspace", err)
	diff(t, "workspace after refused update", b, stored)
}

// testWorkspaceBranding sets the hosted pages' branding through
// UpdateWorkspace and clears it again ("" = Sigil's defaults).
func testWorkspaceBranding(t *testing.T, s store.Store) {
	orig := mustWorkspace(t, s, "ws")
	tests := []struct{ name, display, logo, accent string }{
		{"set", "Acme Tracking", "https://acme.example/logo.png", "#ff6600"},
		{"change one", "Acme Tracking", "https://acme.example/logo.png", "#123456"},
		{"clear", "", "", ""},
	}
	for _, tt := range tests {
		got, err := s.UpdateWorkspace(t.Context(), "ws", func(w *store.Workspace) error {
			w.DisplayName, w.LogoURL, w.AccentColor = tt.display, tt.logo, tt.accent
			return nil
		})
		ok(t, "UpdateWorkspace "+tt.name, err)
		want := orig
		want.DisplayName, want.LogoURL, want.AccentColor = tt.display, tt.logo, tt.accent
		diff(t, "UpdateWorkspace result "+tt.name, want, got)
		stored, err := s.GetWorkspace(t.Context(), "ws")
		ok(t, "GetWorkspace "+tt.name, err)
		diff(t, "stored workspace "+tt.name, want, stored)
	}
}

func testWorkspaceRequireMFA(t *testing.T, s store.Store) {
	orig := mustWorkspace(t, s, "ws")
	since := t0.Truncate(time.Microsecond)
	tests := []struct {
		name, policy string
		since        *time.Time
	}{
		{"admins", store.RequireMFAAdmins, &since},
		{"all", store.RequireMFAAll, ptr(since.Add(time.Hour))},
		{"none", "", nil},
	}
	for _, tt := range tests {
		got, err := s.UpdateWorkspace(t.Context(), "ws", func(w *store.Workspace) error {
			w.RequireMFA, w.RequireMFASince = tt.policy, tt.since
			return nil
		})
		ok(t, "UpdateWorkspace "+tt.name, err)
		want := orig
		want.RequireMFA, want.RequireMFASince = tt.policy, tt.since
		diff(t, "UpdateWorkspace result "+tt.name, want, got)
		stored, err := s.GetWorkspace(t.Context(), "ws")
		ok(t, "GetWorkspace "+tt.name, err)
		diff(t, "stored workspace "+tt.name, want, stored)
	}
}
