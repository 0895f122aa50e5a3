package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sigil-auth/sigil/client"
)

func TestSessionSaveLoad(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "nested", "sigil", "session.json")
	want := &session{
		BaseURL: "http://127.0.0.1:8080",
		UserID:  "alice",
		Tokens: client.Tokens{
			AccessToken: "at", RefreshToken: "rt", TokenType: "Bearer", ExpiresIn: 1500,
			RefreshExpiresIn: 1800, AccessTokenExpires: 1_700_000_000_000, RefreshTokenExpires: 1_700_000_300_000,
			SessionID: "ses_1",
		},
	}
	if _, err := loadSession(path); !errors.Is(err, errNoSession) {
		t.Fatalf("loadSession before save: %v, want errNoSession", err)
	}
	if err := saveSession(path, want); err != nil {
		t.Fatal(err)
	}
	want.RefreshToken = "rt2" // a rotation replaces the file
	if err := saveSession(path, want); err != nil {
		t.Fatal(err)
	}
	got, err := loadSession(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("session (-want +got):\n%s", diff)
	}
	modes := map[string]os.FileMode{path: 0o600, filepath.Dir(path): 0o700}
	for p, m := range modes {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != m {
			t.Errorf("%s mode %v, want %v", p, fi.Mode().Perm(), m)
		}
	}
	// Atomic replace leaves no temporary files behind.
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("session directory holds %d entries, want only session.json", len(entries))
	}
	if err := removeSession(path); err != nil {
		t.Fatal(err)
	}
	if err := removeSession(path); err != nil {
		t.Errorf("removing a missing session: %v", err)
	}
}

func TestLoadSessionDamaged(t *testing.T) {
	for name, body := range map[string]string{
		"not json":        "{",
		"no refresh":      `{"base_url":"http://x","access_token":"a"}`,
		"no base url":     `{"refresh_token":"r"}`,
		"empty":           "",
		"secret in error": `{"refresh_token":"SECRET-REFRESH"`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s.json")
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := loadSession(path)
			if err == nil || errors.Is(err, errNoSession) {
				t.Fatalf("loadSession = %v, want a damaged-file error", err)
			}
			if strings.Contains(err.Error(), "SECRET") {
				t.Errorf("error %q quotes the file", err)
			}
		})
	}
}

func TestNeedsRefresh(t *testing.T) {
	now := time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		expires time.Time
		want    bool
	}{
		{"far away", now.Add(25 * time.Minute), false},
		{"just over the margin", now.Add(refreshMargin + time.Second), false},
		{"exactly the margin", now.Add(refreshMargin), true},
		{"within the margin", now.Add(30 * time.Second), true},
		{"expired", now.Add(-time.Minute), true},
		{"unknown", time.Time{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &session{}
			if !tt.expires.IsZero() {
				s.AccessTokenExpires = tt.expires.UnixMilli()
			}
			if got := s.needsRefresh(now); got != tt.want {
				t.Errorf("needsRefresh = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestSessionPath(t *testing.T) {
	cfg := t.TempDir()
	t.Setenv("XDG_CONFIG_HOME", cfg)
	t.Setenv("HOME", t.TempDir())
	tests := []struct {
		name string
		env  map[string]string
		want string
	}{
		{"default", nil, filepath.Join(cfg, "sigil", "session.json")},
		{"override", map[string]string{"SIGIL_SESSION_FILE": "/tmp/x.json"}, "/tmp/x.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := sessionPath(cliEnv{getenv: func(k string) string { return tt.env[k] }})
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("sessionPath = %q, want %q", got, tt.want)
			}
		})
	}
}
