package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// moduleRoot is the directory of Sigil's go.mod (builds run there).
func moduleRoot() (string, error) {
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

// build compiles pkg (e.g. ./cmd/sigil) into dir and returns the binary.
func build(root, pkg, dir string) (string, error) {
	bin := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", bin, pkg)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", pkg, err, out)
	}
	return bin, nil
}

// database is one fresh Sigil database: the environment that points a
// server at it, and a cleanup.
type database struct {
	env     []string
	pg      *pgMeter // PostgreSQL: the server's backends
	cleanup func()
}

// newDatabase makes a fresh database for one server: a SQLite file in a
// new directory under tmp (its master key file is generated beside it, as
// in a default deployment), or a new schema on the PostgreSQL at pgURL
// with a random master key.
func newDatabase(ctx context.Context, kind, pgURL, tmp, name string) (database, error) {
	if kind == "sqlite" {
		dir := filepath.Join(tmp, name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return database{}, err
		}
		return database{env: []string{"SIGIL_DATABASE_URL=sqlite://" + filepath.Join(dir, "sigil.db")}, cleanup: func() {}}, nil
	}
	dsn, pg, drop, err := postgresSchema(ctx, pgURL)
	if err != nil {
		return database{}, err
	}
	key := make([]byte, 32)
	rand.Read(key)
	return database{
		env: []string{"SIGIL_DATABASE_URL=" + dsn, "SIGIL_MASTER_KEY=" + base64.StdEncoding.EncodeToString(key)},
		pg:  pg, cleanup: drop,
	}, nil
}

// postgresSchema creates an empty schema on base and returns a URL whose
// search_path points at it and whose application_name is the schema's
// name, a meter of the backends that connect with it, and a function
// dropping the schema (and closing the meter's connection).
func postgresSchema(ctx context.Context, base string) (string, *pgMeter, func(), error) {
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
	return u.String(), &pgMeter{conn: conn, app: schema}, drop, nil
}

// adminToken is a fresh instance-admin token for one run.
func adminToken() string {
	b := make([]byte, 24)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// startSigil runs `sigil serve` on db at logLevel in dir: a free loopback
// port, rate limits off, the admin token, JSON logs to dir/name.log.
func startSigil(ctx context.Context, bin string, db database, admin, logLevel, dir, name string) (*child, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	env := append([]string{
		"SIGIL_ADDR=" + addr, "SIGIL_RATE_LIMITS=off", "SIGIL_ADMIN_TOKEN=" + admin,
		"SIGIL_LOG_LEVEL=" + logLevel,
	}, db.env...)
	if logLevel == "info" || logLevel == "debug" {
		env = append(env, "SIGIL_ACCESS_LOG=on") // a log line per request: what the info rerun measures
	}
	return startChild(ctx, name, bin, []string{"serve"}, env, dir, addr, filepath.Join(dir, name+".log"))
}

// startPlain runs the hello-baseline server.
func startPlain(ctx context.Context, bin, dir string) (*child, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	return startChild(ctx, "plain", bin, []string{"-addr", addr}, nil, dir, addr, filepath.Join(dir, "plain.log"))
}
