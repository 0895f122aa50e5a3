package authn

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/token"
)

// defaultScopes are a new workspace's default member scopes (API.md §9).
var defaultScopes = []string{"read", "write"}

// maxAccessTTL bounds workspace access-token lifetimes, so a retired
// signing key's publication window (token.MaxTokenLifetime) covers them.
const maxAccessTTL = token.MaxTokenLifetime

// WorkspaceView is a workspace as the API shows it. JoinCode is set only
// in the answer that created it (it is stored hashed).
type WorkspaceView struct {
	ID            string                      `json:"id"`
	Name          string                      `json:"name"`
	JoinCode      string                      `json:"join_code,omitempty"`
	DefaultScopes []string                    `json:"default_scopes"`
	Branding      Branding                    `json:"branding"`
	Settings      WorkspaceSettings           `json:"settings"`
	Effective     map[string]EffectiveSeconds `json:"effective_lifetimes"`
	// RequireMFA is the second-factor policy ("none", "admins", "all");
	// RequireMFASince when it last became stricter (the grace's start).
	RequireMFA      string     `json:"require_mfa"`
	RequireMFASince *time.Time `json:"require_mfa_since"`
	CreatedAt       time.Time  `json:"created_at"`
	UpdatedAt       time.Time  `json:"updated_at"`
}

// WorkspaceSettings are the lifetimes a workspace sets, as Go duration
// strings; null means "the login method's default".
type WorkspaceSettings struct {
	AccessTokenTTL  *string `json:"access_token_ttl"`
	RefreshTokenTTL *string `json:"refresh_token_ttl"`
	SessionMaxAge   *string `json:"session_max_age"`
	RefreshGrace    *string `json:"refresh_grace"`
	JWTMaxLifetime  *string `json:"jwt_max_lifetime"`
}

// EffectiveSeconds are the lifetimes a login method gets, in seconds.
type EffectiveSeconds struct {
	AccessTokenTTL  int64 `json:"access_token_ttl"`
	RefreshTokenTTL int64 `json:"refresh_token_ttl"`
	SessionMaxAge   int64 `json:"session_max_age"`
	RefreshGrace    int64 `json:"refresh_grace"`
}

func viewOf(w store.Workspace, joinCode string) WorkspaceView {
	dur := func(d time.Duration) *string {
		if d <= 0 {
			return nil
		}
		s := d.String()
		return &s
	}
	v := WorkspaceView{
		ID: w.ID, Name: w.Name, JoinCode: joinCode, DefaultScopes: w.DefaultScopes, Branding: BrandingOf(w),
		Settings: WorkspaceSettings{
			AccessTokenTTL: dur(w.AccessTTL), RefreshTokenTTL: dur(w.RefreshTTL), SessionMaxAge: dur(w.SessionMaxAge),
			JWTMaxLifetime: dur(w.JWTMaxLifetime),
		},
		Effective: map[string]EffectiveSeconds{},
		CreatedAt: w.CreatedAt.UTC(), UpdatedAt: w.UpdatedAt.UTC(),
		RequireMFA: store.RequireMFANone, RequireMFASince: w.RequireMFASince,
	}
	if w.RequireMFA != "" {
		v.RequireMFA = w.RequireMFA
	}
	if v.DefaultScopes == nil {
		v.DefaultScopes = []string{}
	}
	if w.RefreshGrace != nil {
		g := w.RefreshGrace.String()
		v.Settings.RefreshGrace = &g
	}
	for _, m := range Methods() {
		lt := EffectiveLifetimes(w, m)
		v.Effective[m] = EffectiveSeconds{seconds(lt.Access), seconds(lt.Refresh), seconds(lt.MaxAge), seconds(lt.Grace)}
	}
	return v
}

// newJoinCode returns a fresh join code.
func newJoinCode() string { return "jc_" + token.NewSecret() }

// CreateWorkspace creates a workspace: the admin token, or an instance
// admin's browser session (see Principal.InstanceAdmin).
func (s *Service) CreateWorkspace(ctx context.Context, p Principal, name string) (WorkspaceView, error) {
	if err := s.canAdministerInstance(ctx, p); err != nil {
		return WorkspaceView{}, err
	}
	w, code, err := s.newWorkspace(name)
	if err != nil {
		return WorkspaceView{}, err
	}
	if err := s.store.CreateWorkspace(ctx, w); err != nil {
		return WorkspaceView{}, err
	}
	s.audit(ctx, netip.Addr{}, store.AuditEvent{WorkspaceID: w.ID, Actor: p.Subject, Action: AuditWorkspaceCreate, Target: w.ID})
	return viewOf(w, code), nil
}

// newWorkspace is a new workspace record named name (checked) and its
// join code.
func (s *Service) newWorkspace(name string) (store.Workspace, string, error) {
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 200 {
		return store.Workspace{}, "", invalid("name is required (at most 200 characters)")
	}
	code := newJoinCode()
	now := s.now()
	return store.Workspace{ID: newID("ws"), Name: name, JoinCodeHash: token.Hash(code),
		DefaultScopes: defaultScopes, CreatedAt: now, UpdatedAt: now}, code, nil
}

