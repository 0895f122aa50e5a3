package httpapi_test

import (
	"encoding/json"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// The tests' server is issuer http://sigil.test: RP ID sigil.test.
const passkeyOrigin = "http://sigil.test"

// enrolPasskey registers authenticator a for the bearer under name and
// returns the factor.
func enrolPasskey(t testing.TB, base, at string, a *testenv.Authenticator, name string) resp {
	t.Helper()
	begin := call(t, "POST", base+"/v1/users/me/factors/webauthn/begin", nil, at)
	want(t, begin, 200, "")
	f := call(t, "POST", base+"/v1/users/me/factors/webauthn/finish",
		map[string]any{"name": name, "credential": a.Create(t, begin.Raw)}, at)
	want(t, f, 201, "")
	return f
}

// mfaOptions is the webauthn request options of an MFA challenge.
func mfaOptions(t *testing.T, base, email, pw string) (string, []byte) {
	t.Helper()
	r := pwLogin(t, base, email, pw)
	want(t, r, 200, "")
	opts, err := json.Marshal(r.Body["webauthn"])
	if r.Body["mfa_required"] != true || r.Body["webauthn"] == nil || err != nil {
		t.Fatalf("login of a person with a passkey: %s", r.Raw)
	}
	return r.Str("mfa_token"), opts
}

func passkeyVerify(t testing.TB, base, mfaToken string, assertion json.RawMessage) resp {
	t.Helper()
	return call(t, "POST", base+"/v1/auth/mfa/verify", map[string]any{"mfa_token": mfaToken, "webauthn": assertion})
}

func TestPasskeyRegistration(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{Passwords: fastPasswords})
		_, join := workspace(t, s.URL)
		at := bearer(signup(t, s.URL, join, "ada@example.com", "correct horse battery").Str("access_token"))

		begin := call(t, "POST", s.URL+"/v1/users/me/factors/webauthn/begin", nil, at)
		want(t, begin, 200, "")
		pk, _ := begin.Body["publicKey"].(map[string]any)
		rp, _ := pk["rp"].(map[string]any)
		user, _ := pk["user"].(map[string]any)
		if rp["id"] != "sigil.test" || pk["attestation"] != "none" || user["name"] != "ada@example.com" ||
			strings.Contains(user["id"].(string), "ada") || begin.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("creation options: %s", begin.Raw)
		}
		a := testenv.NewAuthenticator(t, passkeyOrigin)
		cred := a.Create(t, begin.Raw)
		finish := func(name string, cred json.RawMessage) resp {
			return call(t, "POST", s.URL+"/v1/users/me/factors/webauthn/finish", map[string]any{"name": name, "credential": cred}, at)
		}
		want(t, finish(strings.Repeat("n", 65), cred), 400, "invalid_request")
		f := finish("  Work laptop ", cred)
		want(t, f, 201, "")
		if f.Str("kind") != "webauthn" || f.Str("name") != "Work laptop" || f.Str("status") != "active" || f.Body["last_used_at"] != nil {
			t.Fatalf("registered factor: %s", f.Raw)
		}
		// The challenge registers once.
		want(t, finish("again", cred), 400, "invalid_request")
		// The same authenticator again, on a fresh challenge: the options
		// exclude it, and a browser that ignored that gets a conflict.
		begin = call(t, "POST", s.URL+"/v1/users/me/factors/webauthn/begin", nil, at)
		if ex, _ := begin.Body["publicKey"].(map[string]any)["excludeCredentials"].([]any); len(ex) != 1 {
			t.Errorf("excludeCredentials: %s", begin.Raw)
		}
		want(t, finish("dup", a.Create(t, begin.Raw)), 409, "conflict")
		// Another origin, or a challenge of another person, is refused.
		evil := testenv.NewAuthenticator(t, "https://evil.example")
		begin = call(t, "POST", s.URL+"/v1/users/me/factors/webauthn/begin", nil, at)
		want(t, finish("evil", evil.Create(t, begin.Raw)), 400, "invalid_request")
		other := bearer(signup(t, s.URL, join, "bob@example.com", "correct horse battery").Str("access_token"))
		want(t, call(t, "POST", s.URL+"/v1/users/me/factors/webauthn/finish",
			map[string]any{"credential": testenv.NewAuthenticator(t, passkeyOrigin).Create(t, begin.Raw)}, other), 400, "invalid_request")
		// Not a credential at all.
		for _, body := range []string{`{}`, `{"credential": 5}`, `{"credential": {}}`, `{"credential": {"id": "x", "response": {}}}`,
			`{"credential": {"type": "public-key", "id": "AA", "rawId": "AA", "response": {"clientDataJSON": "e30", "attestationObject": "oA"}}}`} {
			want(t, call(t, "POST", s.URL+"/v1/users/me/factors/webauthn/finish", body, at), 400, "invalid_request")
		}
		// Listed, and removable.
		list := call(t, "GET", s.URL+"/v1/users/me/factors", nil, at)
		if items, _ := list.Body["items"].([]any); len(items) != 1 {
			t.Fatalf("factors: %s", list.Raw)
		}
		want(t, call(t, "DELETE", s.URL+"/v1/users/me/factors/"+f.Str("id"), nil, at), 204, "")
		// The admin token has no account to add a passkey to.
		want(t, call(t, "POST", s.URL+"/v1/users/me/factors/webauthn/begin", nil, bearer(testenv.AdminToken)), 403, "")
	})
}

