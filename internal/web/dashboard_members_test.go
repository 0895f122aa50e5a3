package web_test

import (
	"crypto/ed25519"
	"encoding/base64"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/sigil-auth/sigil/internal/testenv"
)

// mailedInvite is the link of the last invitation mailed to addr.
func (e *env) mailedInvite(t *testing.T, addr string) string {
	t.Helper()
	re := regexp.MustCompile(regexp.QuoteMeta(e.s.Issuer) + `/signup\?invite=\S+`)
	msgs := e.s.Outbox.Messages()
	for i := len(msgs) - 1; i >= 0; i-- {
		if l := re.FindString(msgs[i].Text); msgs[i].To == addr && l != "" {
			return l
		}
	}
	t.Fatalf("no invitation mailed to %s", addr)
	return ""
}

// TestDashboardInvitations: an owner invites by email; the mailed link
// opens a sign-up with the address fixed and no join code, makes the
// account with the invited role, and works once; a revoked link says so;
// the owner changes the new member's scopes and removes them, which signs
// their browser out.
func TestDashboardInvitations(t *testing.T) {
	eachBackend(t, func(t *testing.T, db testenv.Database) {
		e := newEnv(t, db, testenv.Options{})
		owner := e.signInBrowser(t, userEmail, userPass)
		if res, body := post(t, owner, e.s.URL+"/dashboard/invitations", url.Values{"email": {"bea@example.com"}, "role": {"admin"}}); res.StatusCode != 303 {
			t.Fatalf("invite: %d\n%s", res.StatusCode, body)
		}
		res, body := get(t, owner, e.s.URL+"/dashboard/members?invited=1")
		if res.StatusCode != 200 || !strings.Contains(body, "Invitation sent") || !strings.Contains(body, "bea@example.com") {
			t.Fatalf("members page after inviting: %d\n%s", res.StatusCode, body)
		}
		res, body = post(t, owner, e.s.URL+"/dashboard/invitations", url.Values{"email": {userEmail}, "role": {"member"}})
		if res.StatusCode != 409 || !strings.Contains(body, "is already a member") || !strings.Contains(body, `value="`+userEmail+`"`) {
			t.Errorf("inviting a member: %d\n%s", res.StatusCode, body)
		}

		link := e.mailedInvite(t, "bea@example.com")
		bea := browser(t)
		res, body = get(t, bea, link)
		if res.StatusCode != 200 || !strings.Contains(body, `value="bea@example.com"`) || !strings.Contains(body, "readonly") ||
			strings.Contains(body, "join_code") || !strings.Contains(body, "invited as admin") {
			t.Fatalf("invitation sign-up page: %d\n%s", res.StatusCode, body)
		}
		tok := html.UnescapeString(regexp.MustCompile(`name="invite" value="([^"]+)"`).FindStringSubmatch(body)[1])
		form := url.Values{"invite": {tok}, "email": {"bea@example.com"}, "password": {"short"}}
		if res, body = post(t, bea, e.s.URL+"/signup", form); res.StatusCode != 400 || !strings.Contains(body, `role="alert"`) ||
			!strings.Contains(body, `name="invite"`) {
			t.Errorf("short password: %d\n%s", res.StatusCode, body)
		}
		form.Set("password", userPass)
		if res, body = post(t, bea, e.s.URL+"/signup", form); res.StatusCode != 303 {
			t.Fatalf("sign up: %d\n%s", res.StatusCode, body)
		}
		if res, _ = get(t, bea, e.s.URL+"/dashboard/members"); res.StatusCode != 200 {
			t.Errorf("the new admin opens the members page: %d", res.StatusCode)
		}
		if res, body = get(t, browser(t), link); res.StatusCode != 400 || !strings.Contains(body, "already used") {
			t.Errorf("the link again: %d\n%s", res.StatusCode, body)
		}

		beaID := e.userID(t, "bea@example.com")
		res, body = post(t, owner, e.s.URL+"/dashboard/members/"+beaID, url.Values{"role": {"member"}, "scopes": {"read, geofences:read"}})
		if res.StatusCode != 303 {
			t.Fatalf("save scopes: %d\n%s", res.StatusCode, body)
		}
		_, body = get(t, owner, e.s.URL+"/dashboard/members?updated=1")
		if !strings.Contains(body, `value="read geofences:read"`) {
			t.Errorf("the new scopes are not shown:\n%s", body)
		}
		res, body = post(t, owner, e.s.URL+"/dashboard/members/"+beaID, url.Values{"scopes": {"bad\x7fscope"}})
		if res.StatusCode != 400 || !strings.Contains(body, `role="alert"`) {
			t.Errorf("a bad scope: %d", res.StatusCode)
		}

		// Revoking an invitation: a confirmation, then the link is dead.
		post(t, owner, e.s.URL+"/dashboard/invitations", url.Values{"email": {"cy@example.com"}})
		_, body = get(t, owner, e.s.URL+"/dashboard/members")
		rev := regexp.MustCompile(`href="(/dashboard/invitations/inv_[a-z0-9]+/revoke)"`).FindStringSubmatch(body)
		if rev == nil {
			t.Fatalf("no revoke link:\n%s", body)
		}
		if res, body = get(t, owner, e.s.URL+rev[1]); res.StatusCode != 200 || !strings.Contains(body, "Revoke the invitation to cy@example.com?") {
			t.Fatalf("revoke confirmation: %d\n%s", res.StatusCode, body)
		}
		if res, _ = post(t, owner, e.s.URL+rev[1], url.Values{}); res.StatusCode != 303 {
			t.Fatalf("revoke: %d", res.StatusCode)
		}
		if res, body = get(t, browser(t), e.mailedInvite(t, "cy@example.com")); res.StatusCode != 400 || !strings.Contains(body, "withdrawn") {
			t.Errorf("a revoked link: %d\n%s", res.StatusCode, body)
		}

		// Removing: a confirmation naming the member, then they are gone.
		res, body = get(t, owner, e.s.URL+"/dashboard/members/"+beaID+"/remove")
		if res.StatusCode != 200 || !strings.Contains(body, "Remove bea@example.com from Acme?") || !strings.Contains(body, "signed out everywhere") {
			t.Fatalf("remove confirmation: %d\n%s", res.StatusCode, body)
		}
		if res, _ = post(t, owner, e.s.URL+"/dashboard/members/"+beaID+"/remove", url.Values{}); res.StatusCode != 303 {
			t.Fatalf("remove: %d", res.StatusCode)
		}
		if res, _ = get(t, bea, e.s.URL+"/dashboard/api-keys"); res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/login" {
			t.Errorf("the removed member's browser: %d %s", res.StatusCode, res.Header.Get("Location"))
		}
		if _, body = get(t, owner, e.s.URL+"/dashboard/members?removed=1"); strings.Contains(body, "bea@example.com") {
			t.Error("the removed member is still listed")
		}
		ownerID := e.userID(t, userEmail)
		if res, body = post(t, owner, e.s.URL+"/dashboard/members/"+ownerID+"/remove", url.Values{}); res.StatusCode != 409 || !strings.Contains(body, "at least one owner") {
			t.Errorf("the last owner removes themselves: %d", res.StatusCode)
		}
		e.wantAudit(t, "invitation.create", "invitation.accept", "invitation.revoke", "member.update", "member.remove")

		testenv.Do(t, nil, "POST", e.s.URL+"/v1/auth/signup", map[string]any{"email": "mia@example.com", "password": userPass, "join_code": e.join})
		member := e.signInBrowser(t, "mia@example.com", userPass)
		for _, p := range []string{"/dashboard/invitations", "/dashboard/members/" + ownerID + "/remove"} {
			if res, _ := post(t, member, e.s.URL+p, url.Values{"email": {"x@example.com"}}); res.StatusCode != 403 {
				t.Errorf("a member posts %s: %d, want 403", p, res.StatusCode)
			}
		}
	})
}

