package config

import (
	"errors"
	"fmt"
	"io/fs"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/joho/godotenv"
	"github.com/spf13/pflag"
)

// flagKind is how a setting appears on the command line.
type flagKind int

const (
	noFlag flagKind = iota // secrets: environment and .env only
	stringFlag
	boolFlag
	durationFlag
)

// setting ties one SIGIL_* variable to its flag and to the Config field it
// sets. set converts the raw string; its error must not echo the value of
// a secret.
type setting struct {
	env   string
	flag  string
	kind  flagKind
	usage string
	set   func(c *Config, v string) error
}

// name is how errors refer to the setting: the variable, and its flag.
func (s setting) name() string {
	if s.flag == "" {
		return s.env
	}
	return s.env + " (--" + s.flag + ")"
}

func str(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *field(c) = v; return nil }
}

// lower stores an enum value lower-cased, so "INFO" and "info" are equal.
func lower(field func(*Config) *string) func(*Config, string) error {
	return func(c *Config, v string) error { *field(c) = strings.ToLower(v); return nil }
}

// settings lists every variable Load reads. RegisterFlags and Load both
// walk it, so a setting cannot get a flag without an environment variable
// or the other way round.
var settings = []setting{
	{"SIGIL_ADDR", "addr", stringFlag, "listen address (host:port)", str(func(c *Config) *string { return &c.Addr })},
	{"SIGIL_METRICS_ADDR", "metrics-addr", stringFlag, `admin listener for GET /metrics (host:port), or "off" (default: off; never served on --addr)`, setMetricsAddr},
	{"SIGIL_DATABASE_URL", "database-url", stringFlag, "sqlite://PATH or postgres://… URL", str(func(c *Config) *string { return &c.DatabaseURL })},
	{"SIGIL_REDIS_URL", "redis-url", stringFlag, "redis:// URL; shares rate limits and revocations across replicas", str(func(c *Config) *string { return &c.RedisURL })},
	{"SIGIL_ISSUER", "issuer", stringFlag, "token issuer and discovery base URL (default http://<addr>)", str(func(c *Config) *string { return &c.Issuer })},
	{"SIGIL_MASTER_KEY", "", noFlag, "", setMasterKey},
	{"SIGIL_MASTER_KEY_FILE", "master-key-file", stringFlag, "SQLite only: file holding the generated master key (default <database dir>/sigil.master.key)", str(func(c *Config) *string { return &c.MasterKeyFile })},
	{"SIGIL_ADMIN_TOKEN", "", noFlag, "", str(func(c *Config) *string { return &c.AdminToken })},
	{"SIGIL_TRUSTED_PROXIES", "trusted-proxies", stringFlag, "comma-separated CIDRs/IPs whose X-Forwarded-For is trusted", str(func(c *Config) *string { return &c.TrustedProxies })},
	{"SIGIL_RATE_LIMITS", "rate-limits", stringFlag, `rate limits, e.g. "login_ip=60/m,login_account=15/m", or "off" (default: built-in limits)`, str(func(c *Config) *string { return &c.RateLimits })},
	{"SIGIL_SIGNING_ALG", "signing-alg", stringFlag, "access-token signing algorithm: EdDSA or ES256", str(func(c *Config) *string { return &c.SigningAlg })},
	{"SIGIL_LOG_LEVEL", "log-level", stringFlag, "debug, info, warn or error", lower(func(c *Config) *string { return &c.LogLevel })},
	{"SIGIL_LOG_FORMAT", "log-format", stringFlag, "json or text", lower(func(c *Config) *string { return &c.LogFormat })},
	{"SIGIL_SHUTDOWN_TIMEOUT", "shutdown-timeout", durationFlag, "graceful shutdown limit", duration(func(c *Config) *time.Duration { return &c.ShutdownTimeout })},
	{"SIGIL_SHUTDOWN_DRAIN", "shutdown-drain", durationFlag, "on SIGTERM, answer /readyz 503 this long before closing the listener (behind a load balancer: its health-check interval × fall count)", duration(func(c *Config) *time.Duration { return &c.ShutdownDrain })},
	{"SIGIL_TIERS", "tiers", stringFlag, "forward-auth request tiers, e.g. free=60/m,pro=1000/m (a credential's tier is its tier:<name> scope)", str(func(c *Config) *string { return &c.Tiers })},
	// The SMTP URL may hold a password: environment only, like the other secrets.
	{"SIGIL_SMTP_URL", "", noFlag, "", str(func(c *Config) *string { return &c.SMTPURL })},
	{"SIGIL_DEV", "dev", boolFlag, "development mode (mails are logged, not sent)", setDev},
	{"SIGIL_ACCESS_LOG", "access-log", boolFlag, "log one info line per request (on|off; warnings and errors are logged either way)", setAccessLog},
	{"SIGIL_STREAMS_PER_CREDENTIAL", "streams-per-credential", stringFlag, "most revocation-feed streams one credential may hold open (default 64)", setCount(func(c *Config) *int { return &c.StreamsPerCredential })},
	{"SIGIL_STREAMS", "streams", stringFlag, "most revocation-feed streams this server holds open in all (default 1024)", setCount(func(c *Config) *int { return &c.Streams })},
	{"SIGIL_MEMORY_LIMIT", "memory-limit", stringFlag, `soft memory limit of the Go runtime: "auto", "off" or a size such as 512MiB (GOMEMLIMIT wins when set)`, setMemoryLimit},
}

