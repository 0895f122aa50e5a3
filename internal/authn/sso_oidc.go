package authn

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// OpenID Connect connections (Google, Entra ID, Okta, Auth0, Keycloak or
// any issuer with discovery): authorization code with PKCE, state and
// nonce; the ID token checked with go-oidc (signature from the IdP's
// JWKS, refetched when an unknown key id appears, so key rollover works;
// iss, aud, exp) and here (nonce, azp, iat, hd, the Entra tenant).

// Bounds on an ID token's iat: a little in the future for clock skew, and
// not older than an exchange that just happened can explain.
const (
	idTokenSkew   = 2 * time.Minute
	idTokenMaxAge = 10 * time.Minute
	providerTTL   = time.Hour // discovery is refetched this often
	idpTimeout    = 10 * time.Second
)

// tenantPlaceholder is how Entra ID's multi-tenant discovery writes its
// issuer: the token's tid goes there.
const tenantPlaceholder = "{tenantid}"

// ssoCache holds what a replica fetched from IdPs: discovery documents
// (go-oidc providers, with their JWKS caches), Apple client secrets and
// SAML service providers. It is only a cache; every replica builds its
// own from the store and the IdPs.
type ssoCache struct {
	mu        sync.Mutex
	providers map[string]cachedProvider
	apple     map[string]appleSecret
	saml      map[string]*cachedSAML
}

type cachedProvider struct {
	p       *oidc.Provider
	updated time.Time // the connection's UpdatedAt it was built from
	fetched time.Time
}

func newSSOCache() *ssoCache {
	return &ssoCache{providers: map[string]cachedProvider{}, apple: map[string]appleSecret{}, saml: map[string]*cachedSAML{}}
}

// forget drops what is cached for connection id (changed or deleted).
func (c *ssoCache) forget(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.providers, id)
	delete(c.apple, id)
	delete(c.saml, id)
}

func oidcConnScopes(cfg connConfig) []string {
	if len(cfg.Scopes) > 0 {
		return cfg.Scopes
	}
	return []string{oidc.ScopeOpenID, "email", "profile"}
}

// tenantIssuer reports whether an issuer is Entra ID's multi-tenant one:
// its tokens' iss names the person's tenant, so it is checked against
// allowed_tenants instead of compared as a whole.
func tenantIssuer(issuer string) bool {
	if strings.Contains(issuer, tenantPlaceholder) {
		return true
	}
	u, err := url.Parse(issuer)
	if err != nil || u.Host != "login.microsoftonline.com" {
		return false
	}
	seg := strings.Split(strings.Trim(u.Path, "/"), "/")
	return len(seg) > 0 && slices.Contains([]string{"common", "organizations", "consumers"}, seg[0])
}

// idpContext carries the HTTP client for IdPs (go-oidc and oauth2 read
// it from the context) and bounds a call to them.
func (s *Service) idpContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(oidc.ClientContext(ctx, s.opt.SSOClient), idpTimeout)
}

// provider returns the connection's discovered provider, fetching its
// discovery document when not cached (or older than providerTTL).
func (s *Service) provider(ctx context.Context, c connection) (*oidc.Provider, error) {
	s.sso.mu.Lock()
	cp, ok := s.sso.providers[c.ID]
	s.sso.mu.Unlock()
	if ok && cp.updated.Equal(c.UpdatedAt) && s.now().Sub(cp.fetched) < providerTTL {
		return cp.p, nil
	}
	p, err := s.discover(ctx, c)
	if err != nil {
		f := ssoFailure("idp_unreachable", "the identity provider's discovery document could not be read")
		f.cause = err // for the log: it may quote what answered
		return nil, f
	}
	s.sso.mu.Lock()
	s.sso.providers[c.ID] = cachedProvider{p: p, updated: c.UpdatedAt, fetched: s.now()}
	s.sso.mu.Unlock()
	return p, nil
}

// microsoft reports whether an issuer is Entra ID's.
func microsoft(issuer string) bool {
	return tenantIssuer(issuer) || strings.HasPrefix(issuer, "https://login.microsoftonline.com/")
}

