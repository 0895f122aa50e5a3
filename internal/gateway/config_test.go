package gateway

import (
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sigil-auth/sigil/internal/ratelimit"
)

const exampleConfig = `
listen: 127.0.0.1:8081
upstream: http://127.0.0.1:9000/api
sigil_url: http://127.0.0.1:8080
redis_url: ""
tiers: {free: 60/m, pro: 1000/m, burst: 10/30s}
default_tier: free
auth_cache_ttl: 500ms
strip_credentials: true
trusted_proxies: [10.0.0.0/8, "192.168.1.7", "::ffff:172.16.0.1", "fd00::/8"]
streams_per_credential: 8
streams: 512
routes:
  - {pattern: "/public/", public: true}
  - {pattern: "/admin/", scopes: [admin]}
  - {pattern: "POST /items/{id}", scopes: [write, "geofences:read"]}
  - {pattern: "/", scopes: [read]}
`

func TestParseConfigExample(t *testing.T) {
	c, err := ParseConfig([]byte(exampleConfig))
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		Listen: "127.0.0.1:8081", Upstream: "http://127.0.0.1:9000/api", SigilURL: "http://127.0.0.1:8080",
		Tiers:       map[string]string{"free": "60/m", "pro": "1000/m", "burst": "10/30s"},
		DefaultTier: "free", AuthCacheTTL: "500ms", StripCredentials: true,
		TrustedProxies:       []string{"10.0.0.0/8", "192.168.1.7", "::ffff:172.16.0.1", "fd00::/8"},
		StreamsPerCredential: 8, Streams: 512,
		Routes: []Route{
			{Pattern: "/public/", Public: true},
			{Pattern: "/admin/", Scopes: []string{"admin"}},
			{Pattern: "POST /items/{id}", Scopes: []string{"write", "geofences:read"}},
			{Pattern: "/", Scopes: []string{"read"}},
		},
	}
	if d := cmp.Diff(want, c); d != "" {
		t.Fatalf("parsed config (-want +got):\n%s", d)
	}
	o, err := c.Options()
	if err != nil {
		t.Fatal(err)
	}
	wantTiers := map[string]ratelimit.Rule{
		"free": {Limit: 60, Window: time.Minute}, "pro": {Limit: 1000, Window: time.Minute},
		"burst": {Limit: 10, Window: 30 * time.Second},
	}
	if d := cmp.Diff(wantTiers, o.Tiers); d != "" {
		t.Errorf("tiers (-want +got):\n%s", d)
	}
	if o.Upstream.String() != "http://127.0.0.1:9000/api" || o.SigilURL.String() != "http://127.0.0.1:8080" ||
		o.CacheTTL != 500*time.Millisecond || o.DefaultTier != "free" || !o.StripCredentials || len(o.Routes) != 4 ||
		o.StreamsPerCredential != 8 || o.Streams != 512 {
		t.Errorf("options: %+v", o)
	}
	wantTrusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("192.168.1.7/32"),
		netip.MustParsePrefix("172.16.0.1/32"), netip.MustParsePrefix("fd00::/8")}
	if d := cmp.Diff(wantTrusted, o.TrustedProxies, cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); d != "" {
		t.Errorf("trusted proxies (-want +got):\n%s", d)
	}
}

// TestDocsShowExample: docs/integrations/proxy.md shows exampleConfig.
func TestDocsShowExample(t *testing.T) {
	doc, err := os.ReadFile("../../docs/integrations/proxy.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "```yaml"+exampleConfig+"```") {
		t.Error("docs/integrations/proxy.md does not show exampleConfig verbatim in a ```yaml block")
	}
}

