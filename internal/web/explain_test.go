package web

import (
	"fmt"
	"io"
	"net/http"
	"testing"

	"github.com/sigil-auth/sigil/internal/store"
)

// A page whose database is out of reach tells the person to try again in
// a moment with a 503, not that something broke (500).
func TestExplainOutage(t *testing.T) {
	for _, c := range []struct {
		err  error
		want int
	}{
		{fmt.Errorf("get user: %w", store.ErrUnavailable), http.StatusServiceUnavailable},
		{fmt.Errorf("read: %w", io.ErrUnexpectedEOF), http.StatusServiceUnavailable},
		{fmt.Errorf("boom"), http.StatusInternalServerError},
	} {
		if status, msg := explain(c.err); status != c.want || msg == "" {
			t.Errorf("explain(%v) = %d %q, want %d", c.err, status, msg, c.want)
		}
	}
}
