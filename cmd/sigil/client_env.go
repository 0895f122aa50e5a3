package main

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/joho/godotenv"
)

// cliEnv is where the client commands read their SIGIL_* settings: the
// process environment first, then the .env file of the working directory
// (API.md §10). The file is read with godotenv.Read and never loaded into
// the process environment, so nothing leaks into child processes and the
// precedence matches the server's config package: a non-empty
// environment variable wins over the file.
type cliEnv struct {
	getenv func(string) string
	dotenv map[string]string
}

// loadEnv reads path (".env" in practice). A missing file is fine; a
// malformed one is an error that does not quote the file, which holds
// SIGIL_PRIVATE_KEY.
func loadEnv(getenv func(string) string, path string) (cliEnv, error) {
	m, err := godotenv.Read(path)
	var pathErr *fs.PathError
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist):
		m = nil
	case errors.As(err, &pathErr):
		return cliEnv{}, fmt.Errorf("reading %s: %w", path, err)
	default:
		return cliEnv{}, usageError{fmt.Errorf("%s: syntax error (details withheld: the file may hold secrets)", path)}
	}
	return cliEnv{getenv: getenv, dotenv: m}, nil
}

// get returns the setting's value, or "".
func (e cliEnv) get(name string) string {
	if e.getenv != nil {
		if v := strings.TrimSpace(e.getenv(name)); v != "" {
			return v
		}
	}
	return strings.TrimSpace(e.dotenv[name])
}

// getExact is get without trimming, for values where spaces count (a
// password). An empty environment variable still falls back to the file.
func (e cliEnv) getExact(name string) string {
	if e.getenv != nil {
		if v := e.getenv(name); v != "" {
			return v
		}
	}
	return e.dotenv[name]
}

// require returns the setting's value; a missing one is a usage error
// (like a missing required flag).
func (e cliEnv) require(name, why string) (string, error) {
	v := e.get(name)
	if v == "" {
		return "", usageError{fmt.Errorf("%s is not set (%s); set it in the environment or in .env", name, why)}
	}
	return v, nil
}
