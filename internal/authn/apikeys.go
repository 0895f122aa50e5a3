package authn

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/token"
)

// apiKeyIDPrefix starts every API key id ("ak_…").
const apiKeyIDPrefix = "ak"

// maxAPIKeyLife bounds expires_in of a new key.
const maxAPIKeyLife = 10 * 365 * 24 * time.Hour

// APIKeyView is an API key as listed (never the secret).
type APIKeyView struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	Key        string     `json:"key,omitempty"` // only in the answer that created it
}

func apiKeyView(k store.APIKey, secret string) APIKeyView {
	utc := func(t *time.Time) *time.Time {
		if t == nil {
			return nil
		}
		u := t.UTC()
		return &u
	}
	sc := k.Scopes
	if sc == nil {
		sc = []string{}
	}
	return APIKeyView{ID: k.ID, Name: k.Name, Prefix: k.Prefix, Scopes: sc, CreatedAt: k.CreatedAt.UTC(),
		ExpiresAt: utc(k.ExpiresAt), LastUsedAt: utc(k.LastUsedAt), RevokedAt: utc(k.RevokedAt), Key: secret}
}

// NewAPIKeyInput is POST /v1/api-keys.
type NewAPIKeyInput struct {
	Name        string    `json:"name"`
	Scopes      *[]string `json:"scopes"`
	ExpiresIn   *int64    `json:"expires_in"`   // seconds
	WorkspaceID string    `json:"workspace_id"` // the instance admin names the workspace
}

// manager is the identity acting on a workspace's credentials: who it is,
// which workspace, whether it may manage everyone's, and the scopes it can
// hand out.
type manager struct {
	userID, workspaceID string
	admin               bool
	scopes              []string // nil: any (instance admin)
}

// managerOf resolves p for managing credentials in workspace ws ("" =
// p's own). Only users and the instance admin manage; API keys and
// customer JWTs get insufficient_scope.
func (s *Service) managerOf(ctx context.Context, p Principal, ws string) (manager, error) {
	switch {
	case p.IsAdmin():
		if ws == "" {
			return manager{}, invalid("workspace_id is required with the admin token")
		}
		if _, err := s.store.GetWorkspace(ctx, ws); errors.Is(err, store.ErrNotFound) {
			return manager{}, ErrNotFound
		} else if err != nil {
			return manager{}, err
		}
		return manager{workspaceID: ws, admin: true}, nil
	case p.Kind != KindUser:
		return manager{}, ErrUserCredentialRequired
	case ws != "" && ws != p.WorkspaceID:
		return manager{}, ErrNotFound
	}
	u, err := s.store.GetUser(ctx, p.Subject)
	if errors.Is(err, store.ErrNotFound) {
		return manager{}, ErrInvalidToken
	} else if err != nil {
		return manager{}, err
	}
	return manager{userID: u.ID, workspaceID: u.WorkspaceID, scopes: u.Scopes,
		admin: u.Role == store.RoleOwner || u.Role == store.RoleAdmin}, nil
}

// grantable checks that every requested scope is one m holds.
func (m manager) grantable(want []string) error {
	if m.scopes == nil && m.userID == "" {
		return nil
	}
	for _, sc := range want {
		if !slices.Contains(m.scopes, sc) {
			return errorf(CodeInsufficientScope, "you cannot grant scope %q: you do not hold it", sc)
		}
	}
	return nil
}

// newCredential checks what every new API key or JWT key needs: who may
// create it in which workspace, a name, and scopes (default: the
// creator's) that the creator holds.
func (s *Service) newCredential(ctx context.Context, p Principal, ws, name string, want *[]string) (manager, string, []string, error) {
	m, err := s.managerOf(ctx, p, ws)
	if err != nil {
		return manager{}, "", nil, err
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return manager{}, "", nil, invalid("name is required (at most 200 characters)")
	}
	scopes := m.scopes
	if want != nil {
		if scopes, err = cleanScopes(*want); err != nil {
			return manager{}, "", nil, err
		}
	}
	if err := m.grantable(scopes); err != nil {
		return manager{}, "", nil, err
	}
	return m, name, scopes, nil
}

