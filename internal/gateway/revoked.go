package gateway

// Revoked applies one event of Sigil's revocation feed (cmd/sigil follows
// it with verify.Follow when the proxy has a feed credential), so that a
// logout or a revocation is refused at once rather than when the cached
// answer expires: the answers for session sessionID, and for API key
// apiKeyID with the tokens exchanged from it, are dropped; all drops
// every answer (a JWT key changed, or events were missed). Answers being
// asked for meanwhile are not cached. Without the feed the cache lifetime
// (at most 1 s) stays the bound.
func (g *Gateway) Revoked(sessionID, apiKeyID string, all bool) {
	g.auth.forget(func(id identity) bool {
		return all || (sessionID != "" && id.session == sessionID) ||
			(apiKeyID != "" && id.kind == "api_key" && id.subject == apiKeyID)
	})
}
