package verify

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sigil-auth/sigil/client"
	"github.com/sigil-auth/sigil/internal/testenv"
	"github.com/sigil-auth/sigil/internal/token"
)

const jwksPath = "/.well-known/jwks.json"

// A key rotated in after the Verifier started is picked up the first
// time a token names it; tokens of the previous key stay valid; made-up
// kids cost the server at most one JWKS fetch per jwksRefetchGap.
func TestKeyRotation(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	old := e.owner.AccessToken
	mustVerify(t, e.v, old)
	fetches := e.net.count(jwksPath)

	rec, err := e.s.Keys.Rotate(ctx, 0) // signs from now on
	if err != nil {
		t.Fatal(err)
	}
	fresh := e.login(t, "owner")
	if kid := headerKID(t, fresh.AccessToken); kid != rec.ID {
		t.Fatalf("new token signed by %q, want the rotated-in %q", kid, rec.ID)
	}
	mustVerify(t, e.v, fresh.AccessToken)
	if n := e.net.count(jwksPath); n != fetches+1 {
		t.Errorf("JWKS fetched %d times for the new kid, want 1", n-fetches)
	}
	mustVerify(t, e.v, old) // the old key is still published
	mustVerify(t, e.v, fresh.AccessToken)

	// Made-up kids: refused, and the refetch is rate limited.
	bogus := func(kid string) string {
		tok, err := e.s.Keys.Mint(ctx, &token.Claims{RegisteredClaims: jwt.RegisteredClaims{
			Issuer: issuer, ExpiresAt: jwt.NewNumericDate(e.s.Clock.Now().Add(time.Hour))}})
		if err != nil {
			t.Fatal(err)
		}
		return replaceKID(t, tok, kid)
	}
	fetches = e.net.count(jwksPath)
	for i := range 5 {
		if _, err := e.v.VerifyToken(ctx, bogus("made-up-"+string(rune('a'+i)))); !errors.Is(err, ErrInvalidToken) {
			t.Fatalf("made-up kid: %v", err)
		}
	}
	if n := e.net.count(jwksPath); n != fetches {
		t.Errorf("%d JWKS fetches within the gap, want 0", n-fetches)
	}
	e.s.Clock.Add(jwksRefetchGap)
	for range 5 {
		e.v.VerifyToken(ctx, bogus("made-up-z"))
	}
	if n := e.net.count(jwksPath); n != fetches+1 {
		t.Errorf("%d JWKS fetches after the gap, want 1", n-fetches)
	}
}

