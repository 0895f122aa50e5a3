package store_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestMigrationsMatch checks that both backends list the same migration
// files (version and name), so that a schema change made in one dialect
// is not forgotten in the other. It reads the folders from disk rather
// than importing the backends.
func TestMigrationsMatch(t *testing.T) {
	sqlite := migrationFiles(t, filepath.Join("sqlite", "migrations"))
	postgres := migrationFiles(t, filepath.Join("postgres", "migrations"))
	if len(postgres) == 0 {
		t.Fatal("postgres/migrations holds no .sql file")
	}
	if d := cmp.Diff(sqlite, postgres); d != "" {
		t.Errorf("migration files differ (-sqlite +postgres):\n%s", d)
	}
}

// migrationFiles lists the .sql files of dir, sorted.
func migrationFiles(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatalf("read %s: %v", dir, err)
	}
	var names []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, e.Name())
		}
	}
	slices.Sort(names)
	return names
}