var (
	authCodeRE  = regexp.MustCompile(`name="auth_code" value="([^"]+)"`)
	keyringIDRE = regexp.MustCompile(`href="/dashboard/keyring/(key_[a-z0-9]+)/remove"`)
)

// addKeyOnPage adds priv's public key on the keyring page of c: the
// challenge step, then the signature.
func (e *env) addKeyOnPage(t *testing.T, c *http.Client, priv ed25519.PrivateKey) (int, string) {
	t.Helper()
	pub := base64.StdEncoding.EncodeToString(priv.Public().(ed25519.PublicKey))
	res, body := post(t, c, e.s.URL+"/dashboard/keyring/challenge", url.Values{"public_key": {pub}})
	m := authCodeRE.FindStringSubmatch(body)
	if res.StatusCode != 200 || m == nil {
		t.Fatalf("challenge step: %d\n%s", res.StatusCode, body)
	}
	code, err := base64.RawURLEncoding.DecodeString(m[1])
	if err != nil || !strings.Contains(body, html.EscapeString(string(code))) {
		t.Fatalf("the challenge shown is not the one carried: %v", err)
	}
	sig := base64.StdEncoding.EncodeToString(ed25519.Sign(priv, code))
	res, body = post(t, c, e.s.URL+"/dashboard/keyring", url.Values{"public_key": {pub}, "auth_code": {m[1]}, "signature": {sig}})
	return res.StatusCode, body
}

