package client

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"fmt"
	"strings"
)

// ParsePrivateKey decodes an Ed25519 private key from base64 (standard or
// URL-safe alphabet, padded or not). It accepts the 32-byte RFC 8032 seed
// (what `sigil keygen`, PyNaCl and most tools export) and the 64-byte
// seed‖public form of crypto/ed25519 and libsodium; for the latter, the
// public half must be the one the seed derives, so a corrupted or spliced
// key is refused rather than producing signatures that never verify.
//
// Errors never quote the input: it is a secret.
func ParsePrivateKey(s string) (ed25519.PrivateKey, error) {
	if strings.TrimSpace(s) == "" {
		return nil, fmt.Errorf("sigil client: private key is empty")
	}
	b, err := decodeBase64(s)
	if err != nil {
		return nil, fmt.Errorf("sigil client: private key is not base64")
	}
	switch len(b) {
	case ed25519.SeedSize:
		return ed25519.NewKeyFromSeed(b), nil
	case ed25519.PrivateKeySize:
		k := ed25519.NewKeyFromSeed(b[:ed25519.SeedSize])
		if !bytes.Equal(k[ed25519.SeedSize:], b[ed25519.SeedSize:]) {
			return nil, fmt.Errorf("sigil client: private key's public half does not match its seed")
		}
		return k, nil
	}
	return nil, fmt.Errorf("sigil client: private key decodes to %d bytes, want a %d-byte seed or %d-byte seed+public key",
		len(b), ed25519.SeedSize, ed25519.PrivateKeySize)
}

// ParsePublicKey decodes a raw 32-byte Ed25519 public key from base64
// (standard or URL-safe, padded or not).
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := decodeBase64(s)
	if err != nil {
		return nil, fmt.Errorf("sigil client: public key is not base64")
	}
	if len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("sigil client: public key decodes to %d bytes, want %d", len(b), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

// GenerateKey returns a new Ed25519 key from crypto/rand.
func GenerateKey() (ed25519.PrivateKey, error) {
	_, k, err := ed25519.GenerateKey(nil)
	return k, err
}

// EncodePrivateKey returns the standard base64 of the key's 32-byte seed:
// the form ParsePrivateKey, `sigil keygen` and SIGIL_PRIVATE_KEY use.
func EncodePrivateKey(k ed25519.PrivateKey) string {
	return base64.StdEncoding.EncodeToString(k.Seed())
}

// EncodePublicKey returns the standard base64 of a raw public key, the
// form the server expects in "public_key" fields.
func EncodePublicKey(p ed25519.PublicKey) string {
	return base64.StdEncoding.EncodeToString(p)
}

// decodeBase64 accepts both alphabets, padded or not. Whitespace around
// the value (a trailing newline from a file or a paste) is ignored.
func decodeBase64(s string) ([]byte, error) {
	s = strings.TrimRight(strings.TrimSpace(s), "=")
	enc := base64.RawStdEncoding
	if strings.ContainsAny(s, "-_") {
		enc = base64.RawURLEncoding
	}
	return enc.DecodeString(s)
}
