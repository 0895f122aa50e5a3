// Package verify is HTTP middleware for Go services that accept Sigil
// credentials (API.md §2, §7): it turns the credential of each request
// into a Principal, or answers 401/403 with Sigil's JSON error body.
//
//   - Sigil access tokens (EdDSA or ES256 JWTs) are verified locally
//     against the server's JWKS, which is cached, refetched when a token
//     names an unknown kid (a rotated-in key; at most once per 5 s) and
//     every 5 minutes. alg must be the key's own, iss must be the issuer,
//     exp is required. A verified token is remembered until it expires,
//     so a repeat costs a map lookup instead of a signature check.
//   - Sessions: the first token of a session this process has not seen is
//     checked once with the server (introspection). From then on the
//     session is trusted locally while the revocation feed (a server-sent
//     event stream from GET /v1/revocations, resumed with Last-Event-ID
//     after a drop) is connected; a logout, a revoked token or a revoked
//     API key reaches every Verifier within about a second. If the feed is
//     down longer than Config.FeedGrace, sessions are checked with the
//     server again (answers reused for at most 1 s).
//   - API keys (sk_…, checksum checked locally first) and customer HS256
//     JWTs are judged by the server (POST /oauth2/introspect); answers are
//     reused for at most 1 s, and dropped at once when the feed announces
//     the key's revocation.
//
// The Verifier authenticates itself to the server with Config.Credential:
// an API key with the scope tokens:introspect, which confines it to that
// key's workspace, or the admin token, which accepts every workspace.
// Follow gives a cache of one's own (sigil proxy's) the same feed without
// a Verifier. When the server must be asked and
// cannot answer, the request gets 503 (fail closed), never a guess.
//
// Use:
//
//	v, err := verify.New(ctx, verify.Config{
//		Issuer:     "https://auth.example.com",
//		Credential: os.Getenv("SIGIL_API_KEY"),
//	})
//	if err != nil {
//		log.Fatal(err)
//	}
//	defer v.Close()
//	mux := http.NewServeMux()
//	mux.Handle("GET /orders", verify.RequireScope("orders:read")(listOrders))
//	http.ListenAndServe(":8081", v.Middleware(mux))
//
// and in a handler:
//
//	p, _ := verify.FromContext(r.Context())
//	log.Println(p.Subject, p.Workspace, p.Scopes)
//
// This package must not import anything under internal/: outside users
// import it, and it speaks only the HTTP contract (discovery, JWKS,
// introspection, the revocation feed), so it works against any
// conforming server. It owns no state but its caches.
package verify
