package client

import (
	"context"
	"crypto/ed25519"
	"net/http"
	"net/url"
	"time"
)

// Key is one key of the caller's keyring: an Ed25519 public key, or a
// passkey (Kind "passkey", with its Name and no PublicKey).
type Key struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"` // "ed25519" or "passkey"
	Name       string     `json:"name,omitempty"`
	PublicKey  string     `json:"public_key,omitempty"` // standard base64 of the raw 32 bytes
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"` // nil if never used to log in
}

// ListKeys returns the keyring of the user accessToken belongs to (GET
// /v1/users/me/keys), newest first, following every page.
func (c *Client) ListKeys(ctx context.Context, accessToken string) ([]Key, error) {
	if accessToken == "" {
		return nil, errMissing("access token")
	}
	return listAll[Key](ctx, c, "/v1/users/me/keys", nil, accessToken, "keyring")
}

// AddKey adds newKey's public half to the keyring of userID, the user
// accessToken belongs to (POST /v1/users/me/keys). newKey proves
// possession by signing a fresh code issued for userID; a code for
// another user, or a bad signature, is a 401.
func (c *Client) AddKey(ctx context.Context, accessToken, userID string, newKey ed25519.PrivateKey) (*Key, error) {
	if accessToken == "" {
		return nil, errMissing("access token")
	}
	p, err := c.prove(ctx, userID, newKey)
	if err != nil {
		return nil, err
	}
	var out Key
	if err := c.call(ctx, http.MethodPost, "/v1/users/me/keys", accessToken, p, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RemoveKey deletes key id from the caller's keyring (DELETE
// /v1/users/me/keys/{id}). Removing the last key is a 409
// "last_key": a user must keep one way to log in.
func (c *Client) RemoveKey(ctx context.Context, accessToken, id string) error {
	if accessToken == "" {
		return errMissing("access token")
	}
	if id == "" {
		return errMissing("key id")
	}
	return c.call(ctx, http.MethodDelete, "/v1/users/me/keys/"+url.PathEscape(id), accessToken, nil, nil)
}
