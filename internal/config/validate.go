package config

import (
	"github.com/sigil-auth/sigil/internal/ratelimit"

	"github.com/sigil-auth/sigil/internal/mail"

	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
)

// Validate reports every problem of c at once (errors.Join of one error
// per bad setting, each prefixed with its variable name), or nil. Messages
// never contain the master key, the admin token or URL passwords.
func (c Config) Validate() error {
	return errors.Join(c.problems(nil)...)
}

// problems runs every check except those of the variables in skip (whose
// values Load already failed to convert).
func (c Config) problems(skip map[string]bool) []error {
	checks := []struct {
		env   string
		check func() error
	}{
		{"SIGIL_ADDR", func() error { return checkAddr(c.Addr) }},
		{"SIGIL_METRICS_ADDR", c.checkMetricsAddr},
		{"SIGIL_DATABASE_URL", func() error { return checkDatabaseURL(c) }},
		{"SIGIL_REDIS_URL", func() error { return checkRedisURL(c.RedisURL) }},
		{"SIGIL_ISSUER", func() error { return checkIssuer(c.Issuer) }},
		{"SIGIL_TIERS", func() error { _, err := ratelimit.ParseTiers(c.Tiers); return err }},
		{"SIGIL_SMTP_URL", func() error {
			if c.SMTPURL == "" {
				return nil
			}
			_, err := mail.NewSMTP(c.SMTPURL)
			return err
		}},
		{"SIGIL_MASTER_KEY", c.checkMasterKey},
		{"SIGIL_MASTER_KEY_FILE", c.checkMasterKeyFile},
		{"SIGIL_ADMIN_TOKEN", func() error { return checkAdminToken(c.AdminToken) }},
		{"SIGIL_TRUSTED_PROXIES", func() error { _, err := ParseTrustedProxies(c.TrustedProxies); return err }},
		{"SIGIL_SIGNING_ALG", func() error { return oneOf(c.SigningAlg, AlgEdDSA, AlgES256) }},
		{"SIGIL_LOG_LEVEL", func() error { return oneOf(c.LogLevel, "debug", "info", "warn", "error") }},
		{"SIGIL_LOG_FORMAT", func() error { return oneOf(c.LogFormat, "json", "text") }},
		{"SIGIL_SHUTDOWN_TIMEOUT", func() error {
			if c.ShutdownTimeout <= 0 {
				return fmt.Errorf("must be positive, got %s", c.ShutdownTimeout)
			}
			return nil
		}},
		{"SIGIL_SHUTDOWN_DRAIN", func() error {
			if c.ShutdownDrain < 0 {
				return fmt.Errorf("must not be negative, got %s", c.ShutdownDrain)
			}
			return nil
		}},
	}
	var errs []error
	for _, ch := range checks {
		if skip[ch.env] {
			continue
		}
		if err := ch.check(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", settingName(ch.env), err))
		}
	}
	return errs
}

// settingName is the variable plus its flag, as errors show it.
func settingName(env string) string {
	for _, s := range settings {
		if s.env == env {
			return s.name()
		}
	}
	return env
}

func oneOf(v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return fmt.Errorf("want one of %s, got %q", strings.Join(allowed, ", "), v)
}

// checkAddr wants host:port with a numeric port; the host may be empty
// (all interfaces).
func checkAddr(addr string) error {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("want host:port, got %q", addr)
	}
	if _, err := strconv.ParseUint(port, 10, 16); err != nil {
		return fmt.Errorf("want a numeric port 0-65535, got %q", port)
	}
	return nil
}

// checkMetricsAddr: off, or host:port other than the public listener's
// (metrics are never served there).
func (c Config) checkMetricsAddr() error {
	switch {
	case c.MetricsAddr == "":
		return nil
	case c.MetricsAddr == c.Addr:
		return errors.New("must differ from SIGIL_ADDR: metrics are served on their own listener")
	}
	return checkAddr(c.MetricsAddr)
}

// checkDatabaseURL never echoes the URL: it may carry a password.
func checkDatabaseURL(c Config) error {
	switch c.DatabaseKind() {
	case KindSQLite:
		p := c.SQLitePath()
		if p == "" {
			return errors.New("sqlite:// URL has no file path")
		}
		if strings.ContainsAny(p, "?#") {
			return errors.New("sqlite:// URL must be a plain path without query or fragment (Sigil sets its own SQLite options)")
		}
		return nil
	case KindPostgres:
		if _, err := url.Parse(c.DatabaseURL); err != nil {
			return errors.New("not a valid postgres:// URL")
		}
		return nil
	}
	return errors.New("want sqlite://PATH, postgres://… or postgresql://…")
}

