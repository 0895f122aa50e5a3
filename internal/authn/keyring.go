package authn

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

// The keyring is what signs a person in without a password: their
// Ed25519 keys and their passkeys, in one list with one remove. Whichever
// kind is the last key stays (the store checks it in the delete's
// transaction), so a key-pair account always keeps a way in. A password
// account's passkeys are second factors beside its password: it may
// remove the last one (here or on the security page); its last Ed25519
// key stays all the same, as API.md §3 has it.

// Kinds of keyring entries.
const (
	KeyEd25519 = "ed25519"
	KeyPasskey = "passkey"
)

// KeyInfo is one key of GET /v1/users/me/keys: an Ed25519 public key,
// or a passkey (with its name, and no public_key).
type KeyInfo struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`
	Name       string     `json:"name,omitempty"`
	PublicKey  []byte     `json:"public_key,omitempty"` // standard base64 in JSON
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

func keyInfo(k store.PublicKey) KeyInfo {
	return KeyInfo{ID: k.ID, Kind: KeyEd25519, PublicKey: k.Key, CreatedAt: k.CreatedAt.UTC(), LastUsedAt: utcPtr(k.LastUsedAt)}
}

func passkeyInfo(f store.Factor) KeyInfo {
	return KeyInfo{ID: f.ID, Kind: KeyPasskey, Name: f.Name, CreatedAt: f.CreatedAt.UTC(), LastUsedAt: utcPtr(f.LastUsedAt)}
}

// utcPtr is *t in UTC, or nil.
func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// userOnly refuses principals that are not users (the admin token has no
// keyring).
func userOnly(p Principal) error {
	if p.Kind != KindUser {
		return ErrForbidden
	}
	return nil
}

// ListKeys returns the caller's keyring, Ed25519 keys and passkeys,
// newest first.
func (s *Service) ListKeys(ctx context.Context, p Principal) ([]KeyInfo, error) {
	if err := userOnly(p); err != nil {
		return nil, err
	}
	keys, err := s.store.ListPublicKeys(ctx, p.Subject)
	if err != nil {
		return nil, err
	}
	factors, err := s.store.ListFactors(ctx, p.Subject)
	if err != nil {
		return nil, err
	}
	out := make([]KeyInfo, 0, len(keys)+len(factors))
	for _, k := range keys {
		out = append(out, keyInfo(k))
	}
	for _, f := range factors {
		if f.Kind == store.FactorWebAuthn {
			out = append(out, passkeyInfo(f))
		}
	}
	slices.SortStableFunc(out, func(a, b KeyInfo) int { return b.CreatedAt.Compare(a.CreatedAt) })
	return out, nil
}

// AddKey adds a key to the caller's keyring after the new key proves
// possession by signing a fresh code issued for the caller's own id.
func (s *Service) AddKey(ctx context.Context, p Principal, proof Proof) (KeyInfo, error) {
	if err := userOnly(p); err != nil {
		return KeyInfo{}, err
	}
	pub, code, err := s.check(p.Subject, proof)
	if err != nil {
		return KeyInfo{}, err
	}
	if err := s.store.CreateAuthCode(ctx, code); err != nil {
		return KeyInfo{}, replayed(err)
	}
	k := store.PublicKey{ID: newID("key"), UserID: p.Subject, Key: pub, CreatedAt: s.now()}
	if err := s.store.AddPublicKey(ctx, k); errors.Is(err, store.ErrConflict) {
		return KeyInfo{}, ErrKeyExists
	} else if err != nil {
		return KeyInfo{}, err
	}
	s.audit(ctx, netip.Addr{}, store.AuditEvent{WorkspaceID: p.WorkspaceID, Actor: p.Subject, Action: AuditKeyAdd, Target: k.ID})
	return keyInfo(k), nil
}

// DeleteKey removes one key of the caller's keyring, an Ed25519 key or a
// passkey (by its factor id); never the last key.
func (s *Service) DeleteKey(ctx context.Context, ip netip.Addr, p Principal, id string) error {
	if err := userOnly(p); err != nil {
		return err
	}
	if isFactorID(id) {
		return s.removeFactor(ctx, ip, p, id, store.FactorWebAuthn)
	}
	if err := keyringErr(s.store.DeletePublicKey(ctx, p.Subject, id)); err != nil {
		return err
	}
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: p.WorkspaceID, Actor: p.Subject, Action: AuditKeyRemove, Target: id})
	return nil
}

// deletePasskey removes passkey id of the caller unless it is their last
// key, and audits it as the removal of a factor.
func (s *Service) deletePasskey(ctx context.Context, ip netip.Addr, p Principal, id string) error {
	if err := keyringErr(s.store.DeletePasskey(ctx, p.Subject, id)); err != nil {
		return err
	}
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: p.WorkspaceID, Actor: p.Subject, Action: AuditFactorRemove, Target: id,
		Details: map[string]string{"kind": store.FactorWebAuthn}})
	return nil
}

// keyringErr maps a keyring delete's store error.
func keyringErr(err error) error {
	switch {
	case errors.Is(err, store.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, store.ErrConflict):
		return ErrLastKey
	}
	return err
}

// factorPrefix begins every factor's id (newFactorID).
const factorPrefix = "fac"

// newFactorID is a new factor's id.
func newFactorID() string { return newID(factorPrefix) }

// isFactorID reports whether a keyring id names a passkey (a factor).
func isFactorID(id string) bool { return strings.HasPrefix(id, factorPrefix+"_") }
