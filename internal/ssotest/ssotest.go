package ssotest

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/golang-jwt/jwt/v5"
)

// User is a person at the provider.
type User struct {
	Subject       string
	Email         string
	EmailVerified any // true, false, "true", "false" or nil (absent)
	Name          string
	Extra         map[string]any // more ID token claims (hd, tid, oid, groups)
}

// Provider is a running IdP. Its fields are switches, safe to set while
// it runs (under Lock/Unlock, or before the first request).
type Provider struct {
	URL      string // the issuer
	ClientID string
	Secret   string // the client secret (OIDC mode)
	// Apple mode: Apple's paths, form_post, and the client secret must be
	// an ES256 JWT verifying with ApplePublic, with Apple's claims.
	Apple       bool
	ApplePublic *ecdsa.PublicKey
	TeamID      string
	KeyID       string

	// Next is the person the next authorization signs in (the browser
	// login page lets a person pick one of Users instead).
	Next  User
	Users []User
	// Tweak changes the next ID tokens' claims (wrong nonce, audience…).
	Tweak func(claims map[string]any)
	// Rogue signs ID tokens with a key the JWKS does not publish.
	Rogue bool
	// Now is the provider's clock (default time.Now): give it the
	// relying party's test clock.
	Now func() time.Time

	mu     sync.Mutex
	srv    *httptest.Server
	key    *rsa.PrivateKey
	rogue  *rsa.PrivateKey
	codes  map[string]grant
	Issued []string // client secrets presented at the token endpoint
}

// grant is an authorization code's request.
type grant struct {
	user      User
	nonce     string
	challenge string
	redirect  string
}

// Start runs a provider on a loopback port; Close stops it.
func Start(clientID, secret string) *Provider {
	p := &Provider{ClientID: clientID, Secret: secret, codes: map[string]grant{}}
	p.key, _ = rsa.GenerateKey(rand.Reader, 2048)
	p.rogue, _ = rsa.GenerateKey(rand.Reader, 2048)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", p.discovery)
	for _, prefix := range []string{"", "/auth"} {
		mux.HandleFunc("GET "+prefix+"/authorize", p.authorize)
		mux.HandleFunc("POST "+prefix+"/login", p.login)
		mux.HandleFunc("POST "+prefix+"/token", p.token)
	}
	mux.HandleFunc("GET /jwks", p.jwks)
	mux.HandleFunc("GET /auth/keys", p.jwks)
	p.srv = httptest.NewServer(mux)
	p.URL = p.srv.URL
	return p
}

// Close stops the provider.
func (p *Provider) Close() { p.srv.Close() }

// Lock and Unlock guard the switches while requests run.
func (p *Provider) Lock()   { p.mu.Lock() }
func (p *Provider) Unlock() { p.mu.Unlock() }

func (p *Provider) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, map[string]any{
		"issuer": p.URL, "authorization_endpoint": p.URL + "/authorize", "token_endpoint": p.URL + "/token",
		"jwks_uri": p.URL + "/jwks", "response_types_supported": []string{"code"},
		"subject_types_supported": []string{"public"}, "id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported": []string{"S256"},
	})
}

func (p *Provider) jwks(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &p.key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
}

// authorize is the authorization endpoint: with Users set it shows a
// page to pick one; otherwise it signs Next in at once.
func (p *Provider) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != p.ClientID || q.Get("response_type") != "code" {
		http.Error(w, "bad client_id or response_type", http.StatusBadRequest)
		return
	}
	if !p.Apple && q.Get("code_challenge_method") != "S256" {
		http.Error(w, "PKCE S256 required", http.StatusBadRequest)
		return
	}
	if p.Apple && q.Get("response_mode") != "form_post" {
		http.Error(w, "Apple needs response_mode=form_post", http.StatusBadRequest)
		return
	}
	p.mu.Lock()
	users := p.Users
	p.mu.Unlock()
	if len(users) > 0 {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		loginPage.Execute(w, map[string]any{"Users": users, "Query": r.URL.RawQuery})
		return
	}
	p.mu.Lock()
	u := p.Next
	p.mu.Unlock()
	p.answer(w, q, u)
}

// login is the picked person's post from the login page.
func (p *Provider) login(w http.ResponseWriter, r *http.Request) {
	q, _ := url.ParseQuery(r.PostFormValue("query"))
	p.mu.Lock()
	var u User
	for _, c := range p.Users {
		if c.Subject == r.PostFormValue("sub") {
			u = c
		}
	}
	p.mu.Unlock()
	p.answer(w, q, u)
}

