package config

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestValidateAccepts(t *testing.T) {
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"defaults", func(*Config) {}},
		{"empty host, port 0", func(c *Config) { c.Addr = ":0" }},
		{"ipv6 addr", func(c *Config) { c.Addr = "[::1]:8080" }},
		{"postgres with key", func(c *Config) {
			c.DatabaseURL, c.MasterKey, c.MasterKeyFile = "postgres://u:p@db:5432/s?sslmode=disable", testKey, ""
		}},
		{"postgresql scheme", func(c *Config) { c.DatabaseURL, c.MasterKey = "postgresql:///s?host=/run/pg", testKey }},
		{"sqlite absolute", func(c *Config) { c.DatabaseURL = "sqlite:///var/lib/sigil.db" }},
		{"sqlite key from env, no file", func(c *Config) { c.MasterKey, c.MasterKeyFile = testKey, "" }},
		{"in-memory sqlite without file", func(c *Config) { c.DatabaseURL, c.MasterKeyFile = "sqlite://:memory:", "" }},
		{"rediss", func(c *Config) { c.RedisURL = "rediss://:pw@r.example:6380/1" }},
		{"redis unix", func(c *Config) { c.RedisURL = "unix:///run/redis.sock" }},
		{"https issuer with path", func(c *Config) { c.Issuer = "https://auth.example.com/tenant" }},
		{"admin token 32", func(c *Config) { c.AdminToken = strings.Repeat("a", 32) }},
		{"proxies", func(c *Config) { c.TrustedProxies = " 10.0.0.0/8, 192.0.2.7 ,2001:db8::/32,," }},
		{"ES256 text debug", func(c *Config) { c.SigningAlg, c.LogFormat, c.LogLevel = "ES256", "text", "debug" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := with(tt.mod)
			if err := c.Validate(); err != nil {
				t.Errorf("Validate: %v", err)
			}
		})
	}
}

func TestValidateRefuses(t *testing.T) {
	tests := []struct {
		name    string
		mod     func(*Config)
		wantVar string
		secret  string // must not appear in the error
	}{
		{"addr without port", func(c *Config) { c.Addr = "localhost" }, "SIGIL_ADDR", ""},
		{"addr named port", func(c *Config) { c.Addr = "localhost:http" }, "SIGIL_ADDR", ""},
		{"addr port too big", func(c *Config) { c.Addr = "localhost:70000" }, "SIGIL_ADDR", ""},
		{"addr empty", func(c *Config) { c.Addr = "" }, "SIGIL_ADDR", ""},
		{"db scheme", func(c *Config) { c.DatabaseURL = "mysql://u:dbsecret@x/y" }, "SIGIL_DATABASE_URL", "dbsecret"},
		{"db empty", func(c *Config) { c.DatabaseURL = "" }, "SIGIL_DATABASE_URL", ""},
		{"sqlite no path", func(c *Config) { c.DatabaseURL = "sqlite://" }, "SIGIL_DATABASE_URL", ""},
		{"sqlite query", func(c *Config) { c.DatabaseURL = "sqlite://a.db?mode=ro" }, "SIGIL_DATABASE_URL", ""},
		{"postgres unparsable", func(c *Config) { c.DatabaseURL, c.MasterKey = "postgres://u:dbsecret@h:bad/db", testKey }, "SIGIL_DATABASE_URL", "dbsecret"},
		{"redis scheme", func(c *Config) { c.RedisURL = "http://u:rsecret@r" }, "SIGIL_REDIS_URL", "rsecret"},
		{"redis no host", func(c *Config) { c.RedisURL = "redis:///0" }, "SIGIL_REDIS_URL", ""},
		{"redis unix no path", func(c *Config) { c.RedisURL = "unix://" }, "SIGIL_REDIS_URL", ""},
		{"redis unparsable", func(c *Config) { c.RedisURL = "redis://:rsecret@h:bad" }, "SIGIL_REDIS_URL", "rsecret"},
		{"issuer empty", func(c *Config) { c.Issuer = "" }, "SIGIL_ISSUER", ""},
		{"issuer relative", func(c *Config) { c.Issuer = "auth.example.com" }, "SIGIL_ISSUER", ""},
		{"issuer ftp", func(c *Config) { c.Issuer = "ftp://x" }, "SIGIL_ISSUER", ""},
		{"issuer query", func(c *Config) { c.Issuer = "https://x?a=b" }, "SIGIL_ISSUER", ""},
		{"issuer empty query", func(c *Config) { c.Issuer = "https://x?" }, "SIGIL_ISSUER", ""},
		{"issuer fragment", func(c *Config) { c.Issuer = "https://x#f" }, "SIGIL_ISSUER", ""},
		{"issuer trailing slash", func(c *Config) { c.Issuer = "https://x/" }, "SIGIL_ISSUER", ""},
		{"issuer user info", func(c *Config) { c.Issuer = "https://u:isecret@x" }, "SIGIL_ISSUER", "isecret"},
		{"master key short", func(c *Config) { c.MasterKey = testKey[:16] }, "SIGIL_MASTER_KEY", ""},
		{"master key missing with postgres", func(c *Config) { c.DatabaseURL, c.MasterKeyFile = "postgres://db/s", "" }, "SIGIL_MASTER_KEY", ""},
		{"key file missing with sqlite", func(c *Config) { c.MasterKeyFile = "" }, "SIGIL_MASTER_KEY_FILE", ""},
		{"admin token short", func(c *Config) { c.AdminToken = "tsecret-31-chars-xxxxxxxxxxxxxx"[:31] }, "SIGIL_ADMIN_TOKEN", "tsecret"},
		{"admin token space", func(c *Config) { c.AdminToken = "tsecret " + strings.Repeat("a", 32) }, "SIGIL_ADMIN_TOKEN", "tsecret"},
		{"admin token non-ascii", func(c *Config) { c.AdminToken = "tsecret" + strings.Repeat("é", 20) }, "SIGIL_ADMIN_TOKEN", "tsecret"},
		{"proxy bad prefix", func(c *Config) { c.TrustedProxies = "10.0.0.0/33" }, "SIGIL_TRUSTED_PROXIES", ""},
		{"proxy hostname", func(c *Config) { c.TrustedProxies = "10.0.0.1, proxy.local" }, "SIGIL_TRUSTED_PROXIES", ""},
		{"proxy zone", func(c *Config) { c.TrustedProxies = "fe80::1%eth0" }, "SIGIL_TRUSTED_PROXIES", ""},
		{"alg", func(c *Config) { c.SigningAlg = "RS256" }, "SIGIL_SIGNING_ALG", ""},
		{"alg case", func(c *Config) { c.SigningAlg = "eddsa" }, "SIGIL_SIGNING_ALG", ""},
		{"log level", func(c *Config) { c.LogLevel = "verbose" }, "SIGIL_LOG_LEVEL", ""},
		{"log level not normalised", func(c *Config) { c.LogLevel = "INFO" }, "SIGIL_LOG_LEVEL", ""},
		{"log format", func(c *Config) { c.LogFormat = "xml" }, "SIGIL_LOG_FORMAT", ""},
		{"shutdown zero", func(c *Config) { c.ShutdownTimeout = 0 }, "SIGIL_SHUTDOWN_TIMEOUT", ""},
		{"shutdown negative", func(c *Config) { c.ShutdownTimeout = -time.Second }, "SIGIL_SHUTDOWN_TIMEOUT", ""},
		{"drain negative", func(c *Config) { c.ShutdownDrain = -time.Second }, "SIGIL_SHUTDOWN_DRAIN", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := with(tt.mod)
			err := c.Validate()
			errs := joined(err)
			if len(errs) != 1 {
				t.Fatalf("got %d errors, want 1: %v", len(errs), err)
			}
			if msg := errs[0].Error(); !strings.HasPrefix(msg, tt.wantVar+":") && !strings.HasPrefix(msg, tt.wantVar+" (--") {
				t.Errorf("error %q does not name %s", msg, tt.wantVar)
			}
			if tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
				t.Errorf("error leaks %q: %v", tt.secret, err)
			}
		})
	}
}

