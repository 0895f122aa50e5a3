package loadkit

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ModuleRoot is the directory of Sigil's go.mod (builds run there).
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the Sigil module: run from its checkout or pass --bin and --plain-bin")
	}
	return filepath.Dir(mod), nil
}

// Build compiles pkg (e.g. ./cmd/sigil) into dir with extra go build
// flags (e.g. "-tags", "x") and returns the binary.
func Build(root, pkg, dir string, flags ...string) (string, error) {
	bin := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", append(append([]string{"build", "-o", bin}, flags...), pkg)...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
	}
	return bin, nil
}

// PostgresSchema creates an empty schema on base and returns a URL whose
// search_path points at it and whose application_name is the schema's
// name, a meter of the backends that connect with it, and a function
// dropping the schema (and closing the meter's connection).
func PostgresSchema(ctx context.Context, base string) (string, *PGMeter, func(), error) {
	if base == "" {
		return "", nil, nil, errors.New("--db postgres needs --database-url or SIGIL_TEST_POSTGRES")
	}
	// pgxpool's parser accepts (and strips) pool_* settings of the URL,
	// which are meant for the server's pool, not for this connection.
	cfg, err := pgxpool.ParseConfig(base)
	if err != nil {
		return "", nil, nil, fmt.Errorf("PostgreSQL URL: %w", err)
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "sigil-load-driver"
	conn, err := pgx.ConnectConfig(ctx, cfg.ConnConfig)
	if err != nil {
		return "", nil, nil, fmt.Errorf("PostgreSQL: %w", err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	schema := "sigil_bench_" + hex.EncodeToString(b)
	drop := func() {
		conn.Exec(context.Background(), "DROP SCHEMA IF EXISTS "+schema+" CASCADE")
		conn.Close(context.Background())
	}
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		drop()
		return "", nil, nil, fmt.Errorf("create schema: %w", err)
	}
	u, err := url.Parse(base)
	if err != nil {
		drop()
		return "", nil, nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	q.Set("application_name", schema)
	u.RawQuery = q.Encode()
	return u.String(), &PGMeter{conn: conn, app: schema}, drop, nil
}

// AdminToken is a fresh instance-admin token for one run.
func AdminToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// SelfCPU is the calling process's user+system CPU time so far.
func SelfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