// answer sends the browser back with a code: a redirect, or for Apple an
// auto-submitted form post.
func (p *Provider) answer(w http.ResponseWriter, q url.Values, u User) {
	code := rand.Text()
	p.mu.Lock()
	p.codes[code] = grant{user: u, nonce: q.Get("nonce"), challenge: q.Get("code_challenge"), redirect: q.Get("redirect_uri")}
	p.mu.Unlock()
	back := url.Values{"code": {code}, "state": {q.Get("state")}}
	if !p.Apple {
		http.Redirect(w, &http.Request{Method: "GET"}, q.Get("redirect_uri")+"?"+back.Encode(), http.StatusFound)
		return
	}
	if u.Name != "" {
		first, last, _ := strings.Cut(u.Name, " ")
		b, _ := json.Marshal(map[string]any{"name": map[string]string{"firstName": first, "lastName": last}, "email": u.Email})
		back.Set("user", string(b))
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	formPost.Execute(w, map[string]any{"Action": q.Get("redirect_uri"), "Fields": back})
}

// token is the token endpoint.
func (p *Provider) token(w http.ResponseWriter, r *http.Request) {
	r.ParseForm()
	p.mu.Lock()
	g, ok := p.codes[r.PostFormValue("code")]
	delete(p.codes, r.PostFormValue("code"))
	p.mu.Unlock()
	id, secret, basic := r.BasicAuth()
	if !basic {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	switch {
	case !ok || r.PostFormValue("grant_type") != "authorization_code" || r.PostFormValue("redirect_uri") != g.redirect:
		tokenError(w, "invalid_grant")
		return
	case id != p.ClientID || !p.clientSecretOK(secret):
		tokenError(w, "invalid_client")
		return
	case !p.Apple && !pkceOK(r.PostFormValue("code_verifier"), g.challenge):
		tokenError(w, "invalid_grant")
		return
	}
	writeJSON(w, map[string]any{"access_token": rand.Text(), "token_type": "Bearer", "expires_in": 3600,
		"id_token": p.idToken(g)})
}

func (p *Provider) clientSecretOK(secret string) bool {
	p.mu.Lock()
	if len(p.Issued) < 100 {
		p.Issued = append(p.Issued, secret)
	}
	p.mu.Unlock()
	if !p.Apple {
		return secret == p.Secret
	}
	now := time.Now()
	if p.Now != nil {
		now = p.Now()
	}
	return CheckAppleSecret(secret, p.ApplePublic, p.TeamID, p.ClientID, p.KeyID, p.URL, now) == nil
}

// CheckAppleSecret checks a Sign in with Apple client secret as Apple
// does: ES256 with the key's public half, kid the key id, iss the team,
// sub the Services ID, aud Apple, and at most six months long.
func CheckAppleSecret(secret string, pub *ecdsa.PublicKey, team, clientID, kid, aud string, now time.Time) error {
	var c jwt.RegisteredClaims
	tok, err := jwt.ParseWithClaims(secret, &c, func(t *jwt.Token) (any, error) { return pub, nil },
		jwt.WithValidMethods([]string{"ES256"}), jwt.WithIssuer(team), jwt.WithSubject(clientID),
		jwt.WithAudience(aud), jwt.WithIssuedAt(), jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(func() time.Time { return now }))
	switch {
	case err != nil:
		return err
	case tok.Header["kid"] != kid:
		return fmt.Errorf("kid %v, want %s", tok.Header["kid"], kid)
	case c.IssuedAt == nil || c.ExpiresAt.Sub(c.IssuedAt.Time) > 15777000*time.Second:
		return fmt.Errorf("lifetime over six months")
	}
	return nil
}

// idToken signs an ID token for a grant, applying Tweak and Rogue.
func (p *Provider) idToken(g grant) string {
	now := time.Now()
	if p.Now != nil {
		now = p.Now()
	}
	claims := map[string]any{"iss": p.URL, "sub": g.user.Subject, "aud": p.ClientID, "iat": now.Unix(),
		"exp": now.Add(10 * time.Minute).Unix(), "nonce": g.nonce}
	if g.user.Email != "" {
		claims["email"] = g.user.Email
	}
	if g.user.EmailVerified != nil {
		claims["email_verified"] = g.user.EmailVerified
	}
	if g.user.Name != "" && !p.Apple {
		claims["name"] = g.user.Name
	}
	for k, v := range g.user.Extra {
		claims[k] = v
	}
	p.mu.Lock()
	tweak, key := p.Tweak, p.key
	if p.Rogue {
		key = p.rogue
	}
	p.mu.Unlock()
	if tweak != nil {
		tweak(claims)
	}
	t := jwt.NewWithClaims(jwt.SigningMethodRS256, jwt.MapClaims(claims))
	t.Header["kid"] = "k1"
	s, _ := t.SignedString(crypto.Signer(key))
	return s
}

func pkceOK(verifier, challenge string) bool {
	sum := sha256.Sum256([]byte(verifier))
	return verifier != "" && base64.RawURLEncoding.EncodeToString(sum[:]) == challenge
}

func tokenError(w http.ResponseWriter, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusBadRequest)
	json.NewEncoder(w).Encode(map[string]string{"error": code})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

var loginPage = template.Must(template.New("login").Parse(`<!doctype html><title>Test IdP</title>
<h1>Test IdP sign-in</h1>
{{range .Users}}<form method="post" action="login"><input type="hidden" name="query" value="{{$.Query}}">
<input type="hidden" name="sub" value="{{.Subject}}"><button type="submit">Sign in as {{.Email}}</button></form>{{end}}`))

// formPost is Apple's form_post answer: a page that posts the fields to
// the redirect URI at once.
var formPost = template.Must(template.New("post").Parse(`<!doctype html><title>Apple</title>
<body onload="document.forms[0].submit()"><form method="post" action="{{.Action}}">
{{range $k, $v := .Fields}}<input type="hidden" name="{{$k}}" value="{{index $v 0}}">{{end}}
<noscript><button type="submit">Continue</button></noscript></form></body>`))
