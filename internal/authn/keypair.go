package authn

import (
	"context"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/sigil-auth/sigil/internal/ratelimit"
	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/token"
)

// CodeTTL is how long a key-pair challenge lives.
const CodeTTL = 30 * time.Second

// SchemeEd25519 is the only signature scheme of key-pair login.
const SchemeEd25519 = "ed25519"

// IDExists reports whether userID is registered.
func (s *Service) IDExists(ctx context.Context, ip netip.Addr, userID string) (bool, error) {
	if err := s.limit(ctx, ratelimit.LoginIP, ipKey(ip)); err != nil {
		return false, err
	}
	if err := ValidUserID(userID); err != nil {
		return false, err
	}
	return s.store.UserExists(ctx, userID)
}

// Challenge is an issued auth code.
type Challenge struct {
	AuthCode  string `json:"auth_code"`
	ExpiresIn int    `json:"expires_in"`
}

// IssueCode creates a challenge bound to userID. The text follows the
// spirit of EIP-4361: it names the issuer, the user id, a random nonce and
// the expiry, so a signature over it is useless against another service,
// another user or after 30 s. Its last line is an HMAC over the rest under
// a key derived from the master key, so issuing stores nothing: the code
// authenticates itself, and only a used code is recorded (single use).
func (s *Service) IssueCode(ctx context.Context, ip netip.Addr, userID string) (Challenge, error) {
	if err := s.limit(ctx, ratelimit.LoginIP, ipKey(ip)); err != nil {
		return Challenge{}, err
	}
	if err := ValidUserID(userID); err != nil {
		return Challenge{}, err
	}
	now := s.now().UTC()
	nonce := make([]byte, 16)
	rand.Read(nonce)
	text := fmt.Sprintf("%s wants you to sign in with your Ed25519 key as:\n%s\n\nURI: %s\nVersion: 1\nNonce: %s\nIssued At: %s\nExpiration Time: %s",
		issuerHost(s.opt.Issuer), userID, s.opt.Issuer, base64.RawURLEncoding.EncodeToString(nonce),
		now.Format(time.RFC3339), now.Add(CodeTTL).Format(time.RFC3339))
	return Challenge{AuthCode: text + codeMACLine + s.codeMAC(text), ExpiresIn: int(CodeTTL / time.Second)}, nil
}

// codeMACLine introduces an auth code's authenticator.
const codeMACLine = "\nRequest ID: "

