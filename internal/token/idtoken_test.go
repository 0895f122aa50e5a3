package token_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sigil-auth/sigil/internal/token"
)

// TestIDTokens: the RS256 key is made on demand and published beside the
// access-token key; ID tokens verify as logout hints (even expired), but
// never as access tokens, whatever their algorithm.
func TestIDTokens(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	st := newStore(t)
	k := newKeyring(t, st, token.AlgEdDSA, c)
	v := token.NewVerifier(k, issuer, c.now, 0)
	idClaims := jwt.RegisteredClaims{Issuer: issuer, Subject: "alice", Audience: jwt.ClaimStrings{"app_1"},
		IssuedAt: jwt.NewNumericDate(c.now()), ExpiresAt: jwt.NewNumericDate(c.now().Add(time.Hour))}

	if _, err := k.MintID(ctx, token.AlgRS256, idClaims); err == nil {
		t.Fatal("minted RS256 before any RS256 key exists")
	}
	if bytes.Contains(k.JWKS(ctx), []byte(`"RSA"`)) {
		t.Fatal("RSA key published before any app needs one")
	}
	if err := k.Ensure(ctx, token.AlgRS256); err != nil {
		t.Fatal(err)
	}
	if err := k.Ensure(ctx, token.AlgRS256); err != nil {
		t.Fatal(err)
	}
	if n := len(k.KeyIDs()); n != 2 {
		t.Fatalf("after two Ensure calls %d keys are published, want 2", n)
	}
	if _, err := k.MintID(ctx, token.AlgES256, idClaims); err == nil {
		t.Error("minted an ID token with an algorithm the keyring does not use")
	}
	for _, alg := range []string{token.AlgRS256, token.AlgEdDSA} {
		tok, err := k.MintID(ctx, alg, idClaims)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(ctx, tok); err == nil {
			t.Errorf("%s ID token accepted as an access token", alg)
		}
		c.add(2 * time.Hour) // an expired hint still names its session
		var got jwt.RegisteredClaims
		if err := v.VerifyHint(ctx, tok, &got); err != nil || got.Subject != "alice" {
			t.Errorf("%s hint: %v %+v", alg, err, got)
		}
		c.add(-2 * time.Hour)
	}
	other := jwt.RegisteredClaims{Issuer: "https://evil.test", Audience: jwt.ClaimStrings{"app_1"}}
	tok, _ := k.MintID(ctx, token.AlgRS256, other)
	if err := v.VerifyHint(ctx, tok, &jwt.RegisteredClaims{}); err == nil {
		t.Error("hint of another issuer accepted")
	}
	if err := v.VerifyHint(ctx, "e30.e30.", &jwt.RegisteredClaims{}); err == nil {
		t.Error("unsigned hint accepted")
	}

	// Rotation rotates the RS256 key too, keeping the old one published.
	oldIDs := k.KeyIDs()
	if _, err := k.Rotate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if n := len(k.KeyIDs()); n != 4 {
		t.Fatalf("after rotation %d keys are published, want 4 (two of each algorithm)", n)
	}
	fresh, _ := k.MintID(ctx, token.AlgRS256, idClaims)
	for _, id := range oldIDs {
		if token.KeyID(fresh) == id {
			t.Error("the RS256 key did not rotate")
		}
	}
}
