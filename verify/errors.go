package verify

import (
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
)

// Error is every refusal of a Verifier: the HTTP status the middleware
// answers with, the stable machine code of Sigil's error bodies
// (API.md §1) and a sentence safe to show the client. Branch on Code
// (or errors.Is with the sentinels below), never on Detail.
type Error struct {
	Status int
	Code   string
	Detail string

	scopes []string // insufficient_scope: what the request needed
}

func (e *Error) Error() string { return "verify: " + e.Code + ": " + e.Detail }

// Is matches any *Error with the same Code, so errors.Is(err,
// ErrInsufficientScope) holds whatever scopes the detail names.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// The refusals. Which check failed (signature, expiry, issuer, revoked
// session, unknown key) is deliberately not told apart: a client learns
// only that its credential is not good here.
var (
	ErrMissingCredential = &Error{Status: http.StatusUnauthorized, Code: "missing_credential", Detail: "this endpoint needs a credential"}
	ErrInvalidToken      = &Error{Status: http.StatusUnauthorized, Code: "invalid_token", Detail: "the token is invalid, expired or revoked"}
	ErrInsufficientScope = &Error{Status: http.StatusForbidden, Code: "insufficient_scope", Detail: "the credential lacks a scope this request needs"}
	// ErrUnavailable: the Sigil server could not be asked about a
	// credential that only it can judge (API keys, customer JWTs, a
	// session not yet known). The request may succeed on retry.
	ErrUnavailable = &Error{Status: http.StatusServiceUnavailable, Code: "unavailable", Detail: "the credential cannot be checked right now; retry shortly"}
)

// insufficientScope names the scopes a request needs.
func insufficientScope(scopes []string) *Error {
	return &Error{Status: http.StatusForbidden, Code: ErrInsufficientScope.Code,
		Detail: "this request needs the scope(s): " + strings.Join(scopes, " "), scopes: scopes}
}

// WriteError answers a request with err as Sigil does: the status, the
// {"error","detail"} JSON body, WWW-Authenticate on 401 and 403 (RFC
// 6750 §3) and Retry-After on 503. An err that is not an *Error is
// answered as ErrUnavailable (its text is not sent).
func WriteError(w http.ResponseWriter, err error) {
	var e *Error
	if !errors.As(err, &e) {
		e = ErrUnavailable
	}
	h := w.Header()
	switch e.Code {
	case ErrMissingCredential.Code:
		h.Set("WWW-Authenticate", "Bearer")
	case ErrInvalidToken.Code:
		h.Set("WWW-Authenticate", `Bearer error="invalid_token"`)
	case ErrInsufficientScope.Code:
		v := `Bearer error="insufficient_scope"`
		if len(e.scopes) > 0 {
			v += ", scope=" + strconv.Quote(strings.Join(e.scopes, " "))
		}
		h.Set("WWW-Authenticate", v)
	case ErrUnavailable.Code:
		h.Set("Retry-After", "1")
	}
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(e.Status)
	json.NewEncoder(w).Encode(struct {
		Error  string `json:"error"`
		Detail string `json:"detail"`
	}{e.Code, e.Detail})
}