func TestValidateReportsEverything(t *testing.T) {
	c := Default()
	c.Addr = "nope"
	c.DatabaseURL = "mysql://x"
	c.Issuer = "https://x/?q"
	c.SigningAlg = "none"
	c.LogFormat = "xml"
	c.TrustedProxies = "bad1,bad2"
	errs := joined(c.Validate())
	var got []string
	for _, e := range errs {
		got = append(got, strings.SplitN(e.Error(), ":", 2)[0])
	}
	want := []string{
		"SIGIL_ADDR (--addr)", "SIGIL_DATABASE_URL (--database-url)", "SIGIL_ISSUER (--issuer)",
		"SIGIL_TRUSTED_PROXIES (--trusted-proxies)", "SIGIL_SIGNING_ALG (--signing-alg)", "SIGIL_LOG_FORMAT (--log-format)",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reported variables (-want +got):\n%s", diff)
	}
	// Both bad proxy entries are named in the one SIGIL_TRUSTED_PROXIES error.
	if msg := errs[3].Error(); !strings.Contains(msg, "bad1") || !strings.Contains(msg, "bad2") {
		t.Errorf("proxies error %q should name every bad entry", msg)
	}
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies(" 10.1.2.3/8, 192.0.2.7 ,2001:db8::1,, ::ffff:10.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.0.2.7/32"),
		netip.MustParsePrefix("2001:db8::1/128"), netip.MustParsePrefix("::ffff:10.0.0.1/128"),
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if got, err := ParseTrustedProxies(""); err != nil || got != nil {
		t.Errorf(`ParseTrustedProxies("") = %v, %v; want nil, nil`, got, err)
	}
}

func TestDatabaseKindAndPath(t *testing.T) {
	tests := []struct{ url, kind, path string }{
		{"sqlite://sigil.db", KindSQLite, "sigil.db"},
		{"sqlite:///var/lib/s.db", KindSQLite, "/var/lib/s.db"},
		{"SQLite://./d/s.db", KindSQLite, "./d/s.db"},
		{"sqlite://:memory:", KindSQLite, ":memory:"},
		{"postgres://db/s", KindPostgres, ""},
		{"postgresql://db/s", KindPostgres, ""},
		{"mysql://db/s", "", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		c := Config{DatabaseURL: tt.url}
		if got := c.DatabaseKind(); got != tt.kind {
			t.Errorf("DatabaseKind(%q) = %q, want %q", tt.url, got, tt.kind)
		}
		if got := c.SQLitePath(); got != tt.path {
			t.Errorf("SQLitePath(%q) = %q, want %q", tt.url, got, tt.path)
		}
	}
}
