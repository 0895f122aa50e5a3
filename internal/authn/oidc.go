package authn

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/token"
)

// idTokenTTL is the lifetime of an ID token: it proves a sign-in to the
// app once, and is not a credential for APIs.
const idTokenTTL = time.Hour

// ClientAuth is how a client authenticated at the token endpoint:
// HTTP Basic or form fields (RFC 6749 §2.3.1), or client_id alone for a
// public client.
type ClientAuth struct {
	ID     string
	Secret string
	Basic  bool
}

// CodeExchange is grant_type=authorization_code (RFC 6749 §4.1.3).
type CodeExchange struct {
	Client       ClientAuth
	Code         string
	RedirectURI  string
	CodeVerifier string
}

// CodeTokens is the token response of a code exchange: §4's response plus
// the OIDC ID token and the granted scope.
type CodeTokens struct {
	TokenResponse
	IDToken string `json:"id_token,omitempty"`
	Scope   string `json:"scope"`
}

// IDClaims are the claims of a Sigil ID token (OIDC Core §2).
type IDClaims struct {
	jwt.RegisteredClaims
	Nonce         string   `json:"nonce,omitempty"`
	AuthTime      int64    `json:"auth_time"`
	SessionID     string   `json:"sid,omitempty"`
	AZP           string   `json:"azp,omitempty"`
	AMR           []string `json:"amr,omitempty"`
	ACR           string   `json:"acr,omitempty"`
	SSO           string   `json:"sso,omitempty"`
	Email         string   `json:"email,omitempty"`
	EmailVerified *bool    `json:"email_verified,omitempty"`
	Name          string   `json:"name,omitempty"`
	AtHash        string   `json:"at_hash,omitempty"`
}

var (
	errInvalidClient = &OAuthError{"invalid_client", "client authentication failed"}
	errInvalidGrant  = &OAuthError{"invalid_grant", "the authorization code is invalid, expired or already used, or does not match this client, redirect_uri or code_verifier"}
)

// authClient checks a client's authentication: a confidential app needs
// its secret (compared in constant time); a public app only its id.
func (s *Service) authClient(ctx context.Context, c ClientAuth) (store.App, error) {
	if c.ID == "" || len(c.ID) > 128 || len(c.Secret) > 256 {
		return store.App{}, errInvalidClient
	}
	app, err := s.app(ctx, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		return store.App{}, errInvalidClient
	} else if err != nil {
		return store.App{}, err
	}
	if app.SecretHash == nil {
		return app, nil
	}
	if c.Secret == "" || subtle.ConstantTimeCompare(token.Hash(c.Secret), app.SecretHash) != 1 {
		return store.App{}, errInvalidClient
	}
	return app, nil
}

// ExchangeCode redeems an authorization code for tokens. A code works once:
// presented again it ends the session its first exchange started.
func (s *Service) ExchangeCode(ctx context.Context, ip netip.Addr, in CodeExchange) (CodeTokens, error) {
	app, err := s.authClient(ctx, in.Client)
	if err != nil {
		return CodeTokens{}, err
	}
	tokens, c, err := s.exchangeCode(ctx, app, in)
	ev := store.AuditEvent{WorkspaceID: app.WorkspaceID, Actor: c.UserID, Action: AuditCodeExchange, Target: app.ID, Method: c.Method}
	var oe *OAuthError
	if errors.As(err, &oe) {
		ev.Action, ev.Details = AuditCodeRefused, map[string]string{"reason": oe.Description}
	}
	if err == nil || oe != nil {
		s.audit(ctx, ip, ev)
	}
	return tokens, err
}

