package httpapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sigil-auth/sigil/internal/clientip"
)

// TestPanicRecovered: a panicking handler yields a 500 with the §1 body
// and a generic detail; the panic and stack go to the log only.
func TestPanicRecovered(t *testing.T) {
	var logs bytes.Buffer
	s := &Server{log: slog.New(slog.NewJSONHandler(&logs, nil)), metrics: NewMetrics(), ips: clientip.New(nil)}
	h := s.wrap(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("secret-detail-42") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/boom", nil))
	if rec.Code != 500 {
		t.Fatalf("status %d", rec.Code)
	}
	var body map[string]string
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body["error"] != "internal_error" || body["detail"] == "" {
		t.Fatalf("body %q", rec.Body)
	}
	if strings.Contains(rec.Body.String(), "secret-detail-42") || strings.Contains(rec.Body.String(), "goroutine") {
		t.Fatal("panic details leaked to the client")
	}
	if !strings.Contains(logs.String(), "secret-detail-42") || !strings.Contains(logs.String(), `"request_id"`) {
		t.Fatalf("panic not logged with its request id: %s", logs.String())
	}
}

// TestInternalErrorBody: an unknown error is a generic 500; the cause is
// only logged.
func TestInternalErrorBody(t *testing.T) {
	var logs bytes.Buffer
	rec := httptest.NewRecorder()
	writeError(rec, httptest.NewRequest("GET", "/", nil), slog.New(slog.NewJSONHandler(&logs, nil)), errString("db password=hunter2 refused"))
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "hunter2") || !strings.Contains(logs.String(), "hunter2") {
		t.Fatalf("%d %s / log %s", rec.Code, rec.Body, logs.String())
	}
}

type errString string

func (e errString) Error() string { return string(e) }
