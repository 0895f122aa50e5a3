package bench

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sigil-auth/sigil/client"
	"github.com/sigil-auth/sigil/internal/testenv"
	"github.com/sigil-auth/sigil/internal/token"
	"github.com/sigil-auth/sigil/verify"
)

// testenvIssuer is the iss of every testenv server; verifyEnv's HTTP
// client routes it to the server's real address.
const testenvIssuer = "http://sigil.test"

// verifyEnv is a resource server's view: a real Sigil over HTTP (SQLite,
// testenv's stopped clock), a key-pair user logged in through the client
// package, and a verify.Verifier (credential: an API key of the user's
// workspace) that has already confirmed the user's session once.
type verifyEnv struct {
	s     *testenv.Server
	v     *verify.Verifier
	token string // the user's access token
}

func newVerifyEnv(b *testing.B) *verifyEnv {
	b.Helper()
	ctx := context.Background()
	s := testenv.Start(b, testenv.NewDatabase(b, "sqlite"), testenv.Options{})
	ws := testenv.Do(b, nil, "POST", s.URL+"/v1/workspaces", map[string]string{"name": "bench"},
		"Authorization: Bearer "+testenv.AdminToken)
	if ws.Status != http.StatusCreated {
		b.Fatalf("create workspace: %d %s", ws.Status, ws.Raw)
	}
	c := client.New(s.URL)
	key, _ := client.GenerateKey()
	tok, err := c.Register(ctx, "bench-user", ws.Str("join_code"), key)
	if err != nil {
		b.Fatal(err)
	}
	apiKey, err := c.CreateAPIKey(ctx, testenv.AdminToken, client.APIKeyRequest{Name: "resource-server",
		Scopes: []string{"tokens:introspect"}, WorkspaceID: ws.Str("id")})
	if err != nil {
		b.Fatal(err)
	}
	addr := strings.TrimPrefix(s.URL, "http://")
	dial := func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, addr)
	}
	v, err := verify.New(ctx, verify.Config{
		Issuer: testenvIssuer, Credential: apiKey.Key,
		HTTPClient: &http.Client{Transport: &http.Transport{DialContext: dial}},
		Logger:     slog.New(slog.DiscardHandler), Now: s.Clock.Now,
	})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { v.Close() })
	if _, err := v.VerifyToken(ctx, tok.AccessToken); err != nil { // confirms the session
		b.Fatal(err)
	}
	return &verifyEnv{s: s, v: v, token: tok.AccessToken}
}

// nopWriter is a ResponseWriter that costs nothing, so only the
// middleware is measured.
type nopWriter struct{}

func (nopWriter) Header() http.Header         { return http.Header{} }
func (nopWriter) Write(p []byte) (int, error) { return len(p), nil }
func (nopWriter) WriteHeader(int)             {}

// BenchmarkVerifyMiddleware is the steady state of a resource server: a
// known token (signature cached, session confirmed) through
// Verifier.Middleware and RequireScope("read") into an empty handler.
func BenchmarkVerifyMiddleware(b *testing.B) {
	e := newVerifyEnv(b)
	h := e.v.Middleware(verify.RequireScope("read")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	request := func() *http.Request {
		r, _ := http.NewRequest(http.MethodGet, "/orders", nil)
		r.Header.Set("Authorization", "Bearer "+e.token)
		return r
	}
	rec := httptest.NewRecorder()
	if h.ServeHTTP(rec, request()); rec.Code != http.StatusOK {
		b.Fatalf("the middleware refused the token: %d %s", rec.Code, rec.Body)
	}
	b.Run("serial", func(b *testing.B) {
		r := request()
		done := meter(b)
		for b.Loop() {
			h.ServeHTTP(nopWriter{}, r)
		}
		done()
	})
	b.Run("parallel", func(b *testing.B) {
		b.SetParallelism(4)
		done := meter(b)
		b.RunParallel(func(pb *testing.PB) {
			r := request()
			for pb.Next() {
				h.ServeHTTP(nopWriter{}, r)
			}
		})
		done()
	})
}

// BenchmarkVerifyTokenFirstSeen is Verifier.VerifyToken of a token it has
// never seen, of a session it has already confirmed (a client's next
// token after a refresh): parse, JWKS key lookup, Ed25519, claims, session
// table; no I/O. The tokens are minted up front, outside the timer and
// the CPU meter, by the server's own keyring with the user's real claims
// and a fresh jti each; the verified-token cache empties itself every
// 16,384 entries, as it does in production.
func BenchmarkVerifyTokenFirstSeen(b *testing.B) {
	e := newVerifyEnv(b)
	ctx := context.Background()
	claims := decodeClaims(b, e.token)
	toks := make([]string, b.N)
	jti := make([]byte, 16)
	for i := range toks {
		rand.Read(jti)
		claims.ID = base64.RawURLEncoding.EncodeToString(jti)
		t, err := e.s.Keys.Mint(ctx, claims)
		if err != nil {
			b.Fatal(err)
		}
		toks[i] = t
	}
	b.ResetTimer()
	done := meter(b)
	for _, t := range toks {
		if _, err := e.v.VerifyToken(ctx, t); err != nil {
			b.Fatal(err)
		}
	}
	done()
}

// decodeClaims reads a Sigil access token's claims without verifying it.
func decodeClaims(b *testing.B, tok string) *token.Claims {
	b.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		b.Fatalf("not a JWT: %q", tok)
	}
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		b.Fatal(err)
	}
	var c token.Claims
	if err := json.Unmarshal(raw, &c); err != nil {
		b.Fatal(err)
	}
	if c.SessionID == "" {
		b.Fatalf("no sid in %s", raw)
	}
	return &c
}
