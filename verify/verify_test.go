package verify

import (
	"context"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sigil-auth/sigil/internal/testenv"
	"github.com/sigil-auth/sigil/internal/token"
)

func TestVerifySigilToken(t *testing.T) {
	e := newEnv(t, Config{})
	got := mustVerify(t, e.v, e.owner.AccessToken)
	want := &Principal{Subject: "owner", Kind: KindUser, Workspace: e.ws, Scopes: []string{"read", "write"},
		SessionID: e.owner.SessionID, AuthMethod: "pubkey"}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Principal{}, "Expires")); diff != "" {
		t.Errorf("principal (-want +got):\n%s", diff)
	}
	if d := got.Expires.Sub(e.owner.AccessExpiry()); d < -time.Second || d > time.Second {
		t.Errorf("Expires %v, token says %v", got.Expires, e.owner.AccessExpiry())
	}
	// The first token of a session is confirmed with the server once;
	// after that the session is trusted locally and the token is cached.
	asked := e.net.count("/oauth2/introspect")
	if asked != 1 {
		t.Errorf("introspected %d times, want 1", asked)
	}
	got.Scopes[0] = "mutated" // a caller cannot corrupt the cache
	for range 3 {
		p := mustVerify(t, e.v, e.owner.AccessToken)
		if p.Scopes[0] != "read" {
			t.Fatalf("cached principal was altered: %v", p.Scopes)
		}
	}
	if n := e.net.count("/oauth2/introspect"); n != asked {
		t.Errorf("introspected again (%d) for a confirmed session", n)
	}
}

// mint signs claims with the server's current key: a token only a
// broken or misconfigured server would issue.
func mint(t *testing.T, e *env, c token.Claims) string {
	t.Helper()
	tok, err := e.s.Keys.Mint(context.Background(), &c)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// forge signs claims with key under header alg/kid: an attacker's token.
func forge(t *testing.T, m jwt.SigningMethod, kid string, key any, c jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(m, c)
	tok.Header["kid"] = kid
	s, err := tok.SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestBadTokensRefused(t *testing.T) {
	e := newEnv(t, Config{Audience: issuer})
	ctx := context.Background()
	now := e.s.Clock.Now()
	ok := func(c *token.Claims) *token.Claims {
		c.Issuer, c.Subject, c.Workspace = issuer, "owner", e.ws
		if c.Audience == nil {
			c.Audience = jwt.ClaimStrings{issuer}
		}
		return c
	}
	at := func(t time.Time) *jwt.NumericDate { return jwt.NewNumericDate(t) }
	good := mint(t, e, *ok(&token.Claims{RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: at(now.Add(time.Hour))}}))
	mustVerify(t, e.v, good) // the control: the same recipe, nothing wrong

	kid := e.s.Keys.KeyIDs()[0]
	_, otherKey, _ := ed25519.GenerateKey(nil)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	claims := jwt.MapClaims{"iss": issuer, "sub": "owner", "ws": e.ws, "aud": issuer, "exp": now.Add(time.Hour).Unix()}
	jwksJSON := e.s.Keys.JWKS(ctx)
	parts := strings.Split(good, ".")
	payload, _ := base64.RawURLEncoding.DecodeString(parts[1])
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(payload), `"owner"`, `"admin"`, 1))) + "." + parts[2]
	none := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","kid":"`+kid+`"}`)) + "." + parts[1] + "."
	otherWS := e.otherWorkspaceToken(t)

	tests := []struct {
		name string
		tok  string
		asks bool // the server must be asked (introspection) to refuse it
	}{
		{"garbage", "not-a-token", false},
		{"three dots but nonsense", "a.b.c", false},
		{"oversized", strings.Repeat("a", maxCredential+1), false},
		{"alg none", none, false},
		{"tampered payload", tampered, false},
		{"signed by another key under our kid", forge(t, jwt.SigningMethodEdDSA, kid, otherKey, claims), false},
		{"ES256 header on our EdDSA kid", forge(t, jwt.SigningMethodES256, kid, ecKey, claims), false},
		{"HS256 keyed with our JWKS", forge(t, jwt.SigningMethodHS256, kid, jwksJSON, claims), true},
		{"expired", mint(t, e, *ok(&token.Claims{RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: at(now.Add(-time.Second))}})), false},
		{"no exp", mint(t, e, *ok(&token.Claims{})), false},
		{"not yet valid", mint(t, e, *ok(&token.Claims{RegisteredClaims: jwt.RegisteredClaims{ExpiresAt: at(now.Add(time.Hour)), NotBefore: at(now.Add(time.Minute))}})), false},
		{"wrong issuer", mint(t, e, token.Claims{RegisteredClaims: jwt.RegisteredClaims{Issuer: "http://evil.test", Audience: jwt.ClaimStrings{issuer}, ExpiresAt: at(now.Add(time.Hour))}}), false},
		{"wrong audience", mint(t, e, *ok(&token.Claims{RegisteredClaims: jwt.RegisteredClaims{Audience: jwt.ClaimStrings{"http://other.api"}, ExpiresAt: at(now.Add(time.Hour))}})), false},
		{"another workspace", otherWS, false},
		{"refresh token", e.owner.RefreshToken, false},
		{"admin token", testenv.AdminToken, false},
		{"API key with a bad checksum", e.apiKey[:len(e.apiKey)-1] + flip(e.apiKey[len(e.apiKey)-1]), false},
		{"API key nobody issued", validKey(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.net.count("/oauth2/introspect")
			p, err := e.v.VerifyToken(ctx, tt.tok)
			if !errors.Is(err, ErrInvalidToken) || p != nil {
				t.Fatalf("got %+v, %v; want invalid_token", p, err)
			}
			if asked := e.net.count("/oauth2/introspect") > before; asked != tt.asks {
				t.Errorf("asked the server: %v, want %v", asked, tt.asks)
			}
		})
	}
}

