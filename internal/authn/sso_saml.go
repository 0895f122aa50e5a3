package authn

import (
	"bytes"
	"compress/flate"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/beevik/etree"
	"github.com/crewjam/saml"

	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/token"
)

// SAML 2.0 connections, as a service provider (SP) built on
// github.com/crewjam/saml (which checks the XML signatures with goxmldsig,
// the audience, recipient, destination and time windows). Sigil adds what
// crewjam leaves to its user: request ids that any replica can check
// without storing them (below), a replay cache of assertion ids in the
// store, so that a replayed assertion is refused by every replica, and
// the attribute mapping.

// maxSAMLResponse bounds a posted SAMLResponse (base64).
const maxSAMLResponse = 256 << 10

// Default attribute names per field: a friendly name, the LDAP OID and
// the Microsoft claim type, tried in that order when attribute_map does
// not name one.
var samlDefaultAttrs = map[string][]string{
	"email": {"email", "mail", "urn:oid:0.9.2342.19200300.100.1.3",
		"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress"},
	"name": {"name", "displayName", "cn", "urn:oid:2.16.840.1.113730.3.1.241", "urn:oid:2.5.4.3",
		"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"},
	"groups": {"groups", "memberOf", "urn:oid:1.3.6.1.4.1.5923.1.5.1.1",
		"http://schemas.microsoft.com/ws/2008/06/identity/claims/groups"},
}

func samlAttrMap(cfg connConfig) map[string]string {
	if cfg.AttributeMap == nil {
		return map[string]string{}
	}
	return cfg.AttributeMap
}

// An AuthnRequest's ID carries, authenticated, what the ACS needs to know
// about the request without a cookie (the IdP posts cross-site) and
// without state on any replica: "id-" + base64url(expiry ‖ binding hash ‖
// MAC). InResponseTo must be such an id, minted by this instance for this
// connection and not expired.
const samlIDPrefix = "id-"

func (s *Service) samlRequestID(cid string, st ssoState) string {
	bind, _ := base64.RawURLEncoding.DecodeString(st.Bind)
	b := binary.BigEndian.AppendUint64(nil, uint64(st.Exp))
	b = append(b, bind...)
	return samlIDPrefix + base64.RawURLEncoding.EncodeToString(append(b, s.samlMAC(cid, b)...))
}

// checkSAMLRequestID returns the binding hash of a request id of ours.
func (s *Service) checkSAMLRequestID(cid, id string) (string, error) {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(id, samlIDPrefix))
	if err != nil || !strings.HasPrefix(id, samlIDPrefix) || len(raw) != 8+16+16 {
		return "", ssoFailure("in_response_to", "the response answers no sign-in started here")
	}
	body, mac := raw[:24], raw[24:]
	if subtle.ConstantTimeCompare(mac, s.samlMAC(cid, body)) != 1 {
		return "", ssoFailure("in_response_to", "the response answers no sign-in started here")
	}
	if int64(binary.BigEndian.Uint64(body[:8])) < s.now().Unix() {
		return "", ssoFailure("expired", "the sign-in took too long")
	}
	return base64.RawURLEncoding.EncodeToString(body[8:]), nil
}

func (s *Service) samlMAC(cid string, body []byte) []byte {
	m := hmac.New(sha256.New, s.codeKey)
	m.Write([]byte("saml request:" + cid + ":"))
	m.Write(body)
	return m.Sum(nil)[:16]
}

// samlStart is the IdP's sign-in URL (HTTP-Redirect binding) with an
// AuthnRequest whose id carries the flow.
func (s *Service) samlStart(ctx context.Context, c connection, st ssoState) (string, error) {
	sp, err := s.serviceProvider(ctx, c)
	if err != nil {
		return "", err
	}
	loc := sp.GetSSOBindingLocation(saml.HTTPRedirectBinding)
	if loc == "" {
		return "", ssoFailure("idp_metadata", "the identity provider's metadata names no HTTP-Redirect sign-in endpoint")
	}
	req, err := sp.MakeAuthenticationRequest(loc, saml.HTTPRedirectBinding, saml.HTTPPostBinding)
	if err != nil {
		return "", err
	}
	req.ID = s.samlRequestID(c.ID, st)
	return redirectBinding(loc, req)
}

// deflaters are reused: a flate.Writer allocates about 1 MiB, which was
// most of a SAML start's cost through crewjam's Redirect (measured:
// 0.6 ms of 0.8 ms). Sigil's AuthnRequests are unsigned, so the binding
// is only deflate, base64 and the query (SAML bindings §3.4.4.1).
var deflaters = sync.Pool{New: func() any {
	w, _ := flate.NewWriter(nil, flate.DefaultCompression)
	return w
}}

