package httpapi_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pquerna/otp/totp"

	"github.com/sigil-auth/sigil/internal/ratelimit"
	"github.com/sigil-auth/sigil/internal/testenv"
)

// totpCode is the authenticator app's code for secret at the clock's now.
func totpCode(t testing.TB, secret string, c *testenv.Clock) string {
	t.Helper()
	code, err := totp.GenerateCode(secret, c.Now())
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// tokenClaims decodes an access token's payload (the signature is the
// server's business; these tests read the amr and aal it wrote).
func tokenClaims(t testing.TB, jwt string) map[string]any {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", jwt)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	return c
}

// wantAssurance checks an access token's amr and aal.
func wantAssurance(t testing.TB, r resp, amr []any, aal string) {
	t.Helper()
	c := tokenClaims(t, r.Str("access_token"))
	if d := cmp.Diff(amr, c["amr"]); d != "" || c["aal"] != aal {
		t.Errorf("amr %v aal %v, want %v %s", c["amr"], c["aal"], amr, aal)
	}
}

// enrolTOTP enrols and activates an authenticator app for the bearer
// and returns its secret. The activating code's step is then used.
func enrolTOTP(t testing.TB, s *testenv.Server, at string) string {
	t.Helper()
	e := call(t, "POST", s.URL+"/v1/users/me/factors/totp", nil, at)
	want(t, e, 201, "")
	secret := e.Str("secret")
	if secret == "" || !strings.HasPrefix(e.Str("otpauth_url"), "otpauth://totp/") || !strings.HasPrefix(e.Str("qr_svg"), "<svg") {
		t.Fatalf("enrolment: %s", e.Raw)
	}
	v := call(t, "POST", s.URL+"/v1/users/me/factors/"+e.Str("id")+"/verify", map[string]string{"code": totpCode(t, secret, s.Clock)}, at)
	want(t, v, 200, "")
	if v.Str("status") != "active" {
		t.Fatalf("verified factor: %s", v.Raw)
	}
	return secret
}

// mfaLogin is a password login that must answer an MFA challenge.
func mfaLogin(t *testing.T, base, email, pw string, kinds ...any) string {
	t.Helper()
	r := pwLogin(t, base, email, pw)
	want(t, r, 200, "")
	if r.Body["mfa_required"] != true || r.Str("access_token") != "" || !cmp.Equal(r.Body["factors"], kinds) {
		t.Fatalf("login of a person with TOTP: %s", r.Raw)
	}
	return r.Str("mfa_token")
}

func mfaVerify(t testing.TB, base, mfaToken, code string) resp {
	t.Helper()
	return call(t, "POST", base+"/v1/auth/mfa/verify", map[string]string{"mfa_token": mfaToken, "code": code})
}

func TestTOTPLogin(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{Passwords: fastPasswords, Limits: ratelimit.DefaultRules()})
		_, join := workspace(t, s.URL)
		const email, pw = "ada@example.com", "correct horse battery"
		at := bearer(signup(t, s.URL, join, email, pw).Str("access_token"))

		list := call(t, "GET", s.URL+"/v1/users/me/factors", nil, at)
		want(t, list, 200, "")
		if items, _ := list.Body["items"].([]any); len(items) != 0 {
			t.Fatalf("factors before enrolment: %s", list.Raw)
		}
		// A pending enrolment does not change the login.
		e := call(t, "POST", s.URL+"/v1/users/me/factors/totp", nil, at)
		want(t, e, 201, "")
		plain := pwLogin(t, s.URL, email, pw)
		want(t, plain, 200, "")
		wantAssurance(t, plain, []any{"pwd"}, "aal1")
		want(t, call(t, "POST", s.URL+"/v1/users/me/factors/"+e.Str("id")+"/verify", map[string]string{"code": "000000"}, at), 401, "invalid_code")
		want(t, call(t, "POST", s.URL+"/v1/users/me/factors/"+e.Str("id")+"/verify", map[string]string{}, at), 400, "invalid_request")
		secret := enrolTOTP(t, s, at) // replaces the pending one
		want(t, call(t, "POST", s.URL+"/v1/users/me/factors/totp", nil, at), 409, "conflict")

		// The enrolment's code (its step) is spent: the same code is refused.
		tok := mfaLogin(t, s.URL, email, pw, "totp")
		want(t, mfaVerify(t, s.URL, tok, totpCode(t, secret, s.Clock)), 401, "invalid_code")
		want(t, mfaVerify(t, s.URL, "mfa_bogus", "123456"), 401, "invalid_token")
		s.Clock.Add(30 * time.Second)
		code := totpCode(t, secret, s.Clock)
		got := mfaVerify(t, s.URL, tok, code)
		want(t, got, 200, "")
		wantAssurance(t, got, []any{"pwd", "otp"}, "aal2")
		// The mfa_token completes one login only, and the code's step is spent.
		s.Clock.Add(30 * time.Second)
		want(t, mfaVerify(t, s.URL, tok, totpCode(t, secret, s.Clock)), 401, "invalid_token")
		want(t, mfaVerify(t, s.URL, mfaLogin(t, s.URL, email, pw, "totp"), code), 401, "invalid_code") // previous step: in the window, used
		// Refresh keeps amr and aal.
		ref := call(t, "POST", s.URL+"/v1/auth/refresh", map[string]string{"refresh_token": got.Str("refresh_token")})
		want(t, ref, 200, "")
		wantAssurance(t, ref, []any{"pwd", "otp"}, "aal2")
		// A token outlives nothing: five minutes, then invalid_token.
		late := mfaLogin(t, s.URL, email, pw, "totp")
		s.Clock.Add(5*time.Minute + time.Second)
		want(t, mfaVerify(t, s.URL, late, totpCode(t, secret, s.Clock)), 401, "invalid_token")

		// Removing the factor turns the second step off.
		list = call(t, "GET", s.URL+"/v1/users/me/factors", nil, at)
		items, _ := list.Body["items"].([]any)
		if len(items) != 1 {
			t.Fatalf("factors: %s", list.Raw)
		}
		id := items[0].(map[string]any)["id"].(string)
		want(t, call(t, "DELETE", s.URL+"/v1/users/me/factors/"+id, nil, at), 204, "")
		want(t, call(t, "DELETE", s.URL+"/v1/users/me/factors/"+id, nil, at), 404, "not_found")
		plain = pwLogin(t, s.URL, email, pw)
		want(t, plain, 200, "")
		wantAssurance(t, plain, []any{"pwd"}, "aal1")
	})
}

