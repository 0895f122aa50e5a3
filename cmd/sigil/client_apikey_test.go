package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sigil-auth/sigil/client"
)

// The credential of the API-manager commands: SIGIL_ADMIN_TOKEN, then
// SIGIL_API_KEY (both with SIGIL_URL), then the saved session.
func TestCredentialChoice(t *testing.T) {
	dir := t.TempDir()
	sessionFile := filepath.Join(dir, "session.json")
	saved := &session{BaseURL: "http://saved.example", UserID: "alice", Tokens: client.Tokens{
		AccessToken: "session-access", RefreshToken: "rt",
		AccessTokenExpires: time.Now().Add(time.Hour).UnixMilli(), // no refresh needed
	}}
	if err := saveSession(sessionFile, saved); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		env        map[string]string
		file       string
		wantToken  string
		wantSource string
		wantBase   string
		wantErr    error // errNoSession, or a usageError{} to match by type
	}{
		{"admin token first", map[string]string{"SIGIL_URL": "http://env.example", "SIGIL_ADMIN_TOKEN": "adm", "SIGIL_API_KEY": "sk_1"},
			sessionFile, "adm", "SIGIL_ADMIN_TOKEN", "http://env.example", nil},
		{"api key", map[string]string{"SIGIL_URL": "http://env.example", "SIGIL_API_KEY": "sk_1"},
			sessionFile, "sk_1", "SIGIL_API_KEY", "http://env.example", nil},
		{"saved session", nil, sessionFile, "session-access", "", "http://saved.example", nil},
		{"api key without SIGIL_URL", map[string]string{"SIGIL_API_KEY": "sk_1"}, sessionFile, "", "", "", usageError{}},
		{"nothing at all", nil, filepath.Join(dir, "none.json"), "", "", "", errNoSession},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &cli{env: cliEnv{getenv: func(k string) string { return tt.env[k] }}, sessionFile: tt.file}
			cr, err := c.credential(context.Background())
			var ue usageError
			switch {
			case tt.wantErr == errNoSession:
				if !errors.Is(err, errNoSession) {
					t.Fatalf("err = %v, want errNoSession", err)
				}
				return
			case tt.wantErr != nil:
				if !errors.As(err, &ue) {
					t.Fatalf("err = %v, want a usage error", err)
				}
				return
			case err != nil:
				t.Fatal(err)
			}
			got := []string{cr.token, cr.source, cr.api.BaseURL()}
			if diff := cmp.Diff([]string{tt.wantToken, tt.wantSource, tt.wantBase}, got); diff != "" {
				t.Errorf("credential (-want +got):\n%s", diff)
			}
		})
	}
}

