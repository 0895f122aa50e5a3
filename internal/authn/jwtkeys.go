package authn

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/golang-jwt/jwt/v5"
	"github.com/google/uuid"

	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/token"
)

// customerLeeway is the clock skew allowed on customer JWTs' exp/nbf/iat.
const customerLeeway = 60 * time.Second

// ErrMissingKid is API.md §5.2's exact refusal of a JWT without a kid.
var ErrMissingKid = &Error{Code: CodeMissingKid, Detail: "jwt token is missing 'kid' header parameter"}

// JWTKeyView is a JWT key as listed; Secret only in the creating answer.
type JWTKeyView struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Algorithm string    `json:"algorithm"`
	Scopes    []string  `json:"scopes"`
	CreatedAt time.Time `json:"created_at"`
	Secret    string    `json:"secret,omitempty"`
}

// NewJWTKeyInput is POST /v1/jwt-keys.
type NewJWTKeyInput struct {
	Name        string    `json:"name"`
	Scopes      *[]string `json:"scopes"`
	WorkspaceID string    `json:"workspace_id"`
}

// jwtKeyEntry is a decrypted JWT key, as cached for verification.
type jwtKeyEntry struct {
	rec    store.JWTKey
	secret []byte
}

func jwtKeyView(k store.JWTKey, secret string) JWTKeyView {
	sc := k.Scopes
	if sc == nil {
		sc = []string{}
	}
	return JWTKeyView{ID: k.ID, Name: k.Name, Algorithm: "HS256", Scopes: sc, CreatedAt: k.CreatedAt.UTC(), Secret: secret}
}

// CreateJWTKey makes a new HS256 secret for customer-minted JWTs. The
// secret (256 random bits, 43 URL-safe characters; the HMAC key is its
// UTF-8 bytes) is stored sealed under the master key and shown once.
func (s *Service) CreateJWTKey(ctx context.Context, ip netip.Addr, p Principal, in NewJWTKeyInput) (JWTKeyView, error) {
	m, name, scopes, err := s.newCredential(ctx, p, in.WorkspaceID, in.Name, in.Scopes)
	if err != nil {
		return JWTKeyView{}, err
	}
	secret := token.NewSecret()
	id := uuid.NewString()
	k := store.JWTKey{ID: id, WorkspaceID: m.workspaceID, UserID: m.userID, Name: name, Scopes: scopes,
		Secret: s.opt.Sealer.Seal([]byte(secret), []byte(id)), CreatedAt: s.now()}
	if err := s.store.CreateJWTKey(ctx, k); err != nil {
		return JWTKeyView{}, err
	}
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: k.WorkspaceID, Actor: p.Subject, Action: AuditJWTKeyCreate, Target: id,
		Details: map[string]string{"name": name}})
	return jwtKeyView(k, secret), nil
}

// ListJWTKeys lists a workspace's JWT keys (admins: all; members: own).
func (s *Service) ListJWTKeys(ctx context.Context, p Principal, ws string) ([]JWTKeyView, error) {
	m, err := s.managerOf(ctx, p, ws)
	if err != nil {
		return nil, err
	}
	keys, err := s.store.ListJWTKeys(ctx, m.workspaceID)
	if err != nil {
		return nil, err
	}
	out := []JWTKeyView{}
	for _, k := range keys {
		if m.admin || k.UserID == m.userID {
			out = append(out, jwtKeyView(k, ""))
		}
	}
	return out, nil
}

