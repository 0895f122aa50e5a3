package bench

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"net/url"
	"testing"

	"github.com/sigil-auth/sigil/internal/authn"
	"github.com/sigil-auth/sigil/internal/token"
)

const benchRedirect = "http://127.0.0.1:9/callback"

// BenchmarkRawRSA2048Sign is the crypto floor of an RS256 ID token: one
// PKCS #1 v1.5 signature with a 2048-bit key.
func BenchmarkRawRSA2048Sign(b *testing.B) {
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		b.Fatal(err)
	}
	sum := sha256.Sum256([]byte("ID token signing input"))
	done := meter(b)
	for b.Loop() {
		if _, err := rsa.SignPKCS1v15(nil, k, crypto.SHA256, sum[:]); err != nil {
			b.Fatal(err)
		}
	}
	done()
}

// oidcFixture is a signed-in browser and a checked authorization request
// of an app whose ID tokens use alg.
type oidcFixture struct {
	az       authn.Authorization
	browser  authn.BrowserSession
	clientID string
	verifier string
}

func (e *env) oidcFixture(b *testing.B, alg string) oidcFixture {
	b.Helper()
	ctx := context.Background()
	admin := authn.Principal{Kind: authn.KindAdmin, Subject: "admin"}
	email := "bench-" + newUser().id + "@example.com"
	if _, err := e.auth.Signup(ctx, clientAddr, authn.SignupInput{Email: email, Password: "correct horse battery", JoinCode: e.joinCode}); err != nil {
		b.Fatal(err)
	}
	br, err := e.auth.SignIn(ctx, clientAddr, authn.PasswordLogin{Email: email, Password: "correct horse battery"})
	if err != nil {
		b.Fatal(err)
	}
	app, err := e.auth.CreateApp(ctx, clientAddr, admin, br.WorkspaceID, authn.AppInput{Name: ptr("bench"),
		RedirectURIs: &[]string{benchRedirect}, IDTokenSignedResponseAlg: &alg})
	if err != nil {
		b.Fatal(err)
	}
	v := make([]byte, 32)
	rand.Read(v)
	verifier := base64.RawURLEncoding.EncodeToString(v)
	sum := sha256.Sum256([]byte(verifier))
	az, err := e.auth.CheckAuthorize(ctx, url.Values{"response_type": {"code"}, "client_id": {app.ClientID},
		"redirect_uri": {benchRedirect}, "scope": {"openid email"}, "state": {"s"}, "nonce": {"n"},
		"code_challenge": {base64.RawURLEncoding.EncodeToString(sum[:])}, "code_challenge_method": {"S256"}})
	if err != nil {
		b.Fatal(err)
	}
	return oidcFixture{az: az, browser: br, clientID: app.ClientID, verifier: verifier}
}

func ptr[T any](v T) *T { return &v }

// grant issues one code and returns it.
func (f oidcFixture) grant(b *testing.B, e *env) string {
	to, err := e.auth.GrantCode(context.Background(), clientAddr, f.az, f.browser)
	if err != nil {
		b.Fatal(err)
	}
	u, _ := url.Parse(to)
	return u.Query().Get("code")
}

// BenchmarkGrantCode is what /oauth2/authorize does for a browser that is
// signed in already: the browser session resolved, one code stored.
func BenchmarkGrantCode(b *testing.B) {
	eachBackend(b, func(b *testing.B, e *env) {
		f := e.oidcFixture(b, token.AlgRS256)
		ctx := context.Background()
		done := meter(b)
		for b.Loop() {
			if _, err := e.auth.Browser(ctx, f.browser.Cookie); err != nil {
				b.Fatal(err)
			}
			f.grant(b, e)
		}
		done()
	})
}

// BenchmarkCodeExchange is grant_type=authorization_code alone: one code
// redeemed for a new session, an EdDSA access token and an ID token of
// the app's algorithm (RS256: one RSA-2048 signature, see
// RawRSA2048Sign). The codes are issued before the timer and the CPU
// meter start.
func BenchmarkCodeExchange(b *testing.B) {
	eachBackend(b, func(b *testing.B, e *env) {
		for _, alg := range []string{token.AlgRS256, token.AlgEdDSA} {
			b.Run(alg, func(b *testing.B) {
				f := e.oidcFixture(b, alg)
				codes := make([]string, b.N)
				for i := range codes {
					codes[i] = f.grant(b, e)
				}
				ctx := context.Background()
				b.ResetTimer()
				done := meter(b)
				for i := 0; i < b.N; i++ {
					_, err := e.auth.ExchangeCode(ctx, clientAddr, authn.CodeExchange{Client: authn.ClientAuth{ID: f.clientID},
						Code: codes[i], RedirectURI: benchRedirect, CodeVerifier: f.verifier})
					if err != nil {
						b.Fatal(err)
					}
				}
				done()
			})
		}
	})
}
