package authn_test

import (
	"errors"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/authn"
	"github.com/sigil-auth/sigil/internal/password"
	"github.com/sigil-auth/sigil/internal/ratelimit"
	"github.com/sigil-auth/sigil/internal/testenv"
)

const overviewPass = "correct horse battery"

// TestOverviewReplicas: two replicas on one database count sign-ins,
// failures and 429s of one workspace; what each counted adds up in the
// other's overview (one flushed at close, the other's own on read), in
// the right hours; only owners, admins and the instance admin may look.
func TestOverviewReplicas(t *testing.T) {
	for _, backend := range testenv.Backends {
		t.Run(backend, func(t *testing.T) {
			db, clock := testenv.NewDatabase(t, backend), testenv.NewClock()
			o := testenv.Options{Clock: clock, Passwords: password.New(password.Params{Memory: 256, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}, 0),
				Limits: map[string]ratelimit.Rule{ratelimit.RefreshToken: {Limit: 1, Window: time.Minute}}}
			a, b := testenv.Start(t, db, o), testenv.Start(t, db, o)
			ctx, ip := t.Context(), testenv.LocalIP
			ws, err := a.Auth.CreateWorkspace(ctx, admin, "acme")
			if err != nil {
				t.Fatal(err)
			}
			empty, err := b.Auth.Overview(ctx, admin, ws.ID)
			if err != nil || !empty.Empty() || len(empty.Hourly) != 24 || len(empty.Daily) != 30 {
				t.Fatalf("a new workspace's overview: %v, empty %v, %d hours, %d days", err, empty.Empty(), len(empty.Hourly), len(empty.Daily))
			}
			for _, email := range []string{"owner@acme.test", "member@acme.test"} {
				if _, err := a.Auth.Signup(ctx, ip, authn.SignupInput{Email: email, Password: overviewPass, JoinCode: ws.JoinCode}); err != nil {
					t.Fatal(err)
				}
			}
			owner, err := a.Auth.SignIn(ctx, ip, authn.PasswordLogin{Email: "owner@acme.test", Password: overviewPass}) // sign-in 1, on a
			if err != nil {
				t.Fatal(err)
			}
			tok, err := b.Auth.LoginPassword(ctx, ip, authn.PasswordLogin{Email: "member@acme.test", Password: overviewPass}) // 2, on b
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.Auth.LoginPassword(ctx, ip, authn.PasswordLogin{Email: "member@acme.test", Password: "nope-nope"}); err == nil {
				t.Fatal("a wrong password was accepted")
			}
			if _, err := b.Auth.LoginPassword(ctx, ip, authn.PasswordLogin{Email: "nobody@acme.test", Password: "nope-nope"}); err == nil {
				t.Fatal("an unknown email was accepted") // not attributable: not counted
			}
			if _, err := b.Auth.Refresh(ctx, ip, tok.RefreshToken); err != nil {
				t.Fatal(err)
			}
			var e *authn.Error
			if _, err := b.Auth.Refresh(ctx, ip, tok.RefreshToken); !errors.As(err, &e) || e.Code != authn.CodeRateLimited {
				t.Fatalf("second refresh within the limit's minute: %v, want rate_limited", err)
			}
			a.Auth.Close() // a's counts reach the store; b's are written by b's Overview

			clock.Add(2 * time.Hour)
			if _, err := b.Auth.LoginPassword(ctx, ip, authn.PasswordLogin{Email: "owner@acme.test", Password: overviewPass}); err != nil {
				t.Fatal(err)
			}
			got, err := b.Auth.Overview(ctx, authn.BrowserPrincipal(owner), ws.ID)
			if err != nil {
				t.Fatal(err)
			}
			type counts struct{ SignIns, Failures, Limited int64 }
			at := func(p authn.UsagePoint) counts { return counts{p.SignIns, p.Failures, p.RateLimited} }
			for name, c := range map[string]struct{ got, want counts }{
				"hour of the first logins": {at(got.Hourly[21]), counts{2, 1, 1}},
				"hour in between":          {at(got.Hourly[22]), counts{}},
				"this hour":                {at(got.Hourly[23]), counts{1, 0, 0}},
				"today":                    {at(got.Daily[29]), counts{3, 1, 1}},
				"yesterday":                {at(got.Daily[28]), counts{}},
			} {
				if c.got != c.want {
					t.Errorf("%s: %+v, want %+v", name, c.got, c.want)
				}
			}
			if !got.Hourly[21].Start.Equal(clock.Now().Add(-2*time.Hour).Truncate(time.Hour)) || got.Empty() {
				t.Errorf("buckets misplaced: hour 21 starts %v", got.Hourly[21].Start)
			}

			member, err := b.Auth.SignIn(ctx, ip, authn.PasswordLogin{Email: "member@acme.test", Password: overviewPass})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.Auth.Overview(ctx, authn.BrowserPrincipal(member), ws.ID); !errors.Is(err, authn.ErrForbidden) {
				t.Errorf("a member's overview: %v, want forbidden", err)
			}
			other, err := a.Auth.CreateWorkspace(ctx, admin, "other")
			if err != nil {
				t.Fatal(err)
			}
			if _, err := b.Auth.Overview(ctx, authn.BrowserPrincipal(owner), other.ID); err == nil {
				t.Error("an owner read another workspace's overview")
			}
		})
	}
}