// setCount takes a positive integer.
func setCount(field func(*Config) *int) func(*Config, string) error {
	return func(c *Config, v string) error {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n <= 0 {
			return fmt.Errorf("want a positive integer, got %q", v)
		}
		*field(c) = n
		return nil
	}
}

// setMetricsAddr takes host:port, or "off" (the default) for no listener.
func setMetricsAddr(c *Config, v string) error {
	if v = strings.TrimSpace(v); strings.EqualFold(v, "off") {
		v = ""
	}
	c.MetricsAddr = v
	return nil
}

func setMasterKey(c *Config, v string) error {
	k, err := decodeKey(v)
	if err != nil {
		return err
	}
	if len(k) != MasterKeySize {
		return fmt.Errorf("decodes to %d bytes, want %d", len(k), MasterKeySize)
	}
	c.MasterKey = k
	return nil
}

// duration sets the Config field f points at from a Go duration.
func duration(f func(c *Config) *time.Duration) func(c *Config, v string) error {
	return func(c *Config, v string) error {
		d, err := time.ParseDuration(strings.TrimSpace(v))
		if err != nil {
			return fmt.Errorf("want a Go duration such as 10s, got %q", v)
		}
		*f(c) = d
		return nil
	}
}

func setDev(c *Config, v string) error {
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		return fmt.Errorf("want true or false, got %q", v)
	}
	c.Dev = b
	return nil
}

// setAccessLog takes on/off as well as strconv.ParseBool's forms.
func setAccessLog(c *Config, v string) error {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "on":
		c.AccessLog = true
		return nil
	case "off":
		c.AccessLog = false
		return nil
	}
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		return fmt.Errorf("want on or off, got %q", v)
	}
	c.AccessLog = b
	return nil
}

// setMemoryLimit takes "auto", "off" or a size in GOMEMLIMIT's syntax (an
// integer with an optional B, KiB, MiB, GiB or TiB suffix), so a value
// can move between the two variables unchanged.
func setMemoryLimit(c *Config, v string) error {
	n, err := ParseMemoryLimit(v)
	if err != nil {
		return err
	}
	c.MemoryLimit = n
	return nil
}

// ParseMemoryLimit parses a SIGIL_MEMORY_LIMIT value: MemoryLimitAuto for
// "auto", MemoryLimitOff for "off", else a size of at least 16 MiB.
func ParseMemoryLimit(v string) (int64, error) {
	s := strings.TrimSpace(v)
	switch strings.ToLower(s) {
	case "auto":
		return MemoryLimitAuto, nil
	case "off":
		return MemoryLimitOff, nil
	}
	digits := strings.TrimRight(s, "BKMGTi")
	unit := s[len(digits):]
	shift, ok := map[string]uint{"": 0, "B": 0, "KiB": 10, "MiB": 20, "GiB": 30, "TiB": 40}[unit]
	n, err := strconv.ParseInt(digits, 10, 64)
	if !ok || err != nil || n < 0 {
		return 0, fmt.Errorf(`want "auto", "off" or a size such as 512MiB (units B, KiB, MiB, GiB, TiB), got %q`, v)
	}
	if n > math.MaxInt64>>shift {
		return 0, fmt.Errorf("%q is too large", v)
	}
	if n<<shift < minMemoryLimit {
		return 0, fmt.Errorf("%q is below the minimum of 16MiB (a size without a unit is in bytes)", v)
	}
	return n << shift, nil
}

