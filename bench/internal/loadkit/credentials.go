package loadkit

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// The calls behind the credential scenarios (API keys, customer JWTs,
// passwords, OAuth2). Each checks the answer's status and, where a wrong
// 200 is conceivable, the one field that shows the server did the work.

// APIKey is a created API key: the id is the OAuth2 client_id.
type APIKey struct {
	ID  string `json:"id"`
	Key string `json:"key"`
}

// CreateAPIKey creates a read/write API key in the workspace of the user
// whose access token is accessToken.
func (a *API) CreateAPIKey(ctx context.Context, accessToken string) (APIKey, error) {
	var k APIKey
	body := map[string]any{"name": "bench", "scopes": []string{"read", "write"}}
	err := a.Do(ctx, http.MethodPost, "/v1/api-keys", body, "Bearer "+accessToken, http.StatusCreated, &k)
	if err == nil && (k.ID == "" || k.Key == "") {
		err = fmt.Errorf("api key answer lacks id or key")
	}
	return k, err
}

// CreateResourceKey creates, with the admin token, a key of workspace
// wsID with the scope a resource server needs to introspect.
func (a *API) CreateResourceKey(ctx context.Context, admin, wsID string) (APIKey, error) {
	var k APIKey
	body := map[string]any{"name": "bench-rs", "workspace_id": wsID, "scopes": []string{"tokens:introspect"}}
	err := a.Do(ctx, http.MethodPost, "/v1/api-keys", body, admin, http.StatusCreated, &k)
	if err == nil && (k.ID == "" || k.Key == "") {
		err = fmt.Errorf("api key answer lacks id or key")
	}
	return k, err
}

// CustomerJWT creates a JWT key with accessToken and mints what a customer
// would: HS256 keyed with the secret's bytes, kid = the key's id, exp in
// an hour (longer than any run).
func (a *API) CustomerJWT(ctx context.Context, accessToken string) (string, error) {
	var k struct{ ID, Secret string }
	err := a.Do(ctx, http.MethodPost, "/v1/jwt-keys", map[string]string{"name": "bench"}, "Bearer "+accessToken, http.StatusCreated, &k)
	if err != nil {
		return "", err
	}
	now := time.Now()
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"sub": "bench-customer", "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
	})
	tok.Header["kid"] = k.ID
	return tok.SignedString([]byte(k.Secret))
}

// Signup creates a password user with joinCode.
func (a *API) Signup(ctx context.Context, email, pw, joinCode string) error {
	body := map[string]string{"email": email, "password": pw, "join_code": joinCode}
	return a.Do(ctx, http.MethodPost, "/v1/auth/signup", body, "", http.StatusCreated, nil)
}

// PasswordLogin is one email + password login (a new session).
func (a *API) PasswordLogin(ctx context.Context, email, pw string) error {
	var t Tokens
	err := a.Do(ctx, http.MethodPost, "/v1/auth/login", map[string]string{"email": email, "password": pw}, "", http.StatusOK, &t)
	if err == nil && t.AccessToken == "" {
		err = fmt.Errorf("login answer has no access_token")
	}
	return err
}

// Get is GET path with one extra header (name "" for none).
func (a *API) Get(ctx context.Context, path string, header ...string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.Base+path, nil)
	if err != nil {
		return err
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return a.Send(req, http.StatusOK, nil)
}

// FormRequest is a form-encoded POST to path.
func (a *API) FormRequest(ctx context.Context, path string, form url.Values) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.Base+path, strings.NewReader(form.Encode()))
	if err == nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	return req, err
}

// ClientCredentials is POST /oauth2/token, grant_type=client_credentials,
// with the key as HTTP Basic client secret.
func (a *API) ClientCredentials(ctx context.Context, k APIKey) error {
	req, err := a.FormRequest(ctx, "/oauth2/token", url.Values{"grant_type": {"client_credentials"}})
	if err != nil {
		return err
	}
	req.SetBasicAuth(k.ID, k.Key)
	var t Tokens
	if err := a.Send(req, http.StatusOK, &t); err != nil {
		return err
	}
	if t.AccessToken == "" {
		return fmt.Errorf("token answer has no access_token")
	}
	return nil
}

// Introspect is POST /oauth2/introspect of token, the caller
// authenticated with the API key key; the token must come back active.
func (a *API) Introspect(ctx context.Context, key, token string) error {
	req, err := a.FormRequest(ctx, "/oauth2/introspect", url.Values{"token": {token}})
	if err != nil {
		return err
	}
	req.Header.Set("X-API-KEY", key)
	var in struct{ Active bool }
	if err := a.Send(req, http.StatusOK, &in); err != nil {
		return err
	}
	if !in.Active {
		return fmt.Errorf("introspection: token not active")
	}
	return nil
}
