package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"os"
	"path/filepath"

	"github.com/sigil-auth/sigil/bench/internal/loadkit"
)

// database is one fresh Sigil database: the environment that points a
// server at it, and a cleanup.
type database struct {
	env     []string
	pg      *loadkit.PGMeter // PostgreSQL: the server's backends
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
	dsn, pg, drop, err := loadkit.PostgresSchema(ctx, pgURL)
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

// startSigil runs `sigil serve` on db at logLevel in dir: a free loopback
// port, rate limits off, the admin token, JSON logs to dir/name.log.
func startSigil(ctx context.Context, bin string, db database, admin, logLevel, dir, name string) (*loadkit.Child, error) {
	addr, err := loadkit.FreeAddr()
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
	return loadkit.StartChild(ctx, name, bin, []string{"serve"}, env, dir, addr, filepath.Join(dir, name+".log"))
}

// startPlain runs the hello-baseline server.
func startPlain(ctx context.Context, bin, dir string) (*loadkit.Child, error) {
	addr, err := loadkit.FreeAddr()
	if err != nil {
		return nil, err
	}
	return loadkit.StartChild(ctx, "plain", bin, []string{"-addr", addr}, nil, dir, addr, filepath.Join(dir, "plain.log"))
}
