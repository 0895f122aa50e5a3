package authn

import (
	"context"
	"errors"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/token"
)

// Client authentication methods of an app (RFC 7591 names).
const (
	AuthNone        = "none"
	AuthSecretBasic = "client_secret_basic"
	AuthSecretPost  = "client_secret_post"
)

// LoginMethodPassword is the only first factor the hosted pages offer
// today;
// apps list the methods their users may sign in with.
const LoginMethodPassword = "password"

// Limits on an app's registration.
const (
	maxRedirectURIs = 20
	maxURILen       = 2000
)

// Audit actions of apps and of the authorization-code flow.
const (
	AuditAppCreate     = "app.create"
	AuditAppUpdate     = "app.update"
	AuditAppDelete     = "app.delete"
	AuditAuthorize     = "oauth2.authorize"
	AuditAuthorizeDeny = "oauth2.authorize_refused"
	AuditCodeExchange  = "oauth2.code_exchange"
	AuditCodeRefused   = "oauth2.code_refused"
	AuditCodeReuse     = "oauth2.code_reuse"
	AuditRPLogout      = "oauth2.logout"
)

// AppView is an app as the API shows it (RFC 7591 field names).
// ClientSecret is set only in the answer that created it.
type AppView struct {
	ClientID                 string    `json:"client_id"`
	WorkspaceID              string    `json:"workspace_id"`
	Name                     string    `json:"name"`
	RedirectURIs             []string  `json:"redirect_uris"`
	PostLogoutRedirectURIs   []string  `json:"post_logout_redirect_uris"`
	TokenEndpointAuthMethod  string    `json:"token_endpoint_auth_method"`
	IDTokenSignedResponseAlg string    `json:"id_token_signed_response_alg"`
	LoginMethods             []string  `json:"login_methods"`
	ClientSecret             string    `json:"client_secret,omitempty"`
	CreatedAt                time.Time `json:"created_at"`
	UpdatedAt                time.Time `json:"updated_at"`
}

func appView(a store.App, secret string) AppView {
	v := AppView{ClientID: a.ID, WorkspaceID: a.WorkspaceID, Name: a.Name, RedirectURIs: a.RedirectURIs,
		PostLogoutRedirectURIs: a.PostLogoutRedirectURIs, TokenEndpointAuthMethod: a.TokenEndpointAuthMethod,
		IDTokenSignedResponseAlg: a.IDTokenAlg, LoginMethods: a.LoginMethods, ClientSecret: secret,
		CreatedAt: a.CreatedAt.UTC(), UpdatedAt: a.UpdatedAt.UTC()}
	for _, l := range []*[]string{&v.RedirectURIs, &v.PostLogoutRedirectURIs, &v.LoginMethods} {
		if *l == nil {
			*l = []string{}
		}
	}
	return v
}

// AppInput is POST (every field but name optional) and PATCH (nil =
// unchanged) of /v1/workspaces/{id}/apps.
type AppInput struct {
	Name                     *string   `json:"name"`
	RedirectURIs             *[]string `json:"redirect_uris"`
	PostLogoutRedirectURIs   *[]string `json:"post_logout_redirect_uris"`
	TokenEndpointAuthMethod  *string   `json:"token_endpoint_auth_method"`
	IDTokenSignedResponseAlg *string   `json:"id_token_signed_response_alg"`
	LoginMethods             *[]string `json:"login_methods"`
}

