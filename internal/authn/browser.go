package authn

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"net/netip"
	"strings"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/token"
)

// A browser session is what the hosted pages' cookie stands for: proof
// that a person signed in on this browser, so that /oauth2/authorize can
// hand codes to apps without asking again. It is a store session like any
// other (listed with the person's sessions, ended by logout-all and by a
// password reset) whose id starts with browserSessionPrefix; its cookie
// secret is stored as the hash of its generation-0 "refresh token", under
// a prefix of its own, so it never rotates and no refresh endpoint takes
// it.
const (
	browserSessionPrefix = "web"
	browserCookiePrefix  = "bs_"
)

// BrowserSession is a signed-in browser.
type BrowserSession struct {
	Cookie      string // the cookie value; set only by SignIn and SignUp
	ID          string
	UserID      string
	WorkspaceID string
	Email       string
	Method      string
	AuthTime    time.Time
	ExpiresAt   time.Time
	scopes      []string // the person's scopes when the session was read
	role        string   // and their role
	instance    bool     // and whether they were an instance admin
}

// Manages reports whether the person is an owner or admin of their
// workspace (as of the session's last read), for what a page offers; the
// authn calls behind every action check it again.
func (b BrowserSession) Manages() bool { return b.role == store.RoleOwner || b.role == store.RoleAdmin }

// InstanceAdmin reports whether the person's account is an instance
// admin (as of the session's last read), for what a page offers; the
// authn calls behind the instance pages check it again.
func (b BrowserSession) InstanceAdmin() bool { return b.instance }

