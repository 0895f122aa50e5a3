package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/sigil-auth/sigil/client"
	"github.com/sigil-auth/sigil/internal/testenv"
)

// TestLoginPasswordWithTOTP: for an account with an authenticator app,
// LoginPassword answers *MFARequiredError instead of empty tokens, a wrong
// code is a 401 invalid_code that leaves the token usable, and VerifyMFA
// with the right code gives a session whose token works.
func TestLoginPasswordWithTOTP(t *testing.T) {
	e := newEnv(t, testenv.Options{})
	ctx := context.Background()
	const email, pw = "mia@example.com", "correct horse battery"
	first, err := e.c.Signup(ctx, email, pw, e.join)
	if err != nil {
		t.Fatal(err)
	}
	var f struct{ ID, Secret string }
	userCall(t, first.AccessToken, http.MethodPost, e.srv.URL+"/v1/users/me/factors/totp", `{}`, http.StatusCreated, &f)
	now := e.srv.Clock.Now()
	code, _ := totp.GenerateCode(f.Secret, now)
	userCall(t, first.AccessToken, http.MethodPost, e.srv.URL+"/v1/users/me/factors/"+f.ID+"/verify",
		`{"code":"`+code+`"}`, http.StatusOK, nil)

	tok, err := e.c.LoginPassword(ctx, email, pw)
	var mfa *client.MFARequiredError
	if !errors.As(err, &mfa) || tok != nil || mfa.Token == "" || len(mfa.Factors) == 0 {
		t.Fatalf("LoginPassword = %+v, %v; want *MFARequiredError", tok, err)
	}
	var apiErr *client.Error
	if _, err := e.c.VerifyMFA(ctx, mfa.Token, "000000"); !errors.As(err, &apiErr) || apiErr.Status != 401 || apiErr.Code != "invalid_code" {
		t.Fatalf("VerifyMFA with a wrong code: %v", err)
	}
	next, _ := totp.GenerateCode(f.Secret, now.Add(30*time.Second)) // the enrolment used this step's
	tok, err = e.c.VerifyMFA(ctx, mfa.Token, next)
	if err != nil || tok.AccessToken == "" || tok.RefreshToken == "" {
		t.Fatalf("VerifyMFA = %+v, %v", tok, err)
	}
	if id, err := e.c.Whoami(ctx, tok.AccessToken); err != nil || id.Subject == "" {
		t.Fatalf("whoami with the second-factor session: %+v, %v", id, err)
	}
	if _, err := e.c.VerifyMFA(ctx, "", next); err == nil {
		t.Error("VerifyMFA without a token sent a request")
	}
}

// userCall sends body as JSON with a user's bearer token and decodes the
// answer into out (if not nil), failing t unless the status is want.
func userCall(t *testing.T, bearer, method, url, body string, want int, out any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, bytes.NewReader([]byte(body)))
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		t.Fatalf("%s %s: %d, want %d", method, url, resp.StatusCode, want)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatal(err)
		}
	}
}
