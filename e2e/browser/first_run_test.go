package browser

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// setupURLRE finds the first-run link in `sigil serve`'s JSON log.
var setupURLRE = regexp.MustCompile(`"setup_url":"(http://[^"]+/setup\?token=st_[A-Za-z0-9_-]+)"`)

// TestFirstRun drives the first-run setup page (which the shared set-up
// of TestHostedSignIn cannot reach: it has accounts) on a sigil of its
// own with an empty SQLite database: first-run/*.test.mjs gets the link
// the server logged. Its screenshots go beside the SQLite run's.
func TestFirstRun(t *testing.T) {
	if testing.Short() {
		t.Skip("drives Chromium against the sigil binary; skipped with -short")
	}
	tl := findTools(t)
	bin := buildSigil(t, tl.root)
	box := testenv.NewMailbox(t) // the setup mails a verification link
	srv := startSigil(t, bin, map[string]string{
		"SIGIL_DATABASE_URL": "sqlite://" + filepath.Join(t.TempDir(), "sigil.db")}, box.URL)
	m := setupURLRE.FindStringSubmatch(srv.logs.String())
	if m == nil {
		t.Fatalf("no setup_url in the log of a sigil without accounts:\n%s", srv.logs)
	}
	shots := filepath.Join(tl.dir, "screenshots", "sqlite")
	if err := os.MkdirAll(shots, 0o755); err != nil {
		t.Fatal(err)
	}
	runNode(t, tl, []string{"first-run/"}, map[string]string{
		"SIGIL_URL": srv.url,
		"SETUP_URL": m[1],
		// helpers.mjs wants these; this run has no app and no workspace.
		"SPA_URL":     srv.url,
		"JOIN_CODE":   "-",
		"CHROMIUM":    tl.chromium,
		"SCREENSHOTS": shots,
	})
}