func TestRecoveryCodeLogin(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{Passwords: fastPasswords})
		_, join := workspace(t, s.URL)
		const email, pw = "ada@example.com", "correct horse battery"
		at := bearer(signup(t, s.URL, join, email, pw).Str("access_token"))
		enrolTOTP(t, s, at)
		rc := call(t, "POST", s.URL+"/v1/users/me/factors/recovery", nil, at)
		want(t, rc, 201, "")
		codes, _ := rc.Body["codes"].([]any)
		if len(codes) != 10 {
			t.Fatalf("recovery codes: %s", rc.Raw)
		}
		code := codes[3].(string)
		got := mfaVerify(t, s.URL, mfaLogin(t, s.URL, email, pw, "totp", "recovery"), strings.ToUpper(code))
		want(t, got, 200, "")
		wantAssurance(t, got, []any{"pwd", "rc"}, "aal2")
		want(t, mfaVerify(t, s.URL, mfaLogin(t, s.URL, email, pw, "totp", "recovery"), code), 401, "invalid_code")
		// The person is told, and it is in the audit log.
		deadline := time.Now().Add(2 * time.Second)
		for !mailed(s, email, "recovery code") {
			if time.Now().After(deadline) {
				t.Fatalf("no recovery-code mail in %v", s.Outbox.Messages())
			}
			time.Sleep(10 * time.Millisecond)
		}
		testenv.WantAudit(t, s.URL+"/v1/audit", bearer(testenv.AdminToken), "factor.recovery_used")
		// A new set replaces the old one.
		want(t, call(t, "POST", s.URL+"/v1/users/me/factors/recovery", nil, at), 201, "")
		want(t, mfaVerify(t, s.URL, mfaLogin(t, s.URL, email, pw, "totp", "recovery"), codes[4].(string)), 401, "invalid_code")
	})
}