// A 401 names what to fix: the setting that held the credential, or the
// session; a refused login or signup needs no hint.
func TestCredentialFailureHint(t *testing.T) {
	unauthorized := &client.Error{Status: 401, Code: "invalid_token", Detail: "the credential is not valid"}
	forbidden := &client.Error{Status: 403, Code: "insufficient_scope", Detail: "needs write"}
	tests := []struct {
		name string
		err  error
		want string
	}{
		{"api key refused", (&credential{source: "SIGIL_API_KEY"}).failed("listing API keys", unauthorized),
			"listing API keys: 401 invalid_token: the credential is not valid; check SIGIL_API_KEY"},
		{"session refused", (&credential{}).failed("listing API keys", unauthorized),
			"listing API keys: 401 invalid_token: the credential is not valid; run `sigil login`"},
		{"forbidden has no hint", (&credential{source: "SIGIL_ADMIN_TOKEN"}).failed("creating the API key", forbidden),
			"creating the API key: 403 insufficient_scope: needs write"},
		{"signup refused", failed(opSignup, unauthorized), "signing up: 401 invalid_token: the credential is not valid"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestAPIKeyStatus(t *testing.T) {
	now := time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC)
	past, future := now.Add(-time.Hour), now.Add(time.Hour)
	tests := []struct {
		name             string
		revoked, expires *time.Time
		want             string
	}{
		{"active", nil, nil, "active"},
		{"active, expires later", nil, &future, "active"},
		{"expired", nil, &past, "expired"},
		{"revoked", &past, nil, "revoked"},
		{"revoked exactly now", &now, nil, "revoked"},
		{"revoked and expired", &past, &past, "revoked"},
		{"revocation announced for later", &future, nil, "active"},
		{"in a rotation's grace period", nil, &future, "active"},
	}
	for _, tt := range tests {
		if got := apiKeyStatus(client.APIKey{RevokedAt: tt.revoked, ExpiresAt: tt.expires}, now); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}

func TestPrintAPIKeys(t *testing.T) {
	now := time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC)
	used := now.Add(-time.Minute)
	keys := []client.APIKey{
		{ID: "ak_2", Name: "deploy bot", Prefix: "sk_AbC", Scopes: []string{"read", "write"}, CreatedAt: now.Add(-time.Hour), LastUsedAt: &used},
		{ID: "ak_1", Name: "", Prefix: "sk_XyZ", CreatedAt: now.Add(-2 * time.Hour), RevokedAt: &used},
	}
	var b bytes.Buffer
	if err := printAPIKeys(&b, keys, now); err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		got = append(got, strings.Fields(l))
	}
	want := [][]string{
		{"ID", "NAME", "PREFIX", "SCOPES", "CREATED", "EXPIRES", "LAST", "USED", "STATUS"},
		{"ak_2", "deploy_bot", "sk_AbC", "read,write", "2026-11-03T11:00:00Z", "never", "2026-11-03T11:59:00Z", "active"},
		{"ak_1", "-", "sk_XyZ", "-", "2026-11-03T10:00:00Z", "never", "never", "revoked"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("apikey list (-want +got):\n%s", diff)
	}
}

// Usage mistakes exit 2 with one line on stderr, before any request.
func TestCredentialCommandUsage(t *testing.T) {
	for _, k := range []string{"SIGIL_URL", "SIGIL_ADMIN_TOKEN", "SIGIL_PASSWORD", "SIGIL_JOIN_CODE"} {
		t.Setenv(k, "")
	}
	t.Setenv("SIGIL_SESSION_FILE", filepath.Join(t.TempDir(), "none.json"))
	// An API key without SIGIL_URL is a usage mistake too.
	t.Setenv("SIGIL_API_KEY", "sk_1")
	tests := [][]string{
		{"apikey", "list"},
		{"apikey", "create"},
		{"apikey", "create", "--name", "ci", "--expires-in", "-1h"},
		{"apikey", "create", "--name", "ci", "--expires-in", "500ms"},
		{"apikey", "create", "--name", "ci", "--expires-in", "soon"},
		{"apikey", "create", "--name", "ci", "extra"},
		{"apikey", "revoke"},
		{"apikey", "rotate"},
		{"apikey", "rotate", "ak_1", "--grace", "-1s"},
		{"apikey", "bogus"},
		{"jwtkey", "create"},
		{"jwtkey", "delete"},
		{"jwtkey", "delete", "a", "b"},
		{"jwtkey", "bogus"},
		{"signup"},
		{"signup", "--email", "a@example.com"}, // no SIGIL_URL
		{"signup", "--email", "a@example.com", "--password", "x"},
		{"login", "alice", "--email", "a@example.com"},
		{"login", "--email", "a@example.com"}, // no SIGIL_URL
	}
	flagChecked := map[string]string{
		"apikey create": "--name", "apikey create --name ci --expires-in -1h": "--expires-in",
		"apikey create --name ci --expires-in 500ms": "--expires-in", "apikey rotate ak_1 --grace -1s": "--grace",
		"jwtkey create": "--name",
	}
	for _, argv := range tests {
		t.Run(strings.Join(argv, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			if code := run(argv, &stdout, &stderr); code != exitUsage {
				t.Errorf("exit %d, want %d (stderr %q)", code, exitUsage, stderr.String())
			}
			if !strings.HasPrefix(stderr.String(), "sigil: ") || strings.Count(stderr.String(), "\n") != 1 {
				t.Errorf("stderr %q, want one line starting with \"sigil: \"", stderr.String())
			}
			// A bad flag is named before the (also bad) credential is looked at.
			if flag := flagChecked[strings.Join(argv, " ")]; flag != "" && !strings.Contains(stderr.String(), flag) {
				t.Errorf("stderr %q, want it to name %s", stderr.String(), flag)
			}
		})
	}
}
