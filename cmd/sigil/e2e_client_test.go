package main

import (
	"context"
	"crypto/ed25519"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/sigil-auth/sigil/client"
)

// wantAPIError checks that err is *client.Error with status and code
// ("" where the contract names no code).
func wantAPIError(t *testing.T, what string, err error, status int, code string) {
	t.Helper()
	var e *client.Error
	if !errors.As(err, &e) {
		t.Errorf("%s: err = %v, want *client.Error %d %s", what, err, status, code)
		return
	}
	if e.Status != status || code != "" && e.Code != code {
		t.Errorf("%s: got %d %q (%s), want %d %q", what, e.Status, e.Code, e.Detail, status, code)
	}
}

func mustKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	k, err := client.GenerateKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// testClientSDK drives the client package against the real server.
func testClientSDK(t *testing.T, srv *e2eServer) {
	ctx := context.Background()
	c := client.New(srv.url)
	joinCode := newWorkspace(t, srv, "e2e-sdk")
	key := mustKey(t)

	if ok, err := c.IDExists(ctx, "bob"); err != nil || ok {
		t.Fatalf("IDExists(bob) before register = %v, %v", ok, err)
	}
	_, err := c.Register(ctx, "bob", "not-a-join-code", key)
	wantAPIError(t, "register with a bad join code", err, 401, "invalid_join_code")

	start := time.Now()
	t1, err := c.Register(ctx, "bob", joinCode, key)
	if err != nil {
		t.Fatalf("Register: %v", err)
	}
	srv.remember(t1.AccessToken, t1.RefreshToken)
	checkTokens(t, t1, start)
	if ok, err := c.IDExists(ctx, "bob"); err != nil || !ok {
		t.Errorf("IDExists(bob) after register = %v, %v", ok, err)
	}
	_, err = c.Register(ctx, "bob", joinCode, mustKey(t))
	wantAPIError(t, "register a taken id", err, 409, "user_exists")
	_, err = c.LoginKeyPair(ctx, "bob", mustKey(t))
	wantAPIError(t, "login with a key not in the keyring", err, 401, "invalid_credentials")

	id, err := c.Whoami(ctx, t1.AccessToken)
	if err != nil {
		t.Fatalf("Whoami: %v", err)
	}
	if diff := cmp.Diff(client.Identity{Subject: "bob", Kind: "user", SessionID: t1.SessionID},
		client.Identity{Subject: id.Subject, Kind: id.Kind, SessionID: id.SessionID}); diff != "" {
		t.Errorf("Whoami (-want +got):\n%s", diff)
	}

	testClientRefresh(t, c, srv, t1)
	testClientKeyring(t, c, srv, key)
	testClientLogout(t, c, srv, key)

	_, err = client.New(srv.url+"/no-such-prefix").Whoami(ctx, "x")
	wantAPIError(t, "unknown route", err, 404, "not_found")
}

// checkTokens checks a key-pair token response against API.md §3's
// defaults: access 25 min, refresh 30 min.
func checkTokens(t *testing.T, tok *client.Tokens, issued time.Time) {
	t.Helper()
	if tok.AccessToken == "" || tok.RefreshToken == "" || tok.SessionID == "" || tok.TokenType != "Bearer" {
		t.Errorf("incomplete token response: type %q session %q", tok.TokenType, tok.SessionID)
	}
	// A second of slack: the server may count from a truncated instant.
	if tok.ExpiresIn < 25*60-1 || tok.ExpiresIn > 25*60 || tok.RefreshExpiresIn < 30*60-1 || tok.RefreshExpiresIn > 30*60 {
		t.Errorf("expires_in %d, refresh_expires_in %d; want 1500, 1800", tok.ExpiresIn, tok.RefreshExpiresIn)
	}
	want := issued.Add(25 * time.Minute)
	if d := tok.AccessExpiry().Sub(want); d < -5*time.Second || d > 5*time.Second {
		t.Errorf("AccessExpiry %v, want about %v", tok.AccessExpiry(), want)
	}
	if !tok.RefreshExpiry().After(tok.AccessExpiry()) {
		t.Errorf("refresh expiry %v not after access expiry %v", tok.RefreshExpiry(), tok.AccessExpiry())
	}
}

