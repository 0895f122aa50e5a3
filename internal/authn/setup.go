package authn

import (
	"context"
	"errors"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/sigil-auth/sigil/internal/ratelimit"
	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/token"
)

// First run: an instance without accounts offers a one-time setup link
// (printed by `sigil serve`) whose page creates the first workspace and
// its owner, who is also an instance admin. The link's token is random,
// stored only as its hash in the store's one setup-token slot (so any
// replica accepts it), lives setupTTL, and dies when used, when a newer
// link replaces it, or as soon as any account exists.

const (
	setupTTL    = time.Hour
	setupPrefix = "st_"
)

// ErrSetupDone is a setup of an instance that has an account by now.
var ErrSetupDone = &Error{Code: CodeConflict, Detail: "this Sigil is already set up; sign in instead"}

// SetupLink is the first-run link FirstRun made.
type SetupLink struct {
	URL       string
	ExpiresAt time.Time
}

// FirstRun makes a fresh setup link if the instance has no account yet
// (ok false otherwise, and any leftover setup token is removed). Every
// call replaces the earlier link, whichever replica made it: so of two
// replicas starting together only the link printed last works, and the
// dead one's page says how to get a new one (restart `sigil serve`).
func (s *Service) FirstRun(ctx context.Context) (link SetupLink, ok bool, err error) {
	secret := setupPrefix + token.NewSecret()
	now := s.now()
	t := store.SetupToken{Hash: token.Hash(secret), ExpiresAt: now.Add(setupTTL), CreatedAt: now}
	err = s.store.PutSetupToken(ctx, t)
	if errors.Is(err, store.ErrConflict) {
		return SetupLink{}, false, nil
	} else if err != nil {
		return SetupLink{}, false, err
	}
	u := strings.TrimRight(s.opt.Issuer, "/") + "/setup?token=" + url.QueryEscape(secret)
	return SetupLink{URL: u, ExpiresAt: t.ExpiresAt}, true, nil
}

// setupToken finds the live setup token of secret: a wrong, expired,
// replaced or used one, or any account in the instance, is
// ErrInvalidToken.
func (s *Service) setupToken(ctx context.Context, secret string) error {
	if !strings.HasPrefix(secret, setupPrefix) || len(secret) > 128 {
		return ErrInvalidToken
	}
	t, err := s.store.GetSetupToken(ctx, token.Hash(secret))
	if errors.Is(err, store.ErrNotFound) {
		return ErrInvalidToken
	} else if err != nil {
		return err
	}
	if !s.now().Before(t.ExpiresAt) {
		return ErrInvalidToken
	}
	return nil
}

// CheckSetup reports whether a setup link still works (nil) or not
// (ErrInvalidToken), without using it up: the page shows its form only
// for a live link.
func (s *Service) CheckSetup(ctx context.Context, secret string) error {
	return s.setupToken(ctx, secret)
}

// SetupInput is the first-run form.
type SetupInput struct {
	Token     string
	Workspace string // the first workspace's name
	Email     string
	Password  string
}

// Setup completes the first run: it creates the workspace and its first
// account (owner, instance admin) and signs that person in on this
// browser. The form's mistakes come first (invalid_request, so the page
// keeps the typed values); then a dead link is ErrInvalidToken and an
// instance that has an account by now ErrSetupDone. Of concurrent setups
// exactly one wins: the store takes the token and creates both records in
// one transaction.
func (s *Service) Setup(ctx context.Context, ip netip.Addr, in SetupInput) (BrowserSession, error) {
	if err := s.limit(ctx, ratelimit.LoginIP, ipKey(ip)); err != nil {
		return BrowserSession{}, err
	}
	w, _, err := s.newWorkspace(in.Workspace)
	if err != nil {
		return BrowserSession{}, err
	}
	email, err := NormalizeEmail(in.Email)
	if err != nil {
		return BrowserSession{}, err
	}
	if err := checkPassword(in.Password); err != nil {
		return BrowserSession{}, err
	}
	// A dead link costs no password hash.
	if err := s.setupToken(ctx, in.Token); err != nil {
		return BrowserSession{}, err
	}
	hash, err := s.pw.Hash(ctx, in.Password)
	if err != nil {
		return BrowserSession{}, err
	}
	u := store.User{ID: newID("usr"), WorkspaceID: w.ID, Role: store.RoleOwner, Scopes: w.DefaultScopes,
		Email: email, PasswordHash: hash, InstanceAdmin: true, CreatedAt: s.now()}
	u, err = s.store.CompleteSetup(ctx, token.Hash(in.Token), s.now(), w, u)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return BrowserSession{}, ErrInvalidToken
	case errors.Is(err, store.ErrConflict):
		return BrowserSession{}, ErrSetupDone
	case err != nil:
		return BrowserSession{}, err
	}
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: w.ID, Actor: u.ID, Action: AuditInstanceSetup, Target: u.ID,
		Method: MethodPwd, Details: map[string]string{"workspace": w.ID}})
	s.sendLink(ctx, u, purposeVerify)
	return s.startBrowserSession(ctx, u, MethodPwd)
}
