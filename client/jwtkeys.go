package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// JWTKey is a JWT key as listed: everything but the secret (API.md §5.2).
// Customers sign HS256 JWTs with its secret and put ID in the "kid"
// header.
type JWTKey struct {
	ID        string    `json:"id"` // a UUID
	Name      string    `json:"name"`
	Algorithm string    `json:"algorithm"` // "HS256"
	Scopes    []string  `json:"scopes"`    // what the JWTs it verifies may do
	CreatedAt time.Time `json:"created_at"`
}

// NewJWTKey is a key just created. Secret is shown this once; the HMAC
// key is exactly its UTF-8 bytes ([]byte(Secret)), not a decoding of it.
type NewJWTKey struct {
	JWTKey
	Secret string `json:"secret"`
}

// JWTKeyRequest is what CreateJWTKey asks for; the fields mean what they
// mean in APIKeyRequest.
type JWTKeyRequest struct {
	Name        string   // required
	Scopes      []string // nil: every scope of the identity creating it
	WorkspaceID string   // required with the admin token
}

// CreateJWTKey creates a JWT key (POST /v1/jwt-keys) and returns it with
// its secret. credential is as for CreateAPIKey.
func (c *Client) CreateJWTKey(ctx context.Context, credential string, req JWTKeyRequest) (*NewJWTKey, error) {
	if credential == "" {
		return nil, errMissing("credential")
	}
	if req.Name == "" {
		return nil, errMissing("key name")
	}
	in := struct {
		Name        string    `json:"name"`
		Scopes      *[]string `json:"scopes,omitempty"`
		WorkspaceID string    `json:"workspace_id,omitempty"`
	}{Name: req.Name, WorkspaceID: req.WorkspaceID}
	if req.Scopes != nil {
		in.Scopes = &req.Scopes
	}
	var out NewJWTKey
	if err := c.call(ctx, http.MethodPost, "/v1/jwt-keys", credential, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListJWTKeys returns the JWT keys credential may see (GET /v1/jwt-keys),
// newest first, following every page. workspaceID is as in
// APIKeyRequest.
func (c *Client) ListJWTKeys(ctx context.Context, credential, workspaceID string) ([]JWTKey, error) {
	if credential == "" {
		return nil, errMissing("credential")
	}
	return listAll[JWTKey](ctx, c, "/v1/jwt-keys", workspaceQuery(workspaceID), credential, "JWT key")
}

// DeleteJWTKey deletes key id (DELETE /v1/jwt-keys/{id}): JWTs with its
// kid are refused from then on. An unknown id is a 404.
func (c *Client) DeleteJWTKey(ctx context.Context, credential, id string) error {
	if credential == "" {
		return errMissing("credential")
	}
	if id == "" {
		return errMissing("key id")
	}
	return c.call(ctx, http.MethodDelete, "/v1/jwt-keys/"+url.PathEscape(id), credential, nil, nil)
}
