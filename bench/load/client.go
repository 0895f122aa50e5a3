package main

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

// api calls one server over keep-alive connections.
type api struct {
	base string
	hc   *http.Client
}

// newAPI returns a client whose transport keeps a connection per worker
// (conc) open, so the load measures requests, not TCP handshakes.
func newAPI(base string, conc int) *api {
	tr := &http.Transport{
		MaxIdleConns: conc * 2, MaxIdleConnsPerHost: conc * 2,
		IdleConnTimeout: time.Minute, DisableCompression: true,
	}
	return &api{base: base, hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
}

func (a *api) close() { a.hc.CloseIdleConnections() }

// do sends body (JSON, or none) with an optional Authorization value and
// decodes the answer into out (if non-nil). Any status but want is an
// error carrying the answer's body.
func (a *api) do(ctx context.Context, method, path string, body any, auth string, want int, out any) error {
	var rd io.Reader
	if body != nil {
		j, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	return a.send(req, want, out)
}

// send sends req and decodes the answer into out (if non-nil). Any status
// but want is an error carrying the answer's body.
func (a *api) send(req *http.Request, want int, out any) error {
	res, err := a.hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	raw, err := io.ReadAll(res.Body)
	if err != nil {
		return err
	}
	if res.StatusCode != want {
		return fmt.Errorf("%s %s → %d, want %d: %.200s", req.Method, req.URL.Path, res.StatusCode, want, raw)
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("%s %s: %w", req.Method, req.URL.Path, err)
		}
	}
	return nil
}

// fixture is the run's workspace and the admin token that made it.
type fixture struct {
	admin, wsID, join string
}

// createWorkspace creates a workspace as the admin.
func (a *api) createWorkspace(ctx context.Context, admin string) (fixture, error) {
	var ws struct {
		ID       string `json:"id"`
		JoinCode string `json:"join_code"`
	}
	err := a.do(ctx, http.MethodPost, "/v1/workspaces", map[string]string{"name": "bench"}, admin, http.StatusCreated, &ws)
	if err == nil && ws.JoinCode == "" {
		err = fmt.Errorf("workspace answer has no join_code")
	}
	return fixture{admin: admin, wsID: ws.ID, join: ws.JoinCode}, err
}

// tokens is the part of a token response the scenarios use.
type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// user is a key-pair identity of the driver.
type user struct {
	id   string
	priv ed25519.PrivateKey
	pub  string
}

var userSeq atomic.Int64

// newUser makes a user whose id is unique within this process (each
// server has a fresh database).
func newUser() user {
	_, priv, _ := ed25519.GenerateKey(nil)
	return user{
		id:   fmt.Sprintf("load-%d", userSeq.Add(1)),
		priv: priv,
		pub:  base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey)),
	}
}

// proof gets a code for u and signs it (POST /v1/auth/code + a client
// ed25519.Sign).
func (a *api) proof(ctx context.Context, u user) (map[string]string, error) {
	var code struct {
		AuthCode string `json:"auth_code"`
	}
	if err := a.do(ctx, http.MethodPost, "/v1/auth/code", map[string]string{"user_id": u.id}, "", http.StatusOK, &code); err != nil {
		return nil, err
	}
	sig := ed25519.Sign(u.priv, []byte(code.AuthCode))
	return map[string]string{
		"user_id": u.id, "auth_code": code.AuthCode, "public_key": u.pub, "scheme": "ed25519",
		"signature": base64.StdEncoding.EncodeToString(sig),
	}, nil
}

// register registers a new user with joinCode.
func (a *api) register(ctx context.Context, joinCode string) (user, tokens, error) {
	u := newUser()
	p, err := a.proof(ctx, u)
	if err != nil {
		return u, tokens{}, err
	}
	p["join_code"] = joinCode
	var t tokens
	err = a.do(ctx, http.MethodPost, "/v1/auth/register", p, "", http.StatusCreated, &t)
	return u, t, err
}

// login is one whole key-pair login: code, signature, token.
func (a *api) login(ctx context.Context, u user) (tokens, error) {
	p, err := a.proof(ctx, u)
	if err != nil {
		return tokens{}, err
	}
	var t tokens
	err = a.do(ctx, http.MethodPost, "/v1/auth/token", p, "", http.StatusOK, &t)
	return t, err
}

// refresh rotates rt.
func (a *api) refresh(ctx context.Context, rt string) (tokens, error) {
	var t tokens
	err := a.do(ctx, http.MethodPost, "/v1/auth/refresh", map[string]string{"refresh_token": rt}, "", http.StatusOK, &t)
	return t, err
}

// hello is GET / with an access token.
func (a *api) hello(ctx context.Context, accessToken string) error {
	return a.do(ctx, http.MethodGet, "/", nil, "Bearer "+accessToken, http.StatusOK, nil)
}
