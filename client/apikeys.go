package client

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"time"
)

// The API manager (API.md §5). Every call takes credential, sent as
// "Authorization: Bearer": a user's access token, an API key, or the
// instance admin token. Which keys a credential sees and may change is
// the server's rule (§9: members their own, admins the workspace's; the
// Sigil server refuses API keys and customer JWTs here with a 403, as
// managing credentials acts for a person). The admin token belongs to no
// workspace, so creating and listing with it name one (WorkspaceID).

// APIKey is an API key as listed: everything but the secret.
type APIKey struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"` // the key's first characters, to recognise it
	Scopes     []string   `json:"scopes"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`   // nil: never expires
	LastUsedAt *time.Time `json:"last_used_at"` // nil: never used
	RevokedAt  *time.Time `json:"revoked_at"`   // nil: not revoked
}

// NewAPIKey is a key just created or rotated: Key is its secret, which
// the server shows this once and stores only as a hash.
type NewAPIKey struct {
	APIKey
	Key string `json:"key"`
}

// APIKeyRequest is what CreateAPIKey asks for.
type APIKeyRequest struct {
	Name string // required
	// Scopes of the key; nil means every scope of the identity creating
	// it. A key never carries a scope its creator lacks: that is a 403.
	Scopes []string
	// ExpiresIn is sent in whole seconds (rounded down); zero means the
	// key does not expire.
	ExpiresIn time.Duration
	// WorkspaceID is required with the admin token; a user's credential
	// may leave it empty (its own workspace).
	WorkspaceID string
}

// CreateAPIKey creates a key (POST /v1/api-keys) and returns it with its
// secret.
func (c *Client) CreateAPIKey(ctx context.Context, credential string, req APIKeyRequest) (*NewAPIKey, error) {
	if credential == "" {
		return nil, errMissing("credential")
	}
	if req.Name == "" {
		return nil, errMissing("key name")
	}
	secs, err := wholeSeconds(req.ExpiresIn)
	if err != nil {
		return nil, err
	}
	in := struct {
		Name        string    `json:"name"`
		Scopes      *[]string `json:"scopes,omitempty"` // absent, not [], when nil
		ExpiresIn   int64     `json:"expires_in,omitempty"`
		WorkspaceID string    `json:"workspace_id,omitempty"`
	}{Name: req.Name, ExpiresIn: secs, WorkspaceID: req.WorkspaceID}
	if req.Scopes != nil {
		in.Scopes = &req.Scopes
	}
	var out NewAPIKey
	if err := c.call(ctx, http.MethodPost, "/v1/api-keys", credential, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// wholeSeconds converts an expiry horizon for the wire. Below a second it
// would round to 0, which means "never": refused rather than inverted.
func wholeSeconds(d time.Duration) (int64, error) {
	if d < 0 || d > 0 && d < time.Second {
		return 0, errors.New("sigil client: expiry must be zero (never) or at least one second")
	}
	return int64(d / time.Second), nil
}

// ListAPIKeys returns the API keys credential may see (GET
// /v1/api-keys), newest first, revoked ones included, following every
// page. workspaceID is as in APIKeyRequest.
func (c *Client) ListAPIKeys(ctx context.Context, credential, workspaceID string) ([]APIKey, error) {
	if credential == "" {
		return nil, errMissing("credential")
	}
	return listAll[APIKey](ctx, c, "/v1/api-keys", workspaceQuery(workspaceID), credential, "API key")
}

// workspaceQuery is ?workspace_id= when one is named.
func workspaceQuery(id string) url.Values {
	if id == "" {
		return nil
	}
	return url.Values{"workspace_id": {id}}
}

// RevokeAPIKey revokes key id at once (DELETE /v1/api-keys/{id}); the key
// is refused from then on. An unknown id is a 404.
func (c *Client) RevokeAPIKey(ctx context.Context, credential, id string) error {
	if credential == "" {
		return errMissing("credential")
	}
	if id == "" {
		return errMissing("key id")
	}
	return c.call(ctx, http.MethodDelete, "/v1/api-keys/"+url.PathEscape(id), credential, nil, nil)
}

// RotateAPIKey replaces key id with a new key of the same name, scopes
// and expiry (POST /v1/api-keys/{id}/rotate) and returns the new one,
// with a new id. The old key keeps working for grace (zero: it stops at
// once; the Sigil server allows up to 720h), so deployments can switch
// over without an outage. A revoked or expired key is a 409.
func (c *Client) RotateAPIKey(ctx context.Context, credential, id string, grace time.Duration) (*NewAPIKey, error) {
	if credential == "" {
		return nil, errMissing("credential")
	}
	if id == "" {
		return nil, errMissing("key id")
	}
	if grace < 0 {
		return nil, errors.New("sigil client: grace period must not be negative")
	}
	// A Go duration string, e.g. "24h0m0s", as the contract's "24h".
	in := map[string]string{"grace_period": grace.String()}
	var out NewAPIKey
	if err := c.call(ctx, http.MethodPost, "/v1/api-keys/"+url.PathEscape(id)+"/rotate", credential, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
