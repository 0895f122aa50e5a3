package gateway

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/http/httputil"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sigil-auth/sigil/internal/clientip"
	"github.com/sigil-auth/sigil/internal/ratelimit"
)

// Options configure a Gateway. Config.Options fills the first group from
// the configuration file.
type Options struct {
	Upstream *url.URL // required: where requests go
	SigilURL *url.URL // required: the Sigil server asked for forward-auth
	Routes   []Route  // required: at least one
	// Tiers are the per-credential request limits by tier name;
	// DefaultTier ("" = unlimited) applies to credentials without a
	// tier:<name> scope, or naming a tier not in Tiers.
	Tiers       map[string]ratelimit.Rule
	DefaultTier string
	// CacheTTL: 0 is DefaultCacheTTL, negative disables the cache; at
	// most MaxCacheTTL.
	CacheTTL time.Duration
	// StripCredentials removes Authorization and X-API-KEY before the
	// upstream (which then only sees the X-Sigil-* identity).
	StripCredentials bool
	// TrustedProxies are the peers (load balancers in front of the proxy)
	// whose X-Forwarded-For chain, X-Forwarded-Host and X-Forwarded-Proto
	// are passed on, with the peer appended to the chain. From any other
	// peer they are replaced by the proxy's own view.
	TrustedProxies []netip.Prefix
	// StreamsPerCredential and Streams cap the long-lived answers open at
	// once (an event stream, or a WebSocket after 101 Switching
	// Protocols), per credential and in all; beyond, the client gets 429
	// with Retry-After. 0: 64 and 1024 (ratelimit.NewConcurrency's).
	StreamsPerCredential, Streams int

	// Limiter counts tier requests (nil: an in-memory limiter on Now).
	// Pass a ratelimit.Redis to share counts between proxies.
	Limiter ratelimit.Limiter
	// Transport reaches the upstream, AuthClient reaches Sigil (nil: tuned
	// defaults; AuthClient never follows redirects).
	Transport  http.RoundTripper
	AuthClient *http.Client
	Now        func() time.Time // nil: time.Now
	Log        *slog.Logger     // nil: discard
}

// Gateway is the proxy's http.Handler.
type Gateway struct {
	router      *router
	auth        *authorizer
	proxy       *httputil.ReverseProxy
	upstream    *url.URL
	tiers       map[string]ratelimit.Rule
	defaultTier string
	limiter     ratelimit.Limiter
	stripCreds  bool
	trusted     *clientip.Resolver // nil: no trusted proxies
	streams     *ratelimit.Concurrency
	log         *slog.Logger
}

// New builds a Gateway; it does no I/O.
func New(o Options) (*Gateway, error) {
	if o.Upstream == nil || o.SigilURL == nil {
		return nil, errors.New("gateway: Upstream and SigilURL are required")
	}
	if len(o.Routes) == 0 {
		return nil, errors.New("gateway: no routes")
	}
	if err := validateRoutes(o.Routes); err != nil {
		return nil, fmt.Errorf("gateway: %w", err)
	}
	if o.CacheTTL > MaxCacheTTL {
		return nil, fmt.Errorf("gateway: CacheTTL %v exceeds %v", o.CacheTTL, MaxCacheTTL)
	}
	rt, _ := newRouter(o.Routes) // validated above
	o = withDefaults(o)
	g := &Gateway{
		router: rt, upstream: o.Upstream, tiers: o.Tiers, defaultTier: o.DefaultTier,
		limiter: o.Limiter, stripCreds: o.StripCredentials, log: o.Log,
		streams: ratelimit.NewConcurrency(o.StreamsPerCredential, o.Streams),
		auth: &authorizer{
			endpoint: strings.TrimSuffix(o.SigilURL.String(), "/") + "/v1/authorize",
			client:   o.AuthClient, ttl: o.CacheTTL, now: o.Now, cache: map[[32]byte]cached{}, flights: map[[32]byte]*flight{},
		},
	}
	if len(o.TrustedProxies) > 0 {
		g.trusted = clientip.New(o.TrustedProxies)
	}
	g.proxy = &httputil.ReverseProxy{
		Rewrite:        g.rewrite,
		ModifyResponse: g.capStreams,
		Transport:      o.Transport,
		FlushInterval:  -1, // stream: SSE and chunked answers reach the client as written
		ErrorHandler:   g.upstreamError,
		BufferPool:     bufferPool{},
		ErrorLog:       slog.NewLogLogger(o.Log.Handler(), slog.LevelWarn),
	}
	return g, nil
}

