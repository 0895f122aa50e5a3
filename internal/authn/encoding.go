package authn

import (
	"crypto/ed25519"
	"encoding/base64"
	"strings"
)

// decodeBase64 accepts standard and URL-safe base64, padded or not (API.md
// §3), and nothing else.
func decodeBase64(s string) ([]byte, bool) {
	s = strings.TrimSpace(s)
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	b, err := enc.DecodeString(strings.TrimRight(s, "="))
	return b, err == nil
}

// ParsePublicKey decodes a raw 32-byte Ed25519 public key from base64.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b, ok := decodeBase64(s)
	if !ok || len(b) != ed25519.PublicKeySize {
		return nil, invalid("public_key must be a base64 32-byte Ed25519 public key")
	}
	return ed25519.PublicKey(b), nil
}

// ParseSignature decodes a 64-byte Ed25519 signature from base64.
func ParseSignature(s string) ([]byte, error) {
	b, ok := decodeBase64(s)
	if !ok || len(b) != ed25519.SignatureSize {
		return nil, invalid("signature must be a base64 64-byte Ed25519 signature")
	}
	return b, nil
}