func (s *Service) exchangeCode(ctx context.Context, app store.App, in CodeExchange) (CodeTokens, store.AuthorizationCode, error) {
	if !strings.HasPrefix(in.Code, codePrefix) || len(in.Code) > 128 {
		return CodeTokens{}, store.AuthorizationCode{}, errInvalidGrant
	}
	hash := token.Hash(in.Code)
	c, err := s.store.GetAuthorizationCode(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return CodeTokens{}, c, errInvalidGrant
	} else if err != nil {
		return CodeTokens{}, c, err
	}
	now := s.now()
	switch {
	case c.AppID != app.ID:
		return CodeTokens{}, c, &OAuthError{"invalid_grant", "the authorization code was issued to another client"}
	case c.RedeemedAt != nil:
		return CodeTokens{}, c, s.codeReused(ctx, c)
	case !now.Before(c.ExpiresAt):
		return CodeTokens{}, c, &OAuthError{"invalid_grant", "the authorization code has expired"}
	case in.RedirectURI != c.RedirectURI:
		return CodeTokens{}, c, &OAuthError{"invalid_grant", "redirect_uri does not match the authorization request"}
	case in.CodeVerifier == "":
		return CodeTokens{}, c, &OAuthError{"invalid_request", "code_verifier is required (PKCE)"}
	case !pkceMatches(in.CodeVerifier, c.CodeChallenge):
		return CodeTokens{}, c, &OAuthError{"invalid_grant", "code_verifier does not match the code_challenge"}
	}
	u, err := s.store.GetUser(ctx, c.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return CodeTokens{}, c, errInvalidGrant
	} else if err != nil {
		return CodeTokens{}, c, err
	}
	ws, err := s.workspace(ctx, c.WorkspaceID)
	if err != nil {
		return CodeTokens{}, c, err
	}
	lt := EffectiveLifetimes(ws, c.Method)
	sess := store.Session{ID: newID("ses"), UserID: u.ID, WorkspaceID: u.WorkspaceID, Method: c.Method,
		Scopes: c.Scopes, CreatedAt: now, ExpiresAt: now.Add(lt.MaxAge), RotatedAt: now, AppID: app.ID}
	sess.ClientIP, sess.UserAgent = origin(ctx)
	sess.RefreshExpiresAt = earlier(now.Add(lt.Refresh), sess.ExpiresAt)
	refresh := refreshPrefix + token.NewSecret()
	stored, err := s.store.RedeemAuthorizationCode(ctx, hash, sess, token.Hash(refresh), now)
	if errors.Is(err, store.ErrConflict) {
		return CodeTokens{}, c, s.codeReused(ctx, stored)
	} else if err != nil {
		return CodeTokens{}, c, err
	}
	tr, err := s.issue(ctx, sess, refresh, lt)
	if err != nil {
		return CodeTokens{}, c, err
	}
	out := CodeTokens{TokenResponse: tr, Scope: strings.Join(c.Scopes, " ")}
	if slices.Contains(c.Scopes, "openid") {
		if out.IDToken, err = s.idToken(ctx, app, u, c, sess.ID, tr.AccessToken); err != nil {
			return CodeTokens{}, c, err
		}
	}
	return out, c, nil
}

// codeReused ends the session a code's first exchange started (RFC 6749
// §4.1.2: a code presented twice revokes what it issued).
func (s *Service) codeReused(ctx context.Context, c store.AuthorizationCode) error {
	if c.SessionID != "" {
		if err := s.endSession(ctx, c.WorkspaceID, c.SessionID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	s.log.WarnContext(ctx, "authorization code presented twice; its session is ended",
		"client_id", c.AppID, "user_id", c.UserID, "session_id", c.SessionID)
	s.audit(ctx, netip.Addr{}, store.AuditEvent{WorkspaceID: c.WorkspaceID, Actor: c.UserID, Action: AuditCodeReuse,
		Target: c.SessionID, Details: map[string]string{"client_id": c.AppID}})
	return &OAuthError{"invalid_grant", "the authorization code was already used; the tokens it issued are revoked"}
}

// idToken mints the OIDC ID token of a code exchange, with the app's
// algorithm.
func (s *Service) idToken(ctx context.Context, app store.App, u store.User, c store.AuthorizationCode, sid, access string) (string, error) {
	now := s.now().Truncate(time.Second)
	claims := IDClaims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: s.opt.Issuer, Subject: u.ID, Audience: jwt.ClaimStrings{app.ID},
			IssuedAt: jwt.NewNumericDate(now), ExpiresAt: jwt.NewNumericDate(now.Add(idTokenTTL)),
		},
		Nonce: c.Nonce, AuthTime: c.AuthTime.Unix(), SessionID: sid, AZP: app.ID, AMR: amrOf(c.Method), ACR: aalOf(c.Method), SSO: connectionOfMethod(c.Method),
	}
	if slices.Contains(c.Scopes, "email") && u.Email != "" {
		claims.Email, claims.EmailVerified = u.Email, &u.EmailVerified
	}
	if slices.Contains(c.Scopes, "profile") {
		claims.Name = u.Name
	}
	if app.IDTokenAlg == token.AlgRS256 {
		// OIDC Core §3.1.3.6: the left half of the SHA-256 of the token.
		sum := sha256.Sum256([]byte(access))
		claims.AtHash = base64.RawURLEncoding.EncodeToString(sum[:16])
	}
	return s.keys.MintID(ctx, app.IDTokenAlg, claims)
}

