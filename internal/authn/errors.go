package authn

import (
	"fmt"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

// Code is a stable, machine-readable error code (the "error" field of
// every error body). Never compare Error() strings; compare codes.
type Code string

// Every error code Sigil emits.
const (
	CodeInvalidRequest     Code = "invalid_request"
	CodeInvalidCredentials Code = "invalid_credentials"
	CodeInvalidToken       Code = "invalid_token"
	CodeMissingCredential  Code = "missing_credential"
	CodeRefreshReused      Code = "refresh_token_reused"
	CodeInvalidJoinCode    Code = "invalid_join_code"
	CodeInvalidInvitation  Code = "invalid_invitation"
	CodeUserExists         Code = "user_exists"
	CodeEmailExists        Code = "email_exists"
	CodeMissingKid         Code = "missing_kid"
	CodeKeyExists          Code = "key_exists"
	CodeLastKey            Code = "last_key"
	CodeNotFound           Code = "not_found"
	CodeForbidden          Code = "forbidden"
	CodeInsufficientScope  Code = "insufficient_scope"
	CodeRateLimited        Code = "rate_limited"
	CodeUnavailable        Code = "unavailable"
	CodeConflict           Code = "conflict"
	CodeInvalidCode        Code = "invalid_code"
	CodeInsufficientAAL    Code = "insufficient_aal"
	CodeMFAEnrolment       Code = "mfa_enrolment_required"
)

// Error is a domain error: a code, a sentence safe to show the client,
// and for rate limits the wait.
type Error struct {
	Code       Code
	Detail     string
	RetryAfter time.Duration // rate_limited and unavailable only
	Limit      int           // rate_limited: the limit that was hit
}

func (e *Error) Error() string { return string(e.Code) + ": " + e.Detail }

// errorf builds an *Error with a formatted detail.
func errorf(c Code, format string, args ...any) *Error {
	return &Error{Code: c, Detail: fmt.Sprintf(format, args...)}
}

// Shared instances for errors whose detail never varies. errors.Is works
// on them because they are compared by pointer.
var (
	ErrInvalidCredentials = &Error{Code: CodeInvalidCredentials, Detail: "the credentials are not valid"}
	ErrInvalidToken       = &Error{Code: CodeInvalidToken, Detail: "the token is invalid, expired or revoked"}
	ErrMissingCredential  = &Error{Code: CodeMissingCredential, Detail: "this endpoint needs a credential"}
	ErrRefreshReused      = &Error{Code: CodeRefreshReused, Detail: "this refresh token was already used; the session has been ended"}
	ErrInvalidJoinCode    = &Error{Code: CodeInvalidJoinCode, Detail: "the join code is not valid"}
	ErrUserExists         = &Error{Code: CodeUserExists, Detail: "that user id is taken"}
	ErrKeyExists          = &Error{Code: CodeKeyExists, Detail: "that public key is already on the keyring"}
	ErrLastKey            = &Error{Code: CodeLastKey, Detail: "the last key of a keyring cannot be removed: add another key or a passkey first"}
	ErrNotFound           = &Error{Code: CodeNotFound, Detail: "no such resource"}
	ErrForbidden          = &Error{Code: CodeForbidden, Detail: "this credential may not do that"}
	// ErrUserCredentialRequired: management endpoints act for a person (or
	// the instance admin), never for an API key or a customer JWT.
	ErrUserCredentialRequired = &Error{Code: CodeInsufficientScope, Detail: "this endpoint needs a user session or the admin token"}
	// ErrResourceServerCredential: introspection, revocation and the feed
	// answer resource servers (an API key with the endpoint's scope,
	// ScopeIntrospect or ScopeRevoke) and the instance admin only.
	ErrResourceServerCredential = &Error{Code: CodeInsufficientScope, Detail: "this endpoint needs an API key or the admin token"}
	ErrUnavailable              = &Error{Code: CodeUnavailable, Detail: "the service cannot check this request right now; retry shortly", RetryAfter: 5 * time.Second}
)

// invalid reports a bad request field.
func invalid(format string, args ...any) *Error { return errorf(CodeInvalidRequest, format, args...) }

// Unavailable reports whether err, which is not a domain error, is an
// outage of the database (store.Unavailable): the HTTP layers answer it
// with 503 and Retry-After instead of 500.
func Unavailable(err error) bool { return store.Unavailable(err) }
