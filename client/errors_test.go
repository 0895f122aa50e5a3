package client

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNewError(t *testing.T) {
	now := time.Date(2026, 11, 3, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name       string
		status     int
		retryAfter string
		body       string
		want       Error
		wantText   string
	}{
		{
			name: "sigil body", status: 401,
			body:     `{"error":"invalid_credentials","detail":"the credentials are not valid"}`,
			want:     Error{Status: 401, Code: "invalid_credentials", Detail: "the credentials are not valid"},
			wantText: "sigil: 401 invalid_credentials: the credentials are not valid",
		},
		{
			name: "rate limited, seconds", status: 429, retryAfter: "7",
			body:     `{"error":"rate_limited","detail":"too many requests"}`,
			want:     Error{Status: 429, Code: "rate_limited", Detail: "too many requests", RetryAfter: 7 * time.Second},
			wantText: "sigil: 429 rate_limited: too many requests (retry after 7s)",
		},
		{
			name: "retry-after as http date", status: 503, retryAfter: now.Add(30 * time.Second).Format(http.TimeFormat),
			body: `{"error":"unavailable","detail":"not ready"}`,
			want: Error{Status: 503, Code: "unavailable", Detail: "not ready", RetryAfter: 30 * time.Second},
		},
		{
			name: "retry-after date in the past", status: 503, retryAfter: now.Add(-time.Minute).Format(http.TimeFormat),
			body: `{"error":"unavailable","detail":"not ready"}`,
			want: Error{Status: 503, Code: "unavailable", Detail: "not ready"},
		},
		{
			name: "retry-after garbage", status: 429, retryAfter: "soon",
			body: `{"error":"rate_limited","detail":"x"}`,
			want: Error{Status: 429, Code: "rate_limited", Detail: "x"},
		},
		{
			name: "retry-after absurd is capped", status: 429, retryAfter: "99999999999",
			body: `{"error":"rate_limited","detail":"x"}`,
			want: Error{Status: 429, Code: "rate_limited", Detail: "x", RetryAfter: 24 * time.Hour},
		},
		{
			name: "proxy html page", status: 502,
			body:     `<html><body>Bad Gateway</body></html>`,
			want:     Error{Status: 502, Detail: "Bad Gateway"},
			wantText: "sigil: 502: Bad Gateway",
		},
		{
			name: "json without error field", status: 404, body: `{"message":"nope"}`,
			want: Error{Status: 404, Detail: "Not Found"},
		},
		{
			name: "empty body", status: 500,
			want: Error{Status: 500, Detail: "Internal Server Error"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.retryAfter != "" {
				h.Set("Retry-After", tt.retryAfter)
			}
			got := newError(tt.status, h, []byte(tt.body), now)
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("newError (-want +got):\n%s", diff)
			}
			if tt.wantText != "" && got.Error() != tt.wantText {
				t.Errorf("Error() = %q, want %q", got.Error(), tt.wantText)
			}
			// Callers reach it through wrapping with errors.As.
			var e *Error
			if !errors.As(fmt.Errorf("login: %w", got), &e) || e.Status != tt.status {
				t.Errorf("errors.As did not find the *Error")
			}
		})
	}
}

func TestNewBadBaseURL(t *testing.T) {
	for _, base := range []string{"", "ftp://h", "127.0.0.1:8080", "http://", "http://h/?q=1", "http://h/#f", "http://[::1"} {
		t.Run(base, func(t *testing.T) {
			c := New(base)
			if c.BaseURL() != "" {
				t.Errorf("BaseURL() = %q, want empty", c.BaseURL())
			}
			_, err := c.IDExists(context.Background(), "alice")
			if err == nil || !strings.Contains(err.Error(), "base URL") {
				t.Errorf("IDExists err = %v, want a base URL error", err)
			}
		})
	}
}

