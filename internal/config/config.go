package config

import (
	"log/slog"
	"math"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Database kinds returned by DatabaseKind.
const (
	KindSQLite   = "sqlite"
	KindPostgres = "postgres"
)

// Signing algorithms accepted in SigningAlg.
const (
	AlgEdDSA = "EdDSA"
	AlgES256 = "ES256"
)

// MasterKeySize is the length of the decoded master key in bytes.
const MasterKeySize = 32

// MinAdminTokenLen is the shortest SIGIL_ADMIN_TOKEN accepted.
const MinAdminTokenLen = 32

// defaultMasterKeyName is the file name of the generated master key, placed
// beside the SQLite database.
const defaultMasterKeyName = "sigil.master.key"

// Config is the server's configuration. Build it with Load (or start from
// Default) and check it with Validate. The zero value is not valid.
type Config struct {
	Addr string // SIGIL_ADDR: listen address, host:port
	// MetricsAddr is SIGIL_METRICS_ADDR: the admin listener that alone
	// serves GET /metrics (never the public one); "" = off.
	MetricsAddr string
	DatabaseURL string // SIGIL_DATABASE_URL: sqlite://PATH or postgres://…
	RedisURL    string // SIGIL_REDIS_URL: empty = no Redis
	SMTPURL     string // SIGIL_SMTP_URL: empty = mail is logged (dev) or not sent
	Issuer      string // SIGIL_ISSUER: token `iss` and discovery base
	// IssuerDerived reports that Issuer was not given but derived from
	// Addr (fine for one server; replicas must share an explicit issuer).
	IssuerDerived bool

	// MasterKey is the decoded SIGIL_MASTER_KEY (32 bytes), or nil when
	// unset; use LoadMasterKey rather than reading it directly.
	MasterKey []byte
	// MasterKeyFile is SIGIL_MASTER_KEY_FILE; empty for PostgreSQL and for
	// an in-memory SQLite database unless set explicitly.
	MasterKeyFile string
	AdminToken    string // SIGIL_ADMIN_TOKEN: empty = no static admin token

	TrustedProxies string // SIGIL_TRUSTED_PROXIES: raw; see ParseTrustedProxies
	RateLimits     string // SIGIL_RATE_LIMITS: raw; parsed by the rate limiter
	Tiers          string // SIGIL_TIERS: raw; parsed by ratelimit.ParseTiers

	SigningAlg      string        // SIGIL_SIGNING_ALG: AlgEdDSA or AlgES256
	LogLevel        string        // SIGIL_LOG_LEVEL: debug|info|warn|error
	LogFormat       string        // SIGIL_LOG_FORMAT: json|text
	ShutdownTimeout time.Duration // SIGIL_SHUTDOWN_TIMEOUT
	// ShutdownDrain (SIGIL_SHUTDOWN_DRAIN): on SIGTERM, /readyz answers
	// 503 for this long while requests are still served, so a balancer
	// stops sending new ones before the listener closes. 0: none.
	ShutdownDrain time.Duration
	Dev           bool // SIGIL_DEV: development mode
	// AccessLog is SIGIL_ACCESS_LOG: one info line per request. Off by
	// default; warnings and errors are logged either way.
	AccessLog bool
	// StreamsPerCredential (SIGIL_STREAMS_PER_CREDENTIAL) and Streams
	// (SIGIL_STREAMS) cap a replica's open long-lived responses (the
	// revocation feed) per credential and in all; 0 = the defaults.
	StreamsPerCredential int
	Streams              int
	// MemoryLimit is SIGIL_MEMORY_LIMIT in bytes: MemoryLimitAuto (the
	// server derives one), MemoryLimitOff, or a size. GOMEMLIMIT, when
	// set, overrides it (see cmd/sigil).
	MemoryLimit int64
}

// MemoryLimit values other than a size.
const (
	MemoryLimitAuto int64 = 0
	MemoryLimitOff  int64 = math.MaxInt64 // as runtime/debug.SetMemoryLimit reads it
)

// minMemoryLimit is the smallest SIGIL_MEMORY_LIMIT accepted: below it a
// value is surely a unit mistake ("64" meaning 64 MiB, not bytes).
const minMemoryLimit = 16 << 20

// Default returns the built-in defaults, with Issuer and MasterKeyFile
// derived from the default Addr and DatabaseURL as Load would.
func Default() Config {
	c := Config{
		Addr:            "127.0.0.1:8080",
		DatabaseURL:     "sqlite://sigil.db",
		SigningAlg:      AlgEdDSA,
		LogLevel:        "info",
		LogFormat:       "json",
		ShutdownTimeout: 10 * time.Second,
	}
	c.Issuer, c.IssuerDerived = defaultIssuer(c.Addr), true
	c.MasterKeyFile = c.defaultMasterKeyFile()
	return c
}

// DatabaseKind reports KindSQLite or KindPostgres from the URL's scheme, or
// "" when the scheme is neither (Validate reports that).
func (c Config) DatabaseKind() string {
	u := strings.ToLower(c.DatabaseURL)
	switch {
	case strings.HasPrefix(u, "sqlite://"):
		return KindSQLite
	case strings.HasPrefix(u, "postgres://"), strings.HasPrefix(u, "postgresql://"):
		return KindPostgres
	}
	return ""
}

// SQLitePath returns the file path of a sqlite:// URL, taken literally
// after the scheme ("sqlite://sigil.db" → "sigil.db", "sqlite:///var/lib/
// sigil.db" → "/var/lib/sigil.db", "sqlite://:memory:" → ":memory:"), or ""
// for any other kind of database.
func (c Config) SQLitePath() string {
	if c.DatabaseKind() != KindSQLite {
		return ""
	}
	return c.DatabaseURL[len("sqlite://"):]
}

// inMemorySQLite reports whether the database is SQLite's :memory:, which
// leaves nothing on disk and so gets an ephemeral master key by default.
func (c Config) inMemorySQLite() bool {
	return c.SQLitePath() == ":memory:"
}

// defaultMasterKeyFile is the key file beside the SQLite database, or ""
// where no file applies (PostgreSQL, in-memory SQLite).
func (c Config) defaultMasterKeyFile() string {
	p := c.SQLitePath()
	if p == "" || c.inMemorySQLite() {
		return ""
	}
	return filepath.Join(filepath.Dir(p), defaultMasterKeyName)
}

// defaultIssuer is "http://" + addr. An empty host (":8080", all
// interfaces) becomes "localhost", since "http://:8080" names no host.
func defaultIssuer(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if host == "" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// SlogLevel maps LogLevel to its slog.Level; a level Validate would refuse
// maps to slog.LevelInfo.
func (c Config) SlogLevel() slog.Level {
	switch c.LogLevel {
	case "debug":
		return slog.LevelDebug
	case "warn":
		return slog.LevelWarn
	case "error":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// FormatMemoryLimit renders a MemoryLimit as SIGIL_MEMORY_LIMIT spells
// it: "auto", "off", whole MiB as "64MiB", anything else in bytes.
func FormatMemoryLimit(n int64) string {
	switch {
	case n == MemoryLimitAuto:
		return "auto"
	case n == MemoryLimitOff:
		return "off"
	case n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + "MiB"
	}
	return strconv.FormatInt(n, 10) + "B"
}
