package integrations

import (
	"encoding/json"
	"strings"
	"testing"

	bootstrapv3 "github.com/envoyproxy/go-control-plane/envoy/config/bootstrap/v3"
	"go.yaml.in/yaml/v3"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/anypb"

	// The typed_config types envoy.yaml names, registered for Any.
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/ext_authz/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/header_mutation/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/http/router/v3"
	_ "github.com/envoyproxy/go-control-plane/envoy/extensions/filters/network/http_connection_manager/v3"
)

// TestEnvoyConfigSchema loads envoy.yaml the way Envoy loads a bootstrap
// file, against Envoy's own API: the v3 protobuf definitions and their
// validation rules (github.com/envoyproxy/go-control-plane). Every field
// name, type, enum and bound is checked, inside every typed_config too,
// where an unknown field or a bad value would make Envoy refuse to
// start. It cannot show what Envoy does with the config: see envoy.md.
func TestEnvoyConfigSchema(t *testing.T) {
	for _, problem := range envoySchemaProblems(t, read(t, "envoy/envoy.yaml")) {
		t.Error(problem)
	}
}

// TestEnvoyConfigSchemaRefuses: the check above can fail.
func TestEnvoyConfigSchemaRefuses(t *testing.T) {
	conf := read(t, "envoy/envoy.yaml")
	for _, tt := range []struct{ name, from, to string }{
		{"misspelt field in a typed_config", "path_prefix:", "path_prefx:"},
		{"unknown enum value", "code: ServiceUnavailable", "code: Unavailable"},
		{"out of the allowed range", "port_value: 8000", "port_value: 80000"},
		{"unknown typed_config type", "http_connection_manager.v3.HttpConnectionManager", "http_connection_manager.v3.HttpConnMgr"},
		{"a validation rule: an empty cluster name", "cluster_name: sigil", `cluster_name: ""`},
		{"a validation rule inside a typed_config", "timeout: 2s", "timeout: -2s"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(conf, tt.from) {
				t.Fatalf("envoy.yaml has no %q", tt.from)
			}
			if len(envoySchemaProblems(t, strings.Replace(conf, tt.from, tt.to, 1))) == 0 {
				t.Errorf("%q → %q passed", tt.from, tt.to)
			}
		})
	}
}

// envoySchemaProblems decodes conf (YAML) as an Envoy bootstrap and
// returns what Envoy's API rejects.
func envoySchemaProblems(t *testing.T, conf string) []string {
	t.Helper()
	var doc any
	if err := yaml.Unmarshal([]byte(conf), &doc); err != nil {
		return []string{"YAML: " + err.Error()}
	}
	js, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	var b bootstrapv3.Bootstrap
	if err := protojson.Unmarshal(js, &b); err != nil { // unknown fields and types are errors
		return []string{"bootstrap: " + err.Error()}
	}
	var problems []string
	validateDeep(&problems, "bootstrap", &b)
	return problems
}

// validateDeep runs the validation rules of m, which cover every message
// embedded in it except what an Any holds: so it walks m for each Any (a
// typed_config), unpacks it and validates that the same way.
func validateDeep(problems *[]string, path string, m proto.Message) {
	if v, ok := m.(interface{ ValidateAll() error }); ok {
		if err := v.ValidateAll(); err != nil {
			*problems = append(*problems, path+": "+err.Error())
		}
	}
	forEachAny(m.ProtoReflect(), path, func(path string, a *anypb.Any) {
		inner, err := a.UnmarshalNew()
		if err != nil {
			*problems = append(*problems, path+": "+err.Error())
			return
		}
		validateDeep(problems, path+"("+string(inner.ProtoReflect().Descriptor().Name())+")", inner)
	})
}

// forEachAny calls f for every Any in m, not descending into them.
func forEachAny(m protoreflect.Message, path string, f func(string, *anypb.Any)) {
	if a, ok := m.Interface().(*anypb.Any); ok {
		f(path, a)
		return
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		p := path + "." + string(fd.Name())
		switch {
		case fd.IsList() && fd.Message() != nil:
			for i := range v.List().Len() {
				forEachAny(v.List().Get(i).Message(), p, f)
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(k protoreflect.MapKey, mv protoreflect.Value) bool {
				forEachAny(mv.Message(), p+"["+k.String()+"]", f)
				return true
			})
		case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
			forEachAny(v.Message(), p, f)
		}
		return true
	})
}
