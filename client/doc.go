// Package client is the public Go SDK for a Sigil server: the key-pair
// (Ed25519) challenge-response logins of API.md §3, the password and
// API-key logins and session calls of §4 (signup, login, refresh, logout,
// password reset), whoami, the caller's keyring, and the API manager of
// §5 (API keys and JWT keys).
//
// A Client is safe for concurrent use. It holds no tokens: every call that
// needs a credential takes it as an argument, so the caller decides where
// tokens live (the sigil CLI keeps them in a 0600 file). The API-manager
// calls take a "credential": a user's access token, an API key or the
// admin token, all sent as "Authorization: Bearer".
//
// To have tokens kept fresh for you, use a TokenSource (tokensource.go,
// refresh.go): Client.TokenSource from a login's tokens,
// Client.KeyPairTokenSource or Client.PasswordTokenSource (log in again
// when they must) or Client.APIKeyTokenSource. It refreshes 60 s before expiry, keeps each
// rotated refresh token (WithOnRefresh persists them), runs one refresh at
// a time for all callers, and implements golang.org/x/oauth2.TokenSource.
// Transport (transport.go) is an http.RoundTripper that sends its token,
// refreshes and retries once on 401, and waits out a short Retry-After
// on 429.
//
// Errors: every non-2xx answer is returned as *Error, which carries the
// HTTP status, the server's stable machine code (e.g.
// "invalid_credentials", "refresh_token_reused", "rate_limited") and, for
// 429, how long to wait. Branch on Code, never on the text of Detail.
//
// This package must not import anything under internal/: it only speaks
// the HTTP contract, so it works against any conforming server and can be
// vendored by outside users.
//
// A first login:
//
//	c := client.New("https://auth.example.com")
//	key, _ := client.ParsePrivateKey(os.Getenv("SIGIL_PRIVATE_KEY"))
//	exists, err := c.IDExists(ctx, "alice")
//	if err != nil {
//		return err
//	}
//	var tok *client.Tokens
//	if exists {
//		tok, err = c.LoginKeyPair(ctx, "alice", key)
//	} else {
//		tok, err = c.Register(ctx, "alice", joinCode, key)
//	}
//	if err != nil {
//		return err
//	}
//	// Use tok.AccessToken as "Authorization: Bearer …"; before
//	// tok.AccessExpiry(), call c.Refresh(ctx, tok.RefreshToken) and keep the
//	// new pair: the old refresh token is dead once rotated.
package client
