package authn

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/golang-jwt/jwt/v5"
	"golang.org/x/oauth2"
)

// Sign in with Apple: OIDC with three differences. The client secret is
// an ES256 JWT minted from the .p8 key Apple issued; the callback is a
// form_post (a cross-site POST: see sso_flow.go for how its state is
// kept without a cookie); and the person's name comes only on the first
// sign-in, in a "user" form field, so it is kept at once.

const (
	appleDefaultIssuer = "https://appleid.apple.com"
	// appleSecretTTL is the client secret's lifetime (Apple allows up to
	// six months); it is reminted when less than a day is left.
	appleSecretTTL = 30 * 24 * time.Hour
)

// appleSecret is a minted client secret and the connection's JWKS.
type appleSecret struct {
	jwt     string
	exp     time.Time
	updated time.Time
	keys    *oidc.RemoteKeySet
}

func appleIssuer(cfg connConfig) string {
	if cfg.Issuer != "" {
		return strings.TrimRight(cfg.Issuer, "/")
	}
	return appleDefaultIssuer
}

// parseAppleKey reads a .p8 key: PKCS #8, ECDSA on P-256.
func parseAppleKey(p8 string) (*ecdsa.PrivateKey, error) {
	block, _ := pem.Decode([]byte(strings.TrimSpace(p8)))
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, errors.New("not a PEM private key")
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, err
	}
	ec, ok := k.(*ecdsa.PrivateKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, errors.New("not a P-256 key")
	}
	return ec, nil
}

// appleClientSecret returns the connection's client secret JWT (iss the
// team id, sub the Services ID, aud Apple, kid the key id), from cache
// while it has a day left.
func (s *Service) appleClientSecret(c connection) (appleSecret, error) {
	s.sso.mu.Lock()
	cached, ok := s.sso.apple[c.ID]
	s.sso.mu.Unlock()
	now := s.now()
	if ok && cached.updated.Equal(c.UpdatedAt) && now.Add(24*time.Hour).Before(cached.exp) {
		return cached, nil
	}
	key, err := parseAppleKey(c.secrets.PrivateKey)
	if err != nil {
		return appleSecret{}, ssoFailure("apple_key", "the connection's private key does not parse")
	}
	exp := now.Add(appleSecretTTL)
	t := jwt.NewWithClaims(jwt.SigningMethodES256, jwt.RegisteredClaims{
		Issuer: c.cfg.TeamID, Subject: c.cfg.ClientID, Audience: jwt.ClaimStrings{appleIssuer(c.cfg)},
		IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(exp),
	})
	t.Header["kid"] = c.cfg.KeyID
	signed, err := t.SignedString(key)
	if err != nil {
		return appleSecret{}, err
	}
	out := appleSecret{jwt: signed, exp: exp, updated: c.UpdatedAt, keys: cached.keys}
	if out.keys == nil || !cached.updated.Equal(c.UpdatedAt) {
		out.keys = oidc.NewRemoteKeySet(oidc.ClientContext(context.Background(), s.opt.SSOClient), appleIssuer(c.cfg)+"/auth/keys")
	}
	s.sso.mu.Lock()
	s.sso.apple[c.ID] = out
	s.sso.mu.Unlock()
	return out, nil
}

func appleEndpoint(c connection) oauth2.Endpoint {
	iss := appleIssuer(c.cfg)
	return oauth2.Endpoint{AuthURL: iss + "/auth/authorize", TokenURL: iss + "/auth/token", AuthStyle: oauth2.AuthStyleInParams}
}

// appleStart is Apple's authorization URL: form_post, name and email.
func (s *Service) appleStart(c connection, state string, st ssoState) (string, error) {
	oc := s.oauthConfig(c, appleEndpoint(c), "", []string{"name", "email"})
	return oc.AuthCodeURL(state, oidc.Nonce(st.Nonce), oauth2.SetAuthURLParam("response_mode", "form_post")), nil
}

// appleUser is the "user" field of Apple's first form_post.
type appleUser struct {
	Name struct {
		FirstName string `json:"firstName"`
		LastName  string `json:"lastName"`
	} `json:"name"`
}

// appleCallback exchanges the code with a client-secret JWT and checks
// the ID token against Apple's keys; the audience may be the Services ID
// (web) or one of the connection's bundle ids (native apps).
func (s *Service) appleCallback(ctx context.Context, c connection, st ssoState, code, user string) (ssoIdentity, error) {
	sec, err := s.appleClientSecret(c)
	if err != nil {
		return ssoIdentity{}, err
	}
	xctx, cancel := s.idpContext(ctx)
	defer cancel()
	tok, err := s.oauthConfig(c, appleEndpoint(c), sec.jwt, nil).Exchange(xctx, code)
	if err != nil {
		return ssoIdentity{}, ssoFailure("code_exchange", "Apple refused the code exchange")
	}
	raw, _ := tok.Extra("id_token").(string)
	v := oidc.NewVerifier(appleIssuer(c.cfg), sec.keys, &oidc.Config{SkipClientIDCheck: true, Now: s.now,
		SupportedSigningAlgs: []string{oidc.RS256, oidc.ES256}})
	idt, err := v.Verify(xctx, raw)
	if err != nil {
		return ssoIdentity{}, idTokenFailure(err)
	}
	var cl idClaims
	if err := idt.Claims(&cl); err != nil {
		return ssoIdentity{}, ssoFailure("id_token_invalid", "Apple's ID token claims are malformed")
	}
	auds := append([]string{c.cfg.ClientID}, c.cfg.Audiences...)
	if !slices.ContainsFunc(idt.Audience, func(a string) bool { return slices.Contains(auds, a) }) {
		return ssoIdentity{}, ssoFailure("audience", "Apple's ID token is for another app")
	}
	if err := s.checkIDClaims(cl, st, auds); err != nil {
		return ssoIdentity{}, err
	}
	id := ssoIdentity{Subject: idt.Subject, Email: cl.Email, EmailVerified: bool(cl.EmailVerified)}
	var u appleUser
	if len(user) < 4096 && json.Unmarshal([]byte(user), &u) == nil {
		id.Name = strings.TrimSpace(u.Name.FirstName + " " + u.Name.LastName)
	}
	return id, nil
}