func redirectBinding(loc string, req *saml.AuthnRequest) (string, error) {
	doc := etree.NewDocument()
	doc.SetRoot(req.Element())
	var raw, z bytes.Buffer
	if _, err := doc.WriteTo(&raw); err != nil {
		return "", err
	}
	w := deflaters.Get().(*flate.Writer)
	defer deflaters.Put(w)
	w.Reset(&z)
	if _, err := w.Write(raw.Bytes()); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	u, err := url.Parse(loc)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("SAMLRequest", base64.StdEncoding.EncodeToString(z.Bytes()))
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// SAMLResponse checks a SAMLResponse posted to /sso/{cid}/saml/acs and
// finds or makes the account; it returns a sealed result for FinishSSO.
func (s *Service) SAMLResponse(ctx context.Context, ip netip.Addr, cid, samlResponse string) (string, error) {
	c, err := s.connectionOf(ctx, "", cid)
	if err != nil {
		return "", err
	}
	if c.Kind != store.ConnSAML {
		return "", ErrNotFound
	}
	res, err := s.samlResponse(ctx, ip, c, samlResponse)
	if err != nil {
		s.ssoRefused(ctx, ip, c, err)
	}
	return res, err
}

func (s *Service) samlResponse(ctx context.Context, ip netip.Addr, c connection, samlResponse string) (string, error) {
	if samlResponse == "" || len(samlResponse) > maxSAMLResponse {
		return "", ssoFailure("malformed", "no SAML response, or one too large")
	}
	xmlBytes, err := decodeB64(samlResponse)
	if err != nil {
		return "", ssoFailure("malformed", "the SAML response is not base64")
	}
	shared, err := s.serviceProvider(ctx, c)
	if err != nil {
		return "", err
	}
	sp := *shared // this response's own request-id hook
	var bind string
	sp.ValidateRequestID = func(r saml.Response, _ []string) error {
		if r.InResponseTo == "" {
			if !c.cfg.AllowIdPInitiated {
				return ssoFailure("unsolicited", "this connection does not accept sign-ins started at the identity provider")
			}
			bind = ""
			return nil
		}
		b, err := s.checkSAMLRequestID(c.ID, r.InResponseTo)
		if err == nil && bind != "" && b != bind {
			err = ssoFailure("in_response_to", "the response's request ids disagree")
		}
		bind = b
		return err
	}
	a, err := sp.ParseXMLResponse(xmlBytes, nil, sp.AcsURL)
	if err != nil {
		return "", samlFailure(err)
	}
	id, err := samlIdentity(c, a)
	if err != nil {
		return "", err
	}
	u, err := s.ssoAccount(ctx, ip, c, id)
	if err != nil {
		return "", err
	}
	return s.seal(resultPrefix, ssoResult{ID: newID("r"), User: u.ID, Conn: c.ID, Bind: bind,
		Exp: s.now().Add(resultTTL).Unix()})
}

// samlFailure turns crewjam's error (whose detail is private: it may
// quote the response) into a refusal with a reason for the audit log.
func samlFailure(err error) error {
	var se *SSOError
	if errors.As(err, &se) {
		return se
	}
	var ire *saml.InvalidResponseError
	detail := err.Error()
	if errors.As(err, &ire) && ire.PrivateErr != nil {
		if errors.As(ire.PrivateErr, &se) {
			return se
		}
		detail = ire.PrivateErr.Error()
	}
	reason := "assertion_invalid"
	switch {
	case errors.Is(err, saml.ErrAssertionReplayed):
		reason = "replayed"
	case strings.Contains(detail, "expired") || strings.Contains(detail, "NotOnOrAfter") || strings.Contains(detail, "IssueInstant"):
		reason = "expired"
	case strings.Contains(detail, "udience"):
		reason = "audience"
	case strings.Contains(detail, "ignature"):
		reason = "signature"
	}
	return ssoFailure(reason, "the identity provider's SAML response was refused ("+reason+")")
}

// samlIdentity reads the person from a checked assertion.
func samlIdentity(c connection, a *saml.Assertion) (ssoIdentity, error) {
	if a.Subject == nil || a.Subject.NameID == nil || strings.TrimSpace(a.Subject.NameID.Value) == "" {
		return ssoIdentity{}, ssoFailure("subject", "the assertion names no subject (NameID)")
	}
	if a.Subject.NameID.Format == string(saml.TransientNameIDFormat) {
		return ssoIdentity{}, ssoFailure("subject", "the identity provider sent a transient NameID; configure a persistent one")
	}
	id := ssoIdentity{Subject: a.Subject.NameID.Value}
	id.Email = firstAttr(a, attrNames(c, "email"))
	if id.Email == "" && a.Subject.NameID.Format == string(saml.EmailAddressNameIDFormat) {
		id.Email = a.Subject.NameID.Value
	}
	id.Name = firstAttr(a, attrNames(c, "name"))
	id.Groups = allAttr(a, attrNames(c, "groups"))
	// SAML has no email_verified: an address counts as verified only in a
	// domain the workspace routes to this very IdP.
	if _, domain, ok := strings.Cut(strings.ToLower(id.Email), "@"); ok {
		id.EmailVerified = slices.Contains(c.Domains, domain)
	}
	return id, nil
}

func attrNames(c connection, field string) []string {
	if n := c.cfg.AttributeMap[field]; n != "" {
		return []string{n}
	}
	return samlDefaultAttrs[field]
}

func firstAttr(a *saml.Assertion, names []string) string {
	if v := allAttr(a, names); len(v) > 0 {
		return v[0]
	}
	return ""
}

func allAttr(a *saml.Assertion, names []string) []string {
	var out []string
	for _, name := range names {
		for _, st := range a.AttributeStatements {
			for _, at := range st.Attributes {
				if at.Name != name && at.FriendlyName != name {
					continue
				}
				for _, v := range at.Values {
					if v.Value != "" && len(out) < 100 {
						out = append(out, v.Value)
					}
				}
			}
		}
		if len(out) > 0 {
			return out
		}
	}
	return out
}

// replayCache is crewjam's assertion replay cache on the store's used
// codes: an assertion id recorded on one replica is refused by all.
type replayCache struct {
	st  store.Store
	cid string
}

func (r replayCache) Consume(assertionID string, expiresAt time.Time) error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := r.st.CreateAuthCode(ctx, store.AuthCode{Hash: token.Hash("saml assertion:" + r.cid + ":" + assertionID),
		UserID: r.cid, ExpiresAt: expiresAt})
	if errors.Is(err, store.ErrConflict) {
		return saml.ErrAssertionReplayed
	}
	return err
}
