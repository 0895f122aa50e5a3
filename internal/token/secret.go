package token

import (
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
)

// SecretBytes is the entropy of every opaque secret Sigil issues (256 bits).
const SecretBytes = 32

// NewSecret returns a fresh random secret as unpadded base64url text.
func NewSecret() string {
	b := make([]byte, SecretBytes)
	rand.Read(b) // never fails (crypto/rand contract since Go 1.24)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Hash is how opaque secrets are stored and looked up: SHA-256 of the
// exact text. The secrets are high-entropy, so no salt or stretching is
// needed, and equal secrets must hash equal for the lookup to work.
func Hash(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// DeriveKey derives a purpose-bound 32-byte key from the master key, so
// one master key can serve several uses without any two sharing a key.
func DeriveKey(master []byte, purpose string) []byte {
	k, err := hkdf.Key(sha256.New, master, nil, "sigil "+purpose, 32)
	if err != nil {
		panic("token: hkdf: " + err.Error()) // only on an invalid length
	}
	return k
}

// Deriver maps one secret to another deterministically with a keyed
// HMAC. Refresh rotation uses it so that the child of a refresh token can
// be recomputed from the parent during the grace window without storing
// any token in the clear.
type Deriver struct{ key []byte }

// NewDeriver returns a Deriver keyed by key.
func NewDeriver(key []byte) *Deriver { return &Deriver{key: key} }

// Derive returns the child secret of parent, with the same entropy and
// text form as NewSecret.
func (d *Deriver) Derive(parent string) string {
	m := hmac.New(sha256.New, d.key)
	m.Write([]byte(parent))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}