func TestBaseURLTrimmed(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://127.0.0.1:8080/", "http://127.0.0.1:8080"},
		{" https://auth.example.com/sigil// ", "https://auth.example.com/sigil"},
	}
	for _, tt := range tests {
		if got := New(tt.in).BaseURL(); got != tt.want {
			t.Errorf("New(%q).BaseURL() = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Required arguments are checked before any request: the client below
// points at a port nothing listens on, so a request would fail with a
// connection error instead of "is required".
func TestMissingArguments(t *testing.T) {
	c := New("http://127.0.0.1:1")
	ctx := context.Background()
	key, _ := GenerateKey()
	calls := map[string]func() error{
		"IDExists":          func() error { _, err := c.IDExists(ctx, ""); return err },
		"AuthCode":          func() error { _, err := c.AuthCode(ctx, ""); return err },
		"Register join":     func() error { _, err := c.Register(ctx, "alice", "", key); return err },
		"Register user":     func() error { _, err := c.Register(ctx, "", "jc", key); return err },
		"LoginKeyPair user": func() error { _, err := c.LoginKeyPair(ctx, "", key); return err },
		"Refresh":           func() error { _, err := c.Refresh(ctx, ""); return err },
		"Logout":            func() error { return c.Logout(ctx, "", false) },
		"Whoami":            func() error { _, err := c.Whoami(ctx, ""); return err },
		"ListKeys":          func() error { _, err := c.ListKeys(ctx, ""); return err },
		"AddKey":            func() error { _, err := c.AddKey(ctx, "", "alice", key); return err },
		"RemoveKey":         func() error { return c.RemoveKey(ctx, "tok", "") },
		"Signup email":      func() error { _, err := c.Signup(ctx, "", "pw", "jc"); return err },
		"Signup password":   func() error { _, err := c.Signup(ctx, "a@b.c", "", "jc"); return err },
		"Signup join":       func() error { _, err := c.Signup(ctx, "a@b.c", "pw", ""); return err },
		"LoginPassword":     func() error { _, err := c.LoginPassword(ctx, "a@b.c", ""); return err },
		"ExchangeAPIKey":    func() error { _, err := c.ExchangeAPIKey(ctx, "", "s1"); return err },
		"ForgotPassword":    func() error { return c.ForgotPassword(ctx, "") },
		"ResetPassword":     func() error { return c.ResetPassword(ctx, "tok", "") },
		"VerifyEmail":       func() error { return c.VerifyEmail(ctx, "") },
		"CreateAPIKey cred": func() error { _, err := c.CreateAPIKey(ctx, "", APIKeyRequest{Name: "ci"}); return err },
		"CreateAPIKey name": func() error { _, err := c.CreateAPIKey(ctx, "tok", APIKeyRequest{}); return err },
		"ListAPIKeys":       func() error { _, err := c.ListAPIKeys(ctx, "", ""); return err },
		"RevokeAPIKey":      func() error { return c.RevokeAPIKey(ctx, "tok", "") },
		"RotateAPIKey":      func() error { _, err := c.RotateAPIKey(ctx, "", "ak_1", 0); return err },
		"CreateJWTKey":      func() error { _, err := c.CreateJWTKey(ctx, "tok", JWTKeyRequest{}); return err },
		"ListJWTKeys":       func() error { _, err := c.ListJWTKeys(ctx, "", "ws_1"); return err },
		"DeleteJWTKey":      func() error { return c.DeleteJWTKey(ctx, "", "id") },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			if err := call(); err == nil || !strings.Contains(err.Error(), "is required") {
				t.Errorf("err = %v, want an \"is required\" error", err)
			}
		})
	}
	bad := map[string]func() error{
		"negative expiry": func() error {
			_, err := c.CreateAPIKey(ctx, "tok", APIKeyRequest{Name: "ci", ExpiresIn: -time.Hour})
			return err
		},
		"sub-second expiry": func() error {
			_, err := c.CreateAPIKey(ctx, "tok", APIKeyRequest{Name: "ci", ExpiresIn: time.Millisecond})
			return err
		},
		"negative grace": func() error { _, err := c.RotateAPIKey(ctx, "tok", "ak_1", -time.Second); return err },
	}
	for name, call := range bad {
		t.Run(name, func(t *testing.T) {
			var e *Error
			if err := call(); err == nil || errors.As(err, &e) || strings.Contains(err.Error(), "connect") {
				t.Errorf("err = %v, want a local argument error", err)
			}
		})
	}
	_, err := c.LoginKeyPair(ctx, "alice", key[:32])
	if err == nil || !strings.Contains(err.Error(), "64-byte") {
		t.Errorf("short key: err = %v, want a key-size error", err)
	}
}
