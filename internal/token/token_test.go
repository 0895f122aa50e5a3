package token_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/store/sqlite"
	"github.com/sigil-auth/sigil/internal/token"
)

const issuer = "https://sigil.test"

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func newStore(t testing.TB) store.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "t.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func newSealer(t testing.TB, b byte) *token.Sealer {
	t.Helper()
	s, err := token.NewSealer(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func newKeyring(t testing.TB, st store.Store, alg string, c *clock) *token.Keyring {
	t.Helper()
	k, err := token.NewKeyring(context.Background(), st, newSealer(t, 1), alg, c.now)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func claims(c *clock, ttl time.Duration) *token.Claims {
	return &token.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: issuer, Subject: "alice", Audience: jwt.ClaimStrings{issuer}, ExpiresAt: jwt.NewNumericDate(c.now().Add(ttl)),
			IssuedAt: jwt.NewNumericDate(c.now()),
		},
		SessionID: "ses_1", Workspace: "ws_1", Scope: "read write", AMR: []string{"pubkey"},
	}
}

func TestMintVerifyRoundTrip(t *testing.T) {
	for _, alg := range []string{token.AlgEdDSA, token.AlgES256} {
		t.Run(alg, func(t *testing.T) {
			c := &clock{t: time.Unix(1_800_000_000, 0)}
			k := newKeyring(t, newStore(t), alg, c)
			v := token.NewVerifier(k, issuer, c.now, 0)
			tok, err := k.Mint(context.Background(), claims(c, time.Minute))
			if err != nil {
				t.Fatal(err)
			}
			got, err := v.Verify(context.Background(), tok)
			if err != nil {
				t.Fatal(err)
			}
			if got.Subject != "alice" || got.SessionID != "ses_1" || strings.Join(got.Scopes(), ",") != "read,write" {
				t.Errorf("claims = %+v", got)
			}
			if token.KeyID(tok) != k.KeyIDs()[0] {
				t.Errorf("kid %q, keyring %v", token.KeyID(tok), k.KeyIDs())
			}
			c.add(time.Minute)
			if _, err := v.Verify(context.Background(), tok); !errors.Is(err, token.ErrExpired) {
				t.Errorf("at exp: err = %v, want ErrExpired", err)
			}
		})
	}
}

// forge builds a token with an arbitrary header and signature part.
func forge(t *testing.T, header map[string]any, payload any, sig []byte) string {
	t.Helper()
	h, _ := json.Marshal(header)
	p, _ := json.Marshal(payload)
	enc := base64.RawURLEncoding
	return enc.EncodeToString(h) + "." + enc.EncodeToString(p) + "." + enc.EncodeToString(sig)
}

