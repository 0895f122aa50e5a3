package store

import (
	"strings"
	"time"
)

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
	// JWTMaxLifetime caps exp-iat of customer-signed JWTs (0 = no cap).
	JWTMaxLifetime time.Duration
	// RefreshGrace is a pointer because 0 is a meaningful setting (grace
	// off) distinct from unset (the default of 10 s).
	RefreshGrace *time.Duration
	// Branding of the workspace's hosted pages ("" = Sigil's defaults):
	// the name shown on them, an https logo URL and an accent colour
	// (#rrggbb).
	DisplayName string
	LogoURL     string
	AccentColor string
	// RequireMFA is the second-factor policy: "" (none; stored as
	// RequireMFANone), RequireMFAAdmins or RequireMFAAll. RequireMFASince
	// is when it last became stricter (nil with none).
	RequireMFA      string
	RequireMFASince *time.Time
	CreatedAt       time.Time
	UpdatedAt       time.Time
}

// Second-factor policies of a workspace.
const (
	RequireMFANone   = "none"
	RequireMFAAdmins = "admins"
	RequireMFAAll    = "all"
)

// User is a member of one workspace. ID is the public, globally unique
// user id (chosen at key-pair registration).
type User struct {
	ID          string
	WorkspaceID string
	Role        string
	Scopes      []string
	CreatedAt   time.Time
	// Password users: Email is normalised (trimmed, lower-case) by the
	// caller and unique within the workspace; PasswordHash is a PHC-format
	// argon2id string. Both empty for key-pair users.
	Email         string
	PasswordHash  string
	EmailVerified bool
	// InstanceAdmin marks an account the operator made an instance admin
	// (`sigil admin grant`, or the first-run setup): its browser sessions
	// may administer the whole instance on the dashboard.
	InstanceAdmin bool
	// Name is how the person is called, from the identity provider that
	// made the account (single sign-on); "" when not known.
	Name string
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
	// APIKeyID is set for sessions created by exchanging an API key
	// (POST /v1/auth/login {"api_key"}): revoking the key ends them.
	APIKeyID string
	// AppID is the OAuth2 client (App.ID) a session was issued to by an
	// authorization code exchange; "" for every other session.
	AppID string
	// ClientIP and UserAgent describe the request that started the
	// session, for the person's sessions list; "" when not known.
	ClientIP  string
	UserAgent string
	// UserScopes is filled by GetRefreshSession only: the scopes the
	// session's user holds now (read in the same statement, so a refresh
	// can narrow or widen its tokens without another read); nil for a
	// session without a user or a user without scopes.
	UserScopes []string
}

// RefreshRotation asks Store.RefreshSession to rotate the refresh token
// Hash to ChildHash at Now.
type RefreshRotation struct {
	Hash, ChildHash []byte
	Now             time.Time
	// ChildTTL is how long the child lives when the session's workspace
	// sets no RefreshTTL: ChildTTL[FirstFactor(session method)], else
	// DefaultChildTTL. The child never outlives the session's ExpiresAt.
	ChildTTL        map[string]time.Duration
	DefaultChildTTL time.Duration
}

// ChildExpiry is when a child rotated at r.Now from a session of method
// with expiresAt, in a workspace whose RefreshTTL is wsTTL, expires: the
// rule RefreshSession applies (the PostgreSQL statement says it in SQL).
func (r RefreshRotation) ChildExpiry(wsTTL time.Duration, method string, expiresAt time.Time) time.Time {
	ttl, ok := r.ChildTTL[FirstFactor(method)]
	switch {
	case wsTTL > 0:
		ttl = wsTTL
	case !ok:
		ttl = r.DefaultChildTTL
	}
	if exp := r.Now.Add(ttl); exp.Before(expiresAt) {
		return exp
	}
	return expiresAt
}

// FirstFactor is a session method's first factor: "pwd" of "pwd+totp",
// "sso" of "sso:conn_1+totp".
func FirstFactor(method string) string {
	m, _, _ := strings.Cut(method, "+")
	m, _, _ = strings.Cut(m, ":")
	return m
}

