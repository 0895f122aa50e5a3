package ssotest

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/xml"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"time"

	"github.com/crewjam/saml"
	"github.com/jonboulle/clockwork"
	dsig "github.com/russellhaering/goxmldsig"
)

// SAMLProvider is crewjam's SAML identity provider, in process: it
// answers AuthnRequests (HTTP-Redirect binding) with a signed assertion
// for Session, posted by a form to the SP's ACS, and starts IdP-initiated
// sign-ins at /initiate?sp=<entity id>.
type SAMLProvider struct {
	URL string
	IdP *saml.IdentityProvider
	// SPMetadata finds an SP's metadata by entity id (the test fetches it
	// from Sigil); Audience, if set, replaces the SP's entity id in what
	// the IdP believes, so its assertions name another audience.
	SPMetadata func(entityID string) (*saml.EntityDescriptor, error)
	Audience   string
	// Metadata, if set, is served at /metadata instead of the IdP's own
	// (a broken or rolled-over document); status 0 means 200.
	Metadata       string
	MetadataStatus int

	mu      sync.Mutex
	session saml.Session
	srv     *httptest.Server
}

// StartSAML runs an IdP on a loopback port on clock now.
func StartSAML(now func() time.Time) *SAMLProvider {
	p := &SAMLProvider{}
	key, _ := rsa.GenerateKey(rand.Reader, 2048)
	cert := selfSigned(key, now())
	mux := http.NewServeMux()
	p.srv = httptest.NewServer(mux)
	p.URL = p.srv.URL
	base, _ := url.Parse(p.URL)
	p.IdP = &saml.IdentityProvider{
		Key: key, Certificate: cert, Logger: log.New(os.Stderr, "test idp: ", 0),
		MetadataURL: *base.JoinPath("metadata"), SSOURL: *base.JoinPath("sso"),
		ServiceProviderProvider: spLookup{p}, SessionProvider: sessions{p},
		Clock: dsig.NewFakeClock(nowClock{Clock: clockwork.NewRealClock(), now: now}),
	}
	mux.HandleFunc("GET /metadata", func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		body, status := p.Metadata, p.MetadataStatus
		p.mu.Unlock()
		if body == "" && status == 0 {
			p.IdP.ServeMetadata(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/samlmetadata+xml")
		w.WriteHeader(max(status, http.StatusOK))
		w.Write([]byte(body))
	})
	mux.HandleFunc("/sso", p.IdP.ServeSSO)
	mux.HandleFunc("GET /initiate", func(w http.ResponseWriter, r *http.Request) {
		p.IdP.ServeIDPInitiated(w, r, r.URL.Query().Get("sp"), "")
	})
	return p
}

// Serve sets what /metadata answers ("" and 0: the IdP's own metadata).
func (p *SAMLProvider) Serve(body string, status int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.Metadata, p.MetadataStatus = body, status
}

// Close stops the IdP.
func (p *SAMLProvider) Close() { p.srv.Close() }

// SetSession sets the person the IdP signs in.
func (p *SAMLProvider) SetSession(nameID, email, name string, groups ...string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.session = saml.Session{ID: "s1", NameID: nameID, NameIDFormat: string(saml.PersistentNameIDFormat),
		UserEmail: email, UserCommonName: name, Groups: groups}
}

// MetadataXML is the IdP's metadata, as an admin would upload it.
func (p *SAMLProvider) MetadataXML() string {
	b, _ := xml.Marshal(p.IdP.Metadata())
	return string(b)
}

type spLookup struct{ p *SAMLProvider }

func (l spLookup) GetServiceProvider(_ *http.Request, id string) (*saml.EntityDescriptor, error) {
	if l.p.SPMetadata == nil {
		return nil, os.ErrNotExist
	}
	md, err := l.p.SPMetadata(id)
	if err != nil {
		return nil, os.ErrNotExist
	}
	l.p.mu.Lock()
	defer l.p.mu.Unlock()
	if l.p.Audience != "" {
		cp := *md
		cp.EntityID = l.p.Audience
		md = &cp
	}
	return md, nil
}

type sessions struct{ p *SAMLProvider }

func (s sessions) GetSession(http.ResponseWriter, *http.Request, *saml.IdpAuthnRequest) *saml.Session {
	s.p.mu.Lock()
	defer s.p.mu.Unlock()
	sess := s.p.session
	sess.CreateTime = s.p.IdP.Clock.Now()
	sess.ExpireTime = sess.CreateTime.Add(time.Hour)
	return &sess
}

// nowClock is a clockwork clock of which goxmldsig reads only Now.
type nowClock struct {
	clockwork.Clock
	now func() time.Time
}

func (c nowClock) Now() time.Time { return c.now() }

func selfSigned(key *rsa.PrivateKey, now time.Time) *x509.Certificate {
	tpl := &x509.Certificate{SerialNumber: big.NewInt(now.UnixNano()), Subject: pkix.Name{CommonName: "Test IdP"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.AddDate(1, 0, 0), KeyUsage: x509.KeyUsageDigitalSignature}
	der, _ := x509.CreateCertificate(rand.Reader, tpl, tpl, &key.PublicKey, key)
	c, _ := x509.ParseCertificate(der)
	return c
}