// CreateAPIKey creates a key; the secret is in the answer only.
func (s *Service) CreateAPIKey(ctx context.Context, ip netip.Addr, p Principal, in NewAPIKeyInput) (APIKeyView, error) {
	m, name, scopes, err := s.newCredential(ctx, p, in.WorkspaceID, in.Name, in.Scopes)
	if err != nil {
		return APIKeyView{}, err
	}
	now := s.now()
	k := store.APIKey{ID: newID(apiKeyIDPrefix), WorkspaceID: m.workspaceID, UserID: m.userID, Name: name,
		Scopes: scopes, CreatedAt: now}
	if in.ExpiresIn != nil {
		if *in.ExpiresIn <= 0 || time.Duration(*in.ExpiresIn)*time.Second > maxAPIKeyLife {
			return APIKeyView{}, invalid("expires_in must be a positive number of seconds, at most 10 years")
		}
		exp := now.Add(time.Duration(*in.ExpiresIn) * time.Second)
		k.ExpiresAt = &exp
	}
	return s.storeNewKey(ctx, ip, p, k, AuditAPIKeyCreate)
}

// storeNewKey gives k a fresh secret, stores it and returns it once.
func (s *Service) storeNewKey(ctx context.Context, ip netip.Addr, p Principal, k store.APIKey, action string) (APIKeyView, error) {
	secret := token.NewAPIKey()
	k.Hash, k.Prefix = token.Hash(secret), token.APIKeyDisplayPrefix(secret)
	if err := s.store.CreateAPIKey(ctx, k); err != nil {
		return APIKeyView{}, err
	}
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: k.WorkspaceID, Actor: p.Subject, Action: action, Target: k.ID,
		Details: map[string]string{"name": k.Name, "scopes": strings.Join(k.Scopes, " ")}})
	return apiKeyView(k, secret), nil
}

// ListAPIKeys lists a workspace's keys: all of them for its admins,
// the caller's own for members.
func (s *Service) ListAPIKeys(ctx context.Context, p Principal, ws string) ([]APIKeyView, error) {
	m, err := s.managerOf(ctx, p, ws)
	if err != nil {
		return nil, err
	}
	owner := m.userID
	if m.admin {
		owner = ""
	}
	keys, err := s.store.ListAPIKeys(ctx, m.workspaceID, owner)
	if err != nil {
		return nil, err
	}
	out := make([]APIKeyView, len(keys))
	for i, k := range keys {
		out[i] = apiKeyView(k, "")
	}
	return out, nil
}

// manageableKey loads key id if p may manage it: the instance admin any
// key, workspace admins their workspace's, members their own. Anything
// else is not found, so ids cannot be probed.
func (s *Service) manageableKey(ctx context.Context, p Principal, id string) (store.APIKey, error) {
	var m manager
	if !p.IsAdmin() {
		var err error
		if m, err = s.managerOf(ctx, p, ""); err != nil {
			return store.APIKey{}, err
		}
	}
	k, err := s.store.GetAPIKey(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.APIKey{}, ErrNotFound
	} else if err != nil {
		return store.APIKey{}, err
	}
	if !p.IsAdmin() && (k.WorkspaceID != m.workspaceID || (!m.admin && k.UserID != m.userID)) {
		return store.APIKey{}, ErrNotFound
	}
	return k, nil
}

// RevokeAPIKey refuses the key from now on, on every replica, and ends
// the sessions exchanged from it.
func (s *Service) RevokeAPIKey(ctx context.Context, ip netip.Addr, p Principal, id string) error {
	k, err := s.manageableKey(ctx, p, id)
	if err != nil {
		return err
	}
	now := s.now()
	if _, err := s.store.UpdateAPIKey(ctx, id, func(k *store.APIKey) error {
		if k.RevokedAt == nil {
			k.RevokedAt = &now
		}
		return nil
	}); err != nil {
		return err
	}
	sessions, err := s.store.RevokeAPIKeySessions(ctx, id, now)
	if err != nil {
		return err
	}
	s.announce(ctx, k.WorkspaceID, append(sessions, id))
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: k.WorkspaceID, Actor: p.Subject, Action: AuditAPIKeyRevoke, Target: id})
	return nil
}

