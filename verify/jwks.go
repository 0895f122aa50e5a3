package verify

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"fmt"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// JWKS refresh policy. The set is refetched every jwksMaxAge, and at
// once when a token names a kid the set lacks (a key rotated in since),
// but at most once per jwksRefetchGap: a flood of made-up kids must not
// become a flood of requests to the server.
const (
	jwksMaxAge     = 5 * time.Minute
	jwksRefetchGap = 5 * time.Second
)

// Algorithms Sigil signs access tokens with (API.md §6).
const (
	algEdDSA = "EdDSA"
	algES256 = "ES256"
)

// publicKey is one usable key of the set.
type publicKey struct {
	alg string
	key any // ed25519.PublicKey or *ecdsa.PublicKey (P-256)
}

// keySet is the server's JWKS, by kid. Safe for concurrent use.
type keySet struct {
	url   string
	get   func(ctx context.Context, url string, out any) error
	now   func() time.Time
	onDel func() // a published key disappeared: verified-token caches must go

	mu      sync.RWMutex
	byKID   map[string]publicKey
	fetched time.Time // last successful fetch

	fetchMu sync.Mutex // one fetch at a time; held across the request
	tried   time.Time  // last fetch attempt caused by an unknown kid
}

// lookup returns the key kid, refetching the set (rate limited) if kid
// is unknown.
func (k *keySet) lookup(ctx context.Context, kid string) (publicKey, bool) {
	k.mu.RLock()
	pk, ok := k.byKID[kid]
	k.mu.RUnlock()
	if ok {
		return pk, true
	}
	k.fetchMu.Lock()
	defer k.fetchMu.Unlock()
	k.mu.RLock()
	pk, ok = k.byKID[kid] // another caller may have fetched meanwhile
	k.mu.RUnlock()
	if ok {
		return pk, true
	}
	now := k.now()
	if !k.tried.IsZero() && now.Sub(k.tried) < jwksRefetchGap {
		return publicKey{}, false
	}
	k.tried = now
	if k.fetchLocked(ctx) != nil {
		return publicKey{}, false
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	pk, ok = k.byKID[kid]
	return pk, ok
}

// refresh refetches the set if it is older than jwksMaxAge.
func (k *keySet) refresh(ctx context.Context) error {
	k.fetchMu.Lock()
	defer k.fetchMu.Unlock()
	k.mu.RLock()
	fresh := k.now().Sub(k.fetched) < jwksMaxAge
	k.mu.RUnlock()
	if fresh {
		return nil
	}
	return k.fetchLocked(ctx)
}

// fetchLocked downloads and installs the set; on failure the old set
// stays. The caller holds fetchMu.
func (k *keySet) fetchLocked(ctx context.Context) error {
	var set jose.JSONWebKeySet
	if err := k.get(ctx, k.url, &set); err != nil {
		return fmt.Errorf("fetch JWKS: %w", err)
	}
	byKID := make(map[string]publicKey, len(set.Keys))
	for _, jwk := range set.Keys {
		if pk, ok := usable(jwk); ok {
			byKID[jwk.KeyID] = pk
		}
	}
	k.mu.Lock()
	old := k.byKID
	k.byKID, k.fetched = byKID, k.now()
	k.mu.Unlock()
	for kid := range old {
		if _, ok := byKID[kid]; !ok && k.onDel != nil {
			k.onDel() // a withdrawn key may have been compromised
			break
		}
	}
	return nil
}

// usable keeps a JWK only if it is a public signing key whose declared
// alg matches its type: an EdDSA Ed25519 key or an ES256 P-256 key.
// Everything else in a set (encryption keys, RSA, keys without kid or
// alg) is ignored rather than guessed at.
func usable(jwk jose.JSONWebKey) (publicKey, bool) {
	if jwk.KeyID == "" || (jwk.Use != "" && jwk.Use != "sig") || !jwk.IsPublic() {
		return publicKey{}, false
	}
	switch key := jwk.Key.(type) {
	case ed25519.PublicKey:
		if jwk.Algorithm == algEdDSA && len(key) == ed25519.PublicKeySize {
			return publicKey{algEdDSA, key}, true
		}
	case *ecdsa.PublicKey:
		if jwk.Algorithm == algES256 && key.Curve == elliptic.P256() {
			return publicKey{algES256, key}, true
		}
	}
	return publicKey{}, false
}
