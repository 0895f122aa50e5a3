package authn

import (
	"context"
	"errors"
	"net/netip"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

// KeyInfo is one public key of GET /v1/users/me/keys.
type KeyInfo struct {
	ID         string     `json:"id"`
	PublicKey  []byte     `json:"public_key"` // standard base64 in JSON
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
}

func keyInfo(k store.PublicKey) KeyInfo {
	ki := KeyInfo{ID: k.ID, PublicKey: k.Key, CreatedAt: k.CreatedAt.UTC()}
	if k.LastUsedAt != nil {
		t := k.LastUsedAt.UTC()
		ki.LastUsedAt = &t
	}
	return ki
}

// userOnly refuses principals that are not users (the admin token has no
// keyring).
func userOnly(p Principal) error {
	if p.Kind != KindUser {
		return ErrForbidden
	}
	return nil
}

// ListKeys returns the caller's keyring, newest first.
func (s *Service) ListKeys(ctx context.Context, p Principal) ([]KeyInfo, error) {
	if err := userOnly(p); err != nil {
		return nil, err
	}
	keys, err := s.store.ListPublicKeys(ctx, p.Subject)
	if err != nil {
		return nil, err
	}
	out := make([]KeyInfo, len(keys))
	for i, k := range keys {
		out[i] = keyInfo(k)
	}
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

// DeleteKey removes one key of the caller's keyring; never the last.
func (s *Service) DeleteKey(ctx context.Context, p Principal, id string) error {
	if err := userOnly(p); err != nil {
		return err
	}
	switch err := s.store.DeletePublicKey(ctx, p.Subject, id); {
	case errors.Is(err, store.ErrNotFound):
		return ErrNotFound
	case errors.Is(err, store.ErrConflict):
		return ErrLastKey
	case err != nil:
		return err
	}
	s.audit(ctx, netip.Addr{}, store.AuditEvent{WorkspaceID: p.WorkspaceID, Actor: p.Subject, Action: AuditKeyRemove, Target: id})
	return nil
}
