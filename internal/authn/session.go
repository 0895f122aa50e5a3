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

// refreshPrefix marks Sigil refresh tokens, so scanners and a misplaced
// paste are recognisable and a wrong kind of token fails before any
// lookup.
const refreshPrefix = "rt_"

// TokenResponse is what a login or refresh returns (API.md §3).
type TokenResponse struct {
	AccessToken      string `json:"access_token"`
	RefreshToken     string `json:"refresh_token"`
	TokenType        string `json:"token_type"`
	ExpiresIn        int64  `json:"expires_in"`
	RefreshExpiresIn int64  `json:"refresh_expires_in"`
	AccessExpires    int64  `json:"access_token_expires"`  // Unix ms
	RefreshExpires   int64  `json:"refresh_token_expires"` // Unix ms
	SessionID        string `json:"session_id"`
}

// startSession creates a session for u and returns its first tokens;
// usedCodes (a key-pair login's challenge) are recorded in the same write.
func (s *Service) startSession(ctx context.Context, u store.User, method string, usedCodes ...store.AuthCode) (TokenResponse, error) {
	ws, err := s.workspace(ctx, u.WorkspaceID)
	if err != nil {
		return TokenResponse{}, err
	}
	lt := EffectiveLifetimes(ws, method)
	now := s.now()
	sess := store.Session{
		ID: newID("ses"), UserID: u.ID, WorkspaceID: u.WorkspaceID, Method: method, Scopes: u.Scopes,
		CreatedAt: now, ExpiresAt: now.Add(lt.MaxAge), RotatedAt: now,
	}
	sess.ClientIP, sess.UserAgent = origin(ctx)
	sess.RefreshExpiresAt = earlier(now.Add(lt.Refresh), sess.ExpiresAt)
	refresh := refreshPrefix + token.NewSecret()
	if err := s.store.CreateSession(ctx, sess, token.Hash(refresh), usedCodes...); err != nil {
		return TokenResponse{}, err
	}
	return s.issue(ctx, sess, refresh, lt)
}

// issue mints the access token of sess's current generation. Every claim
// is a function of the session and the refresh token, and Ed25519 is
// deterministic, so the grace path re-issues the very same pair.
func (s *Service) issue(ctx context.Context, sess store.Session, refresh string, lt Lifetimes) (TokenResponse, error) {
	iat := sess.RotatedAt.Truncate(time.Second)
	exp := earlier(iat.Add(lt.Access), sess.ExpiresAt)
	jti := sha256.Sum256([]byte("jti:" + refresh))
	c := &token.Claims{
		RegisteredClaims: jwt.RegisteredClaims{
			Issuer: s.opt.Issuer, Subject: sess.UserID, Audience: jwt.ClaimStrings{s.opt.Issuer},
			ExpiresAt: jwt.NewNumericDate(exp), IssuedAt: jwt.NewNumericDate(iat),
			ID: base64.RawURLEncoding.EncodeToString(jti[:16]),
		},
		SessionID: sess.ID, Workspace: sess.WorkspaceID,
		Scope: strings.Join(sess.Scopes, " "), AMR: amrOf(sess.Method), AAL: aalOf(sess.Method),
		SSO: connectionOfMethod(sess.Method),
	}
	at, err := s.keys.Mint(ctx, c)
	if err != nil {
		return TokenResponse{}, err
	}
	now := s.now()
	return TokenResponse{
		AccessToken: at, RefreshToken: refresh, TokenType: "Bearer",
		ExpiresIn: seconds(exp.Sub(now)), RefreshExpiresIn: seconds(sess.RefreshExpiresAt.Sub(now)),
		AccessExpires: exp.UnixMilli(), RefreshExpires: sess.RefreshExpiresAt.UnixMilli(),
		SessionID: sess.ID,
	}, nil
}

// seconds is d in whole seconds, rounded up, so a token minted on a
// second boundary reports its full lifetime.
func seconds(d time.Duration) int64 { return max(0, int64((d+time.Second-1)/time.Second)) }

// Refresh rotates a refresh token: the current generation's token gets a
// new pair and dies; its parent, presented again within the grace window,
// gets the same child pair back; any other old token is reuse and ends the
// session. Concurrent refreshes of one token make exactly one rotation.
func (s *Service) Refresh(ctx context.Context, ip netip.Addr, refresh string) (TokenResponse, error) {
	if err := s.limit(ctx, ratelimit.RefreshIP, ipKey(ip)); err != nil {
		return TokenResponse{}, err
	}
	if !strings.HasPrefix(refresh, refreshPrefix) || len(refresh) > 128 {
		return TokenResponse{}, ErrInvalidToken
	}
	// The usual refresh is one write that reads the token with its
	// session and rotates it if it is current and live: one round trip
	// and one commit (the workspace comes from its cache). Every other
	// case comes back unchanged and is decided below.
	child := refreshPrefix + s.derive.Derive(refresh)
	now := s.now()
	r, err := s.store.RefreshSession(ctx, store.RefreshRotation{Hash: token.Hash(refresh),
		ChildHash: token.Hash(child), Now: now, ChildTTL: childTTLs, DefaultChildTTL: methodDefaults[MethodPubkey].Refresh})
	if errors.Is(err, store.ErrNotFound) || errors.Is(err, store.ErrConflict) {
		return TokenResponse{}, ErrInvalidToken // unknown, or its child taken by another session
	} else if err != nil {
		return TokenResponse{}, err
	}
	rt, sess := r.Token, r.Session
	if err := s.limitedIn(sess.WorkspaceID, s.limit(ctx, ratelimit.RefreshToken, rt.SessionID)); err != nil {
		if r.Rotated {
			s.revertRotation(ctx, sess, child) // the presented token stays current
		}
		return TokenResponse{}, err
	}
	if r.Rotated {
		return s.issueRotated(ctx, sess, child, now, r.ChildExpiresAt)
	}
	// Not rotated though current as read, live and unrevoked: another
	// refresh of the same token rotated the session between the read and
	// the write (the store re-checks the write). Go straight to the re-read
	// rather than trying the rotation again.
	lost := rt.Generation == sess.Generation && sess.RevokedAt == nil &&
		now.Before(sess.ExpiresAt) && now.Before(sess.RefreshExpiresAt)
	if !lost {
		resp, err := s.refreshOnce(ctx, rt, sess, refresh)
		if !errors.Is(err, store.ErrConflict) {
			return resp, err
		}
	}
	// Lost the rotation race: re-read the session, which then takes the
	// grace path with the winner's child (a second pass at most). The
	// user's scopes are those of the first read.
	held := sess.UserScopes
	sess, err = s.store.GetSession(ctx, rt.SessionID)
	if errors.Is(err, store.ErrNotFound) {
		return TokenResponse{}, ErrInvalidToken
	} else if err != nil {
		return TokenResponse{}, err
	}
	sess.UserScopes = held
	resp, err := s.refreshOnce(ctx, rt, sess, refresh)
	if errors.Is(err, store.ErrConflict) {
		return TokenResponse{}, ErrInvalidToken
	}
	return resp, err
}

