package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
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

// TestAccessLogSwitch: with AccessLog on every request is logged at info;
// off, a good request leaves no line while an internal error and a panic
// are still logged.
func TestAccessLogSwitch(t *testing.T) {
	tests := []struct {
		on   bool
		path string
		want []string // substrings of the log, in no order; nil = the log is empty
	}{
		{true, "/ok", []string{`"msg":"request"`, `"status":204`, `"level":"INFO"`}},
		{false, "/ok", nil},
		{true, "/fail", []string{"store-down-7", `"msg":"request"`, `"status":500`}},
		{false, "/fail", []string{"store-down-7", `"level":"ERROR"`}},
		{false, "/panic", []string{"panic-detail-9", `"level":"ERROR"`}},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("on=%v%s", tt.on, tt.path), func(t *testing.T) {
			var logs bytes.Buffer
			log := slog.New(slog.NewJSONHandler(&logs, nil))
			s := &Server{Deps: Deps{AccessLog: tt.on}, log: log, metrics: NewMetrics(), ips: clientip.New(nil)}
			h := s.wrap(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				switch r.URL.Path {
				case "/ok":
					w.WriteHeader(http.StatusNoContent)
				case "/fail": // an unknown error: a 500, its cause logged by writeError
					writeError(w, r, log, errString("store-down-7"))
				case "/panic":
					panic("panic-detail-9")
				}
			}))
			h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", tt.path, nil))
			got := logs.String()
			if tt.want == nil && got != "" {
				t.Fatalf("access log off, yet logged: %s", got)
			}
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("log lacks %s: %s", w, got)
				}
			}
			if !tt.on && strings.Contains(got, `"msg":"request"`) {
				t.Errorf("access log off, yet a request line: %s", got)
			}
		})
	}
}
