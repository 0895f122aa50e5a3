package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func writeProxyConfig(t *testing.T, yaml string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "proxy.yaml")
	if err := os.WriteFile(p, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadProxyConfigPrecedence(t *testing.T) {
	file := writeProxyConfig(t, "listen: 127.0.0.1:7001\nupstream: http://file-upstream\nsigil_url: http://file-sigil\n")
	bare := writeProxyConfig(t, "routes: [{pattern: /}]\n")
	env := func(v string) func(string) string {
		return func(k string) string {
			if k == "SIGIL_URL" {
				return v
			}
			return ""
		}
	}
	type got struct{ Listen, Upstream, SigilURL string }
	tests := []struct {
		name  string
		flags proxyFlags
		env   string
		want  got
	}{
		{"file only", proxyFlags{config: file}, "http://env-sigil",
			got{"127.0.0.1:7001", "http://file-upstream", "http://file-sigil"}},
		{"flags win", proxyFlags{config: file, upstream: "http://flag-up", listen: ":7002", sigilURL: "http://flag-sigil"}, "",
			got{":7002", "http://flag-up", "http://flag-sigil"}},
		{"SIGIL_URL when the file has none", proxyFlags{config: bare, upstream: "http://u"}, "http://env-sigil",
			got{"127.0.0.1:8081", "http://u", "http://env-sigil"}},
		{"no file at all", proxyFlags{upstream: "http://u"}, "",
			got{"127.0.0.1:8081", "http://u", "http://127.0.0.1:8080"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadProxyConfig(tt.flags, env(tt.env))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, got{c.Listen, c.Upstream, c.SigilURL}); d != "" {
				t.Errorf("(-want +got):\n%s", d)
			}
		})
	}
}

// TestProxyUsageErrors: configuration mistakes exit 2 with one line.
func TestProxyUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no upstream", []string{"proxy"}, "upstream is required"},
		{"missing file", []string{"proxy", "--config", filepath.Join(t.TempDir(), "nope.yaml")}, "no such file"},
		{"typo in the file", []string{"proxy", "--config", writeProxyConfig(t, "upstream: http://u\nroutes: [{pattern: /, scope: [x]}]\n")}, "field scope not found"},
		{"bad tier", []string{"proxy", "--upstream", "http://u", "--config", writeProxyConfig(t, "tiers: {free: lots}\n")}, "tiers: free"},
		{"bad flag", []string{"proxy", "--bogus"}, "unknown flag"},
		{"stray argument", []string{"proxy", "extra"}, "unknown command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr)
			if code != exitUsage {
				t.Errorf("exit %d, want %d; stderr %q", code, exitUsage, stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(stderr.String()), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tt.want) {
				t.Errorf("stderr %q, want one line containing %q", stderr.String(), tt.want)
			}
		})
	}
}
