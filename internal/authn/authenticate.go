package authn

import (
	"context"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"

	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/token"
)

// Credential is what a request presented: the raw Authorization header
// and X-API-KEY header values.
type Credential struct {
	Authorization string
	APIKey        string
}

// maxCredential bounds a credential's length before any parsing.
const maxCredential = 8 << 10

// Authenticate turns a presented credential into a Principal (API.md §2).
// It is the only path that checks credentials; every refusal is
// missing_credential or invalid_token, with no hint which check failed.
func (s *Service) Authenticate(ctx context.Context, c Credential) (Principal, error) {
	raw := Bearer(c.Authorization)
	if raw == "" {
		raw = strings.TrimSpace(c.APIKey)
	}
	if raw == "" {
		return Principal{}, ErrMissingCredential
	}
	if len(raw) > maxCredential {
		return Principal{}, ErrInvalidToken
	}
	// The cache holds only verified Sigil tokens, so looking there first is
	// safe and spares the hot path the admin-token hash.
	if c := s.tokens.get(raw, s.now()); c != nil {
		return s.principalOf(ctx, c)
	}
	if s.isAdminToken(raw) {
		return Principal{Subject: "admin", Kind: KindAdmin, AuthMethod: "admin_token"}, nil
	}
	if strings.HasPrefix(raw, "sk_") {
		return s.apiKey(ctx, raw)
	}
	if strings.Count(raw, ".") != 2 {
		return Principal{}, ErrInvalidToken
	}
	alg, kid := jwtHeader(raw)
	switch alg {
	case "HS256":
		return s.customerJWT(ctx, raw, kid)
	case token.AlgEdDSA, token.AlgES256:
		return s.accessToken(ctx, raw)
	}
	return Principal{}, ErrInvalidToken
}

// jwtHeader reads alg and kid from a JWT's header without verifying
// anything; it only routes the token to the verifier that will.
func jwtHeader(raw string) (alg, kid string) {
	seg, _, _ := strings.Cut(raw, ".")
	if len(seg) > 1024 {
		return "", ""
	}
	b, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return "", ""
	}
	var h struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
	}
	if json.Unmarshal(b, &h) != nil {
		return "", ""
	}
	return h.Alg, h.Kid
}

// Bearer returns the credential of an Authorization header value: the
// token after an optional "Bearer " scheme (any case), trimmed.
func Bearer(h string) string {
	h = strings.TrimSpace(h)
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return h
}

// isAdminToken compares in constant time (over hashes, so the length of
// the configured token does not leak either).
func (s *Service) isAdminToken(raw string) bool {
	return s.admin != nil && subtle.ConstantTimeCompare(token.Hash(raw), s.admin) == 1
}

// accessToken verifies a Sigil access token (cached once verified) and
// checks that its session is still live.
func (s *Service) accessToken(ctx context.Context, raw string) (Principal, error) {
	c, err := s.verify.Verify(ctx, raw)
	if err != nil {
		s.log.DebugContext(ctx, "access token refused", "reason", err)
		return Principal{}, ErrInvalidToken
	}
	s.tokens.put(raw, c)
	return s.principalOf(ctx, c)
}

// principalOf is the principal of verified Sigil access-token claims,
// once its session is known to be live.
func (s *Service) principalOf(ctx context.Context, c *token.Claims) (Principal, error) {
	method := ""
	if len(c.AMR) > 0 {
		method = c.AMR[0]
	}
	kind := KindUser
	if method == MethodAPIKey {
		kind = KindAPIKey
	}
	if c.SessionID != "" {
		var born int64 // an exchange token belongs to one incarnation of its session
		if kind == KindAPIKey && c.IssuedAt != nil {
			born = c.IssuedAt.Unix()
		}
		if err := s.checkLive(ctx, c.SessionID, born); err != nil {
			return Principal{}, err
		}
	}
	return Principal{
		Subject: c.Subject, Kind: kind, WorkspaceID: c.Workspace, Scopes: c.Scopes(),
		SessionID: c.SessionID, AuthMethod: method, AAL: c.AAL,
	}, nil
}

// checkLive refuses tokens of ended sessions: from the cache when the
// session was seen live within liveTTL, else from the store. A non-zero
// born also refuses a token of an earlier session under the same id (an
// API-key exchange session ended and started again): its iat is its
// session's creation second, which must be this session's.
func (s *Service) checkLive(ctx context.Context, sid string, born int64) error {
	if b, ok := s.live.fresh(sid); ok {
		if born != 0 && born != b {
			return ErrInvalidToken
		}
		return nil
	}
	epoch := s.live.epoch.Load()
	sess, err := s.store.GetSession(ctx, sid)
	if errors.Is(err, store.ErrNotFound) {
		return ErrInvalidToken
	} else if err != nil {
		return err
	}
	if sess.RevokedAt != nil || !s.now().Before(sess.ExpiresAt) {
		return ErrInvalidToken
	}
	b := sess.CreatedAt.Unix()
	s.live.markLive(sid, b, epoch)
	if born != 0 && born != b {
		return ErrInvalidToken
	}
	return nil
}
