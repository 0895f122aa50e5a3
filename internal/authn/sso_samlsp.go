package authn

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/crewjam/saml"
	"github.com/crewjam/saml/samlsp"
	"github.com/jonboulle/clockwork"
	dsig "github.com/russellhaering/goxmldsig"

	"github.com/sigil-auth/sigil/internal/store"
)

// The SAML service provider of a connection: its key and certificate
// (made when the connection is created, the key sealed with the other
// secrets), and the IdP's metadata — uploaded, or fetched from its URL
// and refreshed as the metadata asks (validUntil, cacheDuration) and at
// least daily. A fetched copy replaces the last good one only once it
// parses, names the same entity id and holds a signing certificate; until
// then, and while the IdP is unreachable, the last good copy (kept in the
// store, so a replica starting meanwhile has it too) stays in use.

// metadataMaxAge is how long fetched IdP metadata is trusted at most.
const metadataMaxAge = 24 * time.Hour

// cachedSAML is a connection's service provider on this replica.
type cachedSAML struct {
	sp      *saml.ServiceProvider
	updated time.Time // the connection's UpdatedAt it was built from
	refresh time.Time // when the IdP metadata URL is read again
}

// serviceProvider returns connection c's SP, building it (and reading
// the IdP's metadata) when not cached or due for refresh.
func (s *Service) serviceProvider(ctx context.Context, c connection) (*saml.ServiceProvider, error) {
	s.sso.mu.Lock()
	cached := s.sso.saml[c.ID]
	s.sso.mu.Unlock()
	now := s.now()
	if cached != nil && cached.updated.Equal(c.UpdatedAt) && now.Before(cached.refresh) {
		return cached.sp, nil
	}
	sp, err := s.spBase(c)
	if err != nil {
		return nil, err
	}
	md, refresh, err := s.idpMetadata(ctx, c, cached)
	if err != nil {
		return nil, err
	}
	sp.IDPMetadata, sp.AllowIDPInitiated, sp.HTTPClient = md, c.cfg.AllowIdPInitiated, s.opt.SSOClient
	sp.ReplayCache = replayCache{st: s.store, cid: c.ID}
	sp.Clock = dsig.NewFakeClock(serviceClock{Clock: clockwork.NewRealClock(), now: s.now})
	s.sso.mu.Lock()
	s.sso.saml[c.ID] = &cachedSAML{sp: sp, updated: c.UpdatedAt, refresh: refresh}
	s.sso.mu.Unlock()
	return sp, nil
}

// idpMetadata returns the IdP's metadata and when to read it again.
func (s *Service) idpMetadata(ctx context.Context, c connection, cached *cachedSAML) (*saml.EntityDescriptor, time.Time, error) {
	now := s.now()
	if c.cfg.IdPMetadataXML != "" {
		md, err := parseIdPMetadata([]byte(c.cfg.IdPMetadataXML), "")
		return md, now.Add(metadataMaxAge), err
	}
	var last *saml.EntityDescriptor
	if cached != nil && cached.updated.Equal(c.UpdatedAt) {
		last = cached.sp.IDPMetadata
	} else if len(c.Metadata) > 0 {
		last, _ = parseIdPMetadata(c.Metadata, "")
	}
	entity := ""
	if last != nil {
		entity = last.EntityID
	}
	raw, err := s.fetchMetadata(ctx, c.cfg.IdPMetadataURL)
	var md *saml.EntityDescriptor
	if err == nil {
		md, err = parseIdPMetadata(raw, entity)
	}
	if err != nil {
		if last == nil {
			return nil, time.Time{}, ssoFailure("idp_metadata", "the identity provider's metadata could not be used: "+err.Error())
		}
		s.log.WarnContext(ctx, "SAML metadata refresh failed; keeping the last good copy", "connection", c.ID, "err", err)
		return last, now.Add(5 * time.Minute), nil
	}
	if string(raw) != string(c.Metadata) {
		_, uerr := s.store.UpdateConnection(ctx, c.ID, func(rec *store.Connection) error { rec.Metadata = raw; return nil })
		if uerr != nil {
			s.log.WarnContext(ctx, "could not keep the SAML metadata", "connection", c.ID, "err", uerr)
		}
	}
	return md, now.Add(metadataTTL(md, now)), nil
}

