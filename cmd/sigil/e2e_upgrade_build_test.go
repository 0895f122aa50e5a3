package main

// Which commit is "the previous release" for TestRollingUpgrade, and
// building its binary from a clean export of that commit.

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// migrationsDir is where both the old and the new tree keep the
// PostgreSQL migrations (the embedded files, so the working tree's are
// the ones the new binary runs).
const migrationsDir = "internal/store/postgres/migrations"

// ciSet reports whether CI is set; there a missing prerequisite of the
// upgrade test (PostgreSQL, git history) fails it instead of skipping.
func ciSet() bool {
	ci := os.Getenv("CI")
	return ci != "" && ci != "false" && ci != "0"
}

// skipOrFail skips t, or fails it when CI is set.
func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	if ciSet() {
		t.Fatalf("CI is set: "+format, args...)
	}
	t.Skipf(format, args...)
}

// gitOut runs git in the repository and returns its trimmed output.
func gitOut(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var out, errb bytes.Buffer
	cmd := exec.Command("git", args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", &gitError{args: args, err: err, stderr: strings.TrimSpace(errb.String())}
	}
	return strings.TrimSpace(out.String()), nil
}

type gitError struct {
	args   []string
	err    error
	stderr string
}

func (e *gitError) Error() string {
	return "git " + strings.Join(e.args, " ") + ": " + e.err.Error() + ": " + e.stderr
}

// previousRelease picks the commit the upgrade starts from and says why:
//
//  1. SIGIL_UPGRADE_FROM (any commit-ish), if set;
//  2. else the newest tag reachable from HEAD^ (HEAD^ so that a tagged
//     HEAD is upgraded to, not from);
//  3. else, while there are no tags, the parent of the commit that added
//     the newest committed PostgreSQL migration (by version number): the
//     last code that ran without it, so the upgrade window covers at least
//     that migration (and any uncommitted ones of the working tree).
//
// It needs the history, so a shallow clone fails in CI (fetch it with
// fetch-depth: 0) and skips elsewhere, as does a tree that is not a git
// checkout.
func previousRelease(t *testing.T) (commit, why string) {
	t.Helper()
	if _, err := gitOut(t, "rev-parse", "--git-dir"); err != nil {
		skipOrFail(t, "the rolling-upgrade test needs a git checkout to build the previous release: %v", err)
	}
	if v := os.Getenv("SIGIL_UPGRADE_FROM"); v != "" {
		c, err := gitOut(t, "rev-parse", "--verify", v+"^{commit}")
		if err != nil {
			t.Fatalf("SIGIL_UPGRADE_FROM=%s: %v", v, err)
		}
		return c, "SIGIL_UPGRADE_FROM=" + v
	}
	if s, _ := gitOut(t, "rev-parse", "--is-shallow-repository"); s == "true" {
		skipOrFail(t, "the clone is shallow, so the previous release cannot be built: fetch the full history (actions/checkout fetch-depth: 0, or git fetch --unshallow) or set SIGIL_UPGRADE_FROM")
	}
	if tag, err := gitOut(t, "describe", "--tags", "--abbrev=0", "HEAD^"); err == nil {
		c, err := gitOut(t, "rev-parse", "--verify", tag+"^{commit}")
		if err != nil {
			t.Fatal(err)
		}
		return c, "the newest tag before HEAD, " + tag
	}
	committed, err := migrationsAt(t, "HEAD")
	if err != nil || len(committed) == 0 {
		t.Fatalf("no committed migrations in %s at HEAD: %v", migrationsDir, err)
	}
	newest := committed[len(committed)-1]
	c, added := beforeMigration(t, newest)
	return c, "no tags yet: the parent of " + added[:10] + ", which added " + newest
}

// beforeMigration returns the commit that added the migration file name
// (in HEAD's history) and its parent: the last code that ran without it.
func beforeMigration(t *testing.T, name string) (parent, added string) {
	t.Helper()
	top, err := gitOut(t, "rev-parse", "--show-toplevel")
	if err != nil {
		t.Fatal(err)
	}
	added, err = gitOut(t, "-C", top, "log", "-1", "--format=%H", "--diff-filter=A", "HEAD", "--", migrationsDir+"/"+name)
	if err != nil || added == "" {
		t.Fatalf("which commit added %s: %q, %v", name, added, err)
	}
	parent, err = gitOut(t, "rev-parse", "--verify", added+"^")
	if err != nil {
		t.Fatalf("the commit before %s was added: %v", name, err)
	}
	return parent, added
}