// apply validates in and writes it into a. It returns a new client
// secret when the app becomes confidential (or is created so).
func (in AppInput) apply(a *store.App, algs []string) (secret string, err error) {
	if in.Name != nil {
		n := strings.TrimSpace(*in.Name)
		if n == "" || len(n) > 200 {
			return "", invalid("name is required (at most 200 characters)")
		}
		a.Name = n
	}
	if in.RedirectURIs != nil {
		if a.RedirectURIs, err = cleanRedirectURIs("redirect_uris", *in.RedirectURIs); err != nil {
			return "", err
		}
	}
	if in.PostLogoutRedirectURIs != nil {
		if a.PostLogoutRedirectURIs, err = cleanRedirectURIs("post_logout_redirect_uris", *in.PostLogoutRedirectURIs); err != nil {
			return "", err
		}
	}
	if len(a.RedirectURIs) == 0 {
		return "", invalid("redirect_uris needs at least one URI")
	}
	if in.IDTokenSignedResponseAlg != nil {
		if !slices.Contains(algs, *in.IDTokenSignedResponseAlg) {
			return "", invalid("id_token_signed_response_alg must be one of %s", strings.Join(algs, ", "))
		}
		a.IDTokenAlg = *in.IDTokenSignedResponseAlg
	}
	if in.LoginMethods != nil {
		for _, m := range *in.LoginMethods {
			if m != LoginMethodPassword {
				return "", invalid("login_methods may hold %q", LoginMethodPassword)
			}
		}
		if len(*in.LoginMethods) == 0 {
			return "", invalid("login_methods needs at least one method")
		}
		a.LoginMethods = slices.Compact(slices.Clone(*in.LoginMethods))
	}
	if in.TokenEndpointAuthMethod != nil {
		m := *in.TokenEndpointAuthMethod
		if m != AuthNone && m != AuthSecretBasic && m != AuthSecretPost {
			return "", invalid("token_endpoint_auth_method must be none, client_secret_basic or client_secret_post")
		}
		wasPublic := a.SecretHash == nil
		a.TokenEndpointAuthMethod = m
		switch {
		case m == AuthNone:
			a.SecretHash = nil
		case wasPublic:
			secret = "cs_" + token.NewSecret()
			a.SecretHash = token.Hash(secret)
		}
	}
	return secret, nil
}

// cleanRedirectURIs checks exact-match redirect URIs: absolute, https
// (or http on a loopback host, for development), no fragment, no user
// info, no wildcard.
func cleanRedirectURIs(field string, uris []string) ([]string, error) {
	if len(uris) > maxRedirectURIs {
		return nil, invalid("%s holds at most %d URIs", field, maxRedirectURIs)
	}
	out := make([]string, 0, len(uris))
	for _, raw := range uris {
		if err := checkRedirectURI(raw); err != nil {
			return nil, invalid("%s: %q %s", field, raw, err.Error())
		}
		if !slices.Contains(out, raw) {
			out = append(out, raw)
		}
	}
	return out, nil
}

func checkRedirectURI(raw string) error {
	if raw == "" || len(raw) > maxURILen || strings.ContainsAny(raw, "*\\ \t\r\n") {
		return errors.New("is not a valid URI")
	}
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "":
		return errors.New("is not an absolute URI")
	case u.User != nil:
		return errors.New("must not carry user info")
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return errors.New("must not have a fragment")
	case u.Scheme == "https":
		return nil
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return nil
	}
	return errors.New("must use https (http only on a loopback host)")
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// CreateApp registers an OAuth2 client in workspace ws (owners, admins,
// instance admin). A confidential app's secret is in the answer only.
func (s *Service) CreateApp(ctx context.Context, ip netip.Addr, p Principal, ws string, in AppInput) (AppView, error) {
	if err := s.canManage(ctx, p, ws); err != nil {
		return AppView{}, err
	}
	if in.Name == nil {
		return AppView{}, invalid("name is required")
	}
	if in.TokenEndpointAuthMethod == nil {
		in.TokenEndpointAuthMethod = ptrTo(AuthNone)
	}
	now := s.now()
	a := store.App{ID: newID("app"), WorkspaceID: ws, IDTokenAlg: token.AlgRS256,
		LoginMethods: []string{LoginMethodPassword}, CreatedAt: now, UpdatedAt: now}
	secret, err := in.apply(&a, s.keys.IDTokenAlgs())
	if err != nil {
		return AppView{}, err
	}
	if err := s.keys.Ensure(ctx, a.IDTokenAlg); err != nil {
		return AppView{}, err
	}
	if err := s.store.CreateApp(ctx, a); errors.Is(err, store.ErrNotFound) {
		return AppView{}, ErrNotFound
	} else if err != nil {
		return AppView{}, err
	}
	s.origins.invalidate()
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: ws, Actor: p.Subject, Action: AuditAppCreate, Target: a.ID})
	return appView(a, secret), nil
}

