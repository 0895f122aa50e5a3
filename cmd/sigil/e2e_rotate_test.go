package main

import (
	"context"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sigil-auth/sigil/client"
	"github.com/sigil-auth/sigil/internal/token"
)

// TestKeysRotate: `sigil keys rotate` on a live server's database adds a
// key that is published at once; a replica started afterwards publishes
// both keys and signs with the new one, and tokens of the old key still
// work.
func TestKeysRotate(t *testing.T) {
	bin, dir, env := sharedDatabase(t, "http://sigil.rotate.test")
	a := startServerEnv(t, bin, env)
	before := jwksKids(t, a.url)
	if len(before) != 1 {
		t.Fatalf("fresh server publishes %v", before)
	}
	ctx := context.Background()
	join := newWorkspace(t, a, "rotate")
	key, _ := client.GenerateKey()
	old, err := client.New(a.url).Register(ctx, "rotator", join, key)
	if err != nil {
		t.Fatal(err)
	}

	res := mustRun(t, bin, dir, env, "keys", "rotate", "--prepublish", "0s")
	if !strings.Contains(res.stdout, "new signing key") {
		t.Fatalf("rotate said %q", res.stdout)
	}
	if bad := runCLI(t, bin, dir, env, "keys", "rotate", "--prepublish", "soon"); bad.code != 2 {
		t.Errorf("bad --prepublish exited %d, want 2", bad.code)
	}

	b := startServerEnv(t, bin, env) // a second process on the same SQLite file
	after := jwksKids(t, b.url)
	if len(after) != 2 || !contains(after, before[0]) {
		t.Fatalf("after rotation B publishes %v, want the old %s and a new key", after, before[0])
	}
	fresh, err := client.New(b.url).LoginKeyPair(ctx, "rotator", key)
	if err != nil {
		t.Fatal(err)
	}
	if kid := token.KeyID(fresh.AccessToken); kid == before[0] || !contains(after, kid) {
		t.Errorf("new token signed by %s, want the new key", kid)
	}
	for _, srv := range []*e2eServer{a, b} {
		if _, err := client.New(srv.url).Whoami(ctx, old.AccessToken); err != nil {
			t.Errorf("token of the retired key refused by %s: %v", srv.url, err)
		}
	}
}

// sharedDatabase builds sigil and makes the settings of several processes
// on one SQLite database in dir (servers and operator commands) with one
// issuer. It skips with -short.
func sharedDatabase(t *testing.T, issuer string) (bin, dir string, env map[string]string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the sigil binary; skipped with -short")
	}
	bin = buildSigil(t)
	dir = t.TempDir()
	env = map[string]string{
		"SIGIL_DATABASE_URL": "sqlite://" + filepath.Join(dir, "sigil.db"),
		"SIGIL_ISSUER":       issuer,
	}
	return bin, dir, env
}

func jwksKids(t *testing.T, base string) []string {
	t.Helper()
	res, err := http.Get(base + "/.well-known/jwks.json")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var set struct {
		Keys []struct {
			Kid string `json:"kid"`
		} `json:"keys"`
	}
	if err := json.NewDecoder(res.Body).Decode(&set); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range set.Keys {
		out = append(out, k.Kid)
	}
	return out
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