func withDefaults(o Options) Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.CacheTTL == 0 {
		o.CacheTTL = DefaultCacheTTL
	}
	if o.Limiter == nil {
		o.Limiter = ratelimit.NewMemory(o.Now)
	}
	if o.Transport == nil || o.AuthClient == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.MaxIdleConns, t.MaxIdleConnsPerHost = 512, 128 // the default 2 per host serialises a busy proxy
		if o.Transport == nil {
			o.Transport = t
		}
		if o.AuthClient == nil {
			o.AuthClient = &http.Client{
				Transport: t.Clone(), Timeout: 10 * time.Second,
				CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
			}
		}
	}
	return o
}

// ServeHTTP: refuse what must not pass, route, authorize, limit, forward.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if e := checkRequest(r); e != nil {
		writeError(w, e.status, e.code, e.detail)
		return
	}
	ru, redirect, e := g.router.match(r)
	switch {
	case e != nil:
		writeError(w, e.status, e.code, e.detail)
	case ru != nil:
		g.serveRule(w, r, ru)
	case redirect != nil:
		redirect.ServeHTTP(w, r)
	default:
		writeError(w, http.StatusNotFound, "not_found", "no route of this proxy matches this method and path")
	}
}

// identityKey carries the authorized identity from serveRule to rewrite.
type identityKey struct{}

func (g *Gateway) serveRule(w http.ResponseWriter, r *http.Request, ru *rule) {
	if ru.Public {
		g.proxy.ServeHTTP(w, r)
		return
	}
	if strings.TrimSpace(r.Header.Get("Authorization")) == "" && strings.TrimSpace(r.Header.Get("X-Api-Key")) == "" {
		w.Header().Set("WWW-Authenticate", "Bearer")
		writeError(w, http.StatusUnauthorized, "missing_credential", "this route needs a credential: Authorization or X-API-KEY")
		return
	}
	id, ref, err := g.auth.check(r.Context(), r, ru)
	switch {
	case err != nil:
		if r.Context().Err() == nil { // not merely a client that went away
			g.log.WarnContext(r.Context(), "forward-auth unavailable", "err", err)
		}
		writeError(w, http.StatusServiceUnavailable, "unavailable", "the authorization service is unavailable; retry later")
		return
	case ref != nil:
		relay(w, ref)
		return
	}
	if d, limited := g.limit(r.Context(), &id); limited {
		secs := strconv.Itoa(d.RetryAfterSeconds())
		h := w.Header()
		h.Set("Retry-After", secs)
		h.Set("RateLimit-Limit", strconv.Itoa(d.Limit))
		h.Set("RateLimit-Remaining", "0")
		h.Set("RateLimit-Reset", secs)
		writeError(w, http.StatusTooManyRequests, "rate_limited", "this credential's request tier is exhausted; retry after "+secs+" s")
		return
	}
	g.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), identityKey{}, &id)))
}

// limit counts the request against the credential's tier, keyed by kind,
// workspace and subject (an API key's subject is the key; a user's tokens
// share the user's count; a customer JWT's subject is the customer's own
// string, unique only within its workspace). A limiter failure fails
// open: tiers are quotas, not a security boundary, and Sigil has already
// authorized.
func (g *Gateway) limit(ctx context.Context, id *identity) (ratelimit.Decision, bool) {
	name := id.tier()
	r, ok := g.tiers[name]
	if !ok {
		name = g.defaultTier
		if r, ok = g.tiers[name]; !ok {
			return ratelimit.Decision{}, false
		}
	}
	d, err := g.limiter.Allow(ctx, "proxy_tier:"+name+":"+id.kind+":"+id.workspace+":"+id.subject, r)
	if err != nil {
		g.log.WarnContext(ctx, "tier limiter failed; request allowed", "tier", name, "err", err)
		return ratelimit.Decision{}, false
	}
	return d, !d.Allowed
}

// rewrite builds the upstream request. ReverseProxy has already removed
// hop-by-hop headers, including any the client named in Connection, and
// the X-Forwarded-*/Forwarded headers — BEFORE calling Rewrite (unlike
// Director, golang/go#50580), so what is set here reaches the upstream.
func (g *Gateway) rewrite(pr *httputil.ProxyRequest) {
	pr.SetURL(g.upstream)
	pr.SetXForwarded()
	g.keepForwarded(pr)
	stripSigil(pr.Out.Header)
	stripSigil(pr.Out.Trailer)
	if g.stripCreds {
		pr.Out.Header.Del("Authorization")
		pr.Out.Header.Del("X-Api-Key")
	}
	if id, ok := pr.In.Context().Value(identityKey{}).(*identity); ok {
		id.set(pr.Out.Header)
	}
}

