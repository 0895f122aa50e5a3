package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCLIEnv(t *testing.T) {
	dir := t.TempDir()
	dotenv := filepath.Join(dir, ".env")
	body := "SIGIL_URL=http://from-file\nSIGIL_JOIN_CODE=jc-file\n# comment\nSIGIL_USER_ID=\"quoted\"\n"
	if err := os.WriteFile(dotenv, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	proc := map[string]string{"SIGIL_URL": "http://from-env", "SIGIL_JOIN_CODE": ""}
	e, err := loadEnv(func(k string) string { return proc[k] }, dotenv)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ name, want string }{
		{"SIGIL_URL", "http://from-env"}, // the environment wins
		{"SIGIL_JOIN_CODE", "jc-file"},   // an empty variable does not hide the file
		{"SIGIL_USER_ID", "quoted"},      // godotenv syntax
		{"SIGIL_PRIVATE_KEY", ""},        // nowhere
	}
	for _, tt := range tests {
		if got := e.get(tt.name); got != tt.want {
			t.Errorf("get(%s) = %q, want %q", tt.name, got, tt.want)
		}
	}
	if os.Getenv("SIGIL_JOIN_CODE") == "jc-file" {
		t.Errorf(".env leaked into the process environment")
	}
	_, err = e.require("SIGIL_PRIVATE_KEY", "why")
	var ue usageError
	if !errors.As(err, &ue) {
		t.Errorf("require of a missing setting = %v, want a usageError", err)
	}
}

func TestCLIEnvFiles(t *testing.T) {
	dir := t.TempDir()
	missing, err := loadEnv(nil, filepath.Join(dir, "nope.env"))
	if err != nil || missing.get("SIGIL_URL") != "" {
		t.Errorf("missing .env: %v", err)
	}
	bad := filepath.Join(dir, "bad.env")
	if err := os.WriteFile(bad, []byte("SIGIL_PRIVATE_KEY='SECRETVALUE\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = loadEnv(nil, bad)
	if err == nil {
		t.Fatal("malformed .env accepted")
	}
	if strings.Contains(err.Error(), "SECRETVALUE") {
		t.Errorf("error %q quotes the file", err)
	}
}
