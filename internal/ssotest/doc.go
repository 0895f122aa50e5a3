// Package ssotest runs identity providers for tests: an OpenID Connect
// provider (discovery, JWKS, authorization code with PKCE, ID tokens),
// which can also stand in for Sign in with Apple (its paths, form_post
// and ES256 client-secret JWTs, checked against the uploaded key's public
// half), with switches that make it misbehave the ways real IdPs and
// attackers do: another nonce, audience or issuer, an expired token, a
// signing key missing from its JWKS.
//
// It is test support: nothing in Sigil's server imports it. It owns no
// Sigil state and talks to Sigil only over HTTP, as a real IdP does.
package ssotest