// otherWorkspaceToken logs in a user of a second workspace.
func (e *env) otherWorkspaceToken(t *testing.T) string {
	t.Helper()
	_, join := e.workspace(t)
	_, key, _ := ed25519.GenerateKey(nil)
	tok, err := e.c.Register(context.Background(), "stranger", join, key)
	if err != nil {
		t.Fatal(err)
	}
	return tok.AccessToken
}

// flip returns a base62 character other than c.
func flip(c byte) string {
	if c == 'A' {
		return "B"
	}
	return "A"
}

// validKey is a well-formed API key (right checksum) no server issued.
func validKey() string { return token.NewAPIKey() }

// The local format check agrees with the server's generator and catches
// every single-character change.
func TestValidAPIKey(t *testing.T) {
	for range 50 {
		k := token.NewAPIKey()
		if !validAPIKey(k) {
			t.Fatalf("issued key %q refused", k)
		}
		for i := len(apiKeyPrefix); i < len(k); i++ {
			bad := k[:i] + flip(k[i]) + k[i+1:]
			if validAPIKey(bad) != token.ValidAPIKey(bad) || validAPIKey(bad) {
				t.Fatalf("%q (char %d changed) accepted", bad, i)
			}
		}
	}
	for _, k := range []string{"", "sk_", "sk_short", "pk_" + token.NewAPIKey()[3:], token.NewAPIKey() + "x"} {
		if validAPIKey(k) {
			t.Errorf("%q accepted", k)
		}
	}
}

// Whatever the bytes, VerifyToken answers with a principal or an *Error,
// never panics, and accepts nothing but what the server issued (the only
// identity with tokens here is the owner's).
func FuzzVerifyToken(f *testing.F) {
	e := newEnv(f, Config{})
	good := e.owner.AccessToken
	parts := strings.Split(good, ".")
	for _, s := range []string{good, e.apiKey, e.owner.RefreshToken, parts[0] + "." + parts[1] + ".", parts[0] + ".e30." + parts[2],
		"eyJhbGciOiJIUzI1NiJ9.e30.x", "sk_", "a.b.c", "Bearer x", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, tok string) {
		p, err := e.v.VerifyToken(context.Background(), tok)
		var ve *Error
		switch {
		case err != nil && !errors.As(err, &ve):
			t.Fatalf("error %v is not an *Error", err)
		case err == nil && (p.Workspace != e.ws || (p.Subject != "owner" && p.Subject != e.keyID)):
			t.Fatalf("accepted a forged identity %+v", p)
		}
	})
}

// TestIDTokenIsNoAccessToken: with no Audience configured, a token whose
// aud is an app (an OpenID ID token signed with the access-token key) is
// refused; the same claims with the issuer as aud pass.
func TestIDTokenIsNoAccessToken(t *testing.T) {
	e := newEnv(t, Config{})
	exp := jwt.NewNumericDate(e.s.Clock.Now().Add(time.Hour))
	for _, tc := range []struct {
		aud  string
		pass bool
	}{{"app_1", false}, {issuer, true}} {
		tok := mint(t, e, token.Claims{RegisteredClaims: jwt.RegisteredClaims{Issuer: issuer, Subject: "owner",
			Audience: jwt.ClaimStrings{tc.aud}, ExpiresAt: exp}, Workspace: e.ws})
		_, err := e.v.VerifyToken(context.Background(), tok)
		if (err == nil) != tc.pass {
			t.Errorf("aud %s: err %v, want pass=%v", tc.aud, err, tc.pass)
		}
	}
}
