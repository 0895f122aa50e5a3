package httpapi

import (
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"go.yaml.in/yaml/v3"

	"github.com/sigil-auth/sigil/api"
	"github.com/sigil-auth/sigil/internal/web"
)

// These tests keep api/openapi.yaml truthful: it must describe exactly the
// routes the server registers (both ways), and be well formed enough for
// client generators — every $ref resolves, every operation says what it
// returns on success and on failure, every path parameter is declared.

// specMethods are the path-item keys that are operations (OpenAPI 3.1 §4.8.9).
var specMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// parseSpec decodes an OpenAPI document into generic maps.
func parseSpec(b []byte) (map[string]any, error) {
	var doc map[string]any
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, err
	}
	if doc == nil {
		return nil, fmt.Errorf("empty document")
	}
	return doc, nil
}

// asMap returns v as a string-keyed map; YAML mappings with non-string
// keys (an unquoted 200) have their keys printed.
func asMap(v any) (map[string]any, bool) {
	switch m := v.(type) {
	case map[string]any:
		return m, true
	case map[any]any:
		out := make(map[string]any, len(m))
		for k, x := range m {
			out[fmt.Sprint(k)] = x
		}
		return out, true
	}
	return nil, false
}

// specOp is one operation of the document.
type specOp struct {
	method, path string
	item, op     map[string]any // the path item and the operation
}

func (o specOp) key() string { return strings.ToUpper(o.method) + " " + o.path }

// operations lists the document's operations in path, method order.
func operations(doc map[string]any) []specOp {
	paths, _ := asMap(doc["paths"])
	var ops []specOp
	for path, v := range paths {
		item, _ := asMap(v)
		for _, m := range specMethods {
			if op, ok := asMap(item[m]); ok {
				ops = append(ops, specOp{method: m, path: path, item: item, op: op})
			}
		}
	}
	slices.SortFunc(ops, func(a, b specOp) int { return strings.Compare(a.key(), b.key()) })
	return ops
}

// routeKey turns a ServeMux pattern into "METHOD /openapi/path": the
// end-anchor "{$}" is dropped ("GET /{$}" is the OpenAPI path "/") and a
// rest wildcard "{name...}" becomes "{name}". Patterns without a method
// or with a host cannot be described as one OpenAPI operation.
func routeKey(pattern string) (string, error) {
	method, path, ok := strings.Cut(pattern, " ")
	if !ok || method == "" || method != strings.ToUpper(method) {
		return "", fmt.Errorf("pattern %q has no method", pattern)
	}
	path = strings.TrimSpace(path)
	if !strings.HasPrefix(path, "/") {
		return "", fmt.Errorf("pattern %q has a host or no path", pattern)
	}
	path = strings.TrimSuffix(path, "{$}")
	path = strings.ReplaceAll(path, "...}", "}")
	return method + " " + path, nil
}

// responseProblems reports an operation without a 2xx response, or
// without any 4xx or default one.
func responseProblems(o specOp) []string {
	resp, ok := asMap(o.op["responses"])
	if !ok || len(resp) == 0 {
		return []string{o.key() + ": no responses"}
	}
	var ok2xx, okErr bool
	for code := range resp {
		n, err := strconv.Atoi(code)
		// Redirect-only operations (the hosted pages) succeed with a 3xx.
		ok2xx = ok2xx || (err == nil && n >= 200 && n < 400) || code == "2XX" || code == "3XX"
		okErr = okErr || (err == nil && n >= 400 && n < 500) || code == "4XX" || code == "default"
	}
	var out []string
	if !ok2xx {
		out = append(out, o.key()+": no 2xx response")
	}
	if !okErr {
		out = append(out, o.key()+": no 4xx or default response")
	}
	return out
}

