// Package api holds Sigil's OpenAPI 3.1 description, embedded so the
// server can serve it at /openapi.yaml.
package api

import _ "embed"

// Spec is the OpenAPI document (openapi.yaml).
//
//go:embed openapi.yaml
var Spec []byte
