package authn_test

import (
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/sigil-auth/sigil/internal/authn"
	"github.com/sigil-auth/sigil/internal/password"
	"github.com/sigil-auth/sigil/internal/testenv"
)

// TestTOTPOneWinnerAcrossReplicas: the same code sent at once to two
// replicas sharing one database, each with its own challenge, signs in
// exactly once; the other gets invalid_code. The step is recorded in the
// store, so no replica-local memory decides it.
func TestTOTPOneWinnerAcrossReplicas(t *testing.T) {
	for _, backend := range testenv.Backends {
		t.Run(backend, func(t *testing.T) {
			db, clock := testenv.NewDatabase(t, backend), testenv.NewClock()
			o := testenv.Options{Clock: clock, Passwords: password.New(password.Params{Memory: 256, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 0)}
			a, b := testenv.Start(t, db, o), testenv.Start(t, db, o)
			ctx, ip := t.Context(), testenv.LocalIP
			ws, err := a.Auth.CreateWorkspace(ctx, admin, "acme")
			if err != nil {
				t.Fatal(err)
			}
			login := authn.PasswordLogin{Email: "ada@acme.test", Password: overviewPass}
			tok, err := a.Auth.Signup(ctx, ip, authn.SignupInput{Email: login.Email, Password: login.Password, JoinCode: ws.JoinCode})
			if err != nil {
				t.Fatal(err)
			}
			p, err := a.Auth.Authenticate(ctx, authn.Credential{Authorization: "Bearer " + tok.AccessToken})
			if err != nil {
				t.Fatal(err)
			}
			e, err := a.Auth.EnrolTOTP(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			code := func() string { c, _ := totp.GenerateCode(e.Secret, clock.Now()); return c }
			if _, err := b.Auth.VerifyFactor(ctx, ip, p, e.ID, code()); err != nil { // enrolled on A, confirmed on B
				t.Fatal(err)
			}
			for round := range 3 {
				clock.Add(30 * time.Second)
				var challenges [2]*authn.MFARequired
				for i, svc := range []*authn.Service{a.Auth, b.Auth} {
					if _, err := svc.LoginPassword(ctx, ip, login); !errors.As(err, &challenges[i]) {
						t.Fatalf("login: %v, want a challenge", err)
					}
				}
				c := code()
				var wg sync.WaitGroup
				errs := make([]error, 2)
				for i, svc := range []*authn.Service{a.Auth, b.Auth} {
					wg.Go(func() {
						_, errs[i] = svc.VerifyMFA(ctx, ip, authn.MFAVerify{MFAToken: challenges[i].Token, Code: c})
					})
				}
				wg.Wait()
				won := 0
				for _, err := range errs {
					switch {
					case err == nil:
						won++
					case !errors.Is(err, authn.ErrInvalidCode):
						t.Errorf("round %d: loser got %v, want invalid_code", round, err)
					}
				}
				if won != 1 {
					t.Fatalf("round %d: %d replicas accepted the same code (%v)", round, won, errs)
				}
			}
		})
	}
}