// ListApps lists a workspace's apps, newest first.
func (s *Service) ListApps(ctx context.Context, p Principal, ws string) ([]AppView, error) {
	if err := s.canManage(ctx, p, ws); err != nil {
		return nil, err
	}
	apps, err := s.store.ListApps(ctx, ws)
	if err != nil {
		return nil, err
	}
	out := make([]AppView, len(apps))
	for i, a := range apps {
		out[i] = appView(a, "")
	}
	return out, nil
}

// GetApp shows one app of workspace ws.
func (s *Service) GetApp(ctx context.Context, p Principal, ws, id string) (AppView, error) {
	if err := s.canManage(ctx, p, ws); err != nil {
		return AppView{}, err
	}
	a, err := s.appOf(ctx, ws, id)
	return appView(a, ""), err
}

// UpdateApp patches an app. Switching a public app to a secret method
// issues its secret (in this answer only); switching to none drops it.
func (s *Service) UpdateApp(ctx context.Context, ip netip.Addr, p Principal, ws, id string, in AppInput) (AppView, error) {
	if err := s.canManage(ctx, p, ws); err != nil {
		return AppView{}, err
	}
	if _, err := s.appOf(ctx, ws, id); err != nil {
		return AppView{}, err
	}
	var secret string
	if in.IDTokenSignedResponseAlg != nil && slices.Contains(s.keys.IDTokenAlgs(), *in.IDTokenSignedResponseAlg) {
		if err := s.keys.Ensure(ctx, *in.IDTokenSignedResponseAlg); err != nil {
			return AppView{}, err
		}
	}
	a, err := s.store.UpdateApp(ctx, id, func(a *store.App) error {
		var err error
		secret, err = in.apply(a, s.keys.IDTokenAlgs())
		a.UpdatedAt = s.now()
		return err
	})
	if errors.Is(err, store.ErrNotFound) {
		return AppView{}, ErrNotFound
	} else if err != nil {
		return AppView{}, err
	}
	s.origins.invalidate()
	s.announce(ctx, ws, []string{id})
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: ws, Actor: p.Subject, Action: AuditAppUpdate, Target: id})
	return appView(a, secret), nil
}

// DeleteApp removes an app: its codes can no longer be exchanged and it
// can no longer start sign-ins. Sessions it holds live on until they end.
func (s *Service) DeleteApp(ctx context.Context, ip netip.Addr, p Principal, ws, id string) error {
	if err := s.canManage(ctx, p, ws); err != nil {
		return err
	}
	if _, err := s.appOf(ctx, ws, id); err != nil {
		return err
	}
	if err := s.store.DeleteApp(ctx, id); errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	} else if err != nil {
		return err
	}
	s.origins.invalidate()
	s.announce(ctx, ws, []string{id})
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: ws, Actor: p.Subject, Action: AuditAppDelete, Target: id})
	return nil
}

// app reads an app through a cache of liveTTL: the authorize and token
// endpoints read it on every request, and changes are announced
// (UpdateApp, DeleteApp), so other replicas drop it at once.
func (s *Service) app(ctx context.Context, id string) (store.App, error) {
	if a, ok := s.apps.get(id); ok {
		return a, nil
	}
	epoch := s.apps.epoch.Load()
	a, err := s.store.GetApp(ctx, id)
	if err == nil {
		s.apps.put(id, id, a, epoch)
	}
	return a, err
}

// appOf reads app id of workspace ws; another workspace's app is not found.
func (s *Service) appOf(ctx context.Context, ws, id string) (store.App, error) {
	a, err := s.app(ctx, id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && a.WorkspaceID != ws) {
		return store.App{}, ErrNotFound
	}
	return a, err
}

func ptrTo[T any](v T) *T { return &v }
