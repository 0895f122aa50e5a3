package config

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
)

func TestRedaction(t *testing.T) {
	key := []byte("KEYBYTES-KEYBYTES-KEYBYTES-KEYBY") // 32 printable bytes
	c := Default()
	c.MasterKey = key
	c.AdminToken = "admintoken-secret-0123456789abcdef"
	c.DatabaseURL = "postgres://sigil:pgpass-secret@db:5432/sigil?sslmode=disable&password=qpass-secret"
	c.RedisURL = "redis://:redispass-secret@r:6379/0"
	secrets := []string{
		string(key), base64.StdEncoding.EncodeToString(key), base64.RawURLEncoding.EncodeToString(key),
		c.AdminToken, "pgpass-secret", "qpass-secret", "redispass-secret",
	}

	renderings := map[string]string{
		"String": c.String(),
		"%v":     fmt.Sprintf("%v", c),
		"%+v":    fmt.Sprintf("%+v", c),
		"%#v":    fmt.Sprintf("%#v", c),
		"%v ptr": fmt.Sprintf("%v", &c),
		"%s":     fmt.Sprintf("%s", c),
	}
	for name, h := range map[string]func(*bytes.Buffer) slog.Handler{
		"slog json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
		"slog text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
	} {
		var buf bytes.Buffer
		slog.New(h(&buf)).Info("starting", "config", c)
		renderings[name] = buf.String()
	}
	j, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	renderings["json.Marshal"] = string(j)
	var decoded map[string]any
	if err := json.Unmarshal(j, &decoded); err != nil || decoded["shutdown_timeout"] != "10s" {
		t.Errorf("json.Marshal = %s (%v); want valid JSON with shutdown_timeout 10s", j, err)
	}

	for name, out := range renderings {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("%s leaks %q:\n%s", name, s, out)
			}
		}
		// The rendering must still be useful: the address shows, and the
		// redaction marker where a secret is set.
		if !strings.Contains(out, c.Addr) {
			t.Errorf("%s lacks the addr:\n%s", name, out)
		}
		if !strings.Contains(out, redacted) {
			t.Errorf("%s lacks %s:\n%s", name, redacted, out)
		}
	}
}

func TestRedactURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"sqlite://./data/sigil.db", "sqlite://./data/sigil.db"},
		{"postgres://u:pw@db/s", "postgres://u:xxxxx@db/s"},
		{"postgres://u@db/s?password=pw&sslmode=require", "postgres://u@db/s?password=xxxxx&sslmode=require"},
		{"redis://r:6379/0", "redis://r:6379/0"},
		{"postgres://u:pw@db:bad/s", redacted},
	}
	for _, tt := range tests {
		if got := redactURL(tt.in); got != tt.want {
			t.Errorf("redactURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestUnsetSecretsShowEmpty(t *testing.T) {
	if s := Default().String(); strings.Contains(s, redacted) || !strings.Contains(s, "admin_token= ") {
		t.Errorf("unset secrets should render empty, got %s", s)
	}
}