func (s *Service) codeMAC(text string) string {
	m := hmac.New(sha256.New, s.codeKey)
	m.Write([]byte(text))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// openCode checks that code is one this server issued for userID and
// that it has not expired, and returns its expiry.
func (s *Service) openCode(code, userID string) (time.Time, bool) {
	i := strings.LastIndex(code, codeMACLine)
	if i < 0 || !hmac.Equal([]byte(code[i+len(codeMACLine):]), []byte(s.codeMAC(code[:i]))) {
		return time.Time{}, false
	}
	lines := strings.Split(code[:i], "\n")
	if len(lines) < 2 || lines[1] != userID {
		return time.Time{}, false
	}
	exp, err := time.Parse(time.RFC3339, strings.TrimPrefix(lines[len(lines)-1], "Expiration Time: "))
	// Issued in this replica's future: its clock is behind the issuer's.
	s.skew.check(context.Background(), s.log, s.now(), exp.Add(-CodeTTL), "key-pair challenge")
	if err != nil || !s.now().Before(exp) {
		return time.Time{}, false
	}
	return exp, true
}

func issuerHost(issuer string) string {
	if u, err := url.Parse(issuer); err == nil && u.Host != "" {
		return u.Host
	}
	return issuer
}

// Proof is a signed challenge: the code, the signature over its exact
// bytes, and the public key that made it.
type Proof struct {
	AuthCode  string `json:"auth_code"`
	Signature string `json:"signature"`
	PublicKey string `json:"public_key"`
	Scheme    string `json:"scheme"`
}

// check verifies a proof for userID: the code is this server's, for this
// user and unexpired, and the signature is the key's. It returns the key
// and the code to record as used: logins record it in their session's own
// write (one write per login), AddKey by itself — either way a replay then
// fails. Every failure is the same invalid_credentials, revealing nothing
// about which part was wrong.
func (s *Service) check(userID string, p Proof) (ed25519.PublicKey, store.AuthCode, error) {
	if p.AuthCode == "" || p.Signature == "" || p.PublicKey == "" {
		return nil, store.AuthCode{}, invalid("auth_code, signature and public_key are required")
	}
	if p.Scheme != "" && !strings.EqualFold(p.Scheme, SchemeEd25519) {
		return nil, store.AuthCode{}, invalid("scheme must be %q", SchemeEd25519)
	}
	pub, err := ParsePublicKey(p.PublicKey)
	if err != nil {
		return nil, store.AuthCode{}, err
	}
	sig, err := ParseSignature(p.Signature)
	if err != nil {
		return nil, store.AuthCode{}, err
	}
	exp, ok := s.openCode(p.AuthCode, userID)
	if !ok || !ed25519.Verify(pub, []byte(p.AuthCode), sig) {
		return nil, store.AuthCode{}, ErrInvalidCredentials
	}
	return pub, store.AuthCode{Hash: token.Hash(p.AuthCode), UserID: userID, ExpiresAt: exp}, nil
}

// replayed maps the store's conflict on a used code to the login error.
func replayed(err error) error {
	if errors.Is(err, store.ErrConflict) {
		return ErrInvalidCredentials
	}
	return err
}

// RegisterInput is POST /v1/auth/register.
type RegisterInput struct {
	UserID   string `json:"user_id"`
	JoinCode string `json:"join_code"`
	Proof
}

// Register creates a user in the workspace of the join code, with the
// proven public key as its first key, and starts a session.
func (s *Service) Register(ctx context.Context, ip netip.Addr, in RegisterInput) (TokenResponse, error) {
	resp, ws, err := s.register(ctx, ip, in)
	s.observe(MethodPubkey, err)
	s.auditLogin(ctx, ip, MethodPubkey, in.UserID, ws, err, AuditRegister)
	return resp, err
}

func (s *Service) register(ctx context.Context, ip netip.Addr, in RegisterInput) (TokenResponse, string, error) {
	if err := s.limit(ctx, ratelimit.LoginIP, ipKey(ip)); err != nil {
		return TokenResponse{}, "", err
	}
	if err := ValidUserID(in.UserID); err != nil {
		return TokenResponse{}, "", err
	}
	ws, err := s.joinCodeWorkspace(ctx, in.JoinCode)
	if err != nil {
		return TokenResponse{}, "", err
	}
	pub, code, err := s.check(in.UserID, in.Proof)
	if err != nil {
		return TokenResponse{}, "", err
	}
	now := s.now()
	u := store.User{ID: in.UserID, WorkspaceID: ws.ID, Role: store.RoleMember, Scopes: ws.DefaultScopes, CreatedAt: now}
	key := store.PublicKey{ID: newID("key"), UserID: in.UserID, Key: pub, CreatedAt: now, LastUsedAt: &now}
	u, err = s.store.CreateUser(ctx, u, &key)
	if errors.Is(err, store.ErrConflict) {
		return TokenResponse{}, "", ErrUserExists
	} else if err != nil {
		return TokenResponse{}, "", err
	}
	resp, err := s.startSession(ctx, u, MethodPubkey, code)
	return resp, u.WorkspaceID, replayed(err)
}

// LoginInput is POST /v1/auth/token.
type LoginInput struct {
	UserID string `json:"user_id"`
	Proof
}

// Login authenticates a registered user by a signed challenge.
func (s *Service) Login(ctx context.Context, ip netip.Addr, in LoginInput) (TokenResponse, error) {
	resp, ws, err := s.login(ctx, ip, in)
	s.observe(MethodPubkey, err)
	s.auditLogin(ctx, ip, MethodPubkey, in.UserID, ws, err, AuditLoginSuccess)
	return resp, err
}

func (s *Service) login(ctx context.Context, ip netip.Addr, in LoginInput) (TokenResponse, string, error) {
	if err := s.limit(ctx, ratelimit.LoginIP, ipKey(ip)); err != nil {
		return TokenResponse{}, "", err
	}
	if err := ValidUserID(in.UserID); err != nil {
		return TokenResponse{}, "", err
	}
	if err := s.limit(ctx, ratelimit.LoginAccount, in.UserID); err != nil {
		return TokenResponse{}, "", err
	}
	pub, code, err := s.check(in.UserID, in.Proof)
	if err != nil {
		return TokenResponse{}, "", err
	}
	// One read for the key and its user; the session (with the used
	// code) is the one write.
	u, key, err := s.store.GetUserByKey(ctx, in.UserID, pub)
	if errors.Is(err, store.ErrNotFound) {
		return TokenResponse{}, "", ErrInvalidCredentials
	} else if err != nil {
		return TokenResponse{}, "", err
	}
	s.touchKey(ctx, key)
	resp, err := s.startSession(ctx, u, MethodPubkey, code)
	return resp, u.WorkspaceID, replayed(err)
}

// touchKey records the key's use at most once a minute, so a login burst
// does not turn into a burst of writes.
func (s *Service) touchKey(ctx context.Context, k store.PublicKey) {
	now := s.now()
	if k.LastUsedAt != nil && now.Sub(*k.LastUsedAt) < time.Minute {
		return
	}
	if err := s.store.TouchPublicKey(ctx, k.ID, now); err != nil {
		s.log.WarnContext(ctx, "cannot record key use", "key_id", k.ID, "err", err)
	}
}

// ValidUserID checks API.md §3's user id rule: 3–64 of [A-Za-z0-9_.-].
func ValidUserID(id string) error {
	if id == "" {
		return invalid("user_id is required")
	}
	if len(id) < 3 || len(id) > 64 {
		return invalid("user_id must be 3 to 64 characters")
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-') {
			return invalid("user_id may contain only letters, digits, '_', '.' and '-'")
		}
	}
	return nil
}

// auditLogin records a key-pair login or registration. Input errors are
// not authentication attempts and are not recorded.
func (s *Service) auditLogin(ctx context.Context, ip netip.Addr, method, userID, ws string, err error, success string) {
	ev := store.AuditEvent{Actor: userID, Target: userID, Method: method, Action: success, WorkspaceID: ws}
	if err != nil {
		if errorCode(err) == string(CodeInvalidRequest) {
			return
		}
		ev.Action, ev.Actor, ev.Details = AuditLoginFailure, "", map[string]string{"user_id": userID, "reason": errorCode(err)}
	}
	// Attribute a failure to the user's workspace too, so its admins see
	// attacks on their accounts.
	if ws == "" {
		if u, gerr := s.store.GetUser(ctx, userID); gerr == nil {
			ev.WorkspaceID = u.WorkspaceID
		}
	}
	s.audit(ctx, ip, ev)
}

// joinCodeWorkspace is the workspace a join code admits to.
func (s *Service) joinCodeWorkspace(ctx context.Context, code string) (store.Workspace, error) {
	if code == "" {
		return store.Workspace{}, invalid("join_code is required")
	}
	ws, err := s.store.GetWorkspaceByJoinCode(ctx, token.Hash(code))
	if errors.Is(err, store.ErrNotFound) {
		return ws, ErrInvalidJoinCode
	}
	return ws, err
}
