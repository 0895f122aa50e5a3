package httpapi_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// FuzzPasskeyFinish sends arbitrary credentials (the browser's
// PublicKeyCredential JSON, which go-webauthn parses: CBOR attestation
// objects, COSE keys, authenticator data) to the three finishes that take
// one: registration, passwordless sign-in and the MFA step. Never a 5xx;
// every error has the §1 body.
func FuzzPasskeyFinish(f *testing.F) {
	s := testenv.Start(f, testenv.NewDatabase(f, "sqlite"), testenv.Options{Passwords: fastPasswords})
	_, join := workspace(f, s.URL)
	su := call(f, "POST", s.URL+"/v1/auth/signup", map[string]string{"email": "ada@example.com",
		"password": "correct horse battery", "join_code": join})
	at := bearer(su.Str("access_token"))
	// Seeds are near misses: with a complete, valid credential among the
	// seeds the fuzzing worker stalled after a few executions here (not
	// understood yet; the valid paths are the other passkey tests').
	f.Add(uint8(2), []byte(`{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"e30","authenticatorData":"AA","signature":"AA"}}`))
	f.Add(uint8(0), []byte(`{"id":"AA","rawId":"AA","type":"public-key","response":{"clientDataJSON":"e30","attestationObject":"oWNmbXRkbm9uZQ"}}`))
	f.Add(uint8(1), []byte(`null`))
	// A bounded client: a request that hangs fails the input (and the
	// fuzzer keeps it) instead of stalling the run.
	client := &http.Client{Timeout: 5 * time.Second}
	post := func(t *testing.T, url, body string, hdr ...string) resp {
		r := testenv.Do(t, client, "POST", url, body, hdr...)
		if r.Status >= 500 {
			t.Errorf("POST %s → %d %s", url, r.Status, r.Raw)
		}
		return r
	}
	// A passkey on the account, so that the password login asks for the
	// second step and target 2 reaches the passkey check with a live
	// mfa_token (without one every input stopped at the token).
	enrolPasskey(f, s.URL, at, testenv.NewAuthenticator(f, passkeyOrigin), "fuzz")
	mfa := call(f, "POST", s.URL+"/v1/auth/login", map[string]string{"email": "ada@example.com", "password": "correct horse battery"})
	if mfa.Str("mfa_token") == "" {
		f.Fatalf("login without the second step: %d %s", mfa.Status, mfa.Raw)
	}
	f.Fuzz(func(t *testing.T, target uint8, cred []byte) {
		if !json.Valid(cred) {
			cred, _ = json.Marshal(string(cred)) // still JSON: the body around it must parse
		}
		var r resp
		switch target % 3 {
		case 0:
			r = post(t, s.URL+"/v1/users/me/factors/webauthn/finish",
				`{"name":"k","credential":`+string(cred)+`}`, at)
		case 1:
			r = post(t, s.URL+"/v1/auth/webauthn/finish", `{"credential":`+string(cred)+`}`)
		default:
			r = post(t, s.URL+"/v1/auth/mfa/verify",
				`{"mfa_token":"`+mfa.Str("mfa_token")+`","webauthn":`+string(cred)+`}`)
		}
		if r.Status >= 400 && (r.Str("error") == "" || r.Str("detail") == "") {
			t.Fatalf("target %d → %d without §1 body: %s", target%3, r.Status, r.Raw)
		}
	})
}
