package browser

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"testing"

	"github.com/sigil-auth/sigil/internal/ssotest"
	"github.com/sigil-auth/sigil/internal/testenv"
)

// SSO for the Node tests (tests/sso.test.mjs): a test OpenID provider and
// an Apple stand-in, each with a sign-in page for a person to click, and
// a connection to each in the workspace. The IdPs are served as
// "127.0.0.1" while Sigil is "localhost": another site, so Apple's
// form_post reaches Sigil as a cross-site POST, as it does for real.

// ssoPeople are the people at the IdPs.
var (
	ssoPerson   = ssotest.User{Subject: "idp-grace", Email: "grace@idp.test", EmailVerified: true, Name: "Grace Hopper"}
	applePerson = ssotest.User{Subject: "001234.apple", Email: "k9x2@privaterelay.appleid.com", EmailVerified: "true", Name: "Katherine Johnson"}
	// passkeyPerson adds a passkey as her second factor (her own, so the
	// other tests' sign-ins stay one step).
	passkeyPerson = ssotest.User{Subject: "idp-ada", Email: "ada@idp.test", EmailVerified: true, Name: "Ada Lovelace"}
)

// setUpSSO starts the IdPs, makes the connections and returns the Node
// tests' environment for them.
func setUpSSO(t *testing.T, sigilURL, ws string) map[string]string {
	t.Helper()
	oidc := ssotest.Start("sigil-e2e", "e2e-secret")
	t.Cleanup(oidc.Close)
	oidc.Users = []ssotest.User{ssoPerson, passkeyPerson}

	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	apple := ssotest.Start("com.acme.e2e", "")
	t.Cleanup(apple.Close)
	apple.Apple, apple.ApplePublic, apple.TeamID, apple.KeyID = true, &key.PublicKey, "TEAME2E001", "KEYE2E0001"
	apple.Users = []ssotest.User{applePerson}

	admin := "Authorization: Bearer " + adminToken
	create := func(body map[string]any) string {
		r := testenv.Do(t, client, "POST", sigilURL+"/v1/workspaces/"+ws+"/connections", body, admin)
		if r.Status != http.StatusCreated {
			t.Fatalf("create %s connection: %d %s", body["kind"], r.Status, r.Raw)
		}
		return r.Str("id")
	}
	oidcID := create(map[string]any{"kind": "oidc", "name": "Test IdP", "issuer": oidc.URL, "client_id": "sigil-e2e",
		"client_secret": "e2e-secret", "domains": []string{"idp.test"}})
	appleID := create(map[string]any{"kind": "apple", "name": "Apple", "issuer": apple.URL, "client_id": "com.acme.e2e",
		"team_id": "TEAME2E001", "key_id": "KEYE2E0001",
		"private_key": string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))})
	return map[string]string{
		"SSO_OIDC_ID": oidcID, "SSO_OIDC_EMAIL": ssoPerson.Email, "SSO_PASSKEY_EMAIL": passkeyPerson.Email,
		"SSO_APPLE_ID": appleID, "SSO_APPLE_EMAIL": applePerson.Email,
	}
}
