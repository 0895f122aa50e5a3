package httpapi_test

import (
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// mint signs claims the way a customer would (the vendor's example):
// HS256 keyed with the secret's UTF-8 bytes, kid in the header.
func mint(t *testing.T, method jwt.SigningMethod, kid, secret string, claims jwt.MapClaims) string {
	t.Helper()
	tok := jwt.NewWithClaims(method, claims)
	if kid != "" {
		tok.Header["kid"] = kid
	}
	s, err := tok.SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestCustomerJWTs(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{})
		ws, join := workspace(t, s.URL)
		u := userToken(t, s.URL, join, "olivia")
		k := call(t, "POST", s.URL+"/v1/jwt-keys", map[string]any{"name": "web"}, u)
		want(t, k, 201, "")
		kid, secret := k.Str("id"), k.Str("secret")
		if len(kid) != 36 || len(secret) < 43 || k.Str("algorithm") != "HS256" {
			t.Fatalf("jwt key: %s", k.Raw)
		}
		now := s.Clock.Now()
		exp := func(d time.Duration) jwt.MapClaims {
			return jwt.MapClaims{"sub": "customer-42", "exp": now.Add(d).Unix(), "iat": now.Unix()}
		}
		good := mint(t, jwt.SigningMethodHS256, kid, secret, exp(time.Hour))
		want(t, call(t, "GET", s.URL+"/", nil, bearer(good)), 200, "")
		who := call(t, "GET", s.URL+"/v1/whoami", nil, bearer(good))
		if who.Str("kind") != "jwt_key" || who.Str("subject") != "customer-42" || who.Str("workspace_id") != ws {
			t.Errorf("whoami: %s", who.Raw)
		}

		// Missing kid: the exact body of API.md §5.2.
		r := call(t, "GET", s.URL+"/", nil, bearer(mint(t, jwt.SigningMethodHS256, "", secret, exp(time.Hour))))
		want(t, r, 401, "missing_kid")
		if r.Str("detail") != "jwt token is missing 'kid' header parameter" {
			t.Errorf("detail %q", r.Str("detail"))
		}
		noExp := jwt.MapClaims{"sub": "x"}
		tests := map[string]string{
			"unknown kid":    mint(t, jwt.SigningMethodHS256, "8f14e45f-ceea-467f-a8f6-6f2d3c6b8c11", secret, exp(time.Hour)),
			"kid not a uuid": mint(t, jwt.SigningMethodHS256, "web", secret, exp(time.Hour)),
			"wrong secret":   mint(t, jwt.SigningMethodHS256, kid, secret+"x", exp(time.Hour)),
			"no exp":         mint(t, jwt.SigningMethodHS256, kid, secret, noExp),
			"expired":        mint(t, jwt.SigningMethodHS256, kid, secret, exp(-2*time.Minute)),
			"HS512":          mint(t, jwt.SigningMethodHS512, kid, secret, exp(time.Hour)),
			"alg none":       noneToken(kid),
		}
		for name, tok := range tests {
			t.Run(name, func(t *testing.T) {
				want(t, call(t, "GET", s.URL+"/", nil, bearer(tok)), 401, "invalid_token")
			})
		}
		// 60 s leeway: expired 30 s ago still passes.
		want(t, call(t, "GET", s.URL+"/", nil, bearer(mint(t, jwt.SigningMethodHS256, kid, secret, exp(-30*time.Second)))), 200, "")
		// Any horizon, unless the workspace caps it.
		far := mint(t, jwt.SigningMethodHS256, kid, secret, exp(24*365*time.Hour))
		want(t, call(t, "GET", s.URL+"/", nil, bearer(far)), 200, "")
		want(t, call(t, "PATCH", s.URL+"/v1/workspaces/"+ws, map[string]string{"jwt_max_lifetime": "24h"}, u), 200, "")
		want(t, call(t, "GET", s.URL+"/", nil, bearer(far)), 401, "invalid_token")
		want(t, call(t, "GET", s.URL+"/", nil, bearer(good)), 200, "")

		// A scope claim narrows the key's scopes, never widens them.
		narrow := exp(time.Hour)
		narrow["scope"] = "read admin"
		who = call(t, "GET", s.URL+"/v1/whoami", nil, bearer(mint(t, jwt.SigningMethodHS256, kid, secret, narrow)))
		if sc := who.Body["scopes"].([]any); len(sc) != 1 || sc[0] != "read" {
			t.Errorf("scopes %v", sc)
		}
		// Lists never show the secret; deletion refuses its tokens at once.
		l := call(t, "GET", s.URL+"/v1/jwt-keys", nil, u)
		if len(l.Body["items"].([]any)) != 1 || strings.Contains(string(l.Raw), secret) {
			t.Fatalf("list: %s", l.Raw)
		}
		want(t, call(t, "DELETE", s.URL+"/v1/jwt-keys/"+kid, nil, userToken(t, s.URL, join, "mike")), 404, "not_found")
		want(t, call(t, "DELETE", s.URL+"/v1/jwt-keys/"+kid, nil, u), 204, "")
		want(t, call(t, "GET", s.URL+"/", nil, bearer(good)), 401, "invalid_token")
		want(t, call(t, "DELETE", s.URL+"/v1/jwt-keys/"+kid, nil, u), 404, "not_found")
	})
}

func noneToken(kid string) string {
	tok := jwt.NewWithClaims(jwt.SigningMethodNone, jwt.MapClaims{"sub": "x", "exp": 9999999999})
	tok.Header["kid"] = kid
	s, _ := tok.SignedString(jwt.UnsafeAllowNoneSignatureType)
	return s
}
