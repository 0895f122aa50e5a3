package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sigil-auth/sigil/internal/store"
)

// Signing algorithms. Access tokens are EdDSA (or ES256); RS256 signs
// only OpenID Connect ID tokens, since it is the one algorithm every
// relying party must support (OIDC Core §15.1).
const (
	AlgEdDSA = "EdDSA"
	AlgES256 = "ES256"
	AlgRS256 = "RS256"
)

// rsaBits is the size of RS256 keys.
const rsaBits = 2048

// MaxTokenLifetime bounds every access token Sigil mints; a retired
// signing key stays published this long after it stops signing, so every
// token it signed can still be verified.
const MaxTokenLifetime = 24 * time.Hour

// key is one decrypted signing key.
type key struct {
	rec  store.SigningKey
	priv crypto.Signer
	pub  crypto.PublicKey
}

// generateKey makes a new key pair for alg and returns its store record,
// private key sealed under s with the kid as associated data.
func generateKey(alg string, s *Sealer, now time.Time) (store.SigningKey, error) {
	var priv crypto.Signer
	switch alg {
	case AlgEdDSA:
		_, p, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return store.SigningKey{}, err
		}
		priv = p
	case AlgES256:
		p, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			return store.SigningKey{}, err
		}
		priv = p
	case AlgRS256:
		p, err := rsa.GenerateKey(rand.Reader, rsaBits)
		if err != nil {
			return store.SigningKey{}, err
		}
		priv = p
	default:
		return store.SigningKey{}, fmt.Errorf("token: unsupported signing algorithm %q", alg)
	}
	kid, err := thumbprint(priv.Public(), alg)
	if err != nil {
		return store.SigningKey{}, err
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return store.SigningKey{}, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(priv.Public())
	if err != nil {
		return store.SigningKey{}, err
	}
	return store.SigningKey{
		ID: kid, Algorithm: alg,
		PrivateKey: s.Seal(der, []byte(kid)), PublicKey: pubDER,
		CreatedAt: now, ActiveFrom: now,
	}, nil
}

// openKey decrypts a stored key and checks that it is what its record
// says it is.
func openKey(rec store.SigningKey, s *Sealer) (*key, error) {
	der, err := s.Open(rec.PrivateKey, []byte(rec.ID))
	if err != nil {
		return nil, fmt.Errorf("token: signing key %s: %w", rec.ID, err)
	}
	p, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("token: signing key %s: %w", rec.ID, err)
	}
	priv, ok := p.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("token: signing key %s is not a signer", rec.ID)
	}
	switch priv.(type) {
	case ed25519.PrivateKey:
		if rec.Algorithm != AlgEdDSA {
			return nil, fmt.Errorf("token: signing key %s: algorithm mismatch", rec.ID)
		}
	case *ecdsa.PrivateKey:
		if rec.Algorithm != AlgES256 {
			return nil, fmt.Errorf("token: signing key %s: algorithm mismatch", rec.ID)
		}
	case *rsa.PrivateKey:
		if rec.Algorithm != AlgRS256 {
			return nil, fmt.Errorf("token: signing key %s: algorithm mismatch", rec.ID)
		}
	default:
		return nil, fmt.Errorf("token: signing key %s: unsupported type %T", rec.ID, p)
	}
	return &key{rec: rec, priv: priv, pub: priv.Public()}, nil
}

// thumbprint is the RFC 7638 JWK thumbprint, base64url: a kid that is
// derived from the key itself, so it cannot collide or be spoofed.
func thumbprint(pub crypto.PublicKey, alg string) (string, error) {
	jwk := jose.JSONWebKey{Key: pub, Algorithm: alg, Use: "sig"}
	tp, err := jwk.Thumbprint(crypto.SHA256)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(tp), nil
}

// jwk is the public JWK of k as published in the JWKS.
func (k *key) jwk() jose.JSONWebKey {
	return jose.JSONWebKey{Key: k.pub, KeyID: k.rec.ID, Algorithm: k.rec.Algorithm, Use: "sig"}
}
