package authn

import (
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/sigil-auth/sigil/internal/store"
)

// domainPattern is a lower-case DNS name with at least two labels.
var domainPattern = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$`)

// kindFields names the kind-specific fields each kind takes; any other
// kind's field in a request is refused, so a typo is not silently lost.
var kindFields = map[string][]string{
	store.ConnOIDC:  {"issuer", "client_id", "client_secret", "scopes", "hosted_domain", "allowed_tenants"},
	store.ConnApple: {"issuer", "client_id", "team_id", "key_id", "private_key", "audiences"},
	store.ConnSAML:  {"idp_metadata_url", "idp_metadata_xml", "attribute_map", "allow_idp_initiated"},
}

// given lists the kind-specific fields present in in.
func (in ConnectionInput) given() []string {
	var out []string
	for name, set := range map[string]bool{
		"issuer": in.Issuer != nil, "client_id": in.ClientID != nil, "client_secret": in.ClientSecret != nil,
		"scopes": in.Scopes != nil, "hosted_domain": in.HostedDomain != nil, "allowed_tenants": in.AllowedTenants != nil,
		"team_id": in.TeamID != nil, "key_id": in.KeyID != nil, "private_key": in.PrivateKey != nil,
		"audiences": in.Audiences != nil, "idp_metadata_url": in.IdPMetadataURL != nil,
		"idp_metadata_xml": in.IdPMetadataXML != nil, "attribute_map": in.AttributeMap != nil,
		"allow_idp_initiated": in.AllowIdPInitiated != nil,
	} {
		if set {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// applyConnection validates in and writes it into c; creating is true for
// POST (a SAML connection then gets its signing key).
func (s *Service) applyConnection(c *connection, in ConnectionInput, creating bool) error {
	for _, f := range in.given() {
		if !slices.Contains(kindFields[c.Kind], f) {
			return invalid("%s is not a setting of %s connections", f, c.Kind)
		}
	}
	if err := applyCommon(c, in); err != nil {
		return err
	}
	var err error
	switch c.Kind {
	case store.ConnOIDC:
		err = applyOIDC(c, in)
	case store.ConnApple:
		err = applyApple(c, in)
	case store.ConnSAML:
		err = s.applySAML(c, in, creating)
	}
	return err
}

func applyCommon(c *connection, in ConnectionInput) error {
	if in.Name != nil {
		n := strings.TrimSpace(*in.Name)
		if n == "" || len(n) > 200 {
			return invalid("name is required (at most 200 characters)")
		}
		c.Name = n
	}
	if in.Domains != nil {
		if len(*in.Domains) > maxConnDomains {
			return invalid("domains holds at most %d domains", maxConnDomains)
		}
		out := []string{}
		for _, d := range *in.Domains {
			d = strings.ToLower(strings.TrimSpace(d))
			if len(d) > 253 || !domainPattern.MatchString(d) {
				return invalid("domains: %q is not a domain name (like acme.com)", d)
			}
			if !slices.Contains(out, d) {
				out = append(out, d)
			}
		}
		slices.Sort(out)
		c.Domains = out
	}
	if in.DefaultRole != nil {
		if *in.DefaultRole != store.RoleMember && *in.DefaultRole != store.RoleAdmin {
			return invalid("default_role must be member or admin")
		}
		c.DefaultRole = *in.DefaultRole
	}
	if in.GroupRoles != nil {
		if len(*in.GroupRoles) > maxConnDomains {
			return invalid("group_roles maps at most %d groups", maxConnDomains)
		}
		for g, r := range *in.GroupRoles {
			if g == "" || len(g) > 256 || (r != store.RoleMember && r != store.RoleAdmin) {
				return invalid("group_roles maps group names to member or admin")
			}
		}
		c.cfg.GroupRoles = *in.GroupRoles
	}
	return nil
}

func applyOIDC(c *connection, in ConnectionInput) error {
	if err := setText(&c.cfg.Issuer, in.Issuer, "issuer"); err != nil {
		return err
	}
	if err := setText(&c.cfg.ClientID, in.ClientID, "client_id"); err != nil {
		return err
	}
	if err := setText(&c.secrets.ClientSecret, in.ClientSecret, "client_secret"); err != nil {
		return err
	}
	if err := setText(&c.cfg.HostedDomain, in.HostedDomain, "hosted_domain"); err != nil {
		return err
	}
	if in.Scopes != nil {
		if len(*in.Scopes) > maxConnListLen || !slices.Contains(*in.Scopes, "openid") {
			return invalid("scopes must include openid (at most %d scopes)", maxConnListLen)
		}
		c.cfg.Scopes = slices.Clone(*in.Scopes)
	}
	if in.AllowedTenants != nil {
		if err := checkList("allowed_tenants", *in.AllowedTenants); err != nil {
			return err
		}
		c.cfg.AllowedTenants = slices.Clone(*in.AllowedTenants)
	}
	switch {
	case c.cfg.Issuer == "" || c.cfg.ClientID == "" || c.secrets.ClientSecret == "":
		return invalid("an oidc connection needs issuer, client_id and client_secret")
	case checkIssuerURL(c.cfg.Issuer) != "":
		return invalid("issuer %s", checkIssuerURL(c.cfg.Issuer))
	case strings.ContainsAny(c.cfg.Issuer, "?"):
		return invalid("issuer must not have a query (OpenID Connect Discovery §2)")
	case tenantIssuer(c.cfg.Issuer) && len(c.cfg.AllowedTenants) == 0:
		return invalid("a multi-tenant Microsoft issuer needs allowed_tenants (the tenant ids whose people may sign in)")
	}
	return nil
}

func applyApple(c *connection, in ConnectionInput) error {
	for _, f := range []struct {
		dst  *string
		v    *string
		name string
	}{{&c.cfg.Issuer, in.Issuer, "issuer"}, {&c.cfg.ClientID, in.ClientID, "client_id"},
		{&c.cfg.TeamID, in.TeamID, "team_id"}, {&c.cfg.KeyID, in.KeyID, "key_id"}} {
		if err := setText(f.dst, f.v, f.name); err != nil {
			return err
		}
	}
	if in.Audiences != nil {
		if err := checkList("audiences", *in.Audiences); err != nil {
			return err
		}
		c.cfg.Audiences = slices.Clone(*in.Audiences)
	}
	if in.PrivateKey != nil {
		if _, err := parseAppleKey(*in.PrivateKey); err != nil {
			return invalid("private_key must be the .p8 key Apple issued (a PEM \"PRIVATE KEY\" on the P-256 curve)")
		}
		c.secrets.PrivateKey = strings.TrimSpace(*in.PrivateKey)
	}
	switch {
	case c.cfg.ClientID == "" || c.cfg.TeamID == "" || c.cfg.KeyID == "" || c.secrets.PrivateKey == "":
		return invalid("an apple connection needs client_id (the Services ID), team_id, key_id and private_key")
	case c.cfg.Issuer != "" && checkIssuerURL(c.cfg.Issuer) != "":
		return invalid("issuer %s", checkIssuerURL(c.cfg.Issuer))
	case strings.Contains(c.cfg.Issuer, "?"):
		return invalid("issuer must not have a query")
	}
	return nil
}

// setText copies a trimmed, bounded text field when it is given.
func setText(dst, v *string, name string) error {
	if v == nil {
		return nil
	}
	t := strings.TrimSpace(*v)
	if len(t) > maxConnField || strings.ContainsAny(t, "\r\n\x00") {
		return invalid("%s is too long or holds control characters", name)
	}
	*dst = t
	return nil
}

func checkList(name string, l []string) error {
	if len(l) > maxConnListLen {
		return invalid("%s holds at most %d values", name, maxConnListLen)
	}
	for _, v := range l {
		if v == "" || len(v) > 256 {
			return invalid("%s holds values of 1 to 256 characters", name)
		}
	}
	return nil
}

// checkIssuerURL returns what is wrong with an IdP URL ("" if nothing):
// https, or http on a loopback host for development.
func checkIssuerURL(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil || !u.IsAbs() || u.Host == "" || u.User != nil || u.Fragment != "":
		return "must be an absolute URL"
	case u.Scheme == "https":
		return ""
	case u.Scheme == "http" && isLoopback(u.Hostname()):
		return ""
	}
	return "must use https (http only on a loopback host)"
}
