package bench

import (
	"context"
	"crypto/ed25519"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sigil-auth/sigil/internal/authn"
	"github.com/sigil-auth/sigil/internal/token"
)

// Every benchmark reports x_verify, cpu-ns/op and cpu-x_verify against one
// raw ed25519.Verify measured in the same process (meter_test.go).
// Store-touching benchmarks run on SQLite (temp file) and on PostgreSQL
// when SIGIL_TEST_POSTGRES is set; "parallel" variants run 4 goroutines per GOMAXPROCS, each with its
// own user or session, and their ns/op is wall time per operation.

// BenchmarkRawEd25519Verify is the baseline itself (x_verify ≈ 1 checks
// the baseline measure against testing's own).
func BenchmarkRawEd25519Verify(b *testing.B) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	sig := ed25519.Sign(priv, verifyInput)
	done := meter(b)
	for b.Loop() {
		if !ed25519.Verify(pub, verifyInput, sig) {
			b.Fatal("verify")
		}
	}
	done()
}

// BenchmarkRawEd25519Sign is the cost a client pays per login and the
// server pays per minted token.
func BenchmarkRawEd25519Sign(b *testing.B) {
	_, priv, _ := ed25519.GenerateKey(nil)
	done := meter(b)
	for b.Loop() {
		ed25519.Sign(priv, verifyInput)
	}
	done()
}

// accessClaims are the claims authn mints for a key-pair session.
func accessClaims() *token.Claims {
	now := time.Now().Truncate(time.Second)
	return &token.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: issuer, Subject: "bench-user", Audience: jwt.ClaimStrings{issuer},
			ExpiresAt: jwt.NewNumericDate(now.Add(25 * time.Minute)), IssuedAt: jwt.NewNumericDate(now),
			ID: "bWludGVkLWZvci1iZW5jaA",
		},
		SessionID: "ses_abcdefghijklmnopqrstuvwxyz", Workspace: "ws_abcdefghijklmnopqrstuvwxyz",
		Scope: "read write", AMR: []string{authn.MethodPubkey},
	}
}

// BenchmarkTokenMint signs an access token with the keyring's key.
func BenchmarkTokenMint(b *testing.B) {
	e := newEnv(b, "sqlite")
	c := accessClaims()
	done := meter(b)
	for b.Loop() {
		if _, err := e.keys.Mint(b.Context(), c); err != nil {
			b.Fatal(err)
		}
	}
	done()
}

// BenchmarkTokenVerify verifies a real access token without any cache:
// what the first request with a new token costs.
func BenchmarkTokenVerify(b *testing.B) {
	e := newEnv(b, "sqlite")
	_, resp := e.mustRegister(b)
	ver := token.NewVerifier(e.keys, issuer, time.Now, 0)
	done := meter(b)
	for b.Loop() {
		if _, err := ver.Verify(b.Context(), resp.AccessToken); err != nil {
			b.Fatal(err)
		}
	}
	done()
}

// BenchmarkAuthenticate is the check behind every authenticated request
// (GET /) with a warm verified-token cache: the session-liveness cache
// still expires every 500 ms and then reads the store.
func BenchmarkAuthenticate(b *testing.B) {
	eachBackend(b, func(b *testing.B, e *env) {
		_, resp := e.mustRegister(b)
		cred := authn.Credential{Authorization: "Bearer " + resp.AccessToken}
		if _, err := e.auth.Authenticate(b.Context(), cred); err != nil {
			b.Fatal(err)
		}
		b.Run("serial", func(b *testing.B) {
			done := meter(b)
			for b.Loop() {
				if _, err := e.auth.Authenticate(b.Context(), cred); err != nil {
					b.Fatal(err)
				}
			}
			done()
		})
		b.Run("parallel", func(b *testing.B) {
			done := meter(b)
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if _, err := e.auth.Authenticate(context.Background(), cred); err != nil {
						b.Error(err)
						return
					}
				}
			})
			done()
		})
	})
}

// BenchmarkHelloHandler is GET / through the whole HTTP handler
// (middleware, metrics, log, Authenticate with a warm cache, JSON) without
// the network, with request logs off (warn) and on (info, JSON to
// io.Discard).
func BenchmarkHelloHandler(b *testing.B) {
	e := newEnv(b, "sqlite")
	_, resp := e.mustRegister(b)
	for _, level := range []slog.Level{slog.LevelWarn, slog.LevelInfo} {
		b.Run("log="+strings.ToLower(level.String()), func(b *testing.B) {
			h := e.handler(level)
			req := httptest.NewRequest(http.MethodGet, "/", nil)
			req.Header.Set("Authorization", "Bearer "+resp.AccessToken)
			done := meter(b)
			for b.Loop() {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("GET / → %d %s", rec.Code, rec.Body)
				}
			}
			done()
		})
	}
}

// BenchmarkIssueCode is POST /v1/auth/code's work: a challenge and one
// stored (hashed) code.
func BenchmarkIssueCode(b *testing.B) {
	eachBackend(b, func(b *testing.B, e *env) {
		u, _ := e.mustRegister(b)
		done := meter(b)
		for b.Loop() {
			if _, err := e.auth.IssueCode(b.Context(), clientAddr, u.id); err != nil {
				b.Fatal(err)
			}
		}
		done()
	})
}

// BenchmarkKeyPairLogin is one whole login of a registered user: issue a
// code, sign it (client side: one ed25519.Sign, about 0.4 x_verify, is
// inside the figure), and exchange it for a new session's tokens.
func BenchmarkKeyPairLogin(b *testing.B) {
	eachBackend(b, func(b *testing.B, e *env) {
		b.Run("serial", func(b *testing.B) {
			u, _ := e.mustRegister(b)
			done := meter(b)
			for b.Loop() {
				if _, err := e.login(b.Context(), u); err != nil {
					b.Fatal(err)
				}
			}
			done()
		})
		b.Run("parallel", func(b *testing.B) {
			b.SetParallelism(4)
			done := meter(b)
			b.RunParallel(func(pb *testing.PB) {
				u, _, err := e.register(context.Background())
				for err == nil && pb.Next() {
					_, err = e.login(context.Background(), u)
				}
				if err != nil {
					b.Error(err)
				}
			})
			done()
		})
	})
}

// BenchmarkRefresh rotates one session's refresh token again and again
// (each child is the next parent), as a long-lived client does.
func BenchmarkRefresh(b *testing.B) {
	eachBackend(b, func(b *testing.B, e *env) {
		b.Run("serial", func(b *testing.B) {
			_, resp := e.mustRegister(b)
			rt := resp.RefreshToken
			done := meter(b)
			for b.Loop() {
				r, err := e.auth.Refresh(b.Context(), clientAddr, rt)
				if err != nil {
					b.Fatal(err)
				}
				rt = r.RefreshToken
			}
			done()
		})
		b.Run("parallel", func(b *testing.B) {
			b.SetParallelism(4)
			done := meter(b)
			b.RunParallel(func(pb *testing.PB) {
				_, resp, err := e.register(context.Background())
				for err == nil && pb.Next() {
					resp, err = e.auth.Refresh(context.Background(), clientAddr, resp.RefreshToken)
				}
				if err != nil {
					b.Error(err)
				}
			})
			done()
		})
	})
}
