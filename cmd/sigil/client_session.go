package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/sigil-auth/sigil/client"
)

// refreshMargin: a command that needs an access token refreshes the
// session first when the token expires within this margin, so the token
// cannot die between the check and the request.
const refreshMargin = 60 * time.Second

// session is the CLI's saved login: which server, which user, and the
// current token pair. It is a bearer secret: the file is 0600 in a 0700
// directory, and it is replaced atomically so a crash never leaves half a
// token pair (a rotated refresh token lost is a logged-out user).
type session struct {
	BaseURL string `json:"base_url"`
	UserID  string `json:"user_id"`
	Email   string `json:"email,omitempty"` // set by password logins
	client.Tokens
}

// errNoSession is what commands needing a login say when there is none.
var errNoSession = errors.New("not logged in (no saved session); run `sigil login` or `sigil register`")

// needsRefresh reports whether the access token expires within
// refreshMargin of now (or its expiry is unknown).
func (s *session) needsRefresh(now time.Time) bool {
	return !now.Add(refreshMargin).Before(s.AccessExpiry())
}

// sessionPath is SIGIL_SESSION_FILE, or session.json in the user's config
// directory (e.g. ~/.config/sigil on Linux).
func sessionPath(e cliEnv) (string, error) {
	if p := e.get("SIGIL_SESSION_FILE"); p != "" {
		return p, nil
	}
	dir, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("locating the session file (set SIGIL_SESSION_FILE): %w", err)
	}
	return filepath.Join(dir, "sigil", "session.json"), nil
}

// loadSession reads the saved session; errNoSession if there is none.
func loadSession(path string) (*session, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errNoSession
	}
	if err != nil {
		return nil, fmt.Errorf("reading the session file: %w", err)
	}
	var s session
	if err := json.Unmarshal(b, &s); err != nil || s.BaseURL == "" || s.RefreshToken == "" {
		return nil, fmt.Errorf("the session file %s is damaged; run `sigil login` again", path)
	}
	return &s, nil
}

// saveSession writes s to path atomically: a 0600 temporary file in the
// same directory, synced, then renamed over the old one.
func saveSession(path string, s *session) (err error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("creating the session directory: %w", err)
	}
	f, err := os.CreateTemp(dir, ".session-*.tmp") // CreateTemp makes it 0600
	if err != nil {
		return fmt.Errorf("saving the session: %w", err)
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err = f.Chmod(0o600); err != nil {
		return fmt.Errorf("saving the session: %w", err)
	}
	if _, err = f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("saving the session: %w", err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("saving the session: %w", err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("saving the session: %w", err)
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return fmt.Errorf("saving the session: %w", err)
	}
	return nil
}

// removeSession deletes the saved session; a missing file is not an error.
func removeSession(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("removing the session file: %w", err)
	}
	return nil
}