// metadataTTL is how long metadata may be used before it is read again.
func metadataTTL(md *saml.EntityDescriptor, now time.Time) time.Duration {
	ttl := metadataMaxAge
	if md.CacheDuration > 0 {
		ttl = min(ttl, md.CacheDuration)
	}
	if !md.ValidUntil.IsZero() {
		ttl = min(ttl, max(md.ValidUntil.Sub(now), time.Minute))
	}
	return ttl
}

func (s *Service) fetchMetadata(ctx context.Context, raw string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, idpTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, raw, nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.opt.SSOClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("unreachable: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the metadata URL answered %s", resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadataSize+1))
	if err == nil && len(b) > maxMetadataSize {
		err = errors.New("the metadata is larger than 1 MiB")
	}
	return b, err
}

// parseIdPMetadata reads IdP metadata (an EntityDescriptor, or the
// IdP's entry of an EntitiesDescriptor) and checks it can be used: an
// IdP role with a sign-in endpoint and a signing certificate, and the
// entity id wantEntity when one is known.
func parseIdPMetadata(raw []byte, wantEntity string) (*saml.EntityDescriptor, error) {
	md, err := samlsp.ParseMetadata(raw)
	if err != nil {
		return nil, errors.New("the metadata is not SAML metadata")
	}
	switch {
	case len(md.IDPSSODescriptors) == 0:
		return nil, errors.New("the metadata describes no identity provider (IDPSSODescriptor)")
	case len(md.IDPSSODescriptors[0].SingleSignOnServices) == 0:
		return nil, errors.New("the metadata names no sign-in endpoint (SingleSignOnService)")
	case len(signingCerts(md)) == 0:
		return nil, errors.New("the metadata holds no signing certificate")
	case wantEntity != "" && md.EntityID != wantEntity:
		return nil, fmt.Errorf("the metadata now names entity %q, not %q", md.EntityID, wantEntity)
	}
	return md, nil
}

// signingCerts are the IdP's signing certificates (several during a
// rollover: crewjam trusts each).
func signingCerts(md *saml.EntityDescriptor) []*x509.Certificate {
	var out []*x509.Certificate
	for _, d := range md.IDPSSODescriptors {
		for _, kd := range d.KeyDescriptors {
			if kd.Use != "" && kd.Use != "signing" {
				continue
			}
			for _, xc := range kd.KeyInfo.X509Data.X509Certificates {
				der, err := decodeB64(xc.Data)
				if err != nil {
					continue
				}
				if c, err := x509.ParseCertificate(der); err == nil {
					out = append(out, c)
				}
			}
		}
	}
	return out
}

// SAMLMetadata is the SP metadata of connection cid, for the IdP.
func (s *Service) SAMLMetadata(ctx context.Context, cid string) ([]byte, error) {
	c, err := s.connectionOf(ctx, "", cid)
	if err != nil {
		return nil, err
	}
	if c.Kind != store.ConnSAML {
		return nil, ErrNotFound
	}
	sp, err := s.spBase(c)
	if err != nil {
		return nil, err
	}
	b, err := xml.MarshalIndent(sp.Metadata(), "", "  ")
	return append([]byte(xml.Header), b...), err
}

// spBase is connection c as a SAML SP: its key pair and its URLs (the
// entity id is the metadata URL), the part its metadata shows.
func (s *Service) spBase(c connection) (*saml.ServiceProvider, error) {
	key, cert, err := spKeyPair(c)
	if err != nil {
		return nil, err
	}
	meta, _ := url.Parse(s.ssoURL(c.ID, "/saml/metadata"))
	acs, _ := url.Parse(s.ssoURL(c.ID, "/saml/acs"))
	return &saml.ServiceProvider{EntityID: meta.String(), Key: key, Certificate: cert, MetadataURL: *meta, AcsURL: *acs,
		AuthnNameIDFormat: saml.UnspecifiedNameIDFormat, AssertionConsumerServiceBindings: []string{saml.HTTPPostBinding}}, nil
}

