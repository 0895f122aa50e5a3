package token

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
)

// ErrUnseal means a ciphertext did not decrypt: wrong master key, wrong
// associated data, or tampering.
var ErrUnseal = errors.New("token: cannot decrypt sealed secret (wrong master key?)")

// Sealer encrypts secrets that must be read back (signing keys, HS256
// secrets) with AES-256-GCM. The associated data binds a ciphertext to its
// record (e.g. the key id), so rows cannot be swapped.
type Sealer struct{ aead cipher.AEAD }

// NewSealer returns a Sealer whose key is derived from the master key.
func NewSealer(master []byte) (*Sealer, error) {
	if len(master) != 32 {
		return nil, errors.New("token: master key must be 32 bytes")
	}
	block, err := aes.NewCipher(DeriveKey(master, "sealing"))
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: aead}, nil
}

// Seal returns nonce‖ciphertext of plaintext bound to ad.
func (s *Sealer) Seal(plaintext, ad []byte) []byte {
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plaintext)+s.aead.Overhead())
	rand.Read(nonce)
	return s.aead.Seal(nonce, nonce, plaintext, ad)
}

// Open reverses Seal.
func (s *Sealer) Open(sealed, ad []byte) ([]byte, error) {
	n := s.aead.NonceSize()
	if len(sealed) < n+s.aead.Overhead() {
		return nil, ErrUnseal
	}
	out, err := s.aead.Open(nil, sealed[:n], sealed[n:], ad)
	if err != nil {
		return nil, ErrUnseal
	}
	return out, nil
}
