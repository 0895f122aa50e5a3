// Package gateway is `sigil proxy`: a reverse proxy that puts Sigil's
// forward-auth in front of any HTTP API (API.md §7).
//
// For each request it picks a route rule (Go ServeMux patterns: the most
// specific pattern wins, so for plain paths the longest prefix; a path
// whose rule would change when decoded — "/admin%2Fx", "/a/%2e%2e/b" — is
// refused, so no upstream can read it as another route's path), lets
// public routes through unauthenticated, and otherwise asks the Sigil
// server's GET /v1/authorize with the client's Authorization / X-API-KEY
// headers and the rule's scopes. A 200 is cached per (credential hash,
// scopes) for at most one second, so a revocation reaches the proxy
// within 1 s (at once when cmd/sigil follows Sigil's revocation feed and
// hands its events to Gateway.Revoked), and concurrent misses of one key
// share one call to Sigil;
// 401/403/429 answers are relayed as they come. It then
// applies its own per-credential tier limits (the credential's
// "tier:<name>" scope; counted in a ratelimit.Limiter, shared through
// Redis when the caller passes a Redis limiter) and forwards the request
// with httputil.ReverseProxy{Rewrite}.
//
// Invariants at the upstream: every X-Sigil-* request header the client
// sent is gone (in any case, with '_' for '-' too, and also when named in
// Connection), and the only X-Sigil-* headers are the ones Sigil
// answered; X-Forwarded-For/Host/Proto are the proxy's own, except that a
// peer in Options.TrustedProxies has its chain and host/proto kept. Bodies
// stream in both directions (FlushInterval -1); WebSocket upgrades pass
// after authentication; every other upgrade (h2c above all, which would
// turn the connection into an unauthenticated tunnel) is refused.
//
// The package is stateless apart from its short cache: it needs only the
// Sigil server's URL, and imports nothing of Sigil's but internal/ratelimit
// and internal/clientip.
// It must not import authn, httpapi, store or config: it talks to Sigil
// over HTTP like any other forward-auth client, and cmd/sigil wires it.
package gateway