// DeleteJWTKey deletes a key; tokens signed with it are refused at once
// here and on every replica within the announcement.
func (s *Service) DeleteJWTKey(ctx context.Context, ip netip.Addr, p Principal, id string) error {
	k, err := s.store.GetJWTKey(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return ErrNotFound
	} else if err != nil {
		return err
	}
	if !p.IsAdmin() {
		m, err := s.managerOf(ctx, p, "")
		if err != nil {
			return err
		}
		if k.WorkspaceID != m.workspaceID || (!m.admin && k.UserID != m.userID) {
			return ErrNotFound
		}
	}
	if err := s.store.DeleteJWTKey(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	s.announce(ctx, k.WorkspaceID, []string{jwtKeyTag + id})
	s.audit(ctx, ip, store.AuditEvent{WorkspaceID: k.WorkspaceID, Actor: p.Subject, Action: AuditJWTKeyDelete, Target: id})
	return nil
}

// jwtKey returns the decrypted key kid, cached for liveTTL.
func (s *Service) jwtKey(ctx context.Context, kid string) (jwtKeyEntry, error) {
	if e, ok := s.jwtKeys.get(kid); ok {
		return e, nil
	}
	if _, err := uuid.Parse(kid); err != nil {
		return jwtKeyEntry{}, ErrInvalidToken
	}
	epoch := s.jwtKeys.epoch.Load()
	k, err := s.store.GetJWTKey(ctx, kid)
	if errors.Is(err, store.ErrNotFound) {
		return jwtKeyEntry{}, ErrInvalidToken
	} else if err != nil {
		return jwtKeyEntry{}, err
	}
	if k.Scopes, err = s.heldScopes(ctx, k.UserID, k.Scopes); err != nil {
		return jwtKeyEntry{}, err
	}
	secret, err := s.opt.Sealer.Open(k.Secret, []byte(k.ID))
	if err != nil {
		return jwtKeyEntry{}, err
	}
	e := jwtKeyEntry{rec: k, secret: secret}
	s.jwtKeys.put(kid, kid, e, epoch)
	return e, nil
}

// customerClaims are the claims Sigil reads from a customer JWT.
type customerClaims struct {
	jwt.RegisteredClaims
	Scope string `json:"scope,omitempty"`
}

// customerJWT verifies an HS256 JWT minted by a customer with a JWT key:
// kid required (the exact missing_kid error), alg pinned to HS256, exp
// required, 60 s leeway, and the workspace's maximum lifetime if it sets
// one. Its scopes are the key's, narrowed by a scope claim if present.
func (s *Service) customerJWT(ctx context.Context, raw, kid string) (Principal, error) {
	if kid == "" {
		return Principal{}, ErrMissingKid
	}
	e, err := s.jwtKey(ctx, kid)
	if err != nil {
		return Principal{}, err
	}
	var c customerClaims
	p := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithExpirationRequired(),
		jwt.WithLeeway(customerLeeway), jwt.WithTimeFunc(s.now))
	if _, err := p.ParseWithClaims(raw, &c, func(*jwt.Token) (any, error) { return e.secret, nil }); err != nil {
		s.log.DebugContext(ctx, "customer JWT refused", "kid", kid, "reason", err)
		return Principal{}, ErrInvalidToken
	}
	if err := s.checkJWTLifetime(ctx, e.rec.WorkspaceID, &c); err != nil {
		return Principal{}, err
	}
	scopes := e.rec.Scopes
	if c.Scope != "" {
		scopes = slices.DeleteFunc(strings.Fields(c.Scope), func(sc string) bool { return !slices.Contains(e.rec.Scopes, sc) })
	}
	sub := c.Subject
	if sub == "" {
		sub = kid
	}
	return Principal{Subject: sub, Kind: KindJWTKey, WorkspaceID: e.rec.WorkspaceID, Scopes: scopes, AuthMethod: MethodJWT}, nil
}

// checkJWTLifetime enforces the workspace's cap on exp - iat (iat is
// then required).
func (s *Service) checkJWTLifetime(ctx context.Context, wsID string, c *customerClaims) error {
	ws, err := s.workspace(ctx, wsID)
	if err != nil || ws.JWTMaxLifetime <= 0 {
		return err
	}
	if c.IssuedAt == nil || c.ExpiresAt.Sub(c.IssuedAt.Time) > ws.JWTMaxLifetime {
		return ErrInvalidToken
	}
	return nil
}
