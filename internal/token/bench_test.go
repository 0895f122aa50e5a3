package token_test

import (
	"context"
	"crypto/ed25519"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/token"
)

// BenchmarkRawEd25519Verify is the crypto floor every figure is compared to.
func BenchmarkRawEd25519Verify(b *testing.B) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	msg := []byte("eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJhbGljZSJ9")
	sig := ed25519.Sign(priv, msg)
	for b.Loop() {
		if !ed25519.Verify(pub, msg, sig) {
			b.Fatal("verify")
		}
	}
}

func BenchmarkMint(b *testing.B) {
	c := &clock{t: time.Now()}
	k := newKeyring(b, newStore(b), "EdDSA", c)
	ctx := context.Background()
	for b.Loop() {
		if _, err := k.Mint(ctx, claims(c, time.Hour)); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerify(b *testing.B) {
	c := &clock{t: time.Now()}
	k := newKeyring(b, newStore(b), "EdDSA", c)
	ctx := context.Background()
	tok, _ := k.Mint(ctx, claims(c, time.Hour))
	v := token.NewVerifier(k, issuer, c.now, 0)
	for b.Loop() {
		if _, err := v.Verify(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}