// TestDashboardKeyring: a password user adds an Ed25519 key by signing
// the page's challenge, signs in with it through the API, and removes
// keys; the last one stays, as on the JSON API.
func TestDashboardKeyring(t *testing.T) {
	e := newEnv(t, testenv.NewDatabase(t, "sqlite"), testenv.Options{})
	c := e.signInBrowser(t, userEmail, userPass)
	res, body := get(t, c, e.s.URL+"/dashboard/keyring")
	if res.StatusCode != 200 || !strings.Contains(body, "No keys yet") || !strings.Contains(body, `href="/dashboard/keyring" aria-current="page"`) {
		t.Fatalf("empty keyring: %d\n%s", res.StatusCode, body)
	}
	res, body = post(t, c, e.s.URL+"/dashboard/keyring/challenge", url.Values{"public_key": {"not-a-key"}})
	if res.StatusCode != 400 || !strings.Contains(body, "32-byte Ed25519 public key") || !strings.Contains(body, `value="not-a-key"`) {
		t.Errorf("a bad public key: %d\n%s", res.StatusCode, body)
	}

	_, first, _ := ed25519.GenerateKey(nil)
	_, other, _ := ed25519.GenerateKey(nil)
	pub := base64.StdEncoding.EncodeToString(first.Public().(ed25519.PublicKey))
	// A signature by another key is refused with a fresh challenge.
	res, body = post(t, c, e.s.URL+"/dashboard/keyring/challenge", url.Values{"public_key": {pub}})
	m := authCodeRE.FindStringSubmatch(body)
	code, _ := base64.RawURLEncoding.DecodeString(m[1])
	sig := base64.StdEncoding.EncodeToString(ed25519.Sign(other, code))
	res, body = post(t, c, e.s.URL+"/dashboard/keyring", url.Values{"public_key": {pub}, "auth_code": {m[1]}, "signature": {sig}})
	if m2 := authCodeRE.FindStringSubmatch(body); res.StatusCode != 401 || !strings.Contains(body, "does not match") || m2 == nil || m2[1] == m[1] {
		t.Errorf("a wrong signature: %d\n%s", res.StatusCode, body)
	}
	if status, body := e.addKeyOnPage(t, c, first); status != 303 {
		t.Fatalf("add key: %d\n%s", status, body)
	}
	if status, body := e.addKeyOnPage(t, c, first); status != 409 || !strings.Contains(body, "already on the keyring") {
		t.Errorf("the same key again: %d\n%s", status, body)
	}
	res, body = get(t, c, e.s.URL+"/dashboard/keyring?added=1")
	ids := keyringIDRE.FindAllStringSubmatch(body, -1)
	if len(ids) != 1 || !strings.Contains(html.UnescapeString(body), pub) || !strings.Contains(body, "Key added") {
		t.Fatalf("keyring after adding: %d\n%s", res.StatusCode, body)
	}

	// The key signs in as the user.
	userID := e.userID(t, userEmail)
	ch := testenv.Do(t, nil, "POST", e.s.URL+"/v1/auth/code", map[string]any{"user_id": userID}).Str("auth_code")
	login := testenv.Do(t, nil, "POST", e.s.URL+"/v1/auth/token", map[string]any{"user_id": userID, "auth_code": ch,
		"public_key": pub, "signature": base64.StdEncoding.EncodeToString(ed25519.Sign(first, []byte(ch)))})
	if login.Status != 200 {
		t.Fatalf("key-pair login with the added key: %d %s", login.Status, login.Raw)
	}

	if res, body = get(t, c, e.s.URL+"/dashboard/keyring/"+ids[0][1]+"/remove"); res.StatusCode != 200 || !strings.Contains(html.UnescapeString(body), pub) {
		t.Fatalf("remove confirmation: %d\n%s", res.StatusCode, body)
	}
	res, body = post(t, c, e.s.URL+"/dashboard/keyring/"+ids[0][1]+"/remove", url.Values{})
	if res.StatusCode != 409 || !strings.Contains(body, "last key") {
		t.Errorf("removing the last key: %d\n%s", res.StatusCode, body)
	}
	if status, body := e.addKeyOnPage(t, c, other); status != 303 {
		t.Fatalf("add a second key: %d\n%s", status, body)
	}
	if res, _ = post(t, c, e.s.URL+"/dashboard/keyring/"+ids[0][1]+"/remove", url.Values{}); res.StatusCode != 303 {
		t.Errorf("removing one of two keys: %d", res.StatusCode)
	}
	if res, _ = get(t, c, e.s.URL+"/dashboard/keyring/key_nope/remove"); res.StatusCode != 404 {
		t.Errorf("an unknown key's confirmation: %d", res.StatusCode)
	}
	e.wantAudit(t, "pubkey.add", "pubkey.remove")
}
