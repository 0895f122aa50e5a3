package authn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/sigil-auth/sigil/internal/store"
)

// certWarning is how soon before an IdP certificate expires the check
// warns about it.
const certWarning = 30 * 24 * time.Hour

// ConnectionCheck is the answer of POST …/connections/{cid}/test.
type ConnectionCheck struct {
	OK       bool     `json:"ok"`
	Problems []string `json:"problems"`
}

// TestConnection reads what a connection depends on at its IdP right now
// and reports problems in plain words: unreachable, wrong issuer, no
// signing certificate, a certificate expiring within 30 days.
func (s *Service) TestConnection(ctx context.Context, p Principal, ws, id string) (ConnectionCheck, error) {
	if err := s.canManage(ctx, p, ws); err != nil {
		return ConnectionCheck{}, err
	}
	c, err := s.connectionOf(ctx, ws, id)
	if err != nil {
		return ConnectionCheck{}, err
	}
	var problems []string
	switch c.Kind {
	case store.ConnOIDC:
		problems = s.checkOIDC(ctx, c)
	case store.ConnApple:
		problems = s.checkApple(ctx, c)
	case store.ConnSAML:
		problems = s.checkSAML(ctx, c)
	}
	if problems == nil {
		problems = []string{}
	}
	return ConnectionCheck{OK: len(problems) == 0, Problems: problems}, nil
}

func (s *Service) checkOIDC(ctx context.Context, c connection) []string {
	p, err := s.discover(ctx, c)
	var mismatch *oidc.IssuerMismatchError
	switch {
	case errors.As(err, &mismatch):
		return []string{fmt.Sprintf("wrong issuer: the discovery document names %q, not %q", mismatch.Discovered, mismatch.Provided)}
	case err != nil:
		// Not err's text: it can quote the body of whatever answered.
		s.log.InfoContext(ctx, "SSO connection test: discovery failed", "connection", c.ID, "err", err)
		return []string{"the issuer is " + reachability(err) + " (" + c.cfg.Issuer + "/.well-known/openid-configuration)"}
	}
	var doc struct {
		JWKS string `json:"jwks_uri"`
	}
	if err := p.Claims(&doc); err != nil || doc.JWKS == "" {
		return []string{"the discovery document names no jwks_uri (the IdP's signing keys)"}
	}
	jctx, cancel := s.idpContext(ctx)
	defer cancel()
	return s.checkJWKS(jctx, doc.JWKS)
}

func (s *Service) checkApple(ctx context.Context, c connection) []string {
	if _, err := s.appleClientSecret(c); err != nil {
		return []string{"the private key cannot sign the client secret: " + err.Error()}
	}
	jctx, cancel := s.idpContext(ctx)
	defer cancel()
	return s.checkJWKS(jctx, appleIssuer(c.cfg)+"/auth/keys")
}

// checkJWKS reports a JWKS that cannot be read or holds no key.
func (s *Service) checkJWKS(ctx context.Context, uri string) []string {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, uri, nil)
	if err != nil {
		return []string{"the signing keys' URL is not valid: " + uri}
	}
	resp, err := s.opt.SSOClient.Do(req)
	if err != nil {
		return []string{"the IdP's signing keys are unreachable (" + uri + "): " + err.Error()}
	}
	defer resp.Body.Close()
	var set struct {
		Keys []any `json:"keys"`
	}
	if resp.StatusCode != http.StatusOK || decodeLimited(resp, &set) != nil || len(set.Keys) == 0 {
		return []string{"the IdP publishes no signing keys at " + uri}
	}
	return nil
}

func (s *Service) checkSAML(ctx context.Context, c connection) []string {
	var raw []byte
	if c.cfg.IdPMetadataXML != "" {
		raw = []byte(c.cfg.IdPMetadataXML)
	} else {
		b, err := s.fetchMetadata(ctx, c.cfg.IdPMetadataURL)
		if err != nil {
			return []string{"the IdP metadata URL is unreachable: " + err.Error()}
		}
		raw = b
	}
	md, err := parseIdPMetadata(raw, "")
	if err != nil {
		return []string{err.Error()}
	}
	var problems []string
	now := s.now()
	for _, cert := range signingCerts(md) {
		switch {
		case now.After(cert.NotAfter):
			problems = append(problems, fmt.Sprintf("the IdP signing certificate %q expired on %s", cert.Subject.CommonName, cert.NotAfter.Format(time.DateOnly)))
		case now.Add(certWarning).After(cert.NotAfter):
			problems = append(problems, fmt.Sprintf("the IdP signing certificate %q expires on %s, within 30 days: add its successor at the IdP", cert.Subject.CommonName, cert.NotAfter.Format(time.DateOnly)))
		}
	}
	if !md.ValidUntil.IsZero() && now.After(md.ValidUntil) {
		problems = append(problems, "the IdP metadata is past its validUntil ("+md.ValidUntil.Format(time.DateOnly)+")")
	}
	return problems
}

// decodeLimited decodes at most 1 MiB of a JSON answer.
func decodeLimited(resp *http.Response, v any) error {
	return json.NewDecoder(io.LimitReader(resp.Body, maxMetadataSize)).Decode(v)
}

// reachability says in words why a fetch from an IdP failed, without
// quoting anything the other side sent.
func reachability(err error) string {
	var ne net.Error
	var oe *net.OpError
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		return "not answering in time"
	case errors.As(err, &oe):
		return "unreachable (" + oe.Op + ": " + oe.Err.Error() + ")"
	}
	return "reachable but serves no valid discovery document there"
}
