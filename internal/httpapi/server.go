package httpapi

import (
	"context"
	"log/slog"
	"net/http"
	"slices"
	"strings"

	"github.com/sigil-auth/sigil/internal/authn"
	"github.com/sigil-auth/sigil/internal/clientip"
	"github.com/sigil-auth/sigil/internal/token"
)

// Deps are what a Server serves.
type Deps struct {
	Auth    *authn.Service
	Keys    *token.Keyring
	IPs     *clientip.Resolver
	Metrics *Metrics
	Log     *slog.Logger
	// AccessLog logs one info line per request (SIGIL_ACCESS_LOG); panics
	// and errors are logged either way.
	AccessLog bool
	Issuer    string
	OpenAPI   []byte // the OpenAPI document served at /openapi.yaml
	// Ready reports whether the server can serve (the store answers).
	Ready func(context.Context) error
	// Pages, if set, serves the hosted browser pages at PageRoutes; they
	// pass the same middleware (request id, logs, metrics, body limit).
	Pages      http.Handler
	PageRoutes []string
	// Streams caps the long-lived responses (the revocation feed).
	Streams StreamLimits
}

// Server is the HTTP API. It is an http.Handler.
type Server struct {
	Deps
	auth    *authn.Service
	ips     *clientip.Resolver
	log     *slog.Logger
	metrics *Metrics
	mux     *http.ServeMux
	handler http.Handler
	streams *streams
}

// New builds the server and its routes.
func New(d Deps) *Server {
	s := &Server{Deps: d, auth: d.Auth, ips: d.IPs, log: d.Log, metrics: d.Metrics, mux: http.NewServeMux(),
		streams: newStreams(d.Streams)}
	for _, rt := range s.routes() {
		s.mux.Handle(rt.pattern, rt.handler)
	}
	for _, p := range d.PageRoutes {
		s.mux.Handle(p, d.Pages)
	}
	s.handler = s.wrap(http.HandlerFunc(s.dispatch))
	return s
}

func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Routes lists every registered pattern ("METHOD /path"), for the
// OpenAPI coverage test. GET /metrics is not among them: it is served on
// its own listener (Metrics.Handler), never on the public one.
func (s *Server) Routes() []string {
	var out []string
	for _, rt := range s.routes() {
		out = append(out, rt.pattern)
	}
	return append(out, s.PageRoutes...)
}

// dispatch serves matched routes and answers unmatched ones with the §1
// error body: 405 (with Allow) when the path exists under other methods,
// 404 otherwise.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	if _, pattern := s.mux.Handler(r); pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := s.mux.Handler(probe); p != "" && !slices.Contains(allow, m) {
			allow = append(allow, m)
		}
	}
	if len(allow) > 0 {
		if slices.Contains(allow, http.MethodGet) {
			allow = append(allow, http.MethodHead)
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		httpError(w, http.StatusMethodNotAllowed, codeMethodNotAllowed, "this method is not allowed on this path")
		return
	}
	httpError(w, http.StatusNotFound, codeNotFound, "no such route")
}

// handlerFunc is a handler that returns its error for writeError.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// authedFunc is a handler for an authenticated principal.
type authedFunc func(w http.ResponseWriter, r *http.Request, p authn.Principal) error

func (s *Server) h(f handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := f(w, r); err != nil {
			s.fail(w, r, err)
		}
	})
}

// authed authenticates the request (API.md §2) before calling f.
func (s *Server) authed(f authedFunc) http.Handler {
	return s.h(func(w http.ResponseWriter, r *http.Request) error {
		p, err := s.auth.Authenticate(r.Context(), credential(r))
		if err != nil {
			return err
		}
		return f(w, r, p)
	})
}

func credential(r *http.Request) authn.Credential {
	return authn.Credential{Authorization: r.Header.Get("Authorization"), APIKey: r.Header.Get("X-API-KEY")}
}

// fail writes err, handling the HTTP-only too-large case.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if err == errTooLarge {
		httpError(w, http.StatusRequestEntityTooLarge, codeTooLarge, "the request body is larger than 64 KiB")
		return
	}
	writeError(w, r, s.log, err)
}
