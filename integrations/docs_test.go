package integrations

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"
)

// confTemplate is the nginx config the docs publish and the nginx test runs.
const confTemplate = "nginx/nginx.conf.tmpl"

// identityHeaders are the headers Sigil's /v1/authorize answers with and
// every gateway must forward to the API (and strip from clients).
var identityHeaders = []string{"X-Sigil-Subject", "X-Sigil-Workspace", "X-Sigil-Scopes", "X-Sigil-Kind", "X-Sigil-Session"}

// TestDocsShowTheseConfigs: each integration page shows its config file
// verbatim, so what readers copy is what this package checks (and, for
// nginx, runs).
func TestDocsShowTheseConfigs(t *testing.T) {
	tests := []struct{ doc, file, lang string }{
		{"nginx.md", confTemplate, "nginx"},
		{"traefik.md", "traefik/dynamic.yml", "yaml"},
		{"caddy.md", "caddy/Caddyfile", "caddyfile"},
		{"envoy.md", "envoy/envoy.yaml", "yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.doc, func(t *testing.T) {
			doc := read(t, "../docs/integrations/"+tt.doc)
			conf := read(t, tt.file)
			if !strings.Contains(doc, "```"+tt.lang+"\n"+conf+"```\n") {
				t.Errorf("docs/integrations/%s does not show integrations/%s verbatim in a ```%s block", tt.doc, tt.file, tt.lang)
			}
			if !strings.Contains(doc, "integrations/"+tt.file) {
				t.Errorf("docs/integrations/%s does not name integrations/%s", tt.doc, tt.file)
			}
		})
	}
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// traefikStatic is the static configuration the docs show, less the
// listen address and the dynamic file's path: an entry point that refuses
// encoded characters that could make Traefik's routing (which decides
// the scope) and the API's disagree on a path.
var traefikStatic = []string{
	"--entryPoints.web.http.encodedCharacters.allowEncodedSlash=false",
	"--entryPoints.web.http.encodedCharacters.allowEncodedBackSlash=false",
	"--entryPoints.web.http.encodedCharacters.allowEncodedNullCharacter=false",
	"--entryPoints.web.http.encodedCharacters.allowEncodedPercent=false",
	"--global.checkNewVersion=false",
	"--global.sendAnonymousUsage=false",
}

// TestTraefikStaticShown: the Traefik page shows every static option
// TestTraefik runs Traefik with.
func TestTraefikStaticShown(t *testing.T) {
	doc := read(t, "../docs/integrations/traefik.md")
	for _, flag := range traefikStatic {
		if !strings.Contains(doc, "  "+flag+" \\\n") && !strings.Contains(doc, "  "+flag+"\n") {
			t.Errorf("docs/integrations/traefik.md does not show %s in its command line", flag)
		}
	}
}

// TestTraefikConfig checks, without starting Traefik (TestTraefik does): every
// router first strips client-sent identity headers, then has a
// forwardAuth that asks /v1/authorize, sends only the credential headers
// and forwards every identity header.
func TestTraefikConfig(t *testing.T) {
	var c struct {
		HTTP struct {
			Routers map[string]struct {
				Middlewares []string `yaml:"middlewares"`
				Service     string   `yaml:"service"`
			} `yaml:"routers"`
			Middlewares map[string]struct {
				Headers struct {
					CustomRequestHeaders map[string]string `yaml:"customRequestHeaders"`
				} `yaml:"headers"`
				ForwardAuth struct {
					Address             string   `yaml:"address"`
					TrustForwardHeader  bool     `yaml:"trustForwardHeader"`
					AuthRequestHeaders  []string `yaml:"authRequestHeaders"`
					AuthResponseHeaders []string `yaml:"authResponseHeaders"`
				} `yaml:"forwardAuth"`
			} `yaml:"middlewares"`
			Services map[string]any `yaml:"services"`
		} `yaml:"http"`
	}
	if err := yaml.Unmarshal([]byte(read(t, "traefik/dynamic.yml")), &c); err != nil {
		t.Fatal(err)
	}
	if len(c.HTTP.Routers) == 0 {
		t.Fatal("no routers")
	}
	for name, r := range c.HTTP.Routers {
		if len(r.Middlewares) == 0 || c.HTTP.Services[r.Service] == nil {
			t.Errorf("router %s: middlewares %v, service %q", name, r.Middlewares, r.Service)
		}
		if len(r.Middlewares) != 2 {
			t.Errorf("router %s: middlewares %v, want [strip-identity, <a forwardAuth>]", name, r.Middlewares)
			continue
		}
		strip := c.HTTP.Middlewares[r.Middlewares[0]].Headers.CustomRequestHeaders
		for _, h := range append(identityHeaders, underscored(identityHeaders)...) {
			if v, ok := strip[h]; !ok || v != "" {
				t.Errorf("router %s: %s is not stripped from client requests first", name, h)
			}
		}
		for _, m := range r.Middlewares[1:] {
			fa := c.HTTP.Middlewares[m].ForwardAuth
			if !strings.HasPrefix(fa.Address, "http://sigil:8080/v1/authorize") || fa.TrustForwardHeader {
				t.Errorf("middleware %s: address %q, trustForwardHeader %v", m, fa.Address, fa.TrustForwardHeader)
			}
			if diff := cmp.Diff(identityHeaders, fa.AuthResponseHeaders); diff != "" {
				t.Errorf("middleware %s authResponseHeaders (-want +got):\n%s", m, diff)
			}
			if diff := cmp.Diff([]string{"Authorization", "X-API-KEY"}, fa.AuthRequestHeaders); diff != "" {
				t.Errorf("middleware %s authRequestHeaders (-want +got):\n%s", m, diff)
			}
		}
	}
}

