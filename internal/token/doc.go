// Package token owns Sigil's cryptographic material and token formats:
// opaque secrets (generate, hash), the AES-GCM sealer for secrets that must
// be read back, the signing keyring (encrypted at rest, rotated, published
// as a JWKS) and the minting and verification of Sigil access tokens.
//
// It knows the store only to load and save signing keys. It knows nothing
// of HTTP, sessions or users: callers decide what a token means.
package token