// discover reads the connection's discovery document (and makes the
// provider that caches its JWKS).
func (s *Service) discover(ctx context.Context, c connection) (*oidc.Provider, error) {
	pctx, cancel := s.idpContext(ctx)
	defer cancel()
	if tenantIssuer(c.cfg.Issuer) {
		// Entra's common endpoints publish "…/{tenantid}/v2.0" as issuer.
		pctx = oidc.InsecureIssuerURLContext(pctx, issuerTemplate(c.cfg.Issuer))
	}
	return oidc.NewProvider(pctx, c.cfg.Issuer)
}

// issuerTemplate is the issuer Entra's discovery at a common endpoint
// announces.
func issuerTemplate(issuer string) string {
	if strings.Contains(issuer, tenantPlaceholder) {
		return issuer
	}
	u, _ := url.Parse(issuer)
	seg := strings.Split(strings.Trim(u.Path, "/"), "/")
	seg[0] = tenantPlaceholder
	return u.Scheme + "://" + u.Host + "/" + strings.Join(seg, "/") // not u.String(): it escapes the braces
}

// oauthConfig is the connection as an OAuth2 client.
func (s *Service) oauthConfig(c connection, ep oauth2.Endpoint, secret string, scopes []string) *oauth2.Config {
	return &oauth2.Config{ClientID: c.cfg.ClientID, ClientSecret: secret, Endpoint: ep,
		RedirectURL: s.ssoURL(c.ID, "/callback"), Scopes: scopes}
}

// oidcStart is the IdP URL that begins a sign-in.
func (s *Service) oidcStart(ctx context.Context, c connection, state string, st ssoState, hint string) (string, error) {
	p, err := s.provider(ctx, c)
	if err != nil {
		return "", err
	}
	opts := []oauth2.AuthCodeOption{oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier)}
	if c.cfg.HostedDomain != "" {
		opts = append(opts, oauth2.SetAuthURLParam("hd", c.cfg.HostedDomain))
	}
	if hint != "" {
		opts = append(opts, oauth2.SetAuthURLParam("login_hint", hint))
	}
	return s.oauthConfig(c, p.Endpoint(), c.secrets.ClientSecret, oidcConnScopes(c.cfg)).AuthCodeURL(state, opts...), nil
}

// oidcCallback exchanges the code and checks the ID token.
func (s *Service) oidcCallback(ctx context.Context, c connection, st ssoState, code string) (ssoIdentity, error) {
	p, err := s.provider(ctx, c)
	if err != nil {
		return ssoIdentity{}, err
	}
	xctx, cancel := s.idpContext(ctx)
	defer cancel()
	tok, err := s.oauthConfig(c, p.Endpoint(), c.secrets.ClientSecret, nil).Exchange(xctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return ssoIdentity{}, ssoFailure("code_exchange", "the identity provider refused the code exchange")
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		return ssoIdentity{}, ssoFailure("no_id_token", "the identity provider returned no ID token")
	}
	tenant := tenantIssuer(c.cfg.Issuer)
	v := p.Verifier(&oidc.Config{ClientID: c.cfg.ClientID, Now: s.now, SkipIssuerCheck: tenant})
	idt, err := v.Verify(xctx, raw)
	if err != nil {
		return ssoIdentity{}, idTokenFailure(err)
	}
	var cl idClaims
	if err := idt.Claims(&cl); err != nil {
		return ssoIdentity{}, ssoFailure("id_token_invalid", "the ID token's claims are malformed")
	}
	if err := s.checkIDClaims(cl, st, []string{c.cfg.ClientID}); err != nil {
		return ssoIdentity{}, err
	}
	id := ssoIdentity{Subject: idt.Subject, Email: cl.Email, EmailVerified: bool(cl.EmailVerified), Name: cl.name(), Groups: cl.Groups}
	if microsoft(c.cfg.Issuer) && bool(cl.EmailDomainOwner) {
		id.EmailVerified = true
	}
	if c.cfg.HostedDomain != "" && cl.HD != c.cfg.HostedDomain {
		return ssoIdentity{}, ssoFailure("hosted_domain", "this connection only accepts accounts of "+c.cfg.HostedDomain)
	}
	if tenant {
		if !slices.Contains(c.cfg.AllowedTenants, cl.TID) || idt.Issuer != strings.Replace(issuerTemplate(c.cfg.Issuer), tenantPlaceholder, cl.TID, 1) {
			return ssoIdentity{}, ssoFailure("tenant", "this connection does not accept accounts of that Microsoft tenant")
		}
	}
	if cl.TID != "" && cl.OID != "" && microsoft(c.cfg.Issuer) {
		id.Subject = cl.TID + "/" + cl.OID // Microsoft's sub is per app; tid+oid is the person
	}
	return id, nil
}