// underscored spells each header name with underscores for hyphens.
func underscored(names []string) []string {
	var out []string
	for _, n := range names {
		out = append(out, strings.ReplaceAll(n, "-", "_"))
	}
	return out
}

// TestEnvoyConfig checks what can be checked without Envoy: the file is
// YAML, header names with underscores are refused, client-sent identity
// headers are stripped before any ext_authz
// filter, and every ext_authz path_prefix ends in "uri=" (Envoy appends
// the original path to it).
func TestEnvoyConfig(t *testing.T) {
	type filter struct {
		Name        string         `yaml:"name"`
		TypedConfig map[string]any `yaml:"typed_config"`
	}
	var c struct {
		StaticResources struct {
			Listeners []struct {
				FilterChains []struct {
					Filters []struct {
						TypedConfig struct {
							HTTPFilters    []filter `yaml:"http_filters"`
							ProtocolOption struct {
								Underscores string `yaml:"headers_with_underscores_action"`
							} `yaml:"common_http_protocol_options"`
						} `yaml:"typed_config"`
					} `yaml:"filters"`
				} `yaml:"filter_chains"`
			} `yaml:"listeners"`
		} `yaml:"static_resources"`
	}
	if err := yaml.Unmarshal([]byte(read(t, "envoy/envoy.yaml")), &c); err != nil {
		t.Fatal(err)
	}
	hcm := c.StaticResources.Listeners[0].FilterChains[0].Filters[0].TypedConfig
	if hcm.ProtocolOption.Underscores != "REJECT_REQUEST" {
		t.Errorf("headers_with_underscores_action %q, want REJECT_REQUEST (X_Sigil_* would pass the strip)", hcm.ProtocolOption.Underscores)
	}
	filters := hcm.HTTPFilters
	var stripped []string
	authz := 0
	for _, f := range filters {
		switch {
		case strings.HasSuffix(f.TypedConfig["@type"].(string), ".HeaderMutation"):
			muts := f.TypedConfig["mutations"].(map[string]any)["request_mutations"].([]any)
			for _, m := range muts {
				stripped = append(stripped, m.(map[string]any)["remove"].(string))
			}
		case strings.HasSuffix(f.TypedConfig["@type"].(string), ".ExtAuthz"):
			if stripped == nil {
				t.Errorf("ext_authz filter %s runs before the identity headers are stripped", f.Name)
			}
			authz++
			prefix, _ := f.TypedConfig["http_service"].(map[string]any)["path_prefix"].(string)
			if !strings.HasPrefix(prefix, "/v1/authorize?") || !strings.HasSuffix(prefix, "uri=") {
				t.Errorf("ext_authz filter %s: path_prefix %q", f.Name, prefix)
			}
		}
	}
	for _, h := range identityHeaders {
		if !slices.Contains(stripped, strings.ToLower(h)) {
			t.Errorf("%s is not stripped from client requests", h)
		}
	}
	if authz != 3 {
		t.Errorf("%d ext_authz filters, want 3 (authenticate, read, admin)", authz)
	}
}