// checkRedisURL accepts what go-redis's ParseURL does: redis://, rediss://
// (TLS) with a host, or unix:// with a socket path. The URL is not echoed.
func checkRedisURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return errors.New("not a valid URL")
	}
	switch u.Scheme {
	case "redis", "rediss":
		if u.Host == "" {
			return errors.New("redis:// URL has no host")
		}
	case "unix":
		if u.Path == "" {
			return errors.New("unix:// URL has no socket path")
		}
	default:
		return errors.New("want a redis://, rediss:// or unix:// URL")
	}
	return nil
}

// checkIssuer wants what OpenID Connect Discovery wants of an issuer: an
// absolute http(s) URL without query or fragment. Trailing slashes and
// user info are refused too, since `iss` is compared byte for byte.
func checkIssuer(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return fmt.Errorf("want an absolute http:// or https:// URL, got %q", s)
	case u.User != nil:
		return errors.New("must not contain user info")
	case u.RawQuery != "" || u.ForceQuery:
		return fmt.Errorf("must not have a query, got %q", s)
	case strings.Contains(s, "#"):
		return fmt.Errorf("must not have a fragment, got %q", s)
	case strings.HasSuffix(s, "/"):
		return fmt.Errorf("must not end with a slash, got %q", s)
	}
	return nil
}

// checkMasterKey wants 32 bytes, and a key at all with PostgreSQL (there is
// no file beside a remote database to keep a generated one in).
func (c Config) checkMasterKey() error {
	switch {
	case len(c.MasterKey) == 0 && c.DatabaseKind() == KindPostgres:
		return errors.New("required with PostgreSQL (32 random bytes, base64: openssl rand -base64 32)")
	case len(c.MasterKey) != 0 && len(c.MasterKey) != MasterKeySize:
		return fmt.Errorf("decodes to %d bytes, want %d", len(c.MasterKey), MasterKeySize)
	}
	return nil
}

func (c Config) checkMasterKeyFile() error {
	if c.DatabaseKind() == KindSQLite && len(c.MasterKey) == 0 && c.MasterKeyFile == "" && !c.inMemorySQLite() {
		return errors.New("required with SQLite when SIGIL_MASTER_KEY is unset")
	}
	return nil
}

// checkAdminToken: the token is a bearer secret compared as a whole string,
// so it must be long enough not to be guessed and free of spaces (it
// travels as `Authorization: [Bearer ]<token>`). Never echoed.
func checkAdminToken(t string) error {
	if t == "" {
		return nil
	}
	if len(t) < MinAdminTokenLen {
		return fmt.Errorf("must be at least %d characters, got %d (try: openssl rand -hex 32)", MinAdminTokenLen, len(t))
	}
	for i := 0; i < len(t); i++ {
		if t[i] < 0x21 || t[i] > 0x7e {
			return errors.New("must be printable ASCII without spaces")
		}
	}
	return nil
}

// ParseTrustedProxies parses SIGIL_TRUSTED_PROXIES: comma-separated CIDRs
// ("10.0.0.0/8") or single addresses ("192.0.2.7", "2001:db8::1"), spaces
// and empty entries ignored. Addresses become single-host prefixes and
// prefixes are masked ("10.1.2.3/8" → 10.0.0.0/8). The error lists every
// bad entry.
func ParseTrustedProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	var errs []error
	for _, e := range strings.Split(s, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		p, err := parseProxy(e)
		if err != nil {
			errs = append(errs, fmt.Errorf("entry %q is neither a CIDR nor an IP address", e))
			continue
		}
		out = append(out, p)
	}
	return out, errors.Join(errs...)
}

func parseProxy(e string) (netip.Prefix, error) {
	if strings.Contains(e, "/") {
		p, err := netip.ParsePrefix(e)
		return p.Masked(), err
	}
	a, err := netip.ParseAddr(e)
	if err != nil {
		return netip.Prefix{}, err
	}
	if a.Zone() != "" {
		return netip.Prefix{}, errors.New("zoned address")
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}
