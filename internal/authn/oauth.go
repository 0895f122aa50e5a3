package authn

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/netip"
	"slices"
	"strings"

	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/token"
)

// OAuthError is an RFC 6749 §5.2 error of the /oauth2 endpoints.
type OAuthError struct {
	Code        string // invalid_request, invalid_client, invalid_grant, unsupported_grant_type, invalid_scope
	Description string
}

func (e *OAuthError) Error() string { return e.Code + ": " + e.Description }

// ClientCredentials is grant_type=client_credentials: the client is an
// API key (client_id = key id, client_secret = the key). The token is
// the key's exchange token for the requested scopes, so the same request
// gets the same token while it is valid.
func (s *Service) ClientCredentials(ctx context.Context, ip netip.Addr, clientID, secret, scope string) (ExchangeResponse, []string, error) {
	if clientID == "" || secret == "" {
		return ExchangeResponse{}, nil, &OAuthError{"invalid_client", "client authentication is required"}
	}
	k, err := s.lookupAPIKey(ctx, secret)
	if errors.Is(err, ErrInvalidToken) || (err == nil && k.ID != clientID) {
		return ExchangeResponse{}, nil, &OAuthError{"invalid_client", "client authentication failed"}
	} else if err != nil {
		return ExchangeResponse{}, nil, err
	}
	scopes := slices.Clone(k.Scopes)
	if want := strings.Fields(scope); len(want) > 0 {
		for _, sc := range want {
			if !slices.Contains(k.Scopes, sc) {
				return ExchangeResponse{}, nil, &OAuthError{"invalid_scope", "scope " + sc + " is not granted to this client"}
			}
		}
		scopes = want
	}
	slices.Sort(scopes)
	scopes = slices.Compact(scopes)
	// One exchange session per (key, scope set), whatever the order or
	// number of scopes asked for.
	h := sha256.Sum256([]byte(strings.Join(scopes, " ")))
	sid := "oauth2:" + hex.EncodeToString(h[:12])
	resp, err := s.ExchangeAPIKey(ctx, ip, APIKeyLogin{APIKey: secret, SessionID: sid, scopes: scopes})
	return resp, scopes, err
}

