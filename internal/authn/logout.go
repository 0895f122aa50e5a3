package authn

import (
	"context"
	"errors"
	"net/netip"
	"strings"
	"time"

	"github.com/sigil-auth/sigil/internal/fanout"
	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/token"
)

// revocationTopic carries ended session ids between replicas. A message
// is "@<workspace id>,<id>,<id>,…": the first item names the workspace
// of the ids (for the feed), and a replica of an earlier version, which
// reads every item as an id, ignores it as one it does not know. A
// message without it (such a replica's) is of no known workspace.
const revocationTopic = "sigil_revocations"

// LogoutInput is POST /v1/auth/logout: a refresh token, or the caller's
// own access token (passed as Principal), and whether to end every session
// of the subject.
type LogoutInput struct {
	RefreshToken string `json:"refresh_token"`
	All          bool   `json:"all"`
}

// Logout ends the session named by the refresh token or by p (the
// authenticated caller), or every session of its subject with All.
func (s *Service) Logout(ctx context.Context, p *Principal, in LogoutInput) error {
	var sessionID, userID, wsID string
	switch {
	case in.RefreshToken != "":
		if !strings.HasPrefix(in.RefreshToken, refreshPrefix) {
			return ErrInvalidToken
		}
		rt, err := s.store.GetRefreshToken(ctx, token.Hash(in.RefreshToken))
		if errors.Is(err, store.ErrNotFound) {
			return ErrInvalidToken
		} else if err != nil {
			return err
		}
		sess, err := s.store.GetSession(ctx, rt.SessionID)
		if errors.Is(err, store.ErrNotFound) {
			return ErrInvalidToken
		} else if err != nil {
			return err
		}
		if sess.RevokedAt != nil || !s.now().Before(sess.ExpiresAt) {
			// Already ended: logout is idempotent. A dead session's token
			// does not get to end the user's other sessions.
			return nil
		}
		sessionID, userID, wsID = sess.ID, sess.UserID, sess.WorkspaceID
	case p != nil && p.SessionID != "":
		sessionID, userID, wsID = p.SessionID, p.Subject, p.WorkspaceID
	case p != nil:
		return invalid("this credential has no session; send a refresh_token")
	default:
		return ErrMissingCredential
	}
	ev := store.AuditEvent{Actor: userID, Action: AuditLogout, Target: sessionID, WorkspaceID: wsID}
	err := s.endSession(ctx, wsID, sessionID)
	if in.All && err == nil {
		ev.Action, ev.Target = AuditLogoutAll, userID
		err = s.endUserSessions(ctx, wsID, userID)
	}
	if err == nil {
		s.audit(ctx, netip.Addr{}, ev)
	}
	return err
}

// endSession revokes one session of workspace ws and tells every replica.
func (s *Service) endSession(ctx context.Context, ws, id string) error {
	if err := s.store.RevokeSession(ctx, id, s.now()); err != nil {
		return err
	}
	s.announce(ctx, ws, []string{id})
	return nil
}

// endUserSessions revokes every session of userID (a member of ws) and
// tells every replica.
func (s *Service) endUserSessions(ctx context.Context, ws, userID string) error {
	ids, err := s.store.RevokeUserSessions(ctx, userID, s.now())
	if err != nil {
		return err
	}
	s.announce(ctx, ws, ids)
	return nil
}

// announce forgets ended sessions, revoked API keys and deleted JWT keys
// of workspace ws ("" = not known) locally at once and publishes their
// ids. A lost announcement is bounded by liveTTL, so failure is only
// logged.
func (s *Service) announce(ctx context.Context, ws string, ids []string) {
	for _, id := range ids {
		s.forget(ws, id)
	}
	if s.bus == nil || len(ids) == 0 {
		return
	}
	prefix := ""
	if ws != "" {
		prefix = "@" + ws + ","
	}
	// Batches stay under the bus's message limit.
	for len(ids) > 0 {
		n, size := 0, len(prefix)
		for n < len(ids) && (n == 0 || size+len(ids[n])+1 <= fanout.MaxMessage) {
			size += len(ids[n]) + 1
			n++
		}
		s.revoked.expectEcho(ws, ids[:n])
		if err := s.bus.Publish(ctx, revocationTopic, prefix+strings.Join(ids[:n], ",")); err != nil {
			s.revoked.cancelEcho(ws, ids[:n])
			s.log.ErrorContext(ctx, "cannot announce session revocation", "err", err, "sessions", n)
		}
		ids = ids[n:]
	}
}

