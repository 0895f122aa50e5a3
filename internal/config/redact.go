package config

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/url"
	"strings"
)

// redacted stands in for a secret that is set.
const redacted = "[REDACTED]"

// LogValue implements slog.LogValuer. The master key and the admin token
// show only whether they are set; URL passwords are masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(c.attrs()...)
}

// String renders c for humans with the same redaction as LogValue, so
// fmt's %v and %+v are safe.
func (c Config) String() string {
	var b strings.Builder
	b.WriteString("config.Config{")
	for i, a := range c.attrs() {
		if i > 0 {
			b.WriteString(" ")
		}
		b.WriteString(a.Key + "=" + a.Value.String())
	}
	b.WriteString("}")
	return b.String()
}

// GoString makes %#v redacted too (it would otherwise print the key bytes).
func (c Config) GoString() string { return c.String() }

// MarshalJSON writes the same redacted view as LogValue, so dumping a
// Config as JSON (a debug endpoint, a test fixture) is safe too.
func (c Config) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, a := range c.attrs() {
		if i > 0 {
			b.WriteByte(',')
		}
		v := a.Value.Any()
		if a.Value.Kind() == slog.KindDuration {
			v = a.Value.Duration().String()
		}
		k, _ := json.Marshal(a.Key)
		val, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(val)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func (c Config) attrs() []slog.Attr {
	return []slog.Attr{
		slog.String("addr", c.Addr),
		slog.String("database_url", redactURL(c.DatabaseURL)),
		slog.String("redis_url", redactURL(c.RedisURL)),
		slog.String("smtp_url", redactURL(c.SMTPURL)),
		slog.String("issuer", c.Issuer),
		slog.String("master_key", secret(len(c.MasterKey) > 0)),
		slog.String("master_key_file", c.MasterKeyFile),
		slog.String("admin_token", secret(c.AdminToken != "")),
		slog.String("trusted_proxies", c.TrustedProxies),
		slog.String("rate_limits", c.RateLimits),
		slog.String("tiers", c.Tiers),
		slog.String("signing_alg", c.SigningAlg),
		slog.String("log_level", c.LogLevel),
		slog.String("log_format", c.LogFormat),
		slog.Duration("shutdown_timeout", c.ShutdownTimeout),
		slog.Bool("dev", c.Dev),
		slog.Bool("access_log", c.AccessLog),
		slog.String("memory_limit", FormatMemoryLimit(c.MemoryLimit)),
	}
}

func secret(set bool) string {
	if set {
		return redacted
	}
	return ""
}

// redactURL masks the password of a URL and any query parameter that can
// carry one (pgx accepts ?password=…). A URL that does not parse is hidden
// whole, since we cannot tell where its secret is. sqlite:// URLs are
// paths and shown as is.
func redactURL(s string) string {
	if s == "" || strings.HasPrefix(strings.ToLower(s), "sqlite://") {
		return s
	}
	u, err := url.Parse(s)
	if err != nil {
		return redacted
	}
	if u.RawQuery != "" {
		q := u.Query()
		for k := range q {
			if lk := strings.ToLower(k); strings.Contains(lk, "pass") || strings.Contains(lk, "secret") || strings.Contains(lk, "token") {
				q.Set(k, "xxxxx")
			}
		}
		u.RawQuery = q.Encode()
	}
	return u.Redacted()
}
