package loadkit

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync/atomic"
	"time"
)

// API calls one server over keep-alive connections.
type API struct {
	Base string
	HC   *http.Client
}

// NewAPI returns a client whose transport keeps a connection per worker
// (conc) open, so the load measures requests, not TCP handshakes.
func NewAPI(base string, conc int) *API {
	tr := &http.Transport{
		MaxIdleConns: conc * 2, MaxIdleConnsPerHost: conc * 2,
		IdleConnTimeout: time.Minute, DisableCompression: true,
	}
	return &API{Base: base, HC: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

func (a *API) Close() { a.HC.CloseIdleConnections() }

// Do sends body (JSON, or none) with an optional Authorization value and
// decodes the answer into out (if non-nil). Any status but want is an
// error carrying the answer's body.
func (a *API) Do(ctx context.Context, method, path string, body any, auth string, want int, out any) error {
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.Base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return a.Send(req, want, out)
}

// Send sends req and decodes the answer into out (if non-nil). Any status
// but want is an error carrying the answer's body.
func (a *API) Send(req *http.Request, want int, out any) error {
	res, err := a.HC.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != want {
		return &StatusError{Method: req.Method, Path: req.URL.Path, Status: res.StatusCode, Want: want, Body: raw}
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
		}
	}
	return nil
}

// Fixture is the run's workspace and the admin token that made it.
type Fixture struct {
	Admin, WorkspaceID, Join string
}

// CreateWorkspace creates a workspace as the admin.
func (a *API) CreateWorkspace(ctx context.Context, admin string) (Fixture, error) {
	var ws struct {
		ID       string `json:"id"`
		JoinCode string `json:"join_code"`
	}
	err := a.Do(ctx, http.MethodPost, "/v1/workspaces", map[string]string{"name": "bench"}, admin, http.StatusCreated, &ws)
	if err == nil && ws.JoinCode == "" {
		err = fmt.Errorf("workspace answer has no join_code")
	}
	return Fixture{Admin: admin, WorkspaceID: ws.ID, Join: ws.JoinCode}, err
}

// Tokens is the part of a token response the scenarios use.
type Tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// User is a key-pair identity of the driver.
type User struct {
	ID   string
	Priv ed25519.PrivateKey
	Pub  string
}

var userSeq atomic.Int64

// NewUser makes a User whose id is unique within this process (each
// server has a fresh database).
func NewUser() User {
	_, priv, _ := ed25519.GenerateKey(nil)
	return User{
		ID:   fmt.Sprintf("load-%d", Seq()),
		Priv: priv,
		Pub:  base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey)),
	}
}

// Proof gets a code for u and signs it (POST /v1/auth/code + a client
// ed25519.Sign).
func (a *API) Proof(ctx context.Context, u User) (map[string]string, error) {
	var code struct {
		AuthCode string `json:"auth_code"`
	}
	if err := a.Do(ctx, http.MethodPost, "/v1/auth/code", map[string]string{"user_id": u.ID}, "", http.StatusOK, &code); err != nil {
		return nil, err
	}
	sig := ed25519.Sign(u.Priv, []byte(code.AuthCode))
	return map[string]string{
		"user_id": u.ID, "auth_code": code.AuthCode, "public_key": u.Pub, "scheme": "ed25519",
		"signature": base64.StdEncoding.EncodeToString(sig),
	}, nil
}

// Register registers a new user with joinCode.
func (a *API) Register(ctx context.Context, joinCode string) (User, Tokens, error) {
	u := NewUser()
	p, err := a.Proof(ctx, u)
	if err != nil {
		return u, Tokens{}, err
	}
	p["join_code"] = joinCode
	var t Tokens
	err = a.Do(ctx, http.MethodPost, "/v1/auth/register", p, "", http.StatusCreated, &t)
	return u, t, err
}

// Login is one whole key-pair login: code, signature, token.
func (a *API) Login(ctx context.Context, u User) (Tokens, error) {
	p, err := a.Proof(ctx, u)
	if err != nil {
		return Tokens{}, err
	}
	var t Tokens
	err = a.Do(ctx, http.MethodPost, "/v1/auth/token", p, "", http.StatusOK, &t)
	return t, err
}

// Refresh rotates rt.
func (a *API) Refresh(ctx context.Context, rt string) (Tokens, error) {
	var t Tokens
	err := a.Do(ctx, http.MethodPost, "/v1/auth/refresh", map[string]string{"refresh_token": rt}, "", http.StatusOK, &t)
	return t, err
}

// Hello is GET / with an access token.
func (a *API) Hello(ctx context.Context, accessToken string) error {
	return a.Do(ctx, http.MethodGet, "/", nil, "Bearer "+accessToken, http.StatusOK, nil)
}

// NoFollow sends req without following a redirect and drains the body.
func (a *API) NoFollow(req *http.Request) (*http.Response, error) {
	res, err := a.HC.Transport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res, nil
}

// Seq is a number unique within this process, for names (user ids,
// e-mail addresses) that must not repeat on one database.
func Seq() int64 { return userSeq.Add(1) }

// StatusError is an answer with another status than the one wanted:
// callers that must tell a refusal from an outage read Status.
type StatusError struct {
	Method, Path string
	Status, Want int
	Body         []byte
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s → %d, want %d: %.200s", e.Method, e.Path, e.Status, e.Want, e.Body)
}