// GetWorkspace shows a workspace to its members and the instance admin.
func (s *Service) GetWorkspace(ctx context.Context, p Principal, id string) (WorkspaceView, error) {
	if !p.IsAdmin() && p.WorkspaceID != id {
		return WorkspaceView{}, ErrNotFound
	}
	w, err := s.store.GetWorkspace(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return WorkspaceView{}, ErrNotFound
	} else if err != nil {
		return WorkspaceView{}, err
	}
	return viewOf(w, ""), nil
}

// WorkspaceSettings is GetWorkspace for those who may change the
// workspace (its owners and admins, the instance admin): the dashboard's
// settings page, which members do not see.
func (s *Service) WorkspaceSettings(ctx context.Context, p Principal, id string) (WorkspaceView, error) {
	if err := s.canManage(ctx, p, id); err != nil {
		return WorkspaceView{}, err
	}
	return s.GetWorkspace(ctx, p, id)
}

// WorkspacePatch is PATCH /v1/workspaces/{id}; nil fields are unchanged,
// "" resets a lifetime to the method defaults.
type WorkspacePatch struct {
	Name            *string   `json:"name"`
	DefaultScopes   *[]string `json:"default_scopes"`
	AccessTokenTTL  *string   `json:"access_token_ttl"`
	RefreshTokenTTL *string   `json:"refresh_token_ttl"`
	SessionMaxAge   *string   `json:"session_max_age"`
	RefreshGrace    *string   `json:"refresh_grace"`
	JWTMaxLifetime  *string   `json:"jwt_max_lifetime"`
	// Branding of the hosted pages; "" resets a field to Sigil's default.
	DisplayName *string `json:"display_name"`
	LogoURL     *string `json:"logo_url"`
	AccentColor *string `json:"accent_color"`
	// RequireMFA is the second-factor policy: "none", "admins", "all".
	RequireMFA *string `json:"require_mfa"`
}

// UpdateWorkspace applies a patch (workspace owners/admins, instance admin).
func (s *Service) UpdateWorkspace(ctx context.Context, p Principal, id string, in WorkspacePatch) (WorkspaceView, error) {
	if err := s.canManage(ctx, p, id); err != nil {
		return WorkspaceView{}, err
	}
	w, err := s.store.UpdateWorkspace(ctx, id, func(w *store.Workspace) error {
		if err := in.apply(w); err != nil {
			return err
		}
		if in.RequireMFA != nil {
			if err := applyRequireMFA(w, strings.TrimSpace(*in.RequireMFA), s.now()); err != nil {
				return err
			}
		}
		w.UpdatedAt = s.now()
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return WorkspaceView{}, ErrNotFound
	} else if err != nil {
		return WorkspaceView{}, err
	}
	s.announce(ctx, id, []string{id})
	s.audit(ctx, netip.Addr{}, store.AuditEvent{WorkspaceID: id, Actor: p.Subject, Action: AuditWorkspace, Target: id})
	return viewOf(w, ""), nil
}

// RotateJoinCode gives the workspace a new join code; the old one dies.
func (s *Service) RotateJoinCode(ctx context.Context, p Principal, id string) (WorkspaceView, error) {
	if err := s.canManage(ctx, p, id); err != nil {
		return WorkspaceView{}, err
	}
	code := newJoinCode()
	w, err := s.store.UpdateWorkspace(ctx, id, func(w *store.Workspace) error {
		w.JoinCodeHash, w.UpdatedAt = token.Hash(code), s.now()
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return WorkspaceView{}, ErrNotFound
	} else if err != nil {
		return WorkspaceView{}, err
	}
	s.audit(ctx, netip.Addr{}, store.AuditEvent{WorkspaceID: id, Actor: p.Subject, Action: AuditJoinCode, Target: id})
	return viewOf(w, code), nil
}

// CanManage reports (nil) whether p may manage workspace id: its owners
// and admins, and the instance admin. Pages check it before showing a
// form whose submission would need those rights.
func (s *Service) CanManage(ctx context.Context, p Principal, id string) error {
	return s.canManage(ctx, p, id)
}

// canManage allows the instance admin and the workspace's owners and
// admins; other members get forbidden, outsiders not found.
func (s *Service) canManage(ctx context.Context, p Principal, id string) error {
	if p.IsAdmin() {
		return nil
	}
	if p.Kind != KindUser {
		return ErrUserCredentialRequired
	}
	if p.WorkspaceID != id {
		return ErrNotFound
	}
	u, err := s.store.GetUser(ctx, p.Subject)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	} else if err != nil {
		return err
	}
	if u.WorkspaceID != id || (u.Role != store.RoleOwner && u.Role != store.RoleAdmin) {
		return ErrForbidden
	}
	return nil
}