// UserInfo is the OIDC userinfo answer (OIDC Core §5.3).
type UserInfo struct {
	Subject       string `json:"sub"`
	Email         string `json:"email,omitempty"`
	EmailVerified *bool  `json:"email_verified,omitempty"`
	Name          string `json:"name,omitempty"`
}

// UserInfo answers for a user's access token that carries the openid
// scope; email needs the email scope, name (when known) profile.
func (s *Service) UserInfo(ctx context.Context, p Principal) (UserInfo, error) {
	if p.Kind != KindUser {
		return UserInfo{}, ErrUserCredentialRequired
	}
	if !slices.Contains(p.Scopes, "openid") {
		return UserInfo{}, errorf(CodeInsufficientScope, "userinfo needs an access token with the openid scope")
	}
	u, err := s.store.GetUser(ctx, p.Subject)
	if errors.Is(err, store.ErrNotFound) {
		return UserInfo{}, ErrInvalidToken
	} else if err != nil {
		return UserInfo{}, err
	}
	out := UserInfo{Subject: u.ID}
	if slices.Contains(p.Scopes, "email") && u.Email != "" {
		out.Email, out.EmailVerified = u.Email, &u.EmailVerified
	}
	if slices.Contains(p.Scopes, "profile") {
		out.Name = u.Name
	}
	return out, nil
}

// LogoutRequest is GET /oauth2/logout (OpenID RP-Initiated Logout 1.0).
type LogoutRequest struct {
	IDTokenHint           string
	ClientID              string
	PostLogoutRedirectURI string
	State                 string
}

// ErrLogoutConfirm means the request does not prove which app sent it (no
// valid id_token_hint): the page must ask the person before signing out.
var ErrLogoutConfirm = errors.New("authn: logout needs the person's confirmation")

// RPLogout ends the Sigil session named by a valid id_token_hint and the
// browser session of cookie, and returns where to send the browser ("" =
// show the signed-out page). A post_logout_redirect_uri must be registered
// for the app; a wrong one is a *ClientError. Without a valid hint it
// returns ErrLogoutConfirm and ends nothing.
func (s *Service) RPLogout(ctx context.Context, ip netip.Addr, in LogoutRequest, cookie string) (string, error) {
	var hint *IDClaims
	if in.IDTokenHint != "" {
		var c IDClaims
		if err := s.verify.VerifyHint(ctx, in.IDTokenHint, &c); err == nil {
			hint = &c
		}
	}
	clientID := in.ClientID
	if hint != nil && len(hint.Audience) == 1 {
		if clientID != "" && clientID != hint.Audience[0] {
			return "", &ClientError{"client_id does not match the id_token_hint"}
		}
		clientID = hint.Audience[0]
	}
	target := ""
	if in.PostLogoutRedirectURI != "" {
		app, err := s.app(ctx, clientID)
		if err != nil && !errors.Is(err, store.ErrNotFound) {
			return "", err
		}
		if err != nil || !slices.Contains(app.PostLogoutRedirectURIs, in.PostLogoutRedirectURI) {
			return "", &ClientError{"the post_logout_redirect_uri is not one registered for this app"}
		}
		target = in.PostLogoutRedirectURI
		if in.State != "" {
			sep := "?"
			if strings.Contains(target, "?") {
				sep = "&"
			}
			target += sep + url.Values{"state": {in.State}}.Encode()
		}
	}
	if hint == nil {
		return target, ErrLogoutConfirm
	}
	if hint.SessionID != "" {
		if sess, err := s.store.GetSession(ctx, hint.SessionID); err == nil && sess.UserID == hint.Subject && sess.AppID == clientID {
			if err := s.endSession(ctx, sess.WorkspaceID, sess.ID); err != nil {
				return "", err
			}
			s.audit(ctx, ip, store.AuditEvent{WorkspaceID: sess.WorkspaceID, Actor: sess.UserID, Action: AuditRPLogout,
				Target: sess.ID, Details: map[string]string{"client_id": clientID}})
		}
	}
	return target, s.SignOut(ctx, ip, cookie)
}
