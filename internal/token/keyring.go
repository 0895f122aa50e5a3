package token

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"github.com/sigil-auth/sigil/internal/store"
)

// reloadEvery bounds how stale a replica's view of the keys may get when
// another process (`sigil keys rotate`) changes them; an unknown kid in a
// presented token triggers an earlier reload, at most once per
// reloadMinGap.
const (
	reloadEvery  = 30 * time.Second
	reloadMinGap = time.Second
)

// Keyring holds the decrypted signing keys: the one that signs now and
// every one still published for verification. Safe for concurrent use.
type Keyring struct {
	store  store.Store
	sealer *Sealer
	alg    string
	now    func() time.Time

	mu       sync.RWMutex
	signers  map[string]*key // by algorithm: the key that signs now
	byKID    map[string]*key
	jwks     []byte
	loadedAt time.Time
	tried    time.Time // last reload attempt for an unknown kid
}

// NewKeyring loads the keys from st, creating a first key of algorithm
// alg if there is none.
func NewKeyring(ctx context.Context, st store.Store, s *Sealer, alg string, now func() time.Time) (*Keyring, error) {
	k := &Keyring{store: st, sealer: s, alg: alg, now: now}
	if err := k.Reload(ctx); err != nil {
		return nil, err
	}
	if err := k.Ensure(ctx, alg); err != nil {
		return nil, err
	}
	return k, nil
}

// Ensure creates a first key of alg unless one signs already. Sigil
// creates its RS256 key this way when the first app is registered, so an
// instance without apps never pays for an RSA key. Two replicas racing
// here each store a key; both are published and the newer one signs.
func (k *Keyring) Ensure(ctx context.Context, alg string) error {
	k.mu.RLock()
	have := k.signers[alg] != nil
	k.mu.RUnlock()
	if have {
		return nil
	}
	rec, err := generateKey(alg, k.sealer, k.now())
	if err != nil {
		return err
	}
	if err := k.store.CreateSigningKey(ctx, rec); err != nil {
		return fmt.Errorf("token: store first %s signing key: %w", alg, err)
	}
	return k.Reload(ctx)
}

// Reload rereads the keys from the store.
func (k *Keyring) Reload(ctx context.Context) error {
	recs, err := k.store.ListSigningKeys(ctx)
	if err != nil {
		return fmt.Errorf("token: load signing keys: %w", err)
	}
	now := k.now()
	byKID := make(map[string]*key, len(recs))
	signers := make(map[string]*key, 2)
	var set jose.JSONWebKeySet
	for _, rec := range recs { // newest first
		if rec.PublishUntil != nil && !now.Before(*rec.PublishUntil) {
			continue
		}
		kk, err := openKey(rec, k.sealer)
		if err != nil {
			return err
		}
		byKID[rec.ID] = kk
		set.Keys = append(set.Keys, kk.jwk())
		if signers[rec.Algorithm] == nil && !now.Before(rec.ActiveFrom) && (rec.RetiredAt == nil || now.Before(*rec.RetiredAt)) {
			signers[rec.Algorithm] = kk
		}
	}
	jwks, err := json.Marshal(set)
	if err != nil {
		return err
	}
	k.mu.Lock()
	k.signers, k.byKID, k.jwks, k.loadedAt = signers, byKID, jwks, now
	k.mu.Unlock()
	return nil
}

// maybeReload reloads when the view is older than reloadEvery.
func (k *Keyring) maybeReload(ctx context.Context) {
	k.mu.RLock()
	stale := k.now().Sub(k.loadedAt) >= reloadEvery
	k.mu.RUnlock()
	if stale {
		_ = k.Reload(ctx) // keep serving the old view if the store fails
	}
}

// JWKS returns the published key set as JSON.
func (k *Keyring) JWKS(ctx context.Context) []byte {
	k.maybeReload(ctx)
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.jwks
}

// current returns the key of alg that signs now.
func (k *Keyring) current(ctx context.Context, alg string) (*key, error) {
	k.maybeReload(ctx)
	k.mu.RLock()
	defer k.mu.RUnlock()
	if k.signers[alg] == nil {
		return nil, errors.New("token: no active signing key")
	}
	return k.signers[alg], nil
}

// lookup returns the published key kid, reloading once (rate limited) if
// it is unknown, so a key rotated by another process is found.
func (k *Keyring) lookup(ctx context.Context, kid string) *key {
	k.mu.RLock()
	kk := k.byKID[kid]
	k.mu.RUnlock()
	if kk != nil {
		return kk
	}
	k.mu.Lock()
	now := k.now()
	retry := now.Sub(k.tried) >= reloadMinGap
	if retry {
		k.tried = now
	}
	k.mu.Unlock()
	if !retry || k.Reload(ctx) != nil {
		return nil
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.byKID[kid]
}

// Rotate creates a new access-token signing key that is published at once
// and starts signing after prepublish (so verifiers that cache the JWKS
// see it before any token uses it); an RS256 ID-token key, if there is
// one, is rotated the same way. Every older key of those algorithms stops
// signing then and stays published until MaxTokenLifetime later; keys
// already past their publication are deleted. It returns the new
// access-token key.
func (k *Keyring) Rotate(ctx context.Context, prepublish time.Duration) (store.SigningKey, error) {
	now := k.now()
	old, err := k.store.ListSigningKeys(ctx)
	if err != nil {
		return store.SigningKey{}, err
	}
	algs := []string{k.alg}
	if k.alg != AlgRS256 && slices.ContainsFunc(old, func(o store.SigningKey) bool { return o.Algorithm == AlgRS256 }) {
		algs = append(algs, AlgRS256)
	}
	var first store.SigningKey
	for i, alg := range algs {
		rec, err := k.rotate(ctx, alg, old, now, now.Add(prepublish))
		if err != nil {
			return store.SigningKey{}, err
		}
		if i == 0 {
			first = rec
		}
	}
	return first, k.Reload(ctx)
}

// rotate adds a key of alg active from activeFrom and retires the older
// keys of alg (old is every stored key).
func (k *Keyring) rotate(ctx context.Context, alg string, old []store.SigningKey, now, activeFrom time.Time) (store.SigningKey, error) {
	rec, err := generateKey(alg, k.sealer, now)
	if err != nil {
		return store.SigningKey{}, err
	}
	rec.ActiveFrom = activeFrom
	if err := k.store.CreateSigningKey(ctx, rec); err != nil {
		return store.SigningKey{}, err
	}
	for _, o := range old {
		if o.Algorithm != alg {
			continue
		}
		if o.PublishUntil != nil && !now.Before(*o.PublishUntil) {
			if err := k.store.DeleteSigningKey(ctx, o.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
				return store.SigningKey{}, err
			}
			continue
		}
		if o.RetiredAt != nil {
			continue
		}
		until := rec.ActiveFrom.Add(MaxTokenLifetime + time.Minute)
		o.RetiredAt, o.PublishUntil = &rec.ActiveFrom, &until
		if err := k.store.UpdateSigningKey(ctx, o); err != nil {
			return store.SigningKey{}, err
		}
	}
	return rec, nil
}

// KeyIDs lists the published kids, the access-token signer first; for
// logs and tests.
func (k *Keyring) KeyIDs() []string {
	k.mu.RLock()
	defer k.mu.RUnlock()
	ids := make([]string, 0, len(k.byKID))
	for id := range k.byKID {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	if sg := k.signers[k.alg]; sg != nil {
		i := slices.Index(ids, sg.rec.ID)
		ids[0], ids[i] = ids[i], ids[0]
	}
	return ids
}
