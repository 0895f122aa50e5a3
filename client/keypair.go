package client

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
)

// SchemeEd25519 is the signature scheme of the key-pair flows.
const SchemeEd25519 = "ed25519"

// IDExists reports whether userID is registered (GET
// /v1/auth/idexists/{user_id}). It is rate limited like a login.
func (c *Client) IDExists(ctx context.Context, userID string) (bool, error) {
	if userID == "" {
		return false, errMissing("user id")
	}
	var out struct {
		Exists bool `json:"exists"`
	}
	err := c.call(ctx, http.MethodGet, "/v1/auth/idexists/"+url.PathEscape(userID), "", nil, &out)
	return out.Exists, err
}

// AuthCode asks for a fresh challenge bound to userID (POST
// /v1/auth/code). The code is single-use and dies 30 s after issue; sign
// its exact UTF-8 bytes. Register, LoginKeyPair and AddKey call this for
// you.
func (c *Client) AuthCode(ctx context.Context, userID string) (string, error) {
	if userID == "" {
		return "", errMissing("user id")
	}
	var out struct {
		AuthCode string `json:"auth_code"`
	}
	if err := c.call(ctx, http.MethodPost, "/v1/auth/code", "", map[string]string{"user_id": userID}, &out); err != nil {
		return "", err
	}
	if out.AuthCode == "" {
		return "", errors.New("sigil client: server returned an empty auth_code")
	}
	return out.AuthCode, nil
}

// proof is the signed-challenge part of register, token and add-key
// requests.
type proof struct {
	AuthCode  string `json:"auth_code"`
	Signature string `json:"signature"`
	PublicKey string `json:"public_key"`
	Scheme    string `json:"scheme"`
}

// prove fetches a code for userID and signs it with key.
func (c *Client) prove(ctx context.Context, userID string, key ed25519.PrivateKey) (proof, error) {
	if len(key) != ed25519.PrivateKeySize {
		return proof{}, errors.New("sigil client: private key must be a 64-byte ed25519.PrivateKey (see ParsePrivateKey)")
	}
	code, err := c.AuthCode(ctx, userID)
	if err != nil {
		return proof{}, err
	}
	return proof{
		AuthCode:  code,
		Signature: base64.StdEncoding.EncodeToString(ed25519.Sign(key, []byte(code))),
		PublicKey: EncodePublicKey(key.Public().(ed25519.PublicKey)),
		Scheme:    SchemeEd25519,
	}, nil
}

// Register creates userID in the workspace of joinCode with key's public
// half as its first key, proving possession by signing a fresh code, and
// returns the new session's tokens (POST /v1/auth/register). A taken id
// is *Error{Status: 409, Code: "user_exists"}; a bad join code is a 401.
func (c *Client) Register(ctx context.Context, userID, joinCode string, key ed25519.PrivateKey) (*Tokens, error) {
	if joinCode == "" {
		return nil, errMissing("join code")
	}
	p, err := c.prove(ctx, userID, key)
	if err != nil {
		return nil, err
	}
	in := struct {
		UserID   string `json:"user_id"`
		JoinCode string `json:"join_code"`
		proof
	}{userID, joinCode, p}
	var out Tokens
	if err := c.call(ctx, http.MethodPost, "/v1/auth/register", "", in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// LoginKeyPair starts a session for a registered userID by signing a
// fresh code with key, one of the user's keyring (POST /v1/auth/token).
// A wrong key, like an unknown user, is a 401 "invalid_credentials".
func (c *Client) LoginKeyPair(ctx context.Context, userID string, key ed25519.PrivateKey) (*Tokens, error) {
	p, err := c.prove(ctx, userID, key)
	if err != nil {
		return nil, err
	}
	in := struct {
		UserID string `json:"user_id"`
		proof
	}{userID, p}
	var out Tokens
	if err := c.call(ctx, http.MethodPost, "/v1/auth/token", "", in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
