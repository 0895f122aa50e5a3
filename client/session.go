package client

import (
	"context"
	"net/http"
	"time"
)

// Tokens is a token response of the login, register and refresh
// endpoints (API.md §3). AccessTokenExpires and RefreshTokenExpires are
// Unix milliseconds, as on the wire; use AccessExpiry and RefreshExpiry.
type Tokens struct {
	AccessToken         string `json:"access_token"`
	RefreshToken        string `json:"refresh_token"`
	TokenType           string `json:"token_type"`         // "Bearer"
	ExpiresIn           int64  `json:"expires_in"`         // seconds, access token
	RefreshExpiresIn    int64  `json:"refresh_expires_in"` // seconds, refresh token
	AccessTokenExpires  int64  `json:"access_token_expires"`
	RefreshTokenExpires int64  `json:"refresh_token_expires"`
	SessionID           string `json:"session_id"`
}

// AccessExpiry is when the access token expires, or the zero time if the
// server did not say (treat that as expired).
func (t *Tokens) AccessExpiry() time.Time { return unixMilli(t.AccessTokenExpires) }

// RefreshExpiry is when the refresh token expires, or the zero time if
// the server did not say.
func (t *Tokens) RefreshExpiry() time.Time { return unixMilli(t.RefreshTokenExpires) }

func unixMilli(ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}

// Identity is what GET /v1/whoami resolves a credential to.
type Identity struct {
	Subject     string   `json:"subject"`
	Kind        string   `json:"kind"` // user, api_key, jwt_key or admin
	WorkspaceID string   `json:"workspace_id"`
	Scopes      []string `json:"scopes"`
	SessionID   string   `json:"session_id,omitempty"`
	AuthMethod  string   `json:"auth_method"`
}

// Refresh trades refreshToken for a new pair of the same session (POST
// /v1/auth/refresh). The old refresh token is dead afterwards: store the
// new one before using it. Presenting an already-rotated token outside the
// server's grace window ends the whole session: *Error{Status: 401, Code:
// "refresh_token_reused"}.
func (c *Client) Refresh(ctx context.Context, refreshToken string) (*Tokens, error) {
	if refreshToken == "" {
		return nil, errMissing("refresh token")
	}
	var out Tokens
	in := map[string]string{"refresh_token": refreshToken}
	if err := c.call(ctx, http.MethodPost, "/v1/auth/refresh", "", in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Logout ends the session of refreshToken (POST /v1/auth/logout); with
// all, it ends every session of the same user. The session's access
// tokens are refused by the server from then on.
func (c *Client) Logout(ctx context.Context, refreshToken string, all bool) error {
	if refreshToken == "" {
		return errMissing("refresh token")
	}
	in := struct {
		RefreshToken string `json:"refresh_token"`
		All          bool   `json:"all,omitempty"`
	}{refreshToken, all}
	return c.call(ctx, http.MethodPost, "/v1/auth/logout", "", in, nil)
}

// Whoami returns the identity the server resolves accessToken to (GET
// /v1/whoami). Any credential of API.md §2 works, an API key included.
func (c *Client) Whoami(ctx context.Context, accessToken string) (*Identity, error) {
	if accessToken == "" {
		return nil, errMissing("access token")
	}
	var out Identity
	if err := c.call(ctx, http.MethodGet, "/v1/whoami", accessToken, nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