// childTTLs are the methods' default refresh lifetimes by first factor,
// as RefreshSession applies them when a workspace sets none (the rule of
// EffectiveLifetimes; an unknown method gets pubkey's).
var childTTLs = func() map[string]time.Duration {
	m := make(map[string]time.Duration, len(methodDefaults))
	for method, lt := range methodDefaults {
		m[method] = lt.Refresh
	}
	return m
}()

// issueRotated mints the pair of a session the store rotated at now to
// child, expiring at childExp; sess is the session as found before.
func (s *Service) issueRotated(ctx context.Context, sess store.Session, child string, now, childExp time.Time) (TokenResponse, error) {
	ws, err := s.workspace(ctx, sess.WorkspaceID)
	if err != nil {
		return TokenResponse{}, err
	}
	sess.Scopes = refreshedScopes(sess) // the user's scopes now, not those at login
	s.skew.check(ctx, s.log, now, sess.RotatedAt, "session rotation")
	sess.Generation, sess.RotatedAt, sess.RefreshExpiresAt = sess.Generation+1, now, childExp
	return s.issue(ctx, sess, child, EffectiveLifetimes(ws, sess.Method))
}

// revertRotation undoes the store's rotation of parent to child for a
// refresh refused after it (its rate limit), so the client may present the
// same token once the limit allows. A failure leaves the child current:
// the client's retry is then reuse, as if its answer had been lost, so it
// is logged.
func (s *Service) revertRotation(ctx context.Context, parent store.Session, child string) {
	if err := s.store.RevertRotation(ctx, parent, token.Hash(child)); err != nil {
		s.log.ErrorContext(ctx, "refresh refused after its rotation; could not undo it",
			"session_id", parent.ID, "err", err)
	}
}

// refreshOnce decides a refresh of rt against sess as last read.
func (s *Service) refreshOnce(ctx context.Context, rt store.RefreshToken, sess store.Session, refresh string) (TokenResponse, error) {
	now := s.now()
	if sess.RevokedAt != nil || !now.Before(sess.ExpiresAt) {
		return TokenResponse{}, ErrInvalidToken
	}
	ws, err := s.workspace(ctx, sess.WorkspaceID)
	if err != nil {
		return TokenResponse{}, err
	}
	lt := EffectiveLifetimes(ws, sess.Method)
	child := refreshPrefix + s.derive.Derive(refresh)
	sess.Scopes = refreshedScopes(sess) // the user's scopes now, not those at login
	s.skew.check(ctx, s.log, now, sess.RotatedAt, "session rotation")
	switch {
	case rt.Generation == sess.Generation:
		if !now.Before(sess.RefreshExpiresAt) {
			return TokenResponse{}, ErrInvalidToken
		}
		exp := earlier(now.Add(lt.Refresh), sess.ExpiresAt)
		if err := s.store.RotateRefresh(ctx, sess.ID, sess.Generation, token.Hash(child), now, exp); err != nil {
			return TokenResponse{}, err // ErrConflict: lost the race, caller retries
		}
		sess.Generation, sess.RotatedAt, sess.RefreshExpiresAt = sess.Generation+1, now, exp
		return s.issue(ctx, sess, child, lt)
	case rt.Generation == sess.Generation-1 && lt.Grace > 0 && now.Sub(sess.RotatedAt) <= lt.Grace:
		return s.issue(ctx, sess, child, lt)
	default:
		// rotated_ago beside grace tells real reuse from a replica whose
		// clock is behind (its rotations look older here than they are).
		s.log.WarnContext(ctx, "refresh token reuse; ending session", "session_id", sess.ID, "user_id", sess.UserID,
			"presented_generation", rt.Generation, "current_generation", sess.Generation,
			"rotated_ago", now.Sub(sess.RotatedAt).Round(time.Millisecond).String(), "grace", lt.Grace.String())
		if err := s.endSession(ctx, sess.WorkspaceID, sess.ID); err != nil {
			return TokenResponse{}, err
		}
		s.audit(ctx, netip.Addr{}, store.AuditEvent{WorkspaceID: sess.WorkspaceID, Actor: sess.UserID, Action: AuditRefreshReuse,
			Target: sess.ID, Method: sess.Method})
		return TokenResponse{}, ErrRefreshReused
	}
}