func TestVerifyRefusesForgeries(t *testing.T) {
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	k := newKeyring(t, newStore(t), token.AlgEdDSA, c)
	v := token.NewVerifier(k, issuer, c.now, 0)
	ctx := context.Background()
	good, err := k.Mint(ctx, claims(c, time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	kid := k.KeyIDs()[0]
	body := claims(c, time.Hour)
	// HS256 keyed with the public JWK's bytes: the classic confusion attack.
	var set struct {
		Keys []struct{ X string } `json:"keys"`
	}
	json.Unmarshal(k.JWKS(ctx), &set)
	pub, _ := base64.RawURLEncoding.DecodeString(set.Keys[0].X)
	hsTok := jwt.NewWithClaims(jwt.SigningMethodHS256, body)
	hsTok.Header["kid"] = kid
	hs, _ := hsTok.SignedString(pub)
	otherPriv := ed25519.NewKeyFromSeed(bytes.Repeat([]byte{9}, 32))
	otherTok := jwt.NewWithClaims(jwt.SigningMethodEdDSA, body)
	otherTok.Header["kid"] = kid
	other, _ := otherTok.SignedString(otherPriv)
	wrongIss := claims(c, time.Hour)
	wrongIss.Issuer = "https://evil.test"
	wi, _ := k.Mint(ctx, wrongIss)
	noExp := claims(c, time.Hour)
	noExp.ExpiresAt = nil
	ne, _ := k.Mint(ctx, noExp)
	parts := strings.Split(good, ".")

	tests := []struct {
		name, tok string
	}{
		{"alg none", forge(t, map[string]any{"alg": "none", "kid": kid}, body, nil)},
		{"alg none no sig", strings.TrimSuffix(forge(t, map[string]any{"alg": "none", "kid": kid}, body, nil), "")},
		{"HS256 with public key", hs},
		{"signed by another key", other},
		{"missing kid", forge(t, map[string]any{"alg": "EdDSA"}, body, []byte(parts[2]))},
		{"unknown kid", forge(t, map[string]any{"alg": "EdDSA", "kid": "nope"}, body, []byte(parts[2]))},
		{"tampered payload", parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"root"}`)) + "." + parts[2]},
		{"wrong issuer", wi},
		{"no exp", ne},
		{"garbage", "not.a.jwt"},
		{"empty", ""},
		{"two parts", parts[0] + "." + parts[1]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := v.Verify(ctx, tt.tok); err == nil {
				t.Fatal("forged token accepted")
			}
		})
	}
	if _, err := v.Verify(ctx, good); err != nil {
		t.Fatalf("genuine token refused: %v", err)
	}
}

func TestRotation(t *testing.T) {
	ctx := context.Background()
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	st := newStore(t)
	k := newKeyring(t, st, token.AlgEdDSA, c)
	v := token.NewVerifier(k, issuer, c.now, 0)
	old := k.KeyIDs()[0]
	before, _ := k.Mint(ctx, claims(c, 2*time.Hour))

	rec, err := k.Rotate(ctx, 10*time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if rec.ID == old {
		t.Fatal("rotation kept the kid")
	}
	// Published at once, but the old key still signs during prepublish.
	if !bytes.Contains(k.JWKS(ctx), []byte(rec.ID)) || !bytes.Contains(k.JWKS(ctx), []byte(old)) {
		t.Fatalf("JWKS must hold both keys: %s", k.JWKS(ctx))
	}
	during, _ := k.Mint(ctx, claims(c, time.Hour))
	if token.KeyID(during) != old {
		t.Errorf("during prepublish signed by %s, want old %s", token.KeyID(during), old)
	}
	// A second replica (its own keyring on the same store) sees the same.
	c.add(11 * time.Minute)
	k2 := newKeyring(t, st, token.AlgEdDSA, c)
	after, _ := k2.Mint(ctx, claims(c, time.Hour))
	if token.KeyID(after) != rec.ID {
		t.Errorf("after prepublish signed by %s, want new %s", token.KeyID(after), rec.ID)
	}
	// The first replica finds the new kid on demand; old tokens still verify.
	for _, tok := range []string{before, during, after} {
		if _, err := v.Verify(ctx, tok); err != nil {
			t.Errorf("verify after rotation: %v", err)
		}
	}
	// Once every old token has expired the old key leaves the JWKS.
	c.add(token.MaxTokenLifetime + 2*time.Minute)
	if err := k.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(k.JWKS(ctx), []byte(old)) {
		t.Error("retired key still published after its tokens expired")
	}
}

func TestKeyringWrongMasterKey(t *testing.T) {
	c := &clock{t: time.Unix(1_800_000_000, 0)}
	st := newStore(t)
	newKeyring(t, st, token.AlgEdDSA, c)
	_, err := token.NewKeyring(context.Background(), st, newSealer(t, 2), token.AlgEdDSA, c.now)
	if !errors.Is(err, token.ErrUnseal) {
		t.Fatalf("err = %v, want ErrUnseal", err)
	}
}

func TestSealer(t *testing.T) {
	s := newSealer(t, 7)
	ct := s.Seal([]byte("secret"), []byte("kid-1"))
	if bytes.Contains(ct, []byte("secret")) {
		t.Fatal("plaintext visible in ciphertext")
	}
	if got, err := s.Open(ct, []byte("kid-1")); err != nil || string(got) != "secret" {
		t.Fatalf("Open = %q, %v", got, err)
	}
	tests := map[string]struct {
		ct, ad []byte
	}{
		"wrong ad":  {ct, []byte("kid-2")},
		"truncated": {ct[:10], []byte("kid-1")},
		"flipped":   {append(append([]byte{}, ct[:len(ct)-1]...), ct[len(ct)-1]^1), []byte("kid-1")},
		"empty":     {nil, nil},
	}
	for name, tt := range tests {
		if _, err := s.Open(tt.ct, tt.ad); !errors.Is(err, token.ErrUnseal) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	if _, err := token.NewSealer([]byte("short")); err == nil {
		t.Error("short master key accepted")
	}
}

func TestSecretsAndDerivation(t *testing.T) {
	a, b := token.NewSecret(), token.NewSecret()
	if a == b || len(a) != 43 {
		t.Fatalf("secrets %q %q", a, b)
	}
	if !bytes.Equal(token.Hash(a), token.Hash(a)) || bytes.Equal(token.Hash(a), token.Hash(b)) {
		t.Fatal("hash not a function of the secret")
	}
	// Two replicas with the same key derive the same child; other parents
	// or keys give other children.
	d, replica := token.NewDeriver([]byte("k1")), token.NewDeriver([]byte("k1"))
	if d.Derive(a) != replica.Derive(a) || d.Derive(a) == d.Derive(b) || d.Derive(a) == token.NewDeriver([]byte("k2")).Derive(a) {
		t.Fatal("derivation must be deterministic per key and parent")
	}
	m := bytes.Repeat([]byte{1}, 32)
	if bytes.Equal(token.DeriveKey(m, "a"), token.DeriveKey(m, "b")) {
		t.Fatal("purposes share a key")
	}
}

func newVerifierFor(k *token.Keyring, c *clock) *token.Verifier {
	return token.NewVerifier(k, issuer, c.now, 0)
}
