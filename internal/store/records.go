package store

import "time"

// Roles of a workspace member.
const (
	RoleOwner  = "owner"
	RoleAdmin  = "admin"
	RoleMember = "member"
)

// Workspace owns users, keys and token lifetimes. Zero durations mean
// "unset": each login method then keeps its default.
type Workspace struct {
	ID            string
	Name          string
	JoinCodeHash  []byte // SHA-256 of the current join code
	DefaultScopes []string
	AccessTTL     time.Duration
	RefreshTTL    time.Duration
	SessionMaxAge time.Duration
	// RefreshGrace is a pointer because 0 is a meaningful setting (grace
	// off) distinct from unset (the default of 10 s).
	RefreshGrace *time.Duration
	CreatedAt    time.Time
	UpdatedAt    time.Time
}

// User is a member of one workspace. ID is the public, globally unique
// user id (chosen at key-pair registration).
type User struct {
	ID          string
	WorkspaceID string
	Role        string
	Scopes      []string
	CreatedAt   time.Time
}

// PublicKey is one Ed25519 key on a user's keyring.
type PublicKey struct {
	ID         string
	UserID     string
	Key        []byte // raw 32-byte Ed25519 public key
	CreatedAt  time.Time
	LastUsedAt *time.Time
}

// AuthCode is a key-pair challenge: single use, bound to one user id.
type AuthCode struct {
	Hash      []byte // SHA-256 of the code text
	UserID    string
	ExpiresAt time.Time
}

// Session is one authenticated session. Generation counts refresh
// rotations; the refresh token of the current generation is the only one
// that rotates, the one before it is honoured during the grace window.
type Session struct {
	ID               string
	UserID           string
	WorkspaceID      string
	Method           string   // amr value: "pubkey", "pwd", …
	Scopes           []string // scopes granted to this session's tokens
	CreatedAt        time.Time
	ExpiresAt        time.Time // absolute cap; refresh never extends it
	RefreshExpiresAt time.Time // expiry of the current refresh token
	Generation       int64
	RotatedAt        time.Time // when the current generation was issued
	RevokedAt        *time.Time
}

// RefreshToken records which session and generation a refresh token hash
// belongs to, so that any old token presented again is recognised.
type RefreshToken struct {
	Hash       []byte
	SessionID  string
	Generation int64
	CreatedAt  time.Time
}

// SigningKey is one of Sigil's own token-signing keys.
type SigningKey struct {
	ID           string // the JWT kid (RFC 7638 thumbprint)
	Algorithm    string // "EdDSA" or "ES256"
	PrivateKey   []byte // AES-GCM ciphertext of the PKCS#8 DER key
	PublicKey    []byte // PKIX DER
	CreatedAt    time.Time
	ActiveFrom   time.Time // published before it signs
	RetiredAt    *time.Time
	PublishUntil *time.Time // drop from JWKS after this
}