// idTokenFailure names why go-oidc refused an ID token, in words for the
// person and a reason for the audit log (the full error goes to the log).
func idTokenFailure(err error) *SSOError {
	var exp *oidc.TokenExpiredError
	msg := err.Error()
	reason := "id_token_invalid"
	switch {
	case errors.As(err, &exp):
		reason = "expired"
	case strings.Contains(msg, "different provider"):
		reason = "issuer"
	case strings.Contains(msg, "audience"):
		reason = "audience"
	case strings.Contains(msg, "signature") || strings.Contains(msg, "malformed jwt"):
		reason = "signature"
	}
	f := ssoFailure(reason, "the identity provider's ID token was refused ("+reason+")")
	f.cause = err
	return f
}

// idClaims are the ID token claims Sigil reads beyond go-oidc's checks.
type idClaims struct {
	Nonce         string   `json:"nonce"`
	AZP           string   `json:"azp"`
	Audience      audience `json:"aud"`
	IAT           float64  `json:"iat"`
	Email         string   `json:"email"`
	EmailVerified flexBool `json:"email_verified"`
	Name          string   `json:"name"`
	GivenName     string   `json:"given_name"`
	FamilyName    string   `json:"family_name"`
	HD            string   `json:"hd"`
	TID           string   `json:"tid"`
	OID           string   `json:"oid"`
	Groups        []string `json:"groups"`
	// EmailDomainOwner is Entra ID's xms_edov: the email's domain is one
	// the tenant has verified (Entra sends no email_verified).
	EmailDomainOwner flexBool `json:"xms_edov"`
}

func (c idClaims) name() string {
	if c.Name != "" {
		return c.Name
	}
	return strings.TrimSpace(c.GivenName + " " + c.FamilyName)
}

// checkIDClaims checks what go-oidc leaves to the relying party: the
// nonce, azp (OIDC Core §3.1.3.7: required to be us when several
// audiences are named) and iat within bounds.
func (s *Service) checkIDClaims(cl idClaims, st ssoState, clientIDs []string) error {
	if cl.Nonce == "" || subtle.ConstantTimeCompare([]byte(cl.Nonce), []byte(st.Nonce)) != 1 {
		return ssoFailure("nonce", "the ID token's nonce does not match this sign-in")
	}
	if (len(cl.Audience) > 1 || cl.AZP != "") && !slices.Contains(clientIDs, cl.AZP) {
		return ssoFailure("azp", "the ID token was issued to another party (azp)")
	}
	iat := time.Unix(int64(cl.IAT), 0)
	if now := s.now(); cl.IAT == 0 || iat.After(now.Add(idTokenSkew)) || iat.Before(now.Add(-idTokenMaxAge)) {
		return ssoFailure("iat", "the ID token's issue time is not plausible (check the clocks)")
	}
	return nil
}

// audience reads aud as a string or a list.
type audience []string

func (a *audience) UnmarshalJSON(b []byte) error {
	var one string
	if json.Unmarshal(b, &one) == nil {
		*a = audience{one}
		return nil
	}
	var many []string
	err := json.Unmarshal(b, &many)
	*a = many
	return err
}

// flexBool reads true, false, "true" or "false" (Apple sends strings).
type flexBool bool

func (f *flexBool) UnmarshalJSON(b []byte) error {
	switch strings.Trim(string(b), `"`) {
	case "true":
		*f = true
	case "false", "null", "":
		*f = false
	default:
		return &json.UnsupportedValueError{Str: string(b)}
	}
	return nil
}
