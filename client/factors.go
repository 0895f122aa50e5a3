package client

import (
	"context"
	"net/url"
	"time"
)

// Factor is one of the caller's second factors (API.md §13).
type Factor struct {
	ID         string     `json:"id"`
	Kind       string     `json:"kind"`   // "totp", "webauthn" or "recovery"
	Name       string     `json:"name"`   // as given at enrolment
	Status     string     `json:"status"` // "active" or "pending" (a TOTP factor waiting for its first code)
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	Remaining  *int       `json:"remaining,omitempty"` // a recovery factor's unused codes
}

// TOTPEnrolment is a pending authenticator-app factor: put Secret (or
// OTPAuthURL, or the QR code in QRSVG) into the app, then confirm with
// VerifyFactor and the app's first code. The secret is shown this once.
type TOTPEnrolment struct {
	ID         string `json:"id"`
	Secret     string `json:"secret"` // base32
	OTPAuthURL string `json:"otpauth_url"`
	QRSVG      string `json:"qr_svg"`
}

// EnrolTOTP starts an authenticator-app enrolment for the credential's
// account (POST /v1/users/me/factors/totp).
func (c *Client) EnrolTOTP(ctx context.Context, credential string) (*TOTPEnrolment, error) {
	if credential == "" {
		return nil, errMissing("credential")
	}
	var out TOTPEnrolment
	if err := c.call(ctx, "POST", "/v1/users/me/factors/totp", credential, struct{}{}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// VerifyFactor activates a pending TOTP factor with a code from the app
// (POST /v1/users/me/factors/{id}/verify). A wrong code is an *Error with
// Code "invalid_code".
func (c *Client) VerifyFactor(ctx context.Context, credential, id, code string) (*Factor, error) {
	if credential == "" {
		return nil, errMissing("credential")
	}
	if id == "" || code == "" {
		return nil, errMissing("factor id and code")
	}
	var out Factor
	in := struct {
		Code string `json:"code"`
	}{code}
	if err := c.call(ctx, "POST", "/v1/users/me/factors/"+url.PathEscape(id)+"/verify", credential, in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListFactors lists the credential's account's second factors.
func (c *Client) ListFactors(ctx context.Context, credential string) ([]Factor, error) {
	if credential == "" {
		return nil, errMissing("credential")
	}
	return listAll[Factor](ctx, c, "/v1/users/me/factors", nil, credential, "factor")
}