// RegisterFlags defines the server's flags on fs (for cobra's `serve`:
// RegisterFlags(cmd.Flags())). Defaults shown in the help are Default()'s;
// only flags given explicitly override the environment. The master key and
// the admin token deliberately have no flags.
func RegisterFlags(fs *pflag.FlagSet) {
	d := Default()
	shown := map[string]string{
		"addr": d.Addr, "database-url": d.DatabaseURL, "signing-alg": d.SigningAlg,
		"log-level": d.LogLevel, "log-format": d.LogFormat, "memory-limit": "auto",
	}
	for _, s := range settings {
		switch s.kind {
		case stringFlag:
			fs.String(s.flag, shown[s.flag], s.usage)
		case boolFlag:
			fs.Bool(s.flag, false, s.usage)
		case durationFlag:
			fs.Duration(s.flag, map[string]time.Duration{"shutdown-timeout": d.ShutdownTimeout}[s.flag], s.usage)
		}
	}
}

// Load builds a Config from, in increasing precedence: Default(), the
// .env file at dotenvPath (skipped when "" or missing), getenv (nil means
// an empty environment) and the flags of fs that were set explicitly.
// Empty values from .env or getenv count as unset.
//
// fs may be nil. If fs has not been parsed yet, Load parses args into it
// (an error, including pflag.ErrHelp, is returned as is); if it has been
// (cobra parses before RunE), args must be empty.
//
// Load validates the result: the error joins every conversion and
// validation problem, each naming its variable, and the Config is then the
// zero value. Error messages never contain the master key or admin token.
func Load(fs *pflag.FlagSet, args []string, getenv func(string) string, dotenvPath string) (Config, error) {
	if err := parseFlags(fs, args); err != nil {
		return Config{}, err
	}
	dotenv, err := readDotenv(dotenvPath)
	if err != nil {
		return Config{}, err
	}
	raw := make(map[string]string)
	for _, s := range settings {
		if v, ok := lookup(s, fs, getenv, dotenv); ok {
			raw[s.env] = v
		}
	}
	c, err := build(raw)
	if err != nil {
		return Config{}, err
	}
	return c, nil
}

func parseFlags(fs *pflag.FlagSet, args []string) error {
	switch {
	case fs == nil && len(args) > 0:
		return errors.New("config: args given without a flag set")
	case fs == nil:
		return nil
	case fs.Parsed() && len(args) > 0:
		return errors.New("config: flag set already parsed; pass nil args")
	case fs.Parsed():
		return nil
	}
	return fs.Parse(args)
}

// lookup returns the winning raw value of one setting, if any source set it.
func lookup(s setting, fs *pflag.FlagSet, getenv func(string) string, dotenv map[string]string) (string, bool) {
	if fs != nil && s.flag != "" && fs.Changed(s.flag) {
		return fs.Lookup(s.flag).Value.String(), true
	}
	if getenv != nil {
		if v := getenv(s.env); v != "" {
			return v, true
		}
	}
	if v := dotenv[s.env]; v != "" {
		return v, true
	}
	return "", false
}

// build applies raw values over the defaults, derives Issuer and
// MasterKeyFile when they were not given, and validates. A setting whose
// value could not be converted is not validated again, so each mistake is
// reported once.
func build(raw map[string]string) (Config, error) {
	c := Default()
	var errs []error
	bad := make(map[string]bool)
	for _, s := range settings {
		v, ok := raw[s.env]
		if !ok {
			continue
		}
		if err := s.set(&c, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.name(), err))
			bad[s.env] = true
		}
	}
	_, given := raw["SIGIL_ISSUER"]
	c.IssuerDerived = !given
	if !given {
		c.Issuer = defaultIssuer(c.Addr)
		if checkAddr(c.Addr) != nil {
			bad["SIGIL_ISSUER"] = true // derived from a bad address: reported there
		}
	}
	if _, ok := raw["SIGIL_MASTER_KEY_FILE"]; !ok {
		c.MasterKeyFile = c.defaultMasterKeyFile()
	}
	errs = append(errs, c.problems(bad)...)
	return c, errors.Join(errs...)
}

// readDotenv reads the .env file, if there is one. godotenv's syntax
// errors quote the file's text, which may hold secrets (SIGIL_MASTER_KEY,
// the CLI's SIGIL_PRIVATE_KEY), so only their gist is passed on.
func readDotenv(path string) (map[string]string, error) {
	if path == "" {
		return nil, nil
	}
	m, err := godotenv.Read(path)
	var pathErr *fs.PathError
	switch {
	case err == nil:
		return m, nil
	case errors.Is(err, fs.ErrNotExist):
		return nil, nil
	case errors.As(err, &pathErr):
		return nil, fmt.Errorf("config: reading %w", err)
	}
	gist := "syntax error"
	for _, p := range []string{"unterminated quoted value", "unexpected character"} {
		if strings.HasPrefix(err.Error(), p) {
			gist = p
		}
	}
	return nil, fmt.Errorf("config: %s: %s (details withheld: the file may hold secrets)", path, gist)
}
