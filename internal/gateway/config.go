package gateway

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/sigil-auth/sigil/internal/clientip"
	"github.com/sigil-auth/sigil/internal/ratelimit"
)

// Defaults for settings the file and flags leave empty.
const (
	DefaultListen   = "127.0.0.1:8081"
	DefaultSigilURL = "http://127.0.0.1:8080"
)

// Config is the proxy's YAML configuration file as written, before
// validation; Options turns it into what New takes. Example:
//
//	listen: 127.0.0.1:8081
//	upstream: http://127.0.0.1:9000
//	sigil_url: http://127.0.0.1:8080
//	feed_credential: sk_…      # API key with tokens:introspect (or SIGIL_FEED_CREDENTIAL): follow revocations
//	redis_url: ""              # set: tier counters shared by every proxy
//	tiers: {free: 60/m, pro: 1000/m}
//	default_tier: ""           # tier of credentials without a tier: scope ("" = unlimited)
//	auth_cache_ttl: 1s         # at most 1s; "off" asks Sigil on every request
//	strip_credentials: false   # true: the upstream never sees Authorization / X-API-KEY
//	trusted_proxies: []        # load balancers in front whose X-Forwarded-* to keep (CIDRs or IPs)
//	streams_per_credential: 64 # event streams and WebSockets one credential may hold open at once
//	streams: 1024              # … and this proxy in all (beyond: 429 with Retry-After)
//	routes:
//	  - {pattern: "/public/", public: true}
//	  - {pattern: "/admin/", scopes: [admin]}
//	  - {pattern: "/", scopes: [read]}
type Config struct {
	Listen   string `yaml:"listen"`
	Upstream string `yaml:"upstream"`
	SigilURL string `yaml:"sigil_url"`
	RedisURL string `yaml:"redis_url"`
	// FeedCredential (an API key with tokens:introspect, or the admin
	// token) lets the proxy follow Sigil's revocation feed, so a logout or
	// revocation drops its cached answers at once; without it the cache
	// lifetime (≤ 1 s) is the bound. cmd/sigil wires the feed.
	FeedCredential string `yaml:"feed_credential"`
	// Tiers maps a tier name to "N/unit" (ratelimit syntax: 60/m, 10/30s).
	// Absent: ratelimit.DefaultTiers, like the server; {} : no tiers.
	Tiers            map[string]string `yaml:"tiers"`
	DefaultTier      string            `yaml:"default_tier"`
	AuthCacheTTL     string            `yaml:"auth_cache_ttl"`
	StripCredentials bool              `yaml:"strip_credentials"`
	// TrustedProxies are the peers (CIDRs or single IPs) whose
	// X-Forwarded-For/Host/Proto are passed on rather than replaced.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// StreamsPerCredential and Streams cap the long-lived answers (event
	// streams, WebSockets) open at once per credential and in all (0: 64
	// and 1024, ratelimit.NewConcurrency's).
	StreamsPerCredential int `yaml:"streams_per_credential"`
	Streams              int `yaml:"streams"`
	// Routes: none means one rule, "/" with no scopes (any valid credential).
	Routes []Route `yaml:"routes"`
}

// Route is one rule. Pattern is a Go net/http.ServeMux pattern
// ("[METHOD ][HOST]/PATH", with {wildcards} and {$}); the most specific
// matching pattern wins, which for plain paths is the longest prefix
// ("/admin/" covers the subtree, "/admin" only itself). A public route
// passes without a credential; any other needs a valid credential holding
// every one of Scopes (none: any valid credential). RequireAAL "aal2"
// also needs a credential from a sign-in with a second factor (Sigil's
// /v1/authorize?aal=2): a password-only session gets 403 insufficient_aal.
type Route struct {
	Pattern    string   `yaml:"pattern"`
	Public     bool     `yaml:"public"`
	Scopes     []string `yaml:"scopes"`
	RequireAAL string   `yaml:"require_aal"`
}

// LoadConfig reads and parses the file at path (not validated: flags may
// still override fields; Options validates).
func LoadConfig(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, err
	}
	c, err := ParseConfig(data)
	if err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// ParseConfig parses YAML strictly: an unknown field is an error (a
// misspelt "scope:" must not silently leave a route open). An empty
// document is the zero Config.
func ParseConfig(data []byte) (Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("proxy config: %w", err)
	}
	return c, nil
}