func mailed(s *testenv.Server, to, subject string) bool {
	for _, m := range s.Outbox.Messages() {
		if m.To == to && strings.Contains(m.Subject, subject) {
			return true
		}
	}
	return false
}

// TestTOTPLimit: five code attempts per person per minute; the sixth is
// 429 even with the right code, on verify and on enrolment alike.
func TestTOTPLimit(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{Passwords: fastPasswords, Limits: ratelimit.DefaultRules(), TrustProxy: true})
		_, join := workspace(t, s.URL)
		const email, pw = "ada@example.com", "correct horse battery"
		at := bearer(signup(t, s.URL, join, email, pw).Str("access_token"))
		secret := enrolTOTP(t, s, at) // attempt 1
		s.Clock.Add(time.Minute)
		tok := mfaLogin(t, s.URL, email, pw, "totp")
		// Missing fields are bad input (400), not attempts: the five
		// attempts below still reach the limit, no fewer.
		for _, body := range []map[string]string{{"mfa_token": tok}, {"mfa_token": tok, "code": ""}, {"code": "123456"}, {}} {
			want(t, call(t, "POST", s.URL+"/v1/auth/mfa/verify", body), 400, "invalid_request")
		}
		for i := range 5 {
			want(t, call(t, "POST", s.URL+"/v1/auth/mfa/verify", map[string]string{"mfa_token": tok, "code": fmt.Sprintf("%06d", i)},
				xff(fmt.Sprintf("10.1.0.%d", i))), 401, "invalid_code")
		}
		r := call(t, "POST", s.URL+"/v1/auth/mfa/verify", map[string]string{"mfa_token": tok, "code": totpCode(t, secret, s.Clock)}, xff("10.1.1.1"))
		want(t, r, 429, "rate_limited")
		s.Clock.Add(time.Minute)
		want(t, mfaVerify(t, s.URL, tok, totpCode(t, secret, s.Clock)), 200, "")
	})
}

// TestTOTPReplayOtherReplica: a code accepted on one replica is refused
// on another sharing the PostgreSQL store.
func TestTOTPReplayOtherReplica(t *testing.T) {
	db := testenv.NewDatabase(t, "postgres")
	clock := testenv.NewClock()
	o := testenv.Options{Clock: clock, Passwords: fastPasswords}
	a, b := testenv.Start(t, db, o), testenv.Start(t, db, o)
	_, join := workspace(t, a.URL)
	const email, pw = "ada@example.com", "correct horse battery"
	at := bearer(signup(t, a.URL, join, email, pw).Str("access_token"))
	secret := enrolTOTP(t, a, at)
	clock.Add(30 * time.Second)
	code := totpCode(t, secret, clock)
	onA, onB := mfaLogin(t, a.URL, email, pw, "totp"), mfaLogin(t, b.URL, email, pw, "totp")
	want(t, mfaVerify(t, a.URL, onA, code), 200, "")
	want(t, mfaVerify(t, b.URL, onB, code), 401, "invalid_code")
	// And an mfa_token completed on A is spent on B too.
	clock.Add(30 * time.Second)
	want(t, mfaVerify(t, b.URL, onA, totpCode(t, secret, clock)), 401, "invalid_token")
	clock.Add(30 * time.Second) // that attempt spent its code's step
	want(t, mfaVerify(t, b.URL, onB, totpCode(t, secret, clock)), 200, "")
}
