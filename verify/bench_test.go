package verify

import (
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// The cost of the middleware per request, beside the raw Ed25519 check
// it saves on repeat tokens. Run with:
//
//	go test -run '^$' -bench . -benchmem ./verify
//
// BenchmarkRawEd25519Verify: ed25519.Verify of one access token.
// BenchmarkVerifyUncached: a token seen for the first time (parse, key
// lookup, signature, claims, session lookup), its session already
// confirmed. BenchmarkMiddleware(Parallel): the steady state, a known
// token through Middleware into a handler.

func benchEnv(b *testing.B) (*env, string) {
	e := newEnv(b, Config{})
	tok := e.owner.AccessToken
	mustVerify(b, e.v, tok) // confirm the session once
	return e, tok
}

func BenchmarkRawEd25519Verify(b *testing.B) {
	e, tok := benchEnv(b)
	pk, ok := e.v.keys.lookup(context.Background(), headerKID(b, tok))
	if !ok {
		b.Fatal("no key")
	}
	pub := pk.key.(ed25519.PublicKey)
	i := strings.LastIndexByte(tok, '.')
	msg := []byte(tok[:i])
	sig, _ := base64.RawURLEncoding.DecodeString(tok[i+1:])
	if !ed25519.Verify(pub, msg, sig) {
		b.Fatal("signature does not verify")
	}
	b.ReportAllocs()
	for b.Loop() {
		ed25519.Verify(pub, msg, sig)
	}
}

func BenchmarkVerifyUncached(b *testing.B) {
	e, tok := benchEnv(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		e.v.tokens.flush()
		if _, err := e.v.VerifyToken(ctx, tok); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkMiddleware(b *testing.B) {
	e, tok := benchEnv(b)
	h := e.v.Middleware(RequireScope("read")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	r := httptest.NewRequest("GET", "/orders", nil)
	r.Header.Set("Authorization", "Bearer "+tok)
	w := discard{}
	b.ReportAllocs()
	for b.Loop() {
		h.ServeHTTP(w, r)
	}
}

func BenchmarkMiddlewareParallel(b *testing.B) {
	e, tok := benchEnv(b)
	h := e.v.Middleware(RequireScope("read")(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		r := httptest.NewRequest("GET", "/orders", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		for pb.Next() {
			h.ServeHTTP(discard{}, r)
		}
	})
}

// discard is a ResponseWriter that costs nothing, so only the
// middleware is measured.
type discard struct{}

func (discard) Header() http.Header         { return http.Header{} }
func (discard) Write(p []byte) (int, error) { return len(p), nil }
func (discard) WriteHeader(int)             {}