// CSRFProof is the proof that a form post comes from a page Sigil served
// to browser session b: an HMAC of the session id under a key derived
// from the master key, so every replica makes and checks the same proof
// without storing it, and it dies with the session. Every form of a
// signed-in page carries it; CheckCSRF checks it.
func (s *Service) CSRFProof(b BrowserSession) string {
	m := hmac.New(sha256.New, s.csrfKey)
	m.Write([]byte(b.ID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// CheckCSRF reports whether proof is b's CSRFProof, in constant time.
func (s *Service) CheckCSRF(b BrowserSession, proof string) bool {
	want := s.CSRFProof(b)
	return subtle.ConstantTimeCompare([]byte(want), []byte(proof)) == 1
}

// IsBrowserSession reports whether a session id is a browser session's.
func IsBrowserSession(id string) bool { return strings.HasPrefix(id, browserSessionPrefix+"_") }

// SignIn checks an email and password from the hosted sign-in form (the
// same limits, timing and audit as POST /v1/auth/login) and starts a
// browser session. WorkspaceID, when set, confines the sign-in to that
// workspace (the app's, during an authorization request). A person with
// a second factor gets an *MFARequired error instead, to complete with
// SignInMFA.
func (s *Service) SignIn(ctx context.Context, ip netip.Addr, in PasswordLogin) (BrowserSession, error) {
	u, err := s.authPassword(ctx, ip, in)
	if err != nil {
		return BrowserSession{}, err
	}
	if ch, err := s.mfaChallenge(ctx, u, MethodPwd); err != nil {
		return BrowserSession{}, err
	} else if ch != nil {
		return BrowserSession{}, ch
	}
	return s.startBrowserSession(ctx, u, MethodPwd)
}

// SignUpBrowser creates a password account from the hosted sign-up form
// and starts a browser session (no API session).
func (s *Service) SignUpBrowser(ctx context.Context, ip netip.Addr, in SignupInput) (BrowserSession, error) {
	u, err := s.signup(ctx, ip, in)
	if err != nil {
		return BrowserSession{}, err
	}
	return s.startBrowserSession(ctx, u, MethodPwd)
}

// startBrowserSession records usedCodes (an MFA challenge's token) in
// the session's write, as startSession does.
func (s *Service) startBrowserSession(ctx context.Context, u store.User, method string, usedCodes ...store.AuthCode) (BrowserSession, error) {
	ws, err := s.workspace(ctx, u.WorkspaceID)
	if err != nil {
		return BrowserSession{}, err
	}
	now := s.now()
	lt := EffectiveLifetimes(ws, method)
	sess := store.Session{ID: newID(browserSessionPrefix), UserID: u.ID, WorkspaceID: u.WorkspaceID, Method: method,
		Scopes: []string{}, CreatedAt: now, ExpiresAt: now.Add(lt.MaxAge), RotatedAt: now}
	sess.RefreshExpiresAt = sess.ExpiresAt
	sess.ClientIP, sess.UserAgent = origin(ctx)
	cookie := browserCookiePrefix + token.NewSecret()
	if err := s.store.CreateSession(ctx, sess, token.Hash(cookie), usedCodes...); err != nil {
		return BrowserSession{}, err
	}
	return BrowserSession{Cookie: cookie, ID: sess.ID, UserID: u.ID, WorkspaceID: u.WorkspaceID, Email: u.Email,
		Method: method, AuthTime: now, ExpiresAt: sess.ExpiresAt, scopes: u.Scopes, role: u.Role,
		instance: u.InstanceAdmin}, nil
}

// Browser resolves a browser-session cookie; a missing, unknown, ended or
// expired one is ErrInvalidToken. A resolved session is cached for
// liveTTL, like a live access-token session: signing out anywhere is
// announced and drops it at once.
func (s *Service) Browser(ctx context.Context, cookie string) (BrowserSession, error) {
	if !strings.HasPrefix(cookie, browserCookiePrefix) || len(cookie) > 128 {
		return BrowserSession{}, ErrInvalidToken
	}
	hash := token.Hash(cookie)
	if b, ok := s.browsers.get(string(hash)); ok && s.now().Before(b.ExpiresAt) {
		return b, nil
	}
	epoch := s.browsers.epoch.Load()
	b, err := s.readBrowser(ctx, hash)
	if err == nil {
		s.browsers.put(string(hash), b.ID, b, epoch)
	}
	return b, err
}

func (s *Service) readBrowser(ctx context.Context, hash []byte) (BrowserSession, error) {
	_, sess, err := s.store.GetRefreshSession(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return BrowserSession{}, ErrInvalidToken
	} else if err != nil {
		return BrowserSession{}, err
	}
	if !IsBrowserSession(sess.ID) || sess.RevokedAt != nil || !s.now().Before(sess.ExpiresAt) {
		return BrowserSession{}, ErrInvalidToken
	}
	u, err := s.store.GetUser(ctx, sess.UserID)
	if errors.Is(err, store.ErrNotFound) {
		return BrowserSession{}, ErrInvalidToken
	} else if err != nil {
		return BrowserSession{}, err
	}
	return BrowserSession{ID: sess.ID, UserID: sess.UserID, WorkspaceID: sess.WorkspaceID, Email: u.Email,
		Method: sess.Method, AuthTime: sess.CreatedAt, ExpiresAt: sess.ExpiresAt, scopes: u.Scopes, role: u.Role,
		instance: u.InstanceAdmin}, nil
}

// SignOut ends the browser session of cookie (idempotent: an unknown or
// ended cookie is no error).
func (s *Service) SignOut(ctx context.Context, ip netip.Addr, cookie string) error {
	b, err := s.Browser(ctx, cookie)
	if errors.Is(err, ErrInvalidToken) {
		return nil
	} else if err != nil {
		return err
	}
	if err := s.endSession(ctx, b.WorkspaceID, b.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: b.WorkspaceID, Actor: b.UserID, Action: AuditLogout, Target: b.ID,
		Details: map[string]string{"via": "browser"}})
	return nil
}

// BrowserPrincipal is the principal a signed-in browser acts as on the
// dashboard: the person, with the scopes they held when the session was
// read (at most liveTTL ago), so every dashboard action passes the same
// checks as the JSON API. An instance admin's is still a user principal
// (Kind user, IsAdmin false) with InstanceAdmin set: see Principal.
func BrowserPrincipal(b BrowserSession) Principal {
	return Principal{Subject: b.UserID, Kind: KindUser, WorkspaceID: b.WorkspaceID, Scopes: b.scopes,
		SessionID: b.ID, AuthMethod: b.Method, AAL: aalOf(b.Method), InstanceAdmin: b.instance}
}