// migrationsAt lists the PostgreSQL migration files of a commit, sorted.
func migrationsAt(t *testing.T, commit string) ([]string, error) {
	t.Helper()
	top, err := gitOut(t, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, err
	}
	out, err := gitOut(t, "-C", top, "ls-tree", "--name-only", commit, migrationsDir+"/")
	if err != nil {
		return nil, err
	}
	var names []string
	for _, p := range strings.Fields(out) {
		if strings.HasSuffix(p, ".sql") {
			names = append(names, filepath.Base(p))
		}
	}
	slices.Sort(names)
	return names, nil
}

// upgradeWindow returns the migrations the new binary runs on a schema
// the old one made: the working tree's files after the old commit's. The
// old set must be a prefix of the new one, or goose refuses the upgrade
// (it does not apply migrations out of order).
func upgradeWindow(t *testing.T, old string) []string {
	t.Helper()
	before, err := migrationsAt(t, old)
	if err != nil {
		t.Fatal(err)
	}
	top, err := gitOut(t, "rev-parse", "--show-toplevel")
	if err != nil {
		t.Fatal(err)
	}
	now, err := filepath.Glob(filepath.Join(top, migrationsDir, "*.sql"))
	if err != nil {
		t.Fatal(err)
	}
	for i := range now {
		now[i] = filepath.Base(now[i])
	}
	slices.Sort(now)
	if len(before) > len(now) || !slices.Equal(before, now[:len(before)]) {
		t.Fatalf("the migrations of %.10s %v are not a prefix of the working tree's %v: a migration was renamed, removed or numbered below an applied one", old, before, now)
	}
	return now[len(before):]
}

// buildRelease exports commit with git archive (no checkout, so the
// working tree and its uncommitted files are untouched) and builds its
// sigil binary there. Modules come from the module cache or GOPROXY as
// configured, like any build.
func buildRelease(t *testing.T, commit string) string {
	t.Helper()
	src := releaseSource(t, commit)
	bin := filepath.Join(t.TempDir(), "sigil-"+commit[:10])
	build := exec.Command("go", "build", "-o", bin, "./cmd/sigil")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("building the previous release %s: %v\n%s", commit, err, out)
	}
	return bin
}

// releaseSource returns a directory holding commit's files, exported once
// into the user's cache directory and kept: the build cache keys a main
// module's packages by their directory, so a fixed one per commit lets a
// second run reuse the first one's compiled packages (a temporary one
// would rebuild them every time, 30–50 s here). A commit never changes,
// so a complete export is never stale; it is renamed into place only
// once complete, so concurrent runs at worst export twice.
func releaseSource(t *testing.T, commit string) string {
	t.Helper()
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	dir := filepath.Join(base, "sigil-test", "release-"+commit)
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
		return dir
	}
	if err := os.MkdirAll(filepath.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(dir), "export-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp) // left only if the rename below did not happen
	top, err := gitOut(t, "rev-parse", "--show-toplevel")
	if err != nil {
		t.Fatal(err)
	}
	archive := exec.Command("git", "-C", top, "archive", "--format=tar", commit)
	untar := exec.Command("tar", "-x", "-C", tmp)
	pipe, err := archive.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	untar.Stdin = pipe
	var errb bytes.Buffer
	archive.Stderr, untar.Stderr = &errb, &errb
	if err := untar.Start(); err != nil {
		t.Fatal(err)
	}
	if err := archive.Run(); err != nil {
		t.Fatalf("git archive %s: %v\n%s", commit, err, errb.String())
	}
	if err := untar.Wait(); err != nil {
		t.Fatalf("tar: %v\n%s", err, errb.String())
	}
	if err := os.Rename(tmp, dir); err != nil {
		if _, serr := os.Stat(filepath.Join(dir, "go.mod")); serr != nil {
			t.Fatalf("keeping the export of %s: %v", commit, err)
		}
	}
	return dir
}