// Introspection is an RFC 7662 answer.
type Introspection struct {
	Active    bool   `json:"active"`
	Subject   string `json:"sub,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
	Scope     string `json:"scope,omitempty"`
	Expires   int64  `json:"exp,omitempty"`
	IssuedAt  int64  `json:"iat,omitempty"`
	Issuer    string `json:"iss,omitempty"`
	TokenType string `json:"token_type,omitempty"`
	SessionID string `json:"sid,omitempty"`
	Workspace string `json:"ws,omitempty"`
	Kind      string `json:"kind,omitempty"`
}

// The scopes that make an API key a resource server of its workspace.
// Any key could otherwise read (introspect) and end (revoke) every token
// of its workspace, so these are asked for by name, like Auth0's
// management scopes; the instance admin holds both.
const (
	// ScopeIntrospect: POST /oauth2/introspect and the revocation feed.
	ScopeIntrospect = "tokens:introspect"
	// ScopeRevoke: POST /oauth2/revoke of any token of the workspace (a
	// key revokes itself and the tokens it was exchanged for without it).
	ScopeRevoke = "tokens:revoke"
)

// resourceServer checks who may introspect or revoke: an API key with
// scope (its workspace's tokens only) or the instance admin (any).
func resourceServer(p Principal, scope string) error {
	switch {
	case p.IsAdmin() || (p.Kind == KindAPIKey && p.HasScope(scope)):
		return nil
	case p.Kind == KindAPIKey:
		return errorf(CodeInsufficientScope, "this API key lacks the scope %s", scope)
	}
	return ErrResourceServerCredential
}

// Introspect tells a resource server whether tok is active. Tokens of
// another workspace are inactive to an API key caller.
func (s *Service) Introspect(ctx context.Context, caller Principal, tok string) (Introspection, error) {
	if err := resourceServer(caller, ScopeIntrospect); err != nil {
		return Introspection{}, err
	}
	in, ws := s.introspect(ctx, strings.TrimSpace(tok))
	if !in.Active || (!caller.IsAdmin() && ws != caller.WorkspaceID) {
		return Introspection{Active: false}, nil
	}
	return in, nil
}

func (s *Service) introspect(ctx context.Context, tok string) (Introspection, string) {
	if strings.HasPrefix(tok, refreshPrefix) {
		return s.introspectRefresh(ctx, tok)
	}
	p, err := s.Authenticate(ctx, Credential{Authorization: tok})
	if err != nil || p.IsAdmin() {
		return Introspection{}, ""
	}
	in := Introspection{Active: true, Subject: p.Subject, Scope: strings.Join(p.Scopes, " "), SessionID: p.SessionID,
		Workspace: p.WorkspaceID, Kind: p.Kind, Issuer: s.opt.Issuer}
	switch {
	case strings.HasPrefix(tok, "sk_"):
		in.TokenType, in.ClientID = "api_key", p.Subject
	case p.AuthMethod == MethodJWT:
		in.TokenType, in.Issuer = "jwt", ""
	default:
		in.TokenType = "access_token"
		if c := s.tokens.get(tok, s.now()); c != nil {
			in.Expires, in.IssuedAt = c.ExpiresAt.Unix(), c.IssuedAt.Unix()
		}
		if p.Kind == KindAPIKey {
			in.ClientID = p.Subject
		}
	}
	return in, p.WorkspaceID
}

// introspectRefresh: a refresh token is active while it is its session's
// current one, unexpired, and the session lives; its scope is what the
// next refresh would issue.
func (s *Service) introspectRefresh(ctx context.Context, tok string) (Introspection, string) {
	rt, sess, err := s.store.GetRefreshSession(ctx, token.Hash(tok))
	now := s.now()
	if err != nil || sess.RevokedAt != nil || rt.Generation != sess.Generation || !now.Before(sess.RefreshExpiresAt) || !now.Before(sess.ExpiresAt) {
		return Introspection{}, ""
	}
	return Introspection{Active: true, Subject: sess.UserID, Scope: strings.Join(refreshedScopes(sess), " "), SessionID: sess.ID,
		Workspace: sess.WorkspaceID, Kind: KindUser, TokenType: "refresh_token", Issuer: s.opt.Issuer,
		Expires: sess.RefreshExpiresAt.Unix(), IssuedAt: sess.RotatedAt.Unix()}, sess.WorkspaceID
}

// Revoke is RFC 7009: revoking an access or refresh token ends its
// session; revoking an API key revokes the key. Unknown, inactive or
// foreign tokens are ignored (the answer is the same). A key without
// ScopeRevoke may revoke only itself and the tokens it was exchanged for;
// anything else, known or not, is insufficient_scope.
func (s *Service) Revoke(ctx context.Context, ip netip.Addr, caller Principal, tok string) error {
	err := resourceServer(caller, ScopeRevoke)
	if err != nil && caller.Kind != KindAPIKey {
		return err
	}
	in, ws := s.introspect(ctx, strings.TrimSpace(tok))
	if err != nil && !(in.Active && in.Kind == KindAPIKey && in.Subject == caller.Subject) {
		return err
	}
	if !in.Active || (!caller.IsAdmin() && ws != caller.WorkspaceID) {
		return nil
	}
	if in.TokenType == "api_key" {
		return s.RevokeAPIKey(ctx, ip, Principal{Kind: KindAdmin, Subject: caller.Subject}, in.Subject)
	}
	if in.SessionID == "" {
		return nil // customer JWTs have no server-side state to end
	}
	if err := s.endSession(ctx, ws, in.SessionID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: ws, Actor: caller.Subject, Action: AuditSessionEnd, Target: in.SessionID,
		Details: map[string]string{"via": "oauth2_revoke"}})
	return nil
}

// RevokeForClient is RFC 7009 for an app: it revokes an access or refresh
// token issued to that app (ending its session). Tokens of other clients,
// and unknown or inactive ones, are ignored with the same answer.
func (s *Service) RevokeForClient(ctx context.Context, ip netip.Addr, c ClientAuth, tok string) error {
	app, err := s.authClient(ctx, c)
	if err != nil {
		return err
	}
	in, ws := s.introspect(ctx, strings.TrimSpace(tok))
	if !in.Active || in.SessionID == "" || ws != app.WorkspaceID {
		return nil
	}
	sess, err := s.store.GetSession(ctx, in.SessionID)
	if err != nil || sess.AppID != app.ID {
		return nil
	}
	if err := s.endSession(ctx, ws, sess.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: ws, Actor: sess.UserID, Action: AuditSessionEnd, Target: sess.ID,
		Details: map[string]string{"via": "oauth2_revoke", "client_id": app.ID}})
	return nil
}
