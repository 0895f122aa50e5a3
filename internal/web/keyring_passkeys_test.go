package web_test

import (
	"crypto/ed25519"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/testenv"
)

var keyringAnyRE = regexp.MustCompile(`href="/dashboard/keyring/((?:key|fac)_[a-z0-9]+)/remove"`)

// TestKeyringPasskeys: the keyring page lists the person's passkeys
// beside their Ed25519 keys (name, kind, added, last used), newest
// first, with one Remove for both; the Ed25519 key may go while a
// passkey is there, and the last key left is refused with the reason.
func TestKeyringPasskeys(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		e := newEnv(t, db, testenv.Options{})
		c := e.signInBrowser(t, userEmail, userPass)
		_, priv, _ := ed25519.GenerateKey(nil)
		if status, body := e.addKeyOnPage(t, c, priv); status != http.StatusSeeOther {
			t.Fatalf("add key: %d\n%s", status, body)
		}
		// A passkey (registered in the browser; the browser test does that
		// with a virtual authenticator), later than the key.
		now := e.s.Clock.Now().Add(time.Minute)
		pk := store.Factor{ID: "fac_laptop", UserID: e.userID(t, userEmail), Kind: store.FactorWebAuthn, Name: "Work laptop",
			CreatedAt: now, ConfirmedAt: &now, LastUsedAt: &now, WebAuthn: &store.WebAuthnCredential{
				CredentialID: []byte("cred-laptop"), PublicKey: []byte("cose"), RPID: "127.0.0.1", Transports: []string{"internal"}}}
		if err := e.s.Store.CreateFactor(t.Context(), pk); err != nil {
			t.Fatal(err)
		}

		res, body := get(t, c, e.s.URL+"/dashboard/keyring")
		ids := keyringAnyRE.FindAllStringSubmatch(body, -1)
		if res.StatusCode != 200 || len(ids) != 2 || ids[0][1] != pk.ID || !strings.HasPrefix(ids[1][1], "key_") ||
			!strings.Contains(body, `<td data-label="Key">Work laptop</td>`) || !strings.Contains(body, `<span class="pill">Passkey</span>`) ||
			!strings.Contains(body, `<span class="pill">Ed25519</span>`) || !strings.Contains(body, "Remove<span class=\"sr-only\"> passkey Work laptop</span>") {
			t.Fatalf("keyring with a passkey: %d\n%s", res.StatusCode, body)
		}
		keyID := ids[1][1]
		if res, body = get(t, c, e.s.URL+"/dashboard/keyring/"+pk.ID+"/remove"); res.StatusCode != 200 ||
			!strings.Contains(body, "Remove passkey Work laptop?") || !strings.Contains(body, "Remove passkey</button>") {
			t.Fatalf("passkey removal confirmation: %d\n%s", res.StatusCode, body)
		}
		// The key goes (the passkey is a key too); the passkey can go as
		// well, this being a password account (its second factor).
		if res, _ = post(t, c, e.s.URL+"/dashboard/keyring/"+keyID+"/remove", url.Values{}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("removing the key beside a passkey: %d", res.StatusCode)
		}
		if _, body = get(t, c, e.s.URL+"/dashboard/keyring?removed=1"); strings.Contains(body, keyID) || !strings.Contains(body, "Work laptop") {
			t.Fatalf("keyring after removing the key:\n%s", body)
		}
		if res, _ = post(t, c, e.s.URL+"/dashboard/keyring/"+pk.ID+"/remove", url.Values{}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("removing a password account's passkey: %d", res.StatusCode)
		}
		// With only an Ed25519 key left, it stays, and the page says why.
		if status, body := e.addKeyOnPage(t, c, priv); status != http.StatusSeeOther {
			t.Fatalf("add key again: %d\n%s", status, body)
		}
		_, body = get(t, c, e.s.URL+"/dashboard/keyring")
		ids = keyringAnyRE.FindAllStringSubmatch(body, -1)
		res, body = post(t, c, e.s.URL+"/dashboard/keyring/"+ids[0][1]+"/remove", url.Values{})
		if res.StatusCode != http.StatusConflict || !strings.Contains(body, "The last key of a keyring cannot be removed: add another key or a passkey first.") {
			t.Errorf("removing the last key: %d\n%s", res.StatusCode, body)
		}
		e.wantAudit(t, "pubkey.remove", "factor.remove")
	})
}