// testClientRefresh: rotation, the grace window, and reuse detection.
func testClientRefresh(t *testing.T, c *client.Client, srv *e2eServer, t1 *client.Tokens) {
	ctx := context.Background()
	r1, err := c.Refresh(ctx, t1.RefreshToken)
	if err != nil {
		t.Fatalf("Refresh: %v", err)
	}
	srv.remember(r1.AccessToken, r1.RefreshToken)
	if r1.RefreshToken == t1.RefreshToken || r1.SessionID != t1.SessionID {
		t.Errorf("refresh: new token=%v, same session=%v", r1.RefreshToken != t1.RefreshToken, r1.SessionID == t1.SessionID)
	}
	// Within the grace window (10 s by default) the parent gets the same child.
	again, err := c.Refresh(ctx, t1.RefreshToken)
	if err != nil || again.RefreshToken != r1.RefreshToken {
		t.Errorf("parent within the grace window: err %v, same child %v", err, err == nil && again.RefreshToken == r1.RefreshToken)
	}
	r2, err := c.Refresh(ctx, r1.RefreshToken)
	if err != nil {
		t.Fatalf("second Refresh: %v", err)
	}
	srv.remember(r2.AccessToken, r2.RefreshToken)
	// The grandparent is no longer the immediate parent: reuse.
	_, err = c.Refresh(ctx, t1.RefreshToken)
	wantAPIError(t, "reuse of a rotated refresh token", err, 401, "refresh_token_reused")
	_, err = c.Refresh(ctx, r2.RefreshToken)
	wantAPIError(t, "refresh after reuse revoked the session", err, 401, "")
	eventuallyRefused(t, srv, r2.AccessToken)
}

// testClientKeyring: list, add (with proof), remove, last key.
func testClientKeyring(t *testing.T, c *client.Client, srv *e2eServer, key ed25519.PrivateKey) {
	ctx := context.Background()
	tok, err := c.LoginKeyPair(ctx, "bob", key)
	if err != nil {
		t.Fatalf("LoginKeyPair: %v", err)
	}
	srv.remember(tok.AccessToken, tok.RefreshToken)
	keys, err := c.ListKeys(ctx, tok.AccessToken)
	if err != nil || len(keys) != 1 {
		t.Fatalf("ListKeys = %d keys, %v; want 1", len(keys), err)
	}
	orig := keys[0]
	if want := client.EncodePublicKey(key.Public().(ed25519.PublicKey)); orig.PublicKey != want || orig.LastUsedAt == nil {
		t.Errorf("key %+v, want public key %s, used", orig, want)
	}
	_, err = c.AddKey(ctx, tok.AccessToken, "someone-else", mustKey(t))
	wantAPIError(t, "add a key proven for another user id", err, 401, "invalid_credentials")

	backup := mustKey(t)
	added, err := c.AddKey(ctx, tok.AccessToken, "bob", backup)
	if err != nil {
		t.Fatalf("AddKey: %v", err)
	}
	if keys, err = c.ListKeys(ctx, tok.AccessToken); err != nil || len(keys) != 2 || keys[0].ID != added.ID {
		t.Fatalf("ListKeys after add = %+v, %v; want the new key first", keys, err)
	}
	if _, err := c.LoginKeyPair(ctx, "bob", backup); err != nil {
		t.Errorf("login with the added key: %v", err)
	}
	if err := c.RemoveKey(ctx, tok.AccessToken, "no-such-key"); err == nil {
		t.Errorf("RemoveKey of an unknown id succeeded")
	} else {
		wantAPIError(t, "remove an unknown key", err, 404, "not_found")
	}
	if err := c.RemoveKey(ctx, tok.AccessToken, added.ID); err != nil {
		t.Fatalf("RemoveKey: %v", err)
	}
	wantAPIError(t, "remove the last key", c.RemoveKey(ctx, tok.AccessToken, orig.ID), 409, "last_key")
	_, err = c.LoginKeyPair(ctx, "bob", backup)
	wantAPIError(t, "login with a removed key", err, 401, "invalid_credentials")
}

// testClientLogout: one session, then every session.
func testClientLogout(t *testing.T, c *client.Client, srv *e2eServer, key ed25519.PrivateKey) {
	ctx := context.Background()
	var toks []*client.Tokens
	for range 3 {
		tok, err := c.LoginKeyPair(ctx, "bob", key)
		if err != nil {
			t.Fatalf("LoginKeyPair: %v", err)
		}
		srv.remember(tok.AccessToken, tok.RefreshToken)
		toks = append(toks, tok)
	}
	if err := c.Logout(ctx, toks[0].RefreshToken, false); err != nil {
		t.Fatalf("Logout: %v", err)
	}
	eventuallyRefused(t, srv, toks[0].AccessToken)
	if _, err := c.Whoami(ctx, toks[1].AccessToken); err != nil {
		t.Errorf("another session after a single logout: %v", err)
	}
	if err := c.Logout(ctx, toks[1].RefreshToken, true); err != nil {
		t.Fatalf("Logout all: %v", err)
	}
	eventuallyRefused(t, srv, toks[2].AccessToken)
	_, err := c.Refresh(ctx, toks[2].RefreshToken)
	wantAPIError(t, "refresh after logout --all", err, 401, "")
}