// refProblems walks the whole document and reports every $ref that is not
// a local JSON pointer to something that exists.
func refProblems(doc map[string]any) []string {
	var out []string
	var walk func(at string, v any)
	walk = func(at string, v any) {
		if m, ok := asMap(v); ok {
			if ref, has := m["$ref"]; has {
				s, _ := ref.(string)
				if _, err := resolve(doc, s); err != nil {
					out = append(out, fmt.Sprintf("%s: $ref %q: %v", at, s, err))
				}
			}
			for k, x := range m {
				walk(at+"/"+strings.NewReplacer("~", "~0", "/", "~1").Replace(k), x)
			}
		} else if l, ok := v.([]any); ok {
			for i, x := range l {
				walk(at+"/"+strconv.Itoa(i), x)
			}
		}
	}
	walk("#", doc)
	slices.Sort(out)
	return out
}

// resolve follows a local reference ("#/a/b~1c") within doc.
func resolve(doc map[string]any, ref string) (any, error) {
	if !strings.HasPrefix(ref, "#/") {
		return nil, fmt.Errorf("not a reference within the document")
	}
	var cur any = doc
	for tok := range strings.SplitSeq(ref[2:], "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		m, ok := asMap(cur)
		if !ok {
			return nil, fmt.Errorf("%q is not inside an object", tok)
		}
		if cur, ok = m[tok]; !ok {
			return nil, fmt.Errorf("%q does not exist", tok)
		}
	}
	return cur, nil
}

// paramProblems reports path templates ({x}) that neither the path item
// nor the operation declares as an "in: path" parameter, and declared
// path parameters that the template lacks.
func paramProblems(doc map[string]any, o specOp) []string {
	declared := map[string]bool{}
	for _, list := range []any{o.item["parameters"], o.op["parameters"]} {
		ps, _ := list.([]any)
		for _, p := range ps {
			pm, _ := asMap(p)
			if ref, ok := pm["$ref"].(string); ok {
				r, _ := resolve(doc, ref)
				pm, _ = asMap(r)
			}
			if pm["in"] == "path" {
				declared[fmt.Sprint(pm["name"])] = true
			}
		}
	}
	var out []string
	for seg := range strings.SplitSeq(o.path, "/") {
		if name, ok := strings.CutPrefix(seg, "{"); ok {
			name = strings.TrimSuffix(name, "}")
			if !declared[name] {
				out = append(out, fmt.Sprintf("%s: path parameter %q is not declared", o.key(), name))
			}
			delete(declared, name)
		}
	}
	for name := range declared {
		out = append(out, fmt.Sprintf("%s: parameter %q is not in the path", o.key(), name))
	}
	return out
}

// specProblems runs every well-formedness check on a parsed document.
func specProblems(doc map[string]any) []string {
	out := refProblems(doc)
	for _, o := range operations(doc) {
		out = append(out, responseProblems(o)...)
		out = append(out, paramProblems(doc, o)...)
	}
	return out
}

func TestOpenAPIDocument(t *testing.T) {
	doc, err := parseSpec(api.Spec)
	if err != nil {
		t.Fatalf("api/openapi.yaml is not valid YAML: %v", err)
	}
	info, _ := asMap(doc["info"])
	got := map[string]any{"openapi": doc["openapi"], "info.version": info["version"]}
	want := map[string]any{"openapi": "3.1.0", "info.version": "0.1.0"}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("document header (-want +got):\n%s", d)
	}
	if len(operations(doc)) == 0 {
		t.Fatal("the document has no operations")
	}
	for _, p := range specProblems(doc) {
		t.Error(p)
	}
}

// TestOpenAPIMatchesRoutes checks both directions: every registered route
// is documented, and every documented operation is served.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc, err := parseSpec(api.Spec)
	if err != nil {
		t.Fatalf("api/openapi.yaml is not valid YAML: %v", err)
	}
	documented := map[string]bool{}
	for _, o := range operations(doc) {
		documented[o.key()] = true
	}
	pages, err := web.New(web.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	srv := New(Deps{Metrics: NewMetrics(), Log: slog.New(slog.DiscardHandler), Pages: pages, PageRoutes: pages.Routes()})
	served := map[string]bool{}
	for _, pattern := range srv.Routes() {
		k, err := routeKey(pattern)
		if err != nil {
			t.Errorf("route %v", err)
			continue
		}
		if served[k] {
			t.Errorf("route %q is registered twice", k)
		}
		served[k] = true
	}
	for _, tt := range []struct {
		name       string
		have, lack map[string]bool
	}{
		{"registered but not in api/openapi.yaml", served, documented},
		{"in api/openapi.yaml but not registered", documented, served},
	} {
		var missing []string
		for k := range tt.have {
			if !tt.lack[k] {
				missing = append(missing, k)
			}
		}
		slices.Sort(missing)
		if len(missing) > 0 {
			t.Errorf("%s:\n  %s", tt.name, strings.Join(missing, "\n  "))
		}
	}
}