// Options validates c and returns the settings New needs, with defaults
// filled in; the caller adds Limiter, Log and the rest. Every problem is
// reported at once (errors.Join).
func (c Config) Options() (Options, error) {
	var errs []error
	bad := func(format string, a ...any) { errs = append(errs, fmt.Errorf(format, a...)) }
	var o Options
	var err error
	if c.Upstream == "" {
		bad("upstream is required")
	} else if o.Upstream, err = parseBaseURL(c.Upstream); err != nil {
		bad("upstream: %v", err)
	}
	sigil := cmp.Or(c.SigilURL, DefaultSigilURL)
	if o.SigilURL, err = parseBaseURL(sigil); err != nil {
		bad("sigil_url: %v", err)
	}
	if o.Tiers, err = parseTiers(c.Tiers); err != nil {
		errs = append(errs, err)
	}
	o.DefaultTier = c.DefaultTier
	if _, ok := o.Tiers[c.DefaultTier]; c.DefaultTier != "" && !ok {
		bad("default_tier %q is not one of tiers", c.DefaultTier)
	}
	if o.CacheTTL, err = parseCacheTTL(c.AuthCacheTTL); err != nil {
		errs = append(errs, err)
	}
	o.StripCredentials = c.StripCredentials
	if c.StreamsPerCredential < 0 || c.Streams < 0 {
		bad("streams_per_credential and streams: want a positive count (0: the default)")
	}
	o.StreamsPerCredential, o.Streams = c.StreamsPerCredential, c.Streams
	for i, t := range c.TrustedProxies {
		p, err := clientip.ParseTrusted(t)
		if err != nil || len(p) != 1 {
			bad("trusted_proxies[%d]: %q: want a CIDR like 10.0.0.0/8 or an IP address", i, t)
			continue
		}
		o.TrustedProxies = append(o.TrustedProxies, p[0])
	}
	o.Routes = c.Routes
	if len(o.Routes) == 0 {
		o.Routes = []Route{{Pattern: "/"}}
	}
	if err := validateRoutes(o.Routes); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return Options{}, fmt.Errorf("proxy config: %w", err)
	}
	return o, nil
}

// parseBaseURL accepts an absolute http(s) URL without query or fragment
// (its path, if any, is the base that request paths are joined to).
func parseBaseURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil {
		return nil, errors.Unwrap(err) // *url.Error repeats the whole URL
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("%q: want an absolute http:// or https:// URL", s)
	}
	if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return nil, fmt.Errorf("%q: no query, fragment or user info allowed", s)
	}
	return u, nil
}

// parseTiers turns {name: "N/unit"} into rules with ratelimit's parser, so
// tier syntax and bounds are the server's.
func parseTiers(in map[string]string) (map[string]ratelimit.Rule, error) {
	if in == nil {
		return ratelimit.ParseTiers("")
	}
	out := make(map[string]ratelimit.Rule, len(in))
	var errs []error
	for name, v := range in {
		one, err := ratelimit.ParseTiers(name + "=" + strings.TrimSpace(v))
		if err != nil || len(one) != 1 {
			errs = append(errs, fmt.Errorf("tiers: %s: %q: %v", name, v, err))
			continue
		}
		out[name] = one[name]
	}
	return out, errors.Join(errs...)
}

// parseCacheTTL: "" is the default (1 s), "off" or 0 disables the cache,
// and more than MaxCacheTTL would break "revoked → refused within 1 s".
func parseCacheTTL(s string) (time.Duration, error) {
	switch s = strings.TrimSpace(s); {
	case s == "":
		return 0, nil
	case strings.EqualFold(s, "off"):
		return -1, nil
	}
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return 0, fmt.Errorf("auth_cache_ttl %q: want a duration like 500ms, or off", s)
	case d < 0 || d > MaxCacheTTL:
		return 0, fmt.Errorf("auth_cache_ttl %v: must be between 0 and %v", d, MaxCacheTTL)
	case d == 0:
		return -1, nil
	}
	return d, nil
}

// validateRoutes checks each rule and that the patterns form a valid
// ServeMux (syntax, duplicates, conflicts).
func validateRoutes(routes []Route) error {
	var errs []error
	for i, r := range routes {
		if r.Public && len(r.Scopes) > 0 {
			errs = append(errs, fmt.Errorf("routes[%d] %q: a public route cannot require scopes", i, r.Pattern))
		}
		switch {
		case r.RequireAAL != "" && r.RequireAAL != "aal1" && r.RequireAAL != "aal2":
			errs = append(errs, fmt.Errorf("routes[%d] %q: require_aal %q: want aal1 or aal2", i, r.Pattern, r.RequireAAL))
		case r.Public && r.RequireAAL == "aal2":
			errs = append(errs, fmt.Errorf("routes[%d] %q: a public route cannot require aal2", i, r.Pattern))
		}
		for _, s := range r.Scopes {
			if !validScope(s) {
				errs = append(errs, fmt.Errorf("routes[%d] %q: scope %q: want visible characters without spaces or commas", i, r.Pattern, s))
			}
		}
	}
	if _, err := newRouter(routes); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// validScope: Sigil splits the scope parameter on spaces and commas, so a
// scope holding one would silently become two requirements.
func validScope(s string) bool {
	return s != "" && len(s) <= 200 && !strings.ContainsFunc(s, func(r rune) bool {
		return r <= ' ' || r == ',' || r == 0x7f
	})
}
