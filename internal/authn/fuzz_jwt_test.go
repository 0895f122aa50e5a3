package authn_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sigil-auth/sigil/internal/authn"
	"github.com/sigil-auth/sigil/internal/testenv"
)

// FuzzCustomerJWT drives arbitrary bearer tokens through Authenticate on
// a real server with one JWT key: nothing panics, every refusal is an
// *authn.Error, and only tokens signed with the key's secret pass.
func FuzzCustomerJWT(f *testing.F) {
	s := testenv.Start(f, testenv.NewDatabase(f, "sqlite"), testenv.Options{})
	ctx := context.Background()
	admin, err := s.Auth.Authenticate(ctx, authn.Credential{Authorization: testenv.AdminToken})
	if err != nil {
		f.Fatal(err)
	}
	ws, err := s.Auth.CreateWorkspace(ctx, admin, "fuzz")
	if err != nil {
		f.Fatal(err)
	}
	key, err := s.Auth.CreateJWTKey(ctx, testenv.LocalIP, admin, authn.NewJWTKeyInput{Name: "k", WorkspaceID: ws.ID})
	if err != nil {
		f.Fatal(err)
	}
	good := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{"sub": "c", "exp": s.Clock.Now().Add(time.Hour).Unix()})
	good.Header["kid"] = key.ID
	tok, _ := good.SignedString([]byte(key.Secret))
	parts := strings.Split(tok, ".")
	for _, seed := range []string{tok, parts[0] + "." + parts[1] + ".", "eyJhbGciOiJIUzI1NiJ9.e30.", "a.b.c",
		"eyJhbGciOiJIUzI1NiIsImtpZCI6IngifQ.e30.sig", tok[:len(tok)-2]} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		p, err := s.Auth.Authenticate(ctx, authn.Credential{Authorization: "Bearer " + raw})
		if err != nil {
			var e *authn.Error
			if !errors.As(err, &e) {
				t.Fatalf("non-domain error %T %v", err, err)
			}
			return
		}
		if p.Kind == authn.KindJWTKey && !strings.HasSuffix(strings.TrimSpace(raw), parts[2]) {
			t.Fatalf("accepted a token not signed with the key: %q", raw)
		}
	})
}
