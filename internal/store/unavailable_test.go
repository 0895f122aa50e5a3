package store_test

import (
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"

	"github.com/sigil-auth/sigil/internal/store"
)

// sqlStateErr stands for a driver error carrying a SQLSTATE, as
// pgconn.PgError does.
type sqlStateErr string

func (e sqlStateErr) Error() string    { return "server error " + string(e) }
func (e sqlStateErr) SQLState() string { return string(e) }

func TestUnavailable(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, c := range []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"sentinel", fmt.Errorf("get user: %w", store.ErrUnavailable), true},
		{"dial refused", fmt.Errorf("postgres: get user: %w", refused), true},
		{"connection cut mid-answer", fmt.Errorf("read: %w", io.ErrUnexpectedEOF), true},
		{"admin shutdown 57P01", fmt.Errorf("q: %w", sqlStateErr("57P01")), true},
		{"cannot connect now 57P03", sqlStateErr("57P03"), true},
		{"connection exception 08006", sqlStateErr("08006"), true},
		{"too many connections 53300", sqlStateErr("53300"), true},
		{"unique violation 23505", sqlStateErr("23505"), false},
		{"syntax error 42601", sqlStateErr("42601"), false},
		{"not found", store.ErrNotFound, false},
		{"conflict", store.ErrConflict, false},
		{"plain error", errors.New("boom"), false},
	} {
		if got := store.Unavailable(c.err); got != c.want {
			t.Errorf("%s: Unavailable(%v) = %v, want %v", c.name, c.err, got, c.want)
		}
	}
}