// A key withdrawn from the JWKS (say, compromised) stops verifying at
// the next refresh, even for tokens already verified and cached.
func TestWithdrawnKey(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	tok := e.owner.AccessToken
	mustVerify(t, e.v, tok)
	if _, err := e.s.Keys.Rotate(ctx, 0); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Store.DeleteSigningKey(ctx, headerKID(t, tok)); err != nil {
		t.Fatal(err)
	}
	if err := e.s.Keys.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	mustVerify(t, e.v, tok) // until the Verifier refreshes its copy
	e.s.Clock.Add(jwksMaxAge)
	if err := e.v.keys.refresh(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := e.v.VerifyToken(ctx, tok); !errors.Is(err, ErrInvalidToken) {
		t.Fatalf("token of a withdrawn key: %v, want invalid_token", err)
	}
	mustVerify(t, e.v, e.login(t, "owner").AccessToken) // the new key works
}

// headerKID reads the kid of a JWT without verifying it.
func headerKID(t testing.TB, tok string) string {
	t.Helper()
	p, _, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	kid, _ := p.Header["kid"].(string)
	return kid
}

// replaceKID re-encodes tok's header with another kid (the signature no
// longer matches, which does not matter: the kid is unknown anyway).
func replaceKID(t *testing.T, tok, kid string) string {
	t.Helper()
	p, parts, err := jwt.NewParser().ParseUnverified(tok, jwt.MapClaims{})
	if err != nil {
		t.Fatal(err)
	}
	p.Header["kid"] = kid
	h, _ := json.Marshal(p.Header)
	return base64.RawURLEncoding.EncodeToString(h) + "." + parts[1] + "." + parts[2]
}

func TestAPIKeys(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	k, err := e.c.CreateAPIKey(ctx, e.owner.AccessToken, client.APIKeyRequest{Name: "ci", Scopes: []string{"read", "write"}})
	if err != nil {
		t.Fatal(err)
	}
	want := &Principal{Subject: k.ID, Kind: KindAPIKey, Workspace: e.ws, Scopes: []string{"read", "write"}, AuthMethod: "apikey"}
	for _, h := range [][2]string{{"X-API-KEY", k.Key}, {"Authorization", "Bearer " + k.Key}, {"Authorization", k.Key}} {
		r, _ := http.NewRequest("GET", "/", nil)
		r.Header.Set(h[0], h[1])
		got, err := e.v.Verify(ctx, r)
		if err != nil {
			t.Fatalf("%s: %v", h[0], err)
		}
		if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Principal{}, "Expires")); diff != "" {
			t.Errorf("%s: principal (-want +got):\n%s", h[0], diff)
		}
	}
	if n := e.net.count("/oauth2/introspect"); n != 1 {
		t.Errorf("three uses within a second asked the server %d times, want 1", n)
	}
	// Revoked: the feed drops the cached answer (the test clock stands
	// still, so the 1 s cache lifetime cannot be what refuses it).
	e.call(t, "DELETE", "/v1/api-keys/"+k.ID, e.owner.AccessToken, nil, 204, nil)
	d := refusedWithin(t, e.v, k.Key, time.Second)
	t.Logf("revoked API key refused after %v", d)

	// A rotated key's cached answer is dropped too (its expiry changed).
	k2, _ := e.c.CreateAPIKey(ctx, e.owner.AccessToken, client.APIKeyRequest{Name: "ci2", Scopes: []string{"read"}})
	mustVerify(t, e.v, k2.Key)
	asked := e.net.count("/oauth2/introspect")
	if _, err := e.c.RotateAPIKey(ctx, e.owner.AccessToken, k2.ID, time.Hour); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Second)
	for e.net.count("/oauth2/introspect") == asked && time.Now().Before(deadline) {
		mustVerify(t, e.v, k2.Key) // still valid during the grace period, but asked again
		time.Sleep(5 * time.Millisecond)
	}
	if e.net.count("/oauth2/introspect") == asked {
		t.Error("the rotated key's answer was never refreshed")
	}
	// Without a feed event, an answer is reused for at most 1 s.
	asked = e.net.count("/oauth2/introspect")
	mustVerify(t, e.v, k2.Key)
	e.s.Clock.Add(introspectTTL)
	mustVerify(t, e.v, k2.Key)
	if n := e.net.count("/oauth2/introspect"); n != asked+1 {
		t.Errorf("after 1 s: %d more introspections, want 1", n-asked)
	}
}

func TestCustomerJWT(t *testing.T) {
	e := newEnv(t, Config{})
	ctx := context.Background()
	k, err := e.c.CreateJWTKey(ctx, e.owner.AccessToken, client.JWTKeyRequest{Name: "web"})
	if err != nil {
		t.Fatal(err)
	}
	exp := e.s.Clock.Now().Add(time.Hour)
	claims := jwt.MapClaims{"sub": "customer-42", "exp": exp.Unix(), "scope": "read"}
	good := forge(t, jwt.SigningMethodHS256, k.ID, []byte(k.Secret), claims)
	got := mustVerify(t, e.v, good)
	want := &Principal{Subject: "customer-42", Kind: KindJWTKey, Workspace: e.ws, AuthMethod: "jwt"}
	if diff := cmp.Diff(want, got, cmpopts.IgnoreFields(Principal{}, "Expires", "Scopes")); diff != "" {
		t.Errorf("principal (-want +got):\n%s", diff)
	}
	for name, tok := range map[string]string{
		"wrong secret": forge(t, jwt.SigningMethodHS256, k.ID, []byte(k.Secret+"x"), claims),
		"unknown kid":  forge(t, jwt.SigningMethodHS256, "8f14e45f-ceea-467f-a8f6-6f2d3c6b8c11", []byte(k.Secret), claims),
	} {
		if _, err := e.v.VerifyToken(ctx, tok); !errors.Is(err, ErrInvalidToken) {
			t.Errorf("%s: %v, want invalid_token", name, err)
		}
	}
}

// An API key confines the Verifier to its workspace; the admin token
// accepts every workspace.
func TestWorkspaces(t *testing.T) {
	e := newEnv(t, Config{})
	stranger := e.otherWorkspaceToken(t)
	if _, err := e.v.VerifyToken(context.Background(), stranger); !errors.Is(err, ErrInvalidToken) {
		t.Errorf("API-key verifier accepted another workspace: %v", err)
	}
	admin := e.verifier(t, Config{Credential: testenv.AdminToken})
	mustVerify(t, admin, stranger)
	mustVerify(t, admin, e.owner.AccessToken)
}
