package sqlite_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/store/sqlite"
	"github.com/sigil-auth/sigil/internal/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store { return openTemp(t) })
}

// openTemp opens a fresh store in a temporary file, closed at cleanup.
func openTemp(t testing.TB) *sqlite.Store {
	t.Helper()
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "sigil.db"))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

func TestOpenRefusesNonFilePaths(t *testing.T) {
	for _, path := range []string{"", ":memory:", "file::memory:?cache=shared", "file:x.db", "a?b.db"} {
		if s, err := sqlite.Open(t.Context(), path); err == nil {
			s.Close()
			t.Errorf("Open(%q) succeeded, want an error", path)
		}
	}
}

// Reopening a file keeps its data and finds the schema already migrated.
func TestReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sigil.db")
	w := store.Workspace{ID: "ws", Name: "WS", JoinCodeHash: []byte("h"),
		CreatedAt: time.Unix(1, 0).UTC(), UpdatedAt: time.Unix(2, 0).UTC()}
	for i := range 2 {
		s, err := sqlite.Open(t.Context(), path)
		if err != nil {
			t.Fatalf("Open #%d: %v", i, err)
		}
		if i == 0 {
			err = s.CreateWorkspace(t.Context(), w)
		} else {
			var got store.Workspace
			got, err = s.GetWorkspace(t.Context(), "ws")
			if d := cmp.Diff(w, got); err == nil && d != "" {
				t.Errorf("workspace after reopen (-want +got):\n%s", d)
			}
		}
		if err != nil {
			t.Errorf("#%d: %v", i, err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("Close #%d: %v", i, err)
		}
	}
}

// The postgres backend must ship the same migration versions and names.
func TestMigrationsMatchPostgres(t *testing.T) {
	names := func(dir string) []string {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return nil
		}
		var out []string
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".sql") {
				out = append(out, e.Name())
			}
		}
		return out
	}
	pg := names("../postgres/migrations")
	if pg == nil {
		t.Skip("no ../postgres/migrations yet")
	}
	if d := cmp.Diff(names("migrations"), pg); d != "" {
		t.Errorf("migration files differ (-sqlite +postgres):\n%s", d)
	}
}
