package store

import (
	"errors"
	"io"
	"net"
	"strings"
)

// ErrUnavailable means the database could not be reached or went away
// (refused, reset, shutting down): the request may succeed if retried,
// and its outcome is unknown when it was a write.
var ErrUnavailable = errors.New("store: database unavailable")

// Unavailable reports whether err is an outage of the database rather
// than a fault of the request or of Sigil: ErrUnavailable, a network
// error, an unexpected end of the connection, or a PostgreSQL SQLSTATE
// of class 08 (connection exception), 57P01–57P03 (the server shutting
// down or starting) or 53300 (too many connections). Callers answer 503
// with Retry-After instead of 500.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, ErrUnavailable) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	var ne net.Error
	if errors.As(err, &ne) {
		return true
	}
	var st interface{ SQLState() string }
	if errors.As(err, &st) {
		code := st.SQLState()
		return strings.HasPrefix(code, "08") || code == "57P01" || code == "57P02" || code == "57P03" || code == "53300"
	}
	return false
}