func TestPasskeySecondFactor(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{Passwords: fastPasswords})
		_, join := workspace(t, s.URL)
		const email, pw = "ada@example.com", "correct horse battery"
		at := bearer(signup(t, s.URL, join, email, pw).Str("access_token"))
		a := testenv.NewAuthenticator(t, passkeyOrigin)
		enrolPasskey(t, s.URL, at, a, "YubiKey")

		tok, opts := mfaOptions(t, s.URL, email, pw)
		assertion := a.Get(t, opts)
		got := passkeyVerify(t, s.URL, tok, assertion)
		want(t, got, 200, "")
		wantAssurance(t, got, []any{"pwd", "hwk"}, "aal2")
		// The same answer again: refused (its counter did not move; and
		// the mfa_token is spent).
		want(t, passkeyVerify(t, s.URL, tok, assertion), 401, "invalid_code")
		// An assertion made for another login's challenge is refused.
		tok2, _ := mfaOptions(t, s.URL, email, pw)
		want(t, passkeyVerify(t, s.URL, tok2, a.Get(t, opts)), 401, "invalid_code")

		// A clone with the key but a stale counter is refused; the
		// original goes on working.
		clone := a.Clone()
		tok, opts = mfaOptions(t, s.URL, email, pw)
		want(t, passkeyVerify(t, s.URL, tok, a.Get(t, opts)), 200, "")
		tok, opts = mfaOptions(t, s.URL, email, pw)
		want(t, passkeyVerify(t, s.URL, tok, clone.Get(t, opts)), 401, "invalid_code")
		testenv.WantAudit(t, s.URL+"/v1/audit", bearer(testenv.AdminToken), "factor.passkey_counter")
		tok, opts = mfaOptions(t, s.URL, email, pw)
		want(t, passkeyVerify(t, s.URL, tok, a.Get(t, opts)), 200, "")

		// A wrong or junk assertion is a wrong code, never a 5xx.
		for _, junk := range []string{`"x"`, `{}`, `{"id": "AA", "rawId": "AA", "type": "public-key", "response": {}}`} {
			r := call(t, "POST", s.URL+"/v1/auth/mfa/verify", `{"mfa_token": "`+tok+`", "webauthn": `+junk+`}`)
			if r.Status != 401 && r.Status != 400 {
				t.Errorf("junk assertion %s: %d %s", junk, r.Status, r.Raw)
			}
		}
		// TOTP beside the passkey: both are offered.
		enrolTOTP(t, s, at)
		if r := pwLogin(t, s.URL, email, pw); !strings.Contains(string(r.Raw), `"factors":["webauthn","totp"]`) {
			t.Errorf("factors with a passkey and TOTP: %s", r.Raw)
		}
	})
}

// TestPasskeyFlags: a synced passkey is swk; one whose backup state
// changes (a passkey synced later) keeps working; one that keeps no
// counter works every time.
func TestPasskeyFlags(t *testing.T) {
	s := testenv.Start(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{Passwords: fastPasswords})
	_, join := workspace(t, s.URL)
	const email, pw = "ada@example.com", "correct horse battery"
	at := bearer(signup(t, s.URL, join, email, pw).Str("access_token"))
	a := testenv.NewAuthenticator(t, passkeyOrigin)
	a.BE, a.ZeroCounter = true, true
	enrolPasskey(t, s.URL, at, a, "iCloud Keychain")
	for i, bs := range []bool{false, true, true, false} {
		a.BS = bs
		tok, opts := mfaOptions(t, s.URL, email, pw)
		got := passkeyVerify(t, s.URL, tok, a.Get(t, opts))
		want(t, got, 200, "")
		if i == 0 {
			wantAssurance(t, got, []any{"pwd", "swk"}, "aal2")
		}
	}
	list := call(t, "GET", s.URL+"/v1/users/me/factors", nil, at)
	items, _ := list.Body["items"].([]any)
	if len(items) != 1 || items[0].(map[string]any)["last_used_at"] == nil {
		t.Errorf("factors: %s", list.Raw)
	}
}