// RotateInput is POST /v1/api-keys/{id}/rotate.
type RotateInput struct {
	GracePeriod string `json:"grace_period"`
}

// RotateAPIKey issues a replacement key with the same name, scopes and
// expiry; the old key keeps working until the grace period ends.
func (s *Service) RotateAPIKey(ctx context.Context, ip netip.Addr, p Principal, id string, in RotateInput) (APIKeyView, error) {
	grace := 24 * time.Hour
	if in.GracePeriod != "" {
		d, err := time.ParseDuration(in.GracePeriod)
		if err != nil || d < 0 || d > 30*24*time.Hour {
			return APIKeyView{}, invalid("grace_period must be a Go duration from \"0s\" to \"720h\"")
		}
		grace = d
	}
	old, err := s.manageableKey(ctx, p, id)
	if err != nil {
		return APIKeyView{}, err
	}
	now := s.now()
	if old.RevokedAt != nil || (old.ExpiresAt != nil && !now.Before(*old.ExpiresAt)) {
		return APIKeyView{}, errorf(CodeConflict, "a revoked or expired key cannot be rotated")
	}
	end := now.Add(grace)
	if _, err := s.store.UpdateAPIKey(ctx, id, func(k *store.APIKey) error {
		if k.ExpiresAt == nil || end.Before(*k.ExpiresAt) {
			k.ExpiresAt = &end
		}
		return nil
	}); err != nil {
		return APIKeyView{}, err
	}
	s.announce(ctx, old.WorkspaceID, []string{id}) // other replicas must see the new expiry
	nk := store.APIKey{ID: newID(apiKeyIDPrefix), WorkspaceID: old.WorkspaceID, UserID: old.UserID, Name: old.Name,
		Scopes: old.Scopes, ExpiresAt: old.ExpiresAt, CreatedAt: now}
	return s.storeNewKey(ctx, ip, p, nk, AuditAPIKeyRotate)
}

// apiKey authenticates an API key: shape and checksum first (no I/O),
// then the record by hash, cached for liveTTL.
func (s *Service) apiKey(ctx context.Context, raw string) (Principal, error) {
	k, err := s.lookupAPIKey(ctx, raw)
	if err != nil {
		return Principal{}, err
	}
	return Principal{Subject: k.ID, Kind: KindAPIKey, WorkspaceID: k.WorkspaceID, Scopes: k.Scopes, AuthMethod: MethodAPIKey}, nil
}

func (s *Service) lookupAPIKey(ctx context.Context, raw string) (store.APIKey, error) {
	if !token.ValidAPIKey(raw) {
		return store.APIKey{}, ErrInvalidToken
	}
	k, ok := s.apiKeys.get(raw)
	if !ok {
		epoch := s.apiKeys.epoch.Load()
		var err error
		k, err = s.store.GetAPIKeyByHash(ctx, token.Hash(raw))
		if errors.Is(err, store.ErrNotFound) {
			return store.APIKey{}, ErrInvalidToken
		} else if err != nil {
			return store.APIKey{}, err
		}
		if k.Scopes, err = s.heldScopes(ctx, k.UserID, k.Scopes); err != nil {
			return store.APIKey{}, err
		}
		s.apiKeys.put(raw, k.ID, k, epoch)
	}
	now := s.now()
	if k.RevokedAt != nil || (k.ExpiresAt != nil && !now.Before(*k.ExpiresAt)) {
		return store.APIKey{}, ErrInvalidToken
	}
	if s.touched.due(k.ID, now) && (k.LastUsedAt == nil || now.Sub(*k.LastUsedAt) >= time.Minute) {
		go s.touchAPIKey(context.WithoutCancel(ctx), k.ID, now)
	}
	return k, nil
}

// touchAPIKey records use off the request path.
func (s *Service) touchAPIKey(ctx context.Context, id string, at time.Time) {
	if err := s.store.TouchAPIKey(ctx, id, at); err != nil && !errors.Is(err, store.ErrNotFound) {
		s.log.WarnContext(ctx, "cannot record API key use", "key_id", id, "err", err)
	}
}