// keepForwarded passes on what a trusted proxy in front said about the
// client: its X-Forwarded-For chain (SetXForwarded has put the peer, the
// trusted proxy itself, alone in Out), X-Forwarded-Host and a valid
// X-Forwarded-Proto. A Forwarded header is never passed on.
func (g *Gateway) keepForwarded(pr *httputil.ProxyRequest) {
	if g.trusted == nil || !g.trusted.Trusts(pr.In.RemoteAddr) {
		return
	}
	in, out := pr.In.Header, pr.Out.Header
	if chain := in.Values("X-Forwarded-For"); len(chain) > 0 {
		out.Set("X-Forwarded-For", strings.Join(chain, ", ")+", "+out.Get("X-Forwarded-For"))
	}
	if h := in.Get("X-Forwarded-Host"); h != "" {
		out.Set("X-Forwarded-Host", h)
	}
	if p := in.Get("X-Forwarded-Proto"); p == "http" || p == "https" {
		out.Set("X-Forwarded-Proto", p)
	}
}

// stripSigil deletes every header that is, or that a CGI-style server
// ('_' and '-' alike, any case) would read as, an X-Sigil-* header.
func stripSigil(h http.Header) {
	for k := range h {
		if isSigilHeader(k) {
			delete(h, k)
		}
	}
}

func isSigilHeader(k string) bool {
	const prefix = "x-sigil-"
	if len(k) < len(prefix) {
		return false
	}
	for i := range len(prefix) {
		c := k[i]
		switch {
		case c == '_':
			c = '-'
		case 'A' <= c && c <= 'Z':
			c += 'a' - 'A'
		}
		if c != prefix[i] {
			return false
		}
	}
	return true
}

func (g *Gateway) upstreamError(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, context.Canceled) {
		return // the client went away; nobody reads an answer
	}
	if errors.Is(err, ratelimit.ErrKeyFull) || errors.Is(err, ratelimit.ErrTotalFull) {
		w.Header().Set("Retry-After", strconv.Itoa(ratelimit.Seconds(ratelimit.StreamRetryAfter)))
		detail := "this proxy has as many streams open as it serves; retry later"
		if errors.Is(err, ratelimit.ErrKeyFull) {
			detail = "this credential already has as many streams open as allowed; close one or retry later"
		}
		writeError(w, http.StatusTooManyRequests, "rate_limited", detail)
		return
	}
	g.log.WarnContext(r.Context(), "upstream request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeError(w, http.StatusBadGateway, "bad_gateway", "the upstream service did not answer")
}

// isEventStream reports whether a Content-Type is text/event-stream; the
// media type is parsed only when the prefix matches, since every proxied
// answer is asked.
func isEventStream(ct string) bool {
	if len(ct) < len("text/event-stream") || !strings.EqualFold(ct[:len("text/event-stream")], "text/event-stream") {
		return false
	}
	mt, _, _ := mime.ParseMediaType(ct)
	return mt == "text/event-stream"
}

// capStreams counts a long-lived answer (an event stream, or a switch
// to another protocol such as WebSocket) against its credential's and
// the proxy's caps until it ends; over a cap, the upstream's answer is
// dropped and the client gets 429 (upstreamError).
func (g *Gateway) capStreams(res *http.Response) error {
	if res.StatusCode != http.StatusSwitchingProtocols && !isEventStream(res.Header.Get("Content-Type")) {
		return nil
	}
	key := "" // a public route: the total cap only
	if id, ok := res.Request.Context().Value(identityKey{}).(*identity); ok {
		key = id.kind + ":" + id.workspace + ":" + id.subject
	}
	release, err := g.streams.Acquire(key)
	if err != nil {
		return err
	}
	if rwc, ok := res.Body.(io.ReadWriteCloser); ok { // the upgraded connection
		res.Body = releasingConn{rwc, release}
	} else {
		res.Body = releasingBody{res.Body, release}
	}
	return nil
}

// releasingBody and releasingConn free a stream's slot when the proxy
// closes the upstream's answer.
type releasingBody struct {
	io.ReadCloser
	release func()
}

func (b releasingBody) Close() error { b.release(); return b.ReadCloser.Close() }

type releasingConn struct {
	io.ReadWriteCloser
	release func()
}

func (c releasingConn) Close() error { c.release(); return c.ReadWriteCloser.Close() }

// bufferPool recycles ReverseProxy's 32 KiB copy buffers (without it,
// each request allocates one).
type bufferPool struct{}

var buffers = sync.Pool{New: func() any { return new([32 << 10]byte) }}

func (bufferPool) Get() []byte { return buffers.Get().(*[32 << 10]byte)[:] }
func (bufferPool) Put(b []byte) {
	if cap(b) == 32<<10 {
		buffers.Put((*[32 << 10]byte)(b[:32<<10]))
	}
}

// relay writes Sigil's refusal as it came.
func relay(w http.ResponseWriter, ref *refusal) {
	for k, v := range ref.header {
		w.Header()[k] = v
	}
	w.WriteHeader(ref.status)
	w.Write(ref.body)
}

// writeError writes API.md §1's {"error","detail"}.
func writeError(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(struct {
		Error  string `json:"error"`
		Detail string `json:"detail"`
	}{code, detail})
}
