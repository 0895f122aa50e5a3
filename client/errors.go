package client

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Error is a non-2xx answer from the server, decoded from its
// {"error": "<code>", "detail": "<sentence>"} body (API.md §1).
//
// Code is the stable machine code to branch on ("invalid_credentials",
// "invalid_token", "refresh_token_reused", "user_exists", "rate_limited",
// …); it is empty when the body was not Sigil's JSON (a proxy's HTML page,
// say), and Detail then holds the HTTP status text. RetryAfter is set from
// the Retry-After header (429 and 503), zero otherwise.
//
//	var e *client.Error
//	if errors.As(err, &e) && e.Code == "rate_limited" {
//		time.Sleep(e.RetryAfter)
//	}
type Error struct {
	Status     int
	Code       string
	Detail     string
	RetryAfter time.Duration
}

// Error renders the error on one line, e.g.
// "sigil: 401 invalid_credentials: the signature does not match".
func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sigil: %d", e.Status)
	if e.Code != "" {
		b.WriteString(" " + e.Code)
	}
	if e.Detail != "" {
		b.WriteString(": " + e.Detail)
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// newError decodes an error answer. now is the reference for an HTTP-date
// Retry-After. It never fails: whatever the body, the status survives.
func newError(status int, h http.Header, body []byte, now time.Time) *Error {
	e := &Error{Status: status, RetryAfter: parseRetryAfter(h.Get("Retry-After"), now)}
	var b struct {
		Error  string `json:"error"`
		Detail string `json:"detail"`
	}
	if json.Unmarshal(body, &b) == nil && b.Error != "" {
		e.Code, e.Detail = b.Error, b.Detail
	} else {
		e.Detail = http.StatusText(status)
	}
	return e
}

// maxRetryAfter caps RetryAfter, in seconds.
const maxRetryAfter = 24 * 60 * 60

// parseRetryAfter reads RFC 9110 §10.2.3 Retry-After: delay-seconds or an
// HTTP-date. Anything else, or a date in the past, is zero.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		// Capped so that an absurd value cannot overflow or stall a
		// caller for years; a server asking for more than a day is broken.
		return time.Duration(min(max(secs, 0), maxRetryAfter)) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
