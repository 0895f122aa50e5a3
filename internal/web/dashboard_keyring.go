package web

import (
	"encoding/base64"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sigil-auth/sigil/internal/authn"
)

// The keyring: the person's Ed25519 public keys, for key-pair sign-in
// from the CLI and SDKs. The same authn calls as /v1/users/me/keys: adding
// a key proves possession of it, so the page issues a challenge for the
// person's own user id and takes the signature the new key made over it
// (the private key never comes near the browser).

// keyringData is the keyring pages' content.
type keyringData struct {
	Keys      []keyringRow
	UserID    string
	PublicKey string            // the key being added (refilled, or carried to the signing step)
	Challenge *authn.Challenge  // the signing step's auth code
	CodeField string            // the auth code as the form carries it (base64url: browsers turn "\n" into "\r\n")
	Remove    *keyringRow       // the key a removal confirmation is about
	CodeTTL   int               // seconds a challenge lives
	Snippets  map[string]string // how to sign the challenge, by language
}

// keyringRow is one key as the page shows it: an Ed25519 key or a
// passkey.
type keyringRow struct {
	ID         string
	Passkey    bool
	Name       string // a passkey's name
	PublicKey  string // an Ed25519 key in standard base64
	Short      string // its first and last characters
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

// Label names the key in a sentence: the passkey's name, or the key's
// short form.
func (k keyringRow) Label() string {
	if k.Passkey {
		return "passkey " + k.Name
	}
	return "key " + k.Short
}

func keyringRows(keys []authn.KeyInfo) []keyringRow {
	out := make([]keyringRow, len(keys))
	for i, k := range keys {
		out[i] = keyringRow{ID: k.ID, Passkey: k.Kind == authn.KeyPasskey, Name: k.Name, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt}
		if !out[i].Passkey {
			full := base64.StdEncoding.EncodeToString(k.PublicKey)
			out[i].PublicKey, out[i].Short = full, full[:8]+"…"+full[len(full)-6:]
		}
	}
	return out
}

func keyringPage() page {
	return page{Title: "Keyring", Lead: "Keys that sign you in without a password: Ed25519 keys for the command line and SDKs, and passkeys for the browser.", Nav: "keyring"}
}

// keyring is GET /dashboard/keyring.
func (s *Server) keyring(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	p := keyringPage()
	switch {
	case r.URL.Query().Get("added") != "":
		p.Notice = "Key added. It can sign in as you from now on."
	case r.URL.Query().Get("removed") != "":
		p.Notice = "Key removed. It can no longer sign in as you."
	}
	return s.renderKeyring(w, r, b, http.StatusOK, p, "")
}

// renderKeyring shows the keyring list and the add form (refilled with
// publicKey) on p.
func (s *Server) renderKeyring(w http.ResponseWriter, r *http.Request, b authn.BrowserSession, status int, p page, publicKey string) error {
	keys, err := s.auth.ListKeys(r.Context(), authn.BrowserPrincipal(b))
	if err != nil {
		return err
	}
	p.Data = keyringData{Keys: keyringRows(keys), UserID: b.UserID, PublicKey: publicKey}
	return s.dash(w, r, status, "dash_keyring", b, p)
}

// keyringFail shows err on the keyring page with the add form refilled,
// or as the error page if it is not one to show there.
func (s *Server) keyringFail(w http.ResponseWriter, r *http.Request, b authn.BrowserSession, publicKey string, err error) error {
	status, msg, ok := inline(err)
	if !ok {
		return err
	}
	p := keyringPage()
	p.Error = msg
	return s.renderKeyring(w, r, b, status, p, publicKey)
}

// keyChallenge is POST /dashboard/keyring/challenge: the public key is
// checked, and the signing step shows a fresh challenge for it.
func (s *Server) keyChallenge(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	pub := strings.TrimSpace(r.PostFormValue("public_key"))
	if _, err := authn.ParsePublicKey(pub); err != nil {
		return s.keyringFail(w, r, b, pub, err)
	}
	return s.signStep(w, r, b, http.StatusOK, pub, "")
}

// signStep renders the challenge for pub with a note (an alert) when a
// signature was refused.
func (s *Server) signStep(w http.ResponseWriter, r *http.Request, b authn.BrowserSession, status int, pub, alert string) error {
	c, err := s.auth.IssueCode(r.Context(), s.clientIP(r), b.UserID)
	if err != nil {
		return s.keyringFail(w, r, b, pub, err)
	}
	p := keyringPage()
	p.Title = "Sign the challenge"
	p.Lead = "Prove that you hold the new key's private half: sign this text with it and paste the signature."
	p.Error = alert
	p.Data = keyringData{UserID: b.UserID, PublicKey: pub, Challenge: &c, CodeTTL: c.ExpiresIn, Snippets: signSnippets,
		CodeField: base64.RawURLEncoding.EncodeToString([]byte(c.AuthCode))}
	return s.dash(w, r, status, "dash_keyring_sign", b, p)
}

// addKey is POST /dashboard/keyring: the signed challenge adds the key.
// A refused signature (or an expired challenge) gets a fresh challenge.
func (s *Server) addKey(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	code, _ := base64.RawURLEncoding.DecodeString(r.PostFormValue("auth_code")) // garbage fails the proof
	proof := authn.Proof{PublicKey: strings.TrimSpace(r.PostFormValue("public_key")), AuthCode: string(code),
		Signature: strings.TrimSpace(r.PostFormValue("signature")), Scheme: authn.SchemeEd25519}
	_, err := s.auth.AddKey(r.Context(), authn.BrowserPrincipal(b), proof)
	if err == nil {
		redirect(w, r, "/dashboard/keyring?added=1")
		return nil
	}
	if errors.Is(err, authn.ErrInvalidCredentials) {
		return s.signStep(w, r, b, http.StatusUnauthorized, proof.PublicKey,
			"That signature does not match the challenge and the key, or the challenge expired. Sign this new one.")
	}
	// A malformed signature: again, with a fresh challenge (a malformed
	// public key cannot be signed for, so back to the list).
	var e *authn.Error
	if _, perr := authn.ParsePublicKey(proof.PublicKey); perr == nil && errors.As(err, &e) && e.Code == authn.CodeInvalidRequest {
		_, msg, _ := inline(err)
		return s.signStep(w, r, b, http.StatusBadRequest, proof.PublicKey, msg)
	}
	return s.keyringFail(w, r, b, proof.PublicKey, err)
}

// removeKeyPage is GET /dashboard/keyring/{id}/remove: the confirmation.
func (s *Server) removeKeyPage(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	keys, err := s.auth.ListKeys(r.Context(), authn.BrowserPrincipal(b))
	if err != nil {
		return err
	}
	rows := keyringRows(keys)
	i := slices.IndexFunc(rows, func(k keyringRow) bool { return k.ID == r.PathValue("id") })
	if i < 0 {
		return authn.ErrNotFound
	}
	k := rows[i]
	p := keyringPage()
	p.Title = "Remove " + k.Label() + "?"
	p.Lead = "It can no longer sign in as you. Sessions it started keep running until they end."
	d := confirmData{Detail: "Key " + k.ID + ", added " + k.CreatedAt.UTC().Format("2006-01-02") + ". Public key:",
		Value: k.PublicKey, Action: "/dashboard/keyring/" + k.ID + "/remove", Button: "Remove key", Cancel: "/dashboard/keyring"}
	if k.Passkey {
		p.Lead = "Signing in will no longer accept this passkey. Remove it from the device too, in its password or passkey settings."
		d.Detail, d.Button = "Passkey "+k.ID+", added "+k.CreatedAt.UTC().Format("2006-01-02")+".", "Remove passkey"
	}
	p.Data = d
	return s.dash(w, r, http.StatusOK, "dash_confirm", b, p)
}

// removeKey is POST /dashboard/keyring/{id}/remove. authn keeps the last
// key; its refusal is shown on the keyring page.
func (s *Server) removeKey(w http.ResponseWriter, r *http.Request) error {
	b, ok := s.signedIn(w, r)
	if !ok {
		return nil
	}
	if err := s.auth.DeleteKey(r.Context(), s.clientIP(r), authn.BrowserPrincipal(b), r.PathValue("id")); err != nil {
		if errors.Is(err, authn.ErrNotFound) {
			return err
		}
		return s.keyringFail(w, r, b, "", err)
	}
	redirect(w, r, "/dashboard/keyring?removed=1")
	return nil
}

// confirmData is a destructive action's confirmation page: what it is
// about (Detail, and a Value in monospace) and the form that does it.
type confirmData struct {
	Detail, Value          string
	Action, Button, Cancel string
}

// signSnippets sign the challenge, read from standard input, with the
// raw 32-byte Ed25519 seed in SIGIL_PRIVATE_KEY (base64, as
// `sigil keygen` prints it), and print the signature.
var signSnippets = map[string]string{
	"Node.js": `const { createPrivateKey, sign } = require('node:crypto');
const seed = Buffer.from(process.env.SIGIL_PRIVATE_KEY, 'base64');
const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), seed]);
const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
const challenge = require('node:fs').readFileSync(0, 'utf8').replace(/\r\n/g, '\n').replace(/\n$/, '');
console.log(sign(null, Buffer.from(challenge), key).toString('base64'));`,
	"Python": `import base64, os, sys
from nacl.signing import SigningKey  # pip install pynacl
key = SigningKey(base64.b64decode(os.environ["SIGIL_PRIVATE_KEY"]))
challenge = sys.stdin.read().replace("\r\n", "\n").rstrip("\n")
print(base64.b64encode(key.sign(challenge.encode()).signature).decode())`,
}
