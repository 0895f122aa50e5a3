package httpapi

import (
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/sigil-auth/sigil/internal/authn"
	"github.com/sigil-auth/sigil/internal/ratelimit"
)

// statusOf maps each domain error code to its HTTP status (API.md §1).
var statusOf = map[authn.Code]int{
	authn.CodeInvalidRequest:     http.StatusBadRequest,
	authn.CodeInvalidCredentials: http.StatusUnauthorized,
	authn.CodeInvalidToken:       http.StatusUnauthorized,
	authn.CodeMissingCredential:  http.StatusUnauthorized,
	authn.CodeRefreshReused:      http.StatusUnauthorized,
	authn.CodeInvalidJoinCode:    http.StatusUnauthorized,
	authn.CodeInvalidInvitation:  http.StatusUnauthorized,
	authn.CodeUserExists:         http.StatusConflict,
	authn.CodeEmailExists:        http.StatusConflict,
	authn.CodeConflict:           http.StatusConflict,
	authn.CodeMissingKid:         http.StatusUnauthorized,
	authn.CodeKeyExists:          http.StatusConflict,
	authn.CodeLastKey:            http.StatusConflict,
	authn.CodeNotFound:           http.StatusNotFound,
	authn.CodeForbidden:          http.StatusForbidden,
	authn.CodeInsufficientScope:  http.StatusForbidden,
	authn.CodeInsufficientAAL:    http.StatusForbidden,
	authn.CodeMFAEnrolment:       http.StatusForbidden,
	authn.CodeRateLimited:        http.StatusTooManyRequests,
	authn.CodeUnavailable:        http.StatusServiceUnavailable,
	authn.CodeInvalidCode:        http.StatusUnauthorized,
}

// Codes that only the HTTP layer produces.
const (
	codeNotFound         = "not_found"
	codeMethodNotAllowed = "method_not_allowed"
	codeTooLarge         = "request_too_large"
	codeInternal         = "internal_error"
)

// errorBody is every error's JSON body.
type errorBody struct {
	Error  string `json:"error"`
	Detail string `json:"detail"`
}

// writeError is the one place an error becomes a response. Domain errors
// carry their own safe detail; anything else is a 500 whose cause is
// logged, never sent.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	var e *authn.Error
	if !errors.As(err, &e) && authn.Unavailable(err) {
		log.WarnContext(r.Context(), "database unavailable", "err", err)
		w.Header().Set("Retry-After", "1")
		writeJSON(w, http.StatusServiceUnavailable, errorBody{string(authn.CodeUnavailable), "the service cannot reach its database right now; retry shortly"})
		return
	}
	if e == nil {
		log.ErrorContext(r.Context(), "internal error", "err", err)
		writeJSON(w, http.StatusInternalServerError, errorBody{codeInternal, "the server failed; the error was logged"})
		return
	}
	status, ok := statusOf[e.Code]
	if !ok {
		status = http.StatusBadRequest
	}
	if e.RetryAfter > 0 {
		secs := strconv.Itoa(ratelimit.Seconds(e.RetryAfter))
		w.Header().Set("Retry-After", secs)
		if e.Limit > 0 { // IETF RateLimit header fields
			w.Header().Set("RateLimit-Limit", strconv.Itoa(e.Limit))
			w.Header().Set("RateLimit-Remaining", "0")
			w.Header().Set("RateLimit-Reset", secs)
		}
	}
	if status == http.StatusUnauthorized && e.Code != authn.CodeInvalidCredentials && e.Code != authn.CodeInvalidJoinCode &&
		e.Code != authn.CodeInvalidInvitation && e.Code != authn.CodeInvalidCode {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		if e.Code == authn.CodeMissingCredential {
			w.Header().Set("WWW-Authenticate", `Bearer`)
		}
	}
	writeJSON(w, status, errorBody{string(e.Code), e.Detail})
}

// httpError writes an error that has no domain counterpart.
func httpError(w http.ResponseWriter, status int, code, detail string) {
	writeJSON(w, status, errorBody{code, detail})
}
