package config

import (
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/pflag"
)

// testKey is a fixed 32-byte master key for tests.
var testKey = []byte("0123456789abcdef0123456789ABCDEF")

func envFunc(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func writeDotenv(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), ".env")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func newFlags() *pflag.FlagSet {
	fs := pflag.NewFlagSet("serve", pflag.ContinueOnError)
	fs.SetOutput(nopWriter{})
	RegisterFlags(fs)
	return fs
}

type nopWriter struct{}

func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }

// with returns Default() changed by fn, for expected values.
func with(fn func(*Config)) Config {
	c := Default()
	fn(&c)
	return c
}

func TestLoadPrecedence(t *testing.T) {
	tests := []struct {
		name   string
		dotenv string // "" = no .env file
		env    map[string]string
		args   []string
		want   Config
	}{
		{name: "defaults", want: Default()},
		{
			name:   "dotenv over default, issuer follows addr",
			dotenv: "SIGIL_ADDR=0.0.0.0:9000\n",
			want:   with(func(c *Config) { c.Addr = "0.0.0.0:9000"; c.Issuer = "http://0.0.0.0:9000" }),
		},
		{
			name:   "env over dotenv",
			dotenv: "SIGIL_ADDR=0.0.0.0:9000\nSIGIL_LOG_LEVEL=debug\n",
			env:    map[string]string{"SIGIL_ADDR": "127.0.0.1:9001"},
			want: with(func(c *Config) {
				c.Addr, c.Issuer, c.LogLevel = "127.0.0.1:9001", "http://127.0.0.1:9001", "debug"
			}),
		},
		{
			name:   "flag over env over dotenv",
			dotenv: "SIGIL_ADDR=0.0.0.0:9000\n",
			env:    map[string]string{"SIGIL_ADDR": "127.0.0.1:9001"},
			args:   []string{"--addr", "127.0.0.1:9002"},
			want:   with(func(c *Config) { c.Addr, c.Issuer = "127.0.0.1:9002", "http://127.0.0.1:9002" }),
		},
		{
			name: "flag set to the default still beats env",
			env:  map[string]string{"SIGIL_LOG_LEVEL": "warn", "SIGIL_DEV": "true"},
			args: []string{"--log-level=info", "--dev=false"},
			want: Default(),
		},
		{
			name:   "empty env value does not hide dotenv",
			dotenv: "SIGIL_SIGNING_ALG=ES256\nSIGIL_RATE_LIMITS=\n",
			env:    map[string]string{"SIGIL_SIGNING_ALG": ""},
			want:   with(func(c *Config) { c.SigningAlg = AlgES256 }),
		},
		{
			name: "explicit issuer survives addr change",
			env:  map[string]string{"SIGIL_ADDR": ":9000", "SIGIL_ISSUER": "https://auth.example.com"},
			want: with(func(c *Config) { c.Addr, c.Issuer, c.IssuerDerived = ":9000", "https://auth.example.com", false }),
		},
		{
			name: "empty host gives localhost issuer",
			env:  map[string]string{"SIGIL_ADDR": ":9000"},
			want: with(func(c *Config) { c.Addr, c.Issuer = ":9000", "http://localhost:9000" }),
		},
		{
			name: "master key file beside the sqlite database",
			env:  map[string]string{"SIGIL_DATABASE_URL": "sqlite:///var/lib/sigil/s.db"},
			want: with(func(c *Config) {
				c.DatabaseURL, c.MasterKeyFile = "sqlite:///var/lib/sigil/s.db", "/var/lib/sigil/sigil.master.key"
			}),
		},
		{
			name: "in-memory sqlite has no key file",
			env:  map[string]string{"SIGIL_DATABASE_URL": "sqlite://:memory:"},
			want: with(func(c *Config) { c.DatabaseURL, c.MasterKeyFile = "sqlite://:memory:", "" }),
		},
		{
			name:   "postgres with key from dotenv, url-safe unpadded",
			dotenv: "SIGIL_MASTER_KEY=" + base64.RawURLEncoding.EncodeToString(testKey) + "\n",
			env:    map[string]string{"SIGIL_DATABASE_URL": "postgres://db/sigil"},
			want: with(func(c *Config) {
				c.DatabaseURL, c.MasterKey, c.MasterKeyFile = "postgres://db/sigil", testKey, ""
			}),
		},
		{
			name: "every setting from env",
			env: map[string]string{
				"SIGIL_ADDR": "10.0.0.1:80", "SIGIL_DATABASE_URL": "postgresql://u@db/s",
				"SIGIL_REDIS_URL": "redis://r:6379/0", "SIGIL_ISSUER": "https://a.example",
				"SIGIL_MASTER_KEY":      base64.StdEncoding.EncodeToString(testKey),
				"SIGIL_MASTER_KEY_FILE": "/k", "SIGIL_ADMIN_TOKEN": strings.Repeat("t", 32),
				"SIGIL_TRUSTED_PROXIES": "10.0.0.0/8", "SIGIL_RATE_LIMITS": "off",
				"SIGIL_SIGNING_ALG": "ES256", "SIGIL_LOG_LEVEL": "ERROR", "SIGIL_LOG_FORMAT": "Text",
				"SIGIL_SHUTDOWN_TIMEOUT": "3s", "SIGIL_DEV": "1",
				"SIGIL_ACCESS_LOG": "on", "SIGIL_MEMORY_LIMIT": "512MiB",
			},
			want: Config{
				Addr: "10.0.0.1:80", DatabaseURL: "postgresql://u@db/s", RedisURL: "redis://r:6379/0",
				Issuer: "https://a.example", MasterKey: testKey, MasterKeyFile: "/k",
				AdminToken: strings.Repeat("t", 32), TrustedProxies: "10.0.0.0/8", RateLimits: "off",
				SigningAlg: "ES256", LogLevel: "error", LogFormat: "text", ShutdownTimeout: 3 * time.Second, Dev: true,
				AccessLog: true, MemoryLimit: 512 << 20,
			},
		},
		{
			name: "every flag",
			args: []string{
				"--addr=10.0.0.1:80", "--database-url=sqlite://d/x.db", "--redis-url=rediss://r:6380",
				"--issuer=https://a.example/t", "--master-key-file=/k", "--trusted-proxies=::1",
				"--rate-limits=login_ip=1/m", "--signing-alg=ES256", "--log-level=warn", "--log-format=text",
				"--shutdown-timeout=1m", "--dev", "--access-log", "--memory-limit=off",
			},
			want: with(func(c *Config) {
				c.IssuerDerived = false
				c.Addr, c.DatabaseURL, c.RedisURL, c.Issuer = "10.0.0.1:80", "sqlite://d/x.db", "rediss://r:6380", "https://a.example/t"
				c.MasterKeyFile, c.TrustedProxies, c.RateLimits = "/k", "::1", "login_ip=1/m"
				c.SigningAlg, c.LogLevel, c.LogFormat, c.ShutdownTimeout, c.Dev = "ES256", "warn", "text", time.Minute, true
				c.AccessLog, c.MemoryLimit = true, MemoryLimitOff
			}),
		},
		{
			name: "flag turns the access log off over env",
			env:  map[string]string{"SIGIL_ACCESS_LOG": "on"},
			args: []string{"--access-log=false"},
			want: Default(),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "absent.env")
			if tt.dotenv != "" {
				path = writeDotenv(t, tt.dotenv)
			}
			got, err := Load(newFlags(), tt.args, envFunc(tt.env), path)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Load mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestLoadWithoutFlagSetOrEnv(t *testing.T) {
	got, err := Load(nil, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Default(), got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestLoadAlreadyParsedFlagSet(t *testing.T) {
	fs := newFlags()
	if err := fs.Parse([]string{"--addr=127.0.0.1:1"}); err != nil {
		t.Fatal(err)
	}
	got, err := Load(fs, nil, nil, "")
	if err != nil || got.Addr != "127.0.0.1:1" {
		t.Fatalf("Load = %q, %v; want the parsed flag", got.Addr, err)
	}
	if _, err := Load(fs, []string{"x"}, nil, ""); err == nil {
		t.Error("Load with args on a parsed flag set: want an error")
	}
}

func TestLoadDoesNotTouchProcessEnv(t *testing.T) {
	const v = "login_ip=7/m-unique-marker"
	if _, err := Load(nil, nil, nil, writeDotenv(t, "SIGIL_RATE_LIMITS="+v+"\n")); err != nil {
		t.Fatal(err)
	}
	if os.Getenv("SIGIL_RATE_LIMITS") == v {
		t.Error("Load exported .env into the process environment")
	}
}

// joined splits an errors.Join result into its parts.
func joined(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

func TestLoadErrors(t *testing.T) {
	const secretTok = "short-admin-secret"
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		wantVars []string // one error per entry, in order
	}{
		{
			name: "conversion and validation errors together",
			env: map[string]string{
				"SIGIL_SHUTDOWN_TIMEOUT": "soon", "SIGIL_DEV": "maybe", "SIGIL_MASTER_KEY": "!!not-base64!!",
				"SIGIL_ADDR": "nope", "SIGIL_ADMIN_TOKEN": secretTok,
			},
			wantVars: []string{"SIGIL_MASTER_KEY", "SIGIL_SHUTDOWN_TIMEOUT", "SIGIL_DEV", "SIGIL_ADDR", "SIGIL_ADMIN_TOKEN"},
		},
		{
			name:     "bad master key with postgres is reported once",
			env:      map[string]string{"SIGIL_DATABASE_URL": "postgres://db/s", "SIGIL_MASTER_KEY": "c2hvcnQ="},
			wantVars: []string{"SIGIL_MASTER_KEY"},
		},
		{
			name:     "flag value errors name the flag",
			args:     []string{"--signing-alg=HS256", "--shutdown-timeout=0s"},
			wantVars: []string{"SIGIL_SIGNING_ALG (--signing-alg)", "SIGIL_SHUTDOWN_TIMEOUT (--shutdown-timeout)"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(newFlags(), tt.args, envFunc(tt.env), "")
			errs := joined(err)
			if len(errs) != len(tt.wantVars) {
				t.Fatalf("got %d errors, want %d: %v", len(errs), len(tt.wantVars), err)
			}
			for i, e := range errs {
				if !strings.HasPrefix(e.Error(), tt.wantVars[i]+":") && !strings.HasPrefix(e.Error(), tt.wantVars[i]+" (--") {
					t.Errorf("error %d = %q, want it to start with %q", i, e, tt.wantVars[i])
				}
			}
			if strings.Contains(err.Error(), secretTok) || strings.Contains(err.Error(), "not-base64") || strings.Contains(err.Error(), "c2hvcnQ") {
				t.Errorf("error leaks a secret: %v", err)
			}
			if diff := cmp.Diff(Config{}, got); diff != "" {
				t.Errorf("Load on error returned a non-zero Config:\n%s", diff)
			}
		})
	}
}

func TestLoadFlagParseError(t *testing.T) {
	if _, err := Load(newFlags(), []string{"--no-such-flag"}, nil, ""); err == nil {
		t.Error("unknown flag: want an error")
	}
	if _, err := Load(newFlags(), []string{"--help"}, nil, ""); !errors.Is(err, pflag.ErrHelp) {
		t.Errorf("--help: got %v, want pflag.ErrHelp", err)
	}
}

func TestLoadDotenvSyntaxErrorHidesContent(t *testing.T) {
	const secret = "do-not-print-this-key"
	for _, content := range []string{
		"SIGIL_MASTER_KEY=\"" + secret + "\n",  // unterminated quote
		"SIGIL_ADDR=x\nSIG!L=" + secret + "\n", // bad variable name
	} {
		_, err := Load(nil, nil, nil, writeDotenv(t, content))
		if err == nil {
			t.Fatalf("%q: want a syntax error", content)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error leaks .env content: %v", err)
		}
	}
}

func TestFlagsHaveNoSecrets(t *testing.T) {
	fs := newFlags()
	var names []string
	fs.VisitAll(func(f *pflag.Flag) { names = append(names, f.Name) })
	want := []string{
		"addr", "database-url", "redis-url", "issuer", "master-key-file", "trusted-proxies",
		"rate-limits", "tiers", "signing-alg", "log-level", "log-format", "shutdown-timeout", "shutdown-drain", "dev",
		"access-log", "memory-limit", "metrics-addr", "streams-per-credential", "streams",
	}
	if diff := cmp.Diff(want, names, cmpSorted); diff != "" {
		t.Errorf("flags (-want +got):\n%s", diff)
	}
	for _, n := range []string{"master-key", "admin-token"} {
		if fs.Lookup(n) != nil {
			t.Errorf("flag --%s exists; secrets must not be on the command line", n)
		}
	}
}

func TestAccessLogValues(t *testing.T) {
	for v, want := range map[string]bool{"on": true, "ON": true, "off": false, "true": true, "0": false, " off ": false} {
		got, err := Load(nil, nil, envFunc(map[string]string{"SIGIL_ACCESS_LOG": v}), "")
		if err != nil || got.AccessLog != want {
			t.Errorf("SIGIL_ACCESS_LOG=%q: %v, %v; want %v", v, got.AccessLog, err, want)
		}
	}
	if Default().AccessLog {
		t.Error("the access log is on by default")
	}
	_, err := Load(nil, nil, envFunc(map[string]string{"SIGIL_ACCESS_LOG": "sometimes"}), "")
	if errs := joined(err); len(errs) != 1 || !strings.HasPrefix(errs[0].Error(), "SIGIL_ACCESS_LOG (--access-log):") {
		t.Errorf("SIGIL_ACCESS_LOG=sometimes: %v", err)
	}
}

func TestParseMemoryLimit(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"auto", MemoryLimitAuto, true},
		{"AUTO", MemoryLimitAuto, true},
		{"off", MemoryLimitOff, true},
		{"64MiB", 64 << 20, true},
		{" 2GiB ", 2 << 30, true},
		{"1TiB", 1 << 40, true},
		{"20000KiB", 20000 << 10, true},
		{"16777216", 16 << 20, true},
		{"16777215B", 0, false}, // below 16 MiB
		{"64", 0, false},        // bytes: surely a mistake
		{"64MB", 0, false},      // GOMEMLIMIT's units only
		{"64mib", 0, false},
		{"-1MiB", 0, false},
		{"1.5GiB", 0, false},
		{"MiB", 0, false},
		{"", 0, false},
		{"9999999999TiB", 0, false}, // overflows
	}
	for _, tt := range tests {
		got, err := ParseMemoryLimit(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("ParseMemoryLimit(%q) = %d, %v; want %d, ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
	}
	for _, n := range []int64{MemoryLimitAuto, MemoryLimitOff, 64 << 20, 20000 << 10, 16<<20 + 1} {
		if got, err := ParseMemoryLimit(FormatMemoryLimit(n)); err != nil || got != n {
			t.Errorf("FormatMemoryLimit(%d) = %q does not parse back: %d, %v", n, FormatMemoryLimit(n), got, err)
		}
	}
}