func TestConfigDefaults(t *testing.T) {
	c, err := ParseConfig([]byte("upstream: https://api.internal\n"))
	if err != nil {
		t.Fatal(err)
	}
	o, err := c.Options()
	if err != nil {
		t.Fatal(err)
	}
	def, _ := ratelimit.ParseTiers("")
	if d := cmp.Diff(def, o.Tiers); d != "" {
		t.Errorf("absent tiers are the server's defaults (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]Route{{Pattern: "/"}}, o.Routes); d != "" {
		t.Errorf("no routes: one authenticated catch-all (-want +got):\n%s", d)
	}
	if o.SigilURL.String() != DefaultSigilURL || o.CacheTTL != 0 || o.DefaultTier != "" {
		t.Errorf("defaults: %+v", o)
	}
	// An explicitly empty tier map means no tiers; an empty file is a zero Config.
	c, _ = ParseConfig([]byte("upstream: http://u\ntiers: {}\nauth_cache_ttl: off\n"))
	if o, err := c.Options(); err != nil || len(o.Tiers) != 0 || o.CacheTTL >= 0 {
		t.Errorf("tiers {} / cache off: %+v %v", o, err)
	}
	if c, err := ParseConfig(nil); err != nil || c.Upstream != "" {
		t.Errorf("empty file: %+v %v", c, err)
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name, yaml string
		want       []string // every substring must appear in the one error
	}{
		{"unknown field", "upstream: http://u\nroutes: [{pattern: /, scope: [admin]}]", []string{"field scope not found"}},
		{"not yaml", "upstream: [", []string{"proxy config"}},
		{"conflicting patterns", "upstream: http://u\nroutes: [{pattern: \"POST /items/\"}, {pattern: \"/items/{id}/audit\"}]",
			[]string{"conflicts with"}},
		{"missing upstream", "sigil_url: http://s", []string{"upstream is required"}},
		{"negative stream caps", "upstream: http://u\nstreams: -1", []string{"streams_per_credential and streams: want a positive count"}},
		{"require_aal", "upstream: http://u\nroutes: [{pattern: /a/, require_aal: aal3}, {pattern: /p/, public: true, require_aal: aal2}]",
			[]string{`routes[0] "/a/": require_aal "aal3": want aal1 or aal2`, `routes[1] "/p/": a public route cannot require aal2`}},
		{"everything at once", `
upstream: ftp://u
sigil_url: "http://s?x=1"
tiers: {free: 60/fortnight, Gold: 1/m}
default_tier: platinum
auth_cache_ttl: 5s
trusted_proxies: [10.0.0.0/33, "lb.internal", "fe80::1%eth0"]
routes:
  - {pattern: "/p/", public: true, scopes: [read]}
  - {pattern: "/a/", scopes: ["two words", "a,b"]}
  - {pattern: "/a/"}
  - {pattern: ""}
  - {pattern: "GET /{x"}
`, []string{
			`upstream: "ftp://u"`, "sigil_url", "tiers: free", "tiers: Gold", `default_tier "platinum"`,
			"auth_cache_ttl 5s", "public route cannot require scopes", `scope "two words"`, `scope "a,b"`,
			`routes[2] "/a/"`, "empty pattern", `routes[4] "GET /{x"`,
			`trusted_proxies[0]: "10.0.0.0/33"`, `trusted_proxies[1]: "lb.internal"`, `trusted_proxies[2]: "fe80::1%eth0"`,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := ParseConfig([]byte(tt.yaml))
			if err == nil {
				_, err = c.Options()
			}
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error lacks %q:\n%v", w, err)
				}
			}
		})
	}
}

func TestLoadConfig(t *testing.T) {
	p := filepath.Join(t.TempDir(), "proxy.yaml")
	if err := os.WriteFile(p, []byte(exampleConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	if c, err := LoadConfig(p); err != nil || c.Upstream == "" {
		t.Fatalf("LoadConfig: %+v %v", c, err)
	}
	if _, err := LoadConfig(p + ".missing"); err == nil {
		t.Error("a missing file was accepted")
	}
}

func TestNewRejectsBadOptions(t *testing.T) {
	c, _ := ParseConfig([]byte(exampleConfig))
	good, err := c.Options()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		mutate func(*Options)
	}{
		{"no upstream", func(o *Options) { o.Upstream = nil }},
		{"no sigil", func(o *Options) { o.SigilURL = nil }},
		{"no routes", func(o *Options) { o.Routes = nil }},
		{"bad route", func(o *Options) { o.Routes = []Route{{Pattern: "/", Public: true, Scopes: []string{"x"}}} }},
		{"cache too long", func(o *Options) { o.CacheTTL = 2 * time.Second }},
	}
	for _, tt := range tests {
		o := good
		tt.mutate(&o)
		if _, err := New(o); err == nil {
			t.Errorf("%s: accepted", tt.name)
		}
	}
	if _, err := New(good); err != nil {
		t.Errorf("good options refused: %v", err)
	}
}

func TestIsEventStream(t *testing.T) {
	for ct, want := range map[string]bool{
		"text/event-stream":                true,
		"Text/Event-Stream; charset=utf-8": true,
		"text/event-streams":               false,
		"text/event":                       false,
		"application/json":                 false,
		"":                                 false,
	} {
		if got := isEventStream(ct); got != want {
			t.Errorf("isEventStream(%q) = %v, want %v", ct, got, want)
		}
	}
}
