package authn

import (
	"context"
	"encoding/json"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

// Single sign-on (API.md §12): a workspace's connections to identity
// providers. This file holds the connections themselves; sso_flow.go the
// browser round trip, sso_account.go who an IdP's person is here, and
// sso_oidc.go, sso_apple.go and sso_saml.go the three kinds.

// Audit actions of SSO.
const (
	AuditConnCreate  = "sso.connection_create"
	AuditConnUpdate  = "sso.connection_update"
	AuditConnDelete  = "sso.connection_delete"
	AuditSSOLogin    = "sso.login"
	AuditSSORefused  = "sso.refused"
	AuditSSOLink     = "sso.link"
	AuditSSOProvided = "sso.provision"
)

// Limits on a connection's settings.
const (
	maxConnDomains  = 50
	maxConnListLen  = 20
	maxConnField    = 2000
	maxMetadataSize = 1 << 20
)

// connConfig is a connection's public settings as stored (store's
// Connection.Config): the fields of every kind, each used by its own.
type connConfig struct {
	Issuer            string            `json:"issuer,omitempty"`
	ClientID          string            `json:"client_id,omitempty"`
	Scopes            []string          `json:"scopes,omitempty"`
	HostedDomain      string            `json:"hosted_domain,omitempty"`
	AllowedTenants    []string          `json:"allowed_tenants,omitempty"`
	TeamID            string            `json:"team_id,omitempty"`
	KeyID             string            `json:"key_id,omitempty"`
	Audiences         []string          `json:"audiences,omitempty"`
	IdPMetadataURL    string            `json:"idp_metadata_url,omitempty"`
	IdPMetadataXML    string            `json:"idp_metadata_xml,omitempty"`
	AttributeMap      map[string]string `json:"attribute_map,omitempty"`
	AllowIdPInitiated bool              `json:"allow_idp_initiated,omitempty"`
	GroupRoles        map[string]string `json:"group_roles,omitempty"`
	SPCertificate     string            `json:"sp_certificate,omitempty"` // SAML: our signing certificate (PEM)
}

// connSecrets are a connection's secrets, sealed at rest with the
// connection id as associated data.
type connSecrets struct {
	ClientSecret string `json:"client_secret,omitempty"` // oidc
	PrivateKey   string `json:"private_key,omitempty"`   // apple: the .p8 key (PEM)
	SPKey        string `json:"sp_key,omitempty"`        // saml: our signing key (PEM)
}

// connection is a stored connection with its settings decoded.
type connection struct {
	store.Connection
	cfg     connConfig
	secrets connSecrets
}

// ConnectionView is a connection as the API shows it: settings without
// secrets, and the values the IdP's console needs.
type ConnectionView struct {
	ID                string            `json:"id"`
	WorkspaceID       string            `json:"workspace_id"`
	Kind              string            `json:"kind"`
	Name              string            `json:"name"`
	Domains           []string          `json:"domains"`
	DefaultRole       string            `json:"default_role"`
	Issuer            string            `json:"issuer,omitempty"`
	ClientID          string            `json:"client_id,omitempty"`
	Scopes            []string          `json:"scopes,omitempty"`
	HostedDomain      string            `json:"hosted_domain,omitempty"`
	AllowedTenants    []string          `json:"allowed_tenants,omitempty"`
	TeamID            string            `json:"team_id,omitempty"`
	KeyID             string            `json:"key_id,omitempty"`
	Audiences         []string          `json:"audiences,omitempty"`
	IdPMetadataURL    string            `json:"idp_metadata_url,omitempty"`
	AttributeMap      map[string]string `json:"attribute_map,omitempty"`
	AllowIdPInitiated *bool             `json:"allow_idp_initiated,omitempty"`
	GroupRoles        map[string]string `json:"group_roles,omitempty"`
	HasClientSecret   *bool             `json:"has_client_secret,omitempty"`
	HasPrivateKey     *bool             `json:"has_private_key,omitempty"`
	// What to paste at the IdP.
	StartURL    string    `json:"start_url"`
	RedirectURI string    `json:"redirect_uri,omitempty"`
	ACSURL      string    `json:"acs_url,omitempty"`
	EntityID    string    `json:"entity_id,omitempty"`
	MetadataURL string    `json:"metadata_url,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// ConnectionInput is POST (kind and name required) and PATCH (nil =
// unchanged; kind cannot change) of /v1/workspaces/{id}/connections.
type ConnectionInput struct {
	Kind              *string            `json:"kind"`
	Name              *string            `json:"name"`
	Domains           *[]string          `json:"domains"`
	DefaultRole       *string            `json:"default_role"`
	Issuer            *string            `json:"issuer"`
	ClientID          *string            `json:"client_id"`
	ClientSecret      *string            `json:"client_secret"`
	Scopes            *[]string          `json:"scopes"`
	HostedDomain      *string            `json:"hosted_domain"`
	AllowedTenants    *[]string          `json:"allowed_tenants"`
	TeamID            *string            `json:"team_id"`
	KeyID             *string            `json:"key_id"`
	PrivateKey        *string            `json:"private_key"`
	Audiences         *[]string          `json:"audiences"`
	IdPMetadataURL    *string            `json:"idp_metadata_url"`
	IdPMetadataXML    *string            `json:"idp_metadata_xml"`
	AttributeMap      *map[string]string `json:"attribute_map"`
	AllowIdPInitiated *bool              `json:"allow_idp_initiated"`
	GroupRoles        *map[string]string `json:"group_roles"`
}

// CreateConnection adds an SSO connection to workspace ws (owners,
// admins, instance admin).
func (s *Service) CreateConnection(ctx context.Context, ip netip.Addr, p Principal, ws string, in ConnectionInput) (ConnectionView, error) {
	if err := s.canManage(ctx, p, ws); err != nil {
		return ConnectionView{}, err
	}
	if in.Kind == nil || !slices.Contains([]string{store.ConnOIDC, store.ConnApple, store.ConnSAML}, *in.Kind) {
		return ConnectionView{}, invalid("kind must be oidc, apple or saml")
	}
	if in.Name == nil {
		return ConnectionView{}, invalid("name is required")
	}
	now := s.now()
	c := connection{Connection: store.Connection{ID: newID(strings.TrimSuffix(connPrefix, "_")), WorkspaceID: ws, Kind: *in.Kind,
		DefaultRole: store.RoleMember, CreatedAt: now, UpdatedAt: now}}
	if err := s.applyConnection(&c, in, true); err != nil {
		return ConnectionView{}, err
	}
	if err := s.encodeConnection(&c); err != nil {
		return ConnectionView{}, err
	}
	err := s.store.CreateConnection(ctx, c.Connection)
	switch {
	case errors.Is(err, store.ErrConflict):
		return ConnectionView{}, errorf(CodeConflict, "one of these domains already routes to another connection")
	case errors.Is(err, store.ErrNotFound):
		return ConnectionView{}, ErrNotFound
	case err != nil:
		return ConnectionView{}, err
	}
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: ws, Actor: p.Subject, Action: AuditConnCreate, Target: c.ID,
		Details: map[string]string{"kind": c.Kind}})
	return s.connectionView(c), nil
}

// ListConnections lists a workspace's connections, newest first.
func (s *Service) ListConnections(ctx context.Context, p Principal, ws string) ([]ConnectionView, error) {
	if err := s.canManage(ctx, p, ws); err != nil {
		return nil, err
	}
	list, err := s.store.ListConnections(ctx, ws)
	if err != nil {
		return nil, err
	}
	out := make([]ConnectionView, 0, len(list))
	for _, rec := range list {
		c, err := s.decodeConnection(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, s.connectionView(c))
	}
	return out, nil
}

// GetConnection shows one connection of workspace ws.
func (s *Service) GetConnection(ctx context.Context, p Principal, ws, id string) (ConnectionView, error) {
	if err := s.canManage(ctx, p, ws); err != nil {
		return ConnectionView{}, err
	}
	c, err := s.connectionOf(ctx, ws, id)
	return s.connectionView(c), err
}

// UpdateConnection patches a connection; secrets given replace the
// stored ones, secrets left out stay.
func (s *Service) UpdateConnection(ctx context.Context, ip netip.Addr, p Principal, ws, id string, in ConnectionInput) (ConnectionView, error) {
	if err := s.canManage(ctx, p, ws); err != nil {
		return ConnectionView{}, err
	}
	var out connection
	_, err := s.store.UpdateConnection(ctx, id, func(rec *store.Connection) error {
		if rec.WorkspaceID != ws {
			return ErrNotFound // another workspace's connection
		}
		c, err := s.decodeConnection(*rec)
		if err != nil {
			return err
		}
		if in.Kind != nil && *in.Kind != c.Kind {
			return invalid("kind cannot change; create a new connection instead")
		}
		if err := s.applyConnection(&c, in, false); err != nil {
			return err
		}
		c.UpdatedAt = s.now()
		if err := s.encodeConnection(&c); err != nil {
			return err
		}
		*rec, out = c.Connection, c
		return nil
	})
	switch {
	case errors.Is(err, store.ErrConflict):
		return ConnectionView{}, errorf(CodeConflict, "one of these domains already routes to another connection")
	case errors.Is(err, store.ErrNotFound):
		return ConnectionView{}, ErrNotFound
	case err != nil:
		return ConnectionView{}, err
	}
	s.announce(ctx, ws, []string{id})
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: ws, Actor: p.Subject, Action: AuditConnUpdate, Target: id})
	return s.connectionView(out), nil
}

// DeleteConnection removes a connection and its links to accounts; the
// accounts stay (they can sign in another way, or be removed).
func (s *Service) DeleteConnection(ctx context.Context, ip netip.Addr, p Principal, ws, id string) error {
	if err := s.canManage(ctx, p, ws); err != nil {
		return err
	}
	if err := s.store.DeleteConnection(ctx, ws, id); errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	} else if err != nil {
		return err
	}
	s.announce(ctx, ws, []string{id})
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: ws, Actor: p.Subject, Action: AuditConnDelete, Target: id})
	return nil
}

// connPrefix starts every connection id; announcements of changed
// connections are recognised by it.
const connPrefix = "conn_"

// connectionOf reads connection id of workspace ws ("" = any workspace);
// another workspace's is not found. Decoded connections are cached for
// liveTTL; changes are announced, so every replica drops its copy at once.
func (s *Service) connectionOf(ctx context.Context, ws, id string) (connection, error) {
	c, ok := s.conns.get(id)
	if !ok {
		epoch := s.conns.epoch.Load()
		rec, err := s.store.GetConnection(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return connection{}, ErrNotFound
		} else if err != nil {
			return connection{}, err
		}
		if c, err = s.decodeConnection(rec); err != nil {
			return connection{}, err
		}
		s.conns.put(id, id, c, epoch)
	}
	if ws != "" && c.WorkspaceID != ws {
		return connection{}, ErrNotFound
	}
	return c, nil
}

func (s *Service) decodeConnection(rec store.Connection) (connection, error) {
	c := connection{Connection: rec}
	if err := json.Unmarshal(rec.Config, &c.cfg); err != nil {
		return c, err
	}
	if len(rec.Secrets) == 0 {
		return c, nil
	}
	if s.opt.Sealer == nil {
		return c, errors.New("authn: SSO secrets need a sealer (the master key)")
	}
	plain, err := s.opt.Sealer.Open(rec.Secrets, []byte("sso:"+rec.ID))
	if err != nil {
		return c, err
	}
	return c, json.Unmarshal(plain, &c.secrets)
}

func (s *Service) encodeConnection(c *connection) error {
	var err error
	if c.Config, err = json.Marshal(c.cfg); err != nil {
		return err
	}
	if c.secrets == (connSecrets{}) {
		c.Secrets = nil
		return nil
	}
	if s.opt.Sealer == nil {
		return errors.New("authn: SSO secrets need a sealer (the master key)")
	}
	plain, err := json.Marshal(c.secrets)
	if err != nil {
		return err
	}
	c.Secrets = s.opt.Sealer.Seal(plain, []byte("sso:"+c.ID))
	return nil
}

// ssoURL is where a connection's browser endpoint lives.
func (s *Service) ssoURL(cid, path string) string {
	return strings.TrimRight(s.opt.Issuer, "/") + "/sso/" + cid + path
}

func (s *Service) connectionView(c connection) ConnectionView {
	v := ConnectionView{ID: c.ID, WorkspaceID: c.WorkspaceID, Kind: c.Kind, Name: c.Name, Domains: c.Domains,
		DefaultRole: c.DefaultRole, GroupRoles: c.cfg.GroupRoles, StartURL: s.ssoURL(c.ID, "/start"),
		CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC()}
	if v.Domains == nil {
		v.Domains = []string{}
	}
	switch c.Kind {
	case store.ConnOIDC:
		v.Issuer, v.ClientID, v.Scopes, v.HostedDomain = c.cfg.Issuer, c.cfg.ClientID, oidcConnScopes(c.cfg), c.cfg.HostedDomain
		v.AllowedTenants, v.HasClientSecret = c.cfg.AllowedTenants, ptrTo(c.secrets.ClientSecret != "")
		v.RedirectURI = s.ssoURL(c.ID, "/callback")
	case store.ConnApple:
		v.Issuer, v.ClientID, v.TeamID, v.KeyID, v.Audiences = appleIssuer(c.cfg), c.cfg.ClientID, c.cfg.TeamID, c.cfg.KeyID, c.cfg.Audiences
		v.HasPrivateKey, v.RedirectURI = ptrTo(c.secrets.PrivateKey != ""), s.ssoURL(c.ID, "/callback")
	case store.ConnSAML:
		v.IdPMetadataURL, v.AttributeMap, v.AllowIdPInitiated = c.cfg.IdPMetadataURL, samlAttrMap(c.cfg), ptrTo(c.cfg.AllowIdPInitiated)
		v.ACSURL, v.EntityID, v.MetadataURL = s.ssoURL(c.ID, "/saml/acs"), s.ssoURL(c.ID, "/saml/metadata"), s.ssoURL(c.ID, "/saml/metadata")
	}
	return v
}
