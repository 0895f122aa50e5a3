package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"

	"github.com/sigil-auth/sigil/internal/authn"
)

// MaxBody is the largest request body accepted (API.md §1).
const MaxBody = 64 << 10

// errTooLarge marks a body over MaxBody.
var errTooLarge = errors.New("request body too large")

// decode reads one JSON object into v. Unknown fields are ignored; a body
// that is not JSON (whatever its Content-Type), has trailing data or a
// field of the wrong type is invalid_request; over MaxBody is errTooLarge.
func decode(r *http.Request, v any) error { return decodeBody(r, v, false) }

// decodeOptional is decode for endpoints whose body may be empty.
func decodeOptional(r *http.Request, v any) error { return decodeBody(r, v, true) }

func decodeBody(r *http.Request, v any, emptyOK bool) error {
	dec := json.NewDecoder(r.Body)
	err := dec.Decode(v)
	if emptyOK && errors.Is(err, io.EOF) {
		return nil
	}
	if err == nil {
		if _, terr := dec.Token(); terr != io.EOF {
			err = errors.New("trailing data after the JSON object")
		}
	}
	if err == nil {
		return nil
	}
	var tooBig *http.MaxBytesError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &tooBig):
		return errTooLarge
	case errors.Is(err, io.EOF):
		return &authn.Error{Code: authn.CodeInvalidRequest, Detail: "the request body must be a JSON object"}
	case errors.As(err, &typeErr):
		return &authn.Error{Code: authn.CodeInvalidRequest, Detail: fmt.Sprintf("field %q has the wrong type", typeErr.Field)}
	default:
		return &authn.Error{Code: authn.CodeInvalidRequest, Detail: "the request body is not valid JSON"}
	}
}

// writeJSON writes v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	if h.Get("Cache-Control") == "" {
		h.Set("Cache-Control", "no-store")
	}
	w.WriteHeader(status)
	writeJSONBody(w, v)
}

// writeJSONBody writes v after the status line was written.
func writeJSONBody(w http.ResponseWriter, v any) { _ = json.NewEncoder(w).Encode(v) }

// list is the §1 list envelope.
type list[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

func listOf[T any](items []T) list[T] {
	if items == nil {
		items = []T{}
	}
	return list[T]{Items: items}
}