// Run subscribes to other replicas' revocations and returns once the
// subscription is established; it lasts until ctx ends.
func (s *Service) Run(ctx context.Context) error {
	if s.bus == nil {
		return nil
	}
	return s.bus.Subscribe(ctx, revocationTopic, func(msg string) {
		ws, ids := parseAnnouncement(msg)
		for id := range strings.SplitSeq(ids, ",") {
			if !s.revoked.isEcho(ws, id) { // our own: forgotten when announced
				s.forget(ws, id)
			}
		}
	}, func() {
		s.revoked.reset()
		s.live.flush()
		s.apiKeys.flush()
		s.jwtKeys.flush()
		s.wsCache.flush()
		s.browsers.flush()
		s.apps.flush()
	})
}

// parseAnnouncement splits a revocationTopic message into its workspace
// ("" when it names none) and its comma-separated ids.
func parseAnnouncement(msg string) (ws, ids string) {
	if first, rest, ok := strings.Cut(msg, ","); ok && strings.HasPrefix(first, "@") {
		return first[1:], rest
	}
	return "", msg
}

// jwtKeyTag marks JWT key ids (UUIDs) in announcements.
const jwtKeyTag = "jk_"

// forget drops whatever is cached for an announced id (of workspace ws,
// for the feed); the prefix says what kind of record it names.
func (s *Service) forget(ws, id string) {
	s.revoked.add(ws, id)
	switch {
	case strings.HasPrefix(id, "ses_"):
		s.live.forget(id)
	case IsBrowserSession(id):
		s.browsers.forget(id)
	case strings.HasPrefix(id, "app_"):
		s.apps.forget(id)
	case strings.HasPrefix(id, apiKeyIDPrefix+"_"):
		s.apiKeys.forget(id)
	case strings.HasPrefix(id, "ws_"):
		s.wsCache.forget(id)
	case strings.HasPrefix(id, connPrefix):
		s.conns.forget(id)
		s.sso.forget(id)
	case strings.HasPrefix(id, jwtKeyTag):
		s.jwtKeys.forget(strings.TrimPrefix(id, jwtKeyTag))
	}
}

// SessionInfo is one entry of GET /v1/sessions.
type SessionInfo struct {
	ID              string    `json:"id"`
	AuthMethod      string    `json:"auth_method"`
	CreatedAt       time.Time `json:"created_at"`
	ExpiresAt       time.Time `json:"expires_at"`
	LastRefreshedAt time.Time `json:"last_refreshed_at"`
	Current         bool      `json:"current"`
	// ClientID is the app the session was issued to (authorization code
	// flow); Browser marks a hosted-pages sign-in on a browser.
	ClientID string `json:"client_id,omitempty"`
	Browser  bool   `json:"browser,omitempty"`
	// ClientIP and UserAgent are those of the request that started the
	// session, when known.
	ClientIP  string `json:"client_ip,omitempty"`
	UserAgent string `json:"user_agent,omitempty"`
}

// ListSessions returns the caller's live sessions, newest first.
func (s *Service) ListSessions(ctx context.Context, p Principal) ([]SessionInfo, error) {
	if p.Kind != KindUser {
		return nil, ErrForbidden
	}
	list, err := s.store.ListSessions(ctx, p.Subject, s.now())
	if err != nil {
		return nil, err
	}
	out := make([]SessionInfo, len(list))
	for i, x := range list {
		out[i] = SessionInfo{ID: x.ID, AuthMethod: x.Method, CreatedAt: x.CreatedAt.UTC(), ExpiresAt: x.ExpiresAt.UTC(),
			LastRefreshedAt: x.RotatedAt.UTC(), Current: x.ID == p.SessionID, ClientID: x.AppID, Browser: IsBrowserSession(x.ID),
			ClientIP: x.ClientIP, UserAgent: x.UserAgent}
	}
	return out, nil
}

// EndSession ends one of the caller's sessions, or — for workspace
// owners/admins and the instance admin — any session of their scope.
// Anyone else's session is "not found", so ids cannot be probed.
func (s *Service) EndSession(ctx context.Context, p Principal, id string) error {
	sess, err := s.store.GetSession(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	} else if err != nil {
		return err
	}
	if !p.IsAdmin() && sess.UserID != p.Subject && s.canManage(ctx, p, sess.WorkspaceID) != nil {
		return ErrNotFound
	}
	if sess.RevokedAt != nil {
		return nil
	}
	if err := s.endSession(ctx, sess.WorkspaceID, id); err != nil {
		return err
	}
	s.audit(ctx, netip.Addr{}, store.AuditEvent{WorkspaceID: sess.WorkspaceID, Actor: p.Subject, Action: AuditSessionEnd, Target: id})
	return nil
}