// Refreshed is what Store.RefreshSession found and did.
type Refreshed struct {
	Token   RefreshToken // the presented token
	Session Session      // as found, before a rotation; UserScopes set
	// Rotated: the session moved to Session.Generation+1 at the
	// rotation's Now, its refresh token now the child, which expires at
	// ChildExpiresAt.
	Rotated        bool
	ChildExpiresAt time.Time
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

// OneTimeToken is a single-use emailed secret: a password reset or an
// email verification.
type OneTimeToken struct {
	Hash      []byte // SHA-256 of the token
	UserID    string
	Purpose   string // "reset" | "verify"
	ExpiresAt time.Time
	CreatedAt time.Time
}

// SetupToken is the first-run setup link's secret (stored as SHA-256):
// an instance holds at most one, and only while it has no user.
type SetupToken struct {
	Hash      []byte
	ExpiresAt time.Time
	CreatedAt time.Time
}

// WorkspaceStats is one row of the instance admin's workspace list: a
// workspace with how many members it has and how many of its API keys
// are live (neither revoked nor expired).
type WorkspaceStats struct {
	ID        string
	Name      string
	CreatedAt time.Time
	Members   int
	APIKeys   int
}

// Invitation is an emailed, single-use invitation to join a workspace
// with a role. Only the SHA-256 of its token is stored. It is pending
// while AcceptedAt and RevokedAt are nil and ExpiresAt is ahead.
type Invitation struct {
	ID          string // "inv_…"
	WorkspaceID string
	Email       string // normalised by the caller
	Role        string
	Hash        []byte // SHA-256 of the emailed token; unique
	InvitedBy   string // the inviting user ("" for the instance admin)
	CreatedAt   time.Time
	ExpiresAt   time.Time
	AcceptedAt  *time.Time
	AcceptedBy  string // the user the acceptance created
	RevokedAt   *time.Time
}

// RemovedUser is what DeleteUser took with a user: the user as it was and
// the ids of the credentials that went with it, so the caller can tell
// every replica to forget them.
type RemovedUser struct {
	User       User
	SessionIDs []string // unrevoked sessions: the user's own and its API keys'
	APIKeyIDs  []string
	JWTKeyIDs  []string
}

// APIKey is a long-lived, scoped credential. Only its hash is stored.
type APIKey struct {
	ID          string
	WorkspaceID string
	UserID      string // the user who created it ("" for the instance admin)
	Name        string
	Prefix      string // the first characters of the key, for recognising it in lists
	Hash        []byte // SHA-256 of the whole key; unique
	Scopes      []string
	CreatedAt   time.Time
	ExpiresAt   *time.Time
	RevokedAt   *time.Time
	LastUsedAt  *time.Time
}

// JWTKey is a customer's HS256 secret for minting client JWTs.
type JWTKey struct {
	ID          string // a UUID: the JWT "kid"
	WorkspaceID string
	UserID      string // creator ("" for the instance admin)
	Name        string
	Secret      []byte   // AES-GCM ciphertext of the secret (kid as associated data)
	Scopes      []string // what its tokens may carry at most (a subset of the creator's)
	CreatedAt   time.Time
}

// AuditEvent is one entry of a workspace's audit log.
type AuditEvent struct {
	ID          string // sortable: newer events have larger ids
	WorkspaceID string // "" for instance-level events
	Time        time.Time
	Actor       string // subject that acted ("" when unknown, e.g. a failed login)
	Action      string // e.g. "login.success", "login.failure", "api_key.revoke"
	Target      string // what was acted on (user id, key id, …)
	Method      string // authentication method, where relevant
	ClientIP    string
	Details     map[string]string
}

// AuditFilter selects audit events, newest first. Before is an exclusive
// upper bound on ID (the paging cursor); empty fields do not filter.
type AuditFilter struct {
	WorkspaceID string
	Action      string // exact action, or a prefix ending in "." (e.g. "login.")
	Actor       string
	Before      string
	Limit       int
}

// App is an OAuth2 client of a workspace (API.md §11): a web, mobile or
// single-page app that sends its users to Sigil's hosted sign-in.
type App struct {
	ID                     string // the client_id
	WorkspaceID            string
	Name                   string
	RedirectURIs           []string // exact match, no wildcards
	PostLogoutRedirectURIs []string
	// TokenEndpointAuthMethod is "none" (public, PKCE only),
	// "client_secret_basic" or "client_secret_post".
	TokenEndpointAuthMethod string
	IDTokenAlg              string   // "RS256" or "EdDSA"
	LoginMethods            []string // allowed first factors, e.g. ["password"]
	SecretHash              []byte   // SHA-256 of the client secret; nil for public apps
	CreatedAt               time.Time
	UpdatedAt               time.Time
}

// AuthorizationCode is an OAuth2 authorization code (RFC 6749 §4.1),
// stored only as the SHA-256 of the code. It lives about a minute and is
// redeemed once; SessionID then names the session its exchange started, so
// that a second exchange can end that session (RFC 6749 §4.1.2).
type AuthorizationCode struct {
	Hash          []byte
	AppID         string
	UserID        string
	WorkspaceID   string
	RedirectURI   string
	CodeChallenge string // PKCE S256 challenge (base64url SHA-256 of the verifier)
	Scopes        []string
	Nonce         string
	Method        string    // amr of the sign-in behind it ("pwd", …)
	AuthTime      time.Time // when the person last authenticated
	CreatedAt     time.Time
	ExpiresAt     time.Time
	RedeemedAt    *time.Time
	SessionID     string // set when redeemed
}

// UsageRetention is how long usage buckets are kept: the overview shows
// 30 days, and a few more cover time zones and late flushes.
const UsageRetention = 35 * 24 * time.Hour

// UsageCount is one usage bucket (or a delta to add to it): how many
// events of Kind (such as "login.success") workspace WorkspaceID had in
// the UTC hour starting at Hour.
type UsageCount struct {
	WorkspaceID string
	Hour        time.Time
	Kind        string
	Count       int64
}

// APIKeySpan is when an API key was usable: from CreatedAt until the
// earlier of ExpiresAt and RevokedAt (nil: not set).
type APIKeySpan struct {
	CreatedAt time.Time
	ExpiresAt *time.Time
	RevokedAt *time.Time
}

// Second-factor kinds (API.md §13).
const (
	FactorTOTP     = "totp"
	FactorRecovery = "recovery"
	FactorWebAuthn = "webauthn"
)

// Factor is one second factor of a person. A TOTP factor's Secret is
// sealed under the master key; a recovery factor stands for its set of
// codes (stored hashed beside it) and has no Secret.
type Factor struct {
	ID          string
	UserID      string
	Kind        string // FactorTOTP | FactorRecovery | FactorWebAuthn
	Name        string
	Secret      []byte // sealed; nil for recovery
	CreatedAt   time.Time
	ConfirmedAt *time.Time // nil while a TOTP enrolment is pending
	LastUsedAt  *time.Time
	// Remaining is, for a recovery factor, how many of its codes are
	// unused (read-only; set by ListFactors and GetFactor).
	Remaining int
	// WebAuthn is a passkey factor's credential (nil for other kinds);
	// CreateFactor stores it with the factor.
	WebAuthn *WebAuthnCredential
}

// WebAuthnCredential is the public part of a passkey, as registered.
// SignCount and BackupState change with use (UseWebAuthnCredential); the
// rest never does.
type WebAuthnCredential struct {
	CredentialID   []byte // the authenticator's id, unique in the instance
	PublicKey      []byte // COSE_Key
	RPID           string // the relying party it was made for
	AAGUID         []byte
	SignCount      int64 // 0..2^32-1
	BackupEligible bool
	BackupState    bool
	Transports     []string
	Attachment     string // "platform" | "cross-platform" | ""
}

// Kinds of SSO connection (API.md §12).
const (
	ConnOIDC  = "oidc"
	ConnApple = "apple"
	ConnSAML  = "saml"
)

// Connection is a workspace's single sign-on connection to an identity
// provider (IdP). The store keeps the kind's settings as opaque JSON:
// authn owns their shape.
type Connection struct {
	ID          string
	WorkspaceID string
	Kind        string
	Name        string
	// Domains are the lower-case email domains whose people sign in
	// through this connection; each routes to one connection only in the
	// whole instance.
	Domains     []string
	DefaultRole string
	Config      []byte // the kind's public settings (JSON)
	Secrets     []byte // the kind's secrets (JSON), sealed under the master key
	// Metadata is the last good IdP metadata a SAML connection fetched
	// from its metadata URL (nil until one was fetched, and for the other
	// kinds), so that a replica starting while the IdP is down can still
	// check assertions.
	Metadata  []byte
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Identity links an account to a person at an IdP: the pair
// (ConnectionID, Subject) is stable across sign-ins and email changes,
// and names at most one user.
type Identity struct {
	ConnectionID string
	Subject      string
	UserID       string
	Email        string // as the IdP last sent it ("" if none)
	Name         string // the first name the IdP sent (Apple sends it once)
	CreatedAt    time.Time
	LastLoginAt  time.Time
}
