package httpapi

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/sigil-auth/sigil/internal/clientip"
)

type ctxKey int

const keyRequestID ctxKey = 0

// clientIP returns the client address resolved by the middleware.
func clientIP(r *http.Request) netip.Addr {
	ip, _ := clientip.FromContext(r.Context())
	return ip
}

// statusWriter remembers the status for logs and metrics.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// newRequestID returns 16 hex characters of randomness.
func newRequestID() string {
	b := make([]byte, 8)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// wrap is the middleware every request passes: request id, client IP,
// body limit, panic recovery, metrics and, with Deps.AccessLog, one info
// line per request. That line costs a cheap request a measurable share of
// its CPU, so it is off by default; failures are logged where they happen
// (writeError, the panic handler below) either way. The route label is
// the matched mux pattern, so metrics never see raw paths.
func (s *Server) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		id := r.Header.Get("X-Request-Id")
		if id == "" || len(id) > 64 {
			id = newRequestID()
		}
		w.Header().Set("X-Request-Id", id)
		ip := s.ips.ClientIP(r.RemoteAddr, r.Header.Values("X-Forwarded-For"))
		ctx := clientip.NewContext(context.WithValue(r.Context(), keyRequestID, id), ip, r.UserAgent())
		r = r.WithContext(ctx)
		r.Body = http.MaxBytesReader(w, r.Body, MaxBody)
		sw := &statusWriter{ResponseWriter: w}
		if r.ContentLength > MaxBody {
			// Declared too large: refuse before reading a byte.
			httpError(sw, http.StatusRequestEntityTooLarge, codeTooLarge, "the request body is larger than 64 KiB")
			s.metrics.requests.WithLabelValues("oversized", "413").Inc()
			return
		}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.ErrorContext(ctx, "panic", "request_id", id, "panic", v, "stack", string(debug.Stack()))
				if sw.status == 0 {
					httpError(sw, http.StatusInternalServerError, codeInternal, "the server failed; the error was logged")
				}
			}
			route := r.Pattern
			if route == "" {
				route = "unmatched"
			}
			s.metrics.requests.WithLabelValues(route, strconv.Itoa(sw.status)).Inc()
			s.metrics.duration.WithLabelValues(route).Observe(time.Since(start).Seconds())
			if s.AccessLog {
				s.log.LogAttrs(ctx, slog.LevelInfo, "request", slog.String("request_id", id),
					slog.String("method", r.Method), slog.String("route", route), slog.Int("status", sw.status),
					slog.String("client_ip", ip.String()), slog.Duration("duration", time.Since(start)))
			}
		}()
		next.ServeHTTP(sw, r)
	})
}
