package verify

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxAnswer bounds every JSON answer read from the server.
const maxAnswer = 1 << 20

// metadata is the part of the discovery document a Verifier uses.
type metadata struct {
	Issuer                string `json:"issuer"`
	JWKSURI               string `json:"jwks_uri"`
	IntrospectionEndpoint string `json:"introspection_endpoint"`
}

// discover reads <issuer>/.well-known/openid-configuration. Its issuer
// must be ours exactly (OpenID Connect Discovery §4.3), or tokens would
// be checked against another server's keys.
func (v *Verifier) discover(ctx context.Context) (metadata, error) {
	var m metadata
	if err := v.getJSON(ctx, v.cfg.Issuer+"/.well-known/openid-configuration", &m); err != nil {
		return m, fmt.Errorf("verify: discovery: %w", err)
	}
	if strings.TrimRight(m.Issuer, "/") != v.cfg.Issuer {
		return m, fmt.Errorf("verify: discovery names issuer %q, want %q", m.Issuer, v.cfg.Issuer)
	}
	if m.JWKSURI == "" {
		return m, fmt.Errorf("verify: discovery lacks jwks_uri")
	}
	if m.IntrospectionEndpoint == "" {
		m.IntrospectionEndpoint = v.cfg.Issuer + "/oauth2/introspect"
	}
	return m, nil
}

// identity is the part of /v1/whoami a Verifier uses.
type identity struct {
	Kind      string `json:"kind"`
	Workspace string `json:"workspace_id"`
}

// whoami checks Credential and returns the workspace it confines this
// Verifier to: an API key's own ("" for the admin token, which sees all).
// The server answers introspection for an API key only about its own
// workspace, so local checks must agree.
func (v *Verifier) whoami(ctx context.Context) (string, error) {
	var id identity
	if err := v.getJSONAs(ctx, v.cfg.Issuer+"/v1/whoami", v.cfg.Credential, &id); err != nil {
		return "", fmt.Errorf("verify: check Credential: %w", err)
	}
	switch id.Kind {
	case "admin":
		return "", nil
	case KindAPIKey:
		if id.Workspace != "" {
			return id.Workspace, nil
		}
	}
	return "", fmt.Errorf("verify: Credential must be an API key or the admin token, not a %q credential", id.Kind)
}

// getJSON fetches a public document.
func (v *Verifier) getJSON(ctx context.Context, u string, out any) error {
	return v.getJSONAs(ctx, u, "", out)
}

// getJSONAs fetches a document, with bearer as the credential if set.
func (v *Verifier) getJSONAs(ctx context.Context, u, bearer string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, requestTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Accept", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return v.do(req, out)
}

// postForm posts form with this service's credential (introspection).
func (v *Verifier) postForm(ctx context.Context, u string, form url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Authorization", "Bearer "+v.cfg.Credential)
	return v.do(req, out)
}

// do sends req and decodes a 200 answer into out; any other status is an
// error naming the status and the server's error code.
func (v *Verifier) do(req *http.Request, out any) error {
	res, err := v.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer))
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return statusError(req, res.StatusCode, body)
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s %s: bad JSON: %w", req.Method, req.URL.Path, err)
	}
	return nil
}

// statusError describes a non-200 answer without echoing its body
// beyond the error code.
func statusError(req *http.Request, status int, body []byte) error {
	var e struct {
		Error string `json:"error"`
	}
	json.Unmarshal(body, &e)
	if e.Error != "" && len(e.Error) < 64 {
		return fmt.Errorf("%s %s: status %d (%s)", req.Method, req.URL.Path, status, e.Error)
	}
	return fmt.Errorf("%s %s: status %d", req.Method, req.URL.Path, status)
}