func spKeyPair(c connection) (*rsa.PrivateKey, *x509.Certificate, error) {
	kb, _ := pem.Decode([]byte(c.secrets.SPKey))
	cb, _ := pem.Decode([]byte(c.cfg.SPCertificate))
	if kb == nil || cb == nil {
		return nil, nil, errors.New("authn: SAML connection has no SP key pair")
	}
	k, err := x509.ParsePKCS8PrivateKey(kb.Bytes)
	if err != nil {
		return nil, nil, err
	}
	rk, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, nil, errors.New("authn: SAML SP key is not RSA")
	}
	cert, err := x509.ParseCertificate(cb.Bytes)
	return rk, cert, err
}

// newSPKeyPair makes a connection's SP key and a self-signed certificate
// (IdPs use it only as a key container; ten years, so it never lapses).
func newSPKeyPair(cid string, now time.Time) (keyPEM, certPEM string, err error) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return "", "", err
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	tpl := &x509.Certificate{SerialNumber: serial, Subject: pkix.Name{CommonName: "Sigil SSO " + cid},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(10, 0, 0),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment}
	der, err := x509.CreateCertificate(rand.Reader, tpl, tpl, &k.PublicKey, k)
	if err != nil {
		return "", "", err
	}
	kder, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return "", "", err
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})),
		string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})), nil
}

// applySAML validates a SAML connection's settings.
func (s *Service) applySAML(c *connection, in ConnectionInput, creating bool) error {
	if in.IdPMetadataURL != nil {
		c.cfg.IdPMetadataURL, c.cfg.IdPMetadataXML = strings.TrimSpace(*in.IdPMetadataURL), ""
		if c.cfg.IdPMetadataURL != "" && checkIssuerURL(c.cfg.IdPMetadataURL) != "" {
			return invalid("idp_metadata_url %s", checkIssuerURL(c.cfg.IdPMetadataURL))
		}
		c.Metadata = nil
	}
	if in.IdPMetadataXML != nil {
		if len(*in.IdPMetadataXML) > maxMetadataSize {
			return invalid("idp_metadata_xml is larger than 1 MiB")
		}
		if _, err := parseIdPMetadata([]byte(*in.IdPMetadataXML), ""); err != nil {
			return invalid("idp_metadata_xml: %s", err.Error())
		}
		c.cfg.IdPMetadataXML, c.cfg.IdPMetadataURL, c.Metadata = *in.IdPMetadataXML, "", nil
	}
	if in.IdPMetadataURL != nil && in.IdPMetadataXML != nil {
		return invalid("give idp_metadata_url or idp_metadata_xml, not both")
	}
	if c.cfg.IdPMetadataURL == "" && c.cfg.IdPMetadataXML == "" {
		return invalid("a saml connection needs idp_metadata_url or idp_metadata_xml")
	}
	if in.AttributeMap != nil {
		for k, v := range *in.AttributeMap {
			if (k != "email" && k != "name" && k != "groups") || v == "" || len(v) > 256 {
				return invalid("attribute_map maps email, name and groups to attribute names")
			}
		}
		c.cfg.AttributeMap = *in.AttributeMap
	}
	if in.AllowIdPInitiated != nil {
		c.cfg.AllowIdPInitiated = *in.AllowIdPInitiated
	}
	if creating {
		var err error
		if c.secrets.SPKey, c.cfg.SPCertificate, err = newSPKeyPair(c.ID, s.now()); err != nil {
			return err
		}
	}
	return nil
}

// decodeB64 reads base64 with the line breaks metadata often has.
func decodeB64(v string) ([]byte, error) {
	return base64.StdEncoding.DecodeString(strings.Join(strings.Fields(v), ""))
}

// serviceClock gives crewjam and goxmldsig the service's clock (they read
// only its Now), so assertion times are judged by the same clock as the
// rest of Sigil (its other methods are the real clock's).
type serviceClock struct {
	clockwork.Clock
	now func() time.Time
}

func (c serviceClock) Now() time.Time { return c.now() }
