package client

import (
	"context"
	"errors"
	"net/http"
	"strings"
)

// Password and API-key logins (API.md §4). Passwords and API keys are
// sent only in request bodies, never in URLs or headers a proxy might
// log, and never appear in this package's errors.

// Signup creates a user with email and password in the workspace of
// joinCode and returns the new session's tokens (POST /v1/auth/signup).
// A bad join code is *Error{Status: 401, Code: "invalid_join_code"}; an
// email already in that workspace is a 409 "email_exists"; a password
// outside 8–256 characters is a 400.
func (c *Client) Signup(ctx context.Context, email, password, joinCode string) (*Tokens, error) {
	switch {
	case email == "":
		return nil, errMissing("email")
	case password == "":
		return nil, errMissing("password")
	case joinCode == "":
		return nil, errMissing("join code")
	}
	in := map[string]string{"email": email, "password": password, "join_code": joinCode}
	var out Tokens
	if err := c.call(ctx, http.MethodPost, "/v1/auth/signup", "", in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// LoginPassword starts a session for email (POST /v1/auth/login). A wrong
// password and an unknown email are the same 401 "invalid_credentials".
// The session refreshes like a key-pair one (Refresh, Logout). For an
// account with a second factor the error is *MFARequiredError: finish the
// login with VerifyMFA.
func (c *Client) LoginPassword(ctx context.Context, email, password string) (*Tokens, error) {
	if email == "" {
		return nil, errMissing("email")
	}
	if password == "" {
		return nil, errMissing("password")
	}
	in := map[string]string{"email": email, "password": password}
	var out struct {
		Tokens
		MFARequired bool     `json:"mfa_required"`
		MFAToken    string   `json:"mfa_token"`
		Factors     []string `json:"factors"`
	}
	if err := c.call(ctx, http.MethodPost, "/v1/auth/login", "", in, &out); err != nil {
		return nil, err
	}
	if out.MFARequired {
		return nil, &MFARequiredError{Token: out.MFAToken, Factors: out.Factors}
	}
	return &out.Tokens, nil
}

// MFARequiredError is LoginPassword's answer when the password was right
// and the account has a second factor (API.md §13): pass Token and a code
// from the person's authenticator app, or one of their recovery codes, to
// VerifyMFA within five minutes.
type MFARequiredError struct {
	Token   string   // the mfa_token, single use
	Factors []string // what may complete it: "totp", "recovery"
}

func (e *MFARequiredError) Error() string {
	return "sigil: this account needs a second factor (" + strings.Join(e.Factors, ", ") + "); complete the login with VerifyMFA"
}

// VerifyMFA completes a login that answered *MFARequiredError (POST
// /v1/auth/mfa/verify) with a TOTP code or a recovery code. A wrong code
// is *Error{Status: 401, Code: "invalid_code"} and the token stays usable;
// too many wrong codes are a 429 with RetryAfter.
func (c *Client) VerifyMFA(ctx context.Context, mfaToken, code string) (*Tokens, error) {
	if mfaToken == "" {
		return nil, errMissing("MFA token")
	}
	if code == "" {
		return nil, errMissing("code")
	}
	in := map[string]string{"mfa_token": mfaToken, "code": code}
	var out Tokens
	if err := c.call(ctx, http.MethodPost, "/v1/auth/mfa/verify", "", in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ExchangeAPIKey trades an API key for a short-lived access token (POST
// /v1/auth/login with "api_key"), for services that forward a JWT rather
// than the key itself. Only AccessToken, ExpiresIn and TokenType are set:
// there is no refresh token (exchange again instead) and, since the
// server does not send an absolute expiry, AccessExpiry is the zero time.
//
// While the token is valid, the same (apiKey, sessionID) gets the same
// token back and a different sessionID a new one; an empty sessionID is
// left out of the request and the server picks the default session.
func (c *Client) ExchangeAPIKey(ctx context.Context, apiKey, sessionID string) (*Tokens, error) {
	if apiKey == "" {
		return nil, errMissing("API key")
	}
	in := struct {
		APIKey    string `json:"api_key"`
		SessionID string `json:"session_id,omitempty"`
	}{apiKey, sessionID}
	var out Tokens
	if err := c.call(ctx, http.MethodPost, "/v1/auth/login", "", in, &out); err != nil {
		return nil, err
	}
	if out.AccessToken == "" {
		return nil, errors.New("sigil client: server returned no access_token")
	}
	return &out, nil
}

// ForgotPassword asks the server to send email a reset link (POST
// /v1/auth/password/forgot). The server answers the same whether or not
// the address is known, so success says nothing about the account.
func (c *Client) ForgotPassword(ctx context.Context, email string) error {
	if email == "" {
		return errMissing("email")
	}
	return c.call(ctx, http.MethodPost, "/v1/auth/password/forgot", "", map[string]string{"email": email}, nil)
}

// ResetPassword sets a new password with the token of a reset link (POST
// /v1/auth/password/reset). A bad, used or expired token is a 401
// "invalid_token".
func (c *Client) ResetPassword(ctx context.Context, token, newPassword string) error {
	if token == "" {
		return errMissing("reset token")
	}
	if newPassword == "" {
		return errMissing("password")
	}
	in := map[string]string{"token": token, "password": newPassword}
	return c.call(ctx, http.MethodPost, "/v1/auth/password/reset", "", in, nil)
}

// VerifyEmail confirms an address with the token of a verification link
// (POST /v1/auth/email/verify).
func (c *Client) VerifyEmail(ctx context.Context, token string) error {
	if token == "" {
		return errMissing("verification token")
	}
	return c.call(ctx, http.MethodPost, "/v1/auth/email/verify", "", map[string]string{"token": token}, nil)
}