func TestPasswordlessPasskey(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{Passwords: fastPasswords})
		_, join := workspace(t, s.URL)
		at := bearer(signup(t, s.URL, join, "ada@example.com", "correct horse battery").Str("access_token"))
		a := testenv.NewAuthenticator(t, passkeyOrigin)
		enrolPasskey(t, s.URL, at, a, "Phone")

		begin := func() []byte {
			r := call(t, "POST", s.URL+"/v1/auth/webauthn/begin", nil)
			want(t, r, 200, "")
			if pk, _ := r.Body["publicKey"].(map[string]any); pk["userVerification"] != "required" || pk["allowCredentials"] != nil {
				t.Fatalf("request options: %s", r.Raw)
			}
			return r.Raw
		}
		finish := func(cred json.RawMessage) resp {
			return call(t, "POST", s.URL+"/v1/auth/webauthn/finish", map[string]any{"credential": cred})
		}
		got := finish(a.Get(t, begin()))
		want(t, got, 200, "")
		wantAssurance(t, got, []any{"hwk", "mfa"}, "aal2")
		who := call(t, "GET", s.URL+"/v1/whoami", nil, bearer(got.Str("access_token")))
		want(t, who, 200, "")
		if who.Str("auth_method") != "hwk" { // the first factor, as "pwd" for "pwd+otp"
			t.Errorf("whoami: %s", who.Raw)
		}

		// Without user verification (a touch only) it is refused: alone, a
		// passkey must be two factors.
		a.UV = false
		want(t, finish(a.Get(t, begin())), 401, "invalid_credentials")
		a.UV = true
		// An unknown credential, an expired challenge, another origin.
		want(t, finish(testenv.NewAuthenticator(t, passkeyOrigin).Get(t, begin())), 401, "invalid_credentials")
		late := begin()
		s.Clock.Add(5*time.Minute + time.Second)
		want(t, finish(a.Get(t, late)), 401, "invalid_credentials")
		evil := a.Clone()
		evil.Origin = "https://evil.example"
		want(t, finish(evil.Get(t, begin())), 401, "invalid_credentials")
		// A registration challenge does not sign in.
		reg := call(t, "POST", s.URL+"/v1/users/me/factors/webauthn/begin", nil, at)
		var o struct {
			PublicKey struct{ Challenge string } `json:"publicKey"`
		}
		json.Unmarshal(reg.Raw, &o)
		want(t, finish(a.GetChallenge(t, "sigil.test", o.PublicKey.Challenge)), 401, "invalid_credentials")
		for _, body := range []string{`{}`, `{"credential": null}`, `{"credential": "x"}`, `{"credential": {"response": {"userHandle": 5}}}`} {
			want(t, call(t, "POST", s.URL+"/v1/auth/webauthn/finish", body), 401, "invalid_credentials")
		}
	})
}

// TestPasskeyChallengeRace: one assertion (of an authenticator that keeps
// no counter, so only the challenge stops a replay) sent concurrently
// signs in exactly once.
func TestPasskeyChallengeRace(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		s := testenv.Start(t, db, testenv.Options{Passwords: fastPasswords})
		_, join := workspace(t, s.URL)
		at := bearer(signup(t, s.URL, join, "ada@example.com", "correct horse battery").Str("access_token"))
		a := testenv.NewAuthenticator(t, passkeyOrigin)
		a.ZeroCounter = true
		enrolPasskey(t, s.URL, at, a, "Phone")
		r := call(t, "POST", s.URL+"/v1/auth/webauthn/begin", nil)
		body := map[string]any{"credential": a.Get(t, r.Raw)}
		const n = 10
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { statuses[i] = call(t, "POST", s.URL+"/v1/auth/webauthn/finish", body).Status })
		}
		wg.Wait()
		wins := 0
		for _, st := range statuses {
			switch st {
			case 200:
				wins++
			case 401:
			default:
				t.Errorf("status %d", st)
			}
		}
		if wins != 1 {
			t.Errorf("%d of %d concurrent finishes signed in, want 1: %v", wins, n, statuses)
		}
	})
}

// TestPasskeysNeedADomain: with an IP address as issuer (the test
// server's own URL) passkeys are refused with a reason, not a 5xx.
func TestPasskeysNeedADomain(t *testing.T) {
	s := testenv.Start(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{Passwords: fastPasswords, IssuerIsURL: true})
	_, join := workspace(t, s.URL)
	at := bearer(signup(t, s.URL, join, "ada@example.com", "correct horse battery").Str("access_token"))
	want(t, call(t, "POST", s.URL+"/v1/users/me/factors/webauthn/begin", nil, at), 400, "invalid_request")
	want(t, call(t, "POST", s.URL+"/v1/auth/webauthn/begin", nil), 400, "invalid_request")
}
