package authn

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/netip"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/sigil-auth/sigil/internal/ratelimit"
	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/token"
)

// APIKeyLogin is the API-key form of POST /v1/auth/login.
type APIKeyLogin struct {
	APIKey    string   `json:"api_key"`
	SessionID string   `json:"session_id"`
	scopes    []string // narrowed scopes (client_credentials); nil: the key's
}

// ExchangeResponse is the answer of an API-key login: a bearer token and
// no refresh token.
type ExchangeResponse struct {
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
	TokenType   string `json:"token_type"`
}

// exchangeSessionID maps (key, client session id) to a session id, so the
// same pair finds the same session — and so the same token — while it
// lives.
func exchangeSessionID(keyID, clientSession string) string {
	h := sha256.Sum256([]byte(keyID + "\x00" + clientSession))
	return "ses_" + strings.ToLower(idEncoding.EncodeToString(h[:16]))
}

// ExchangeAPIKey turns an API key into a short bearer token (2 h by
// default) for the client's session id. While that token is valid the
// same (key, session id) gets the same token back; a new session id gets
// a new one. Revoking the key ends these sessions.
func (s *Service) ExchangeAPIKey(ctx context.Context, ip netip.Addr, in APIKeyLogin) (ExchangeResponse, error) {
	resp, k, err := s.exchange(ctx, ip, in)
	s.observe(MethodAPIKey, err)
	ev := store.AuditEvent{WorkspaceID: k.WorkspaceID, Actor: k.ID, Target: k.ID, Action: AuditLoginSuccess, Method: MethodAPIKey}
	if err != nil {
		ev.Action, ev.Details = AuditLoginFailure, map[string]string{"reason": errorCode(err)}
	}
	s.audit(ctx, ip, ev)
	return resp, err
}

func (s *Service) exchange(ctx context.Context, ip netip.Addr, in APIKeyLogin) (ExchangeResponse, store.APIKey, error) {
	if err := s.limit(ctx, ratelimit.LoginIP, ipKey(ip)); err != nil {
		return ExchangeResponse{}, store.APIKey{}, err
	}
	if len(in.SessionID) > 256 {
		return ExchangeResponse{}, store.APIKey{}, invalid("session_id must be at most 256 characters")
	}
	k, err := s.lookupAPIKey(ctx, strings.TrimSpace(in.APIKey))
	if errors.Is(err, ErrInvalidToken) {
		return ExchangeResponse{}, k, ErrInvalidCredentials
	} else if err != nil {
		return ExchangeResponse{}, k, err
	}
	sid := exchangeSessionID(k.ID, in.SessionID)
	now := s.now()
	// A session read live within liveTTL answers from the cache: it
	// changes only by revocation (announced: the entry is dropped) or by
	// expiring (checked here), and its token is a function of it.
	if e, ok := s.live.exchange(sid); ok && e.apiKeyID == k.ID && now.Before(e.expiresAt) {
		return ExchangeResponse{AccessToken: e.token, ExpiresIn: seconds(e.expiresAt.Sub(now)), TokenType: "Bearer"}, k, nil
	}
	epoch := s.live.epoch.Load()
	sess, err := s.store.GetSession(ctx, sid)
	live := err == nil && sess.RevokedAt == nil && now.Before(sess.ExpiresAt) && sess.APIKeyID == k.ID
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return ExchangeResponse{}, k, err
	}
	if !live {
		ws, err := s.workspace(ctx, k.WorkspaceID)
		if err != nil {
			return ExchangeResponse{}, k, err
		}
		lt := EffectiveLifetimes(ws, MethodAPIKey)
		exp := now.Add(lt.Access)
		if k.ExpiresAt != nil {
			exp = earlier(exp, *k.ExpiresAt)
		}
		scopes := k.Scopes
		if in.scopes != nil {
			scopes = in.scopes
		}
		created := now
		if sess.ID == sid && sess.CreatedAt.Unix() >= now.Unix() {
			// The session ended in the second it began: the new one must
			// begin in a later second, or its token (iat = that second)
			// would be the ended one's again.
			created = time.Unix(sess.CreatedAt.Unix()+1, 0).UTC()
		}
		sess = store.Session{ID: sid, UserID: k.UserID, WorkspaceID: k.WorkspaceID, Method: MethodAPIKey,
			Scopes: scopes, CreatedAt: created, ExpiresAt: exp, RefreshExpiresAt: exp, RotatedAt: now, APIKeyID: k.ID}
		if err := s.store.PutAPIKeySession(ctx, sess); err != nil {
			return ExchangeResponse{}, k, err
		}
		s.live.forget(sid) // a replaced session is a new one
	}
	at, err := s.mintExchange(ctx, sess)
	if err != nil {
		return ExchangeResponse{}, k, err
	}
	if live {
		// Only a session read live is cached: a fresh one is, from the
		// next exchange's read on.
		s.live.putExchange(sess, at, epoch)
	}
	return ExchangeResponse{AccessToken: at, ExpiresIn: seconds(sess.ExpiresAt.Sub(now)), TokenType: "Bearer"}, k, nil
}

// mintExchange mints the session's token; every claim is a function of
// the session, so it is the same token each time.
func (s *Service) mintExchange(ctx context.Context, sess store.Session) (string, error) {
	iat := sess.CreatedAt.Truncate(1e9)
	jti := sha256.Sum256([]byte("jti:" + sess.ID + ":" + iat.String()))
	return s.keys.Mint(ctx, &token.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: s.opt.Issuer, Subject: sess.APIKeyID, Audience: jwt.ClaimStrings{s.opt.Issuer},
			ExpiresAt: jwt.NewNumericDate(sess.ExpiresAt), IssuedAt: jwt.NewNumericDate(iat),
			ID: base64.RawURLEncoding.EncodeToString(jti[:16]),
		},
		SessionID: sess.ID, Workspace: sess.WorkspaceID,
		Scope: strings.Join(sess.Scopes, " "), AMR: []string{MethodAPIKey}, AAL: AAL1,
	})
}