func TestRouteKey(t *testing.T) {
	tests := []struct {
		pattern, want string
		wantErr       bool
	}{
		{pattern: "GET /{$}", want: "GET /"},
		{pattern: "GET /healthz", want: "GET /healthz"},
		{pattern: "DELETE /v1/sessions/{id}", want: "DELETE /v1/sessions/{id}"},
		{pattern: "GET /v1/{$}", want: "GET /v1/"},
		{pattern: "GET /files/{path...}", want: "GET /files/{path}"},
		{pattern: "/healthz", wantErr: true},
		{pattern: "GET example.com/x", wantErr: true},
		{pattern: "get /x", wantErr: true},
	}
	for _, tt := range tests {
		got, err := routeKey(tt.pattern)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("routeKey(%q) = %q, %v; want %q, error %v", tt.pattern, got, err, tt.want, tt.wantErr)
		}
	}
}

// TestSpecProblems shows that each check can fail.
func TestSpecProblems(t *testing.T) {
	const ok = `
openapi: 3.1.0
paths:
  /things/{id}:
    parameters: [{$ref: '#/components/parameters/ID'}]
    get:
      responses:
        '200': {$ref: '#/components/responses/Thing'}
        default: {description: error}
components:
  parameters:
    ID: {name: id, in: path, required: true, schema: {type: string}}
  responses:
    Thing: {description: a thing, content: {application/json: {schema: {$ref: '#/components/schemas/a~1b'}}}}
  schemas:
    a/b: {type: object}
`
	tests := []struct {
		name, doc string
		want      []string
	}{
		{"well formed", ok, nil},
		{"no 2xx", `
paths:
  /x: {get: {responses: {'404': {description: gone}}}}`, []string{"GET /x: no 2xx response"}},
		{"no error response", `
paths:
  /x: {post: {responses: {'201': {description: made}}}}`, []string{"POST /x: no 4xx or default response"}},
		{"no responses", `
paths:
  /x: {delete: {}}`, []string{"DELETE /x: no responses"}},
		{"dangling ref", `
paths:
  /x: {get: {responses: {'200': {$ref: '#/components/responses/Nope'}, default: {description: e}}}}`,
			[]string{`#/paths/~1x/get/responses/200: $ref "#/components/responses/Nope": "components" does not exist`}},
		{"external ref", `
components: {schemas: {A: {$ref: 'other.yaml#/B'}}}`,
			[]string{`#/components/schemas/A: $ref "other.yaml#/B": not a reference within the document`}},
		{"undeclared path parameter", `
paths:
  /x/{id}: {get: {responses: {'200': {description: ok}, '404': {description: no}}}}`,
			[]string{`GET /x/{id}: path parameter "id" is not declared`}},
		{"parameter not in path", `
paths:
  /x: {get: {parameters: [{name: id, in: path}], responses: {'200': {description: ok}, '404': {description: no}}}}`,
			[]string{`GET /x: parameter "id" is not in the path`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc, err := parseSpec([]byte(tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			if d := cmp.Diff(tt.want, specProblems(doc)); d != "" {
				t.Errorf("problems (-want +got):\n%s", d)
			}
		})
	}
}

func TestParseSpecRefusesBadYAML(t *testing.T) {
	for _, in := range []string{"", "paths: [unclosed", "a: b: c"} {
		if _, err := parseSpec([]byte(in)); err == nil {
			t.Errorf("parseSpec(%q) succeeded", in)
		}
	}
}
