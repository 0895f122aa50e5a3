package store

import (
	"context"
	"errors"
	"time"
)

// Sentinel errors. Backends wrap driver errors into these where they apply;
// anything else is an internal failure.
var (
	// ErrNotFound means the record does not exist (or is not visible).
	ErrNotFound = errors.New("store: not found")
	// ErrConflict means a uniqueness rule or a conditional write failed:
	// the user id is taken, or another writer rotated the record first.
	ErrConflict = errors.New("store: conflict")
)

// Store is everything Sigil persists. Every method is safe for concurrent
// use. Read-modify-write steps that must be atomic are single methods, so
// the backend owns the transaction.
type Store interface {
	// Workspaces.
	CreateWorkspace(ctx context.Context, w Workspace) error
	GetWorkspace(ctx context.Context, id string) (Workspace, error)
	// GetWorkspaceByJoinCode finds the workspace whose current join code
	// hashes to hash.
	GetWorkspaceByJoinCode(ctx context.Context, hash []byte) (Workspace, error)
	// UpdateWorkspace loads the workspace, lets fn change it, and stores
	// the result in one transaction. fn's error aborts and is returned.
	UpdateWorkspace(ctx context.Context, id string, fn func(*Workspace) error) (Workspace, error)

	// Users. CreateUser stores the user and its first public key (if any)
	// atomically; a taken user id is ErrConflict. The first user of a
	// workspace becomes its owner: the backend sets u.Role to RoleOwner
	// when the workspace has no users yet, inside the same transaction,
	// and returns the stored user.
	CreateUser(ctx context.Context, u User, firstKey *PublicKey) (User, error)
	GetUser(ctx context.Context, id string) (User, error)
	UserExists(ctx context.Context, id string) (bool, error)
	// GetUsersByEmail returns the users with that (normalised) email, in
	// any workspace, oldest first.
	GetUsersByEmail(ctx context.Context, email string) ([]User, error)
	// ListUsers returns a workspace's users, newest first (CreatedAt, then
	// ID, descending), after the user id cursor after ("" from the start),
	// at most limit of them.
	ListUsers(ctx context.Context, workspaceID, after string, limit int) ([]User, error)
	// UpdateUser loads the user, lets fn change Role, Scopes, Email,
	// PasswordHash, EmailVerified, InstanceAdmin or Name, and stores it in
	// one transaction.
	// A duplicate email in the workspace is ErrConflict, and so is taking
	// the owner role from a workspace's last owner (checked in the same
	// transaction, so concurrent demotions cannot leave none).
	UpdateUser(ctx context.Context, id string, fn func(*User) error) (User, error)

	// DeleteUser removes user id of workspace workspaceID in one
	// transaction with everything that is the user's: keyring, sessions
	// and refresh tokens, one-time tokens, and the API keys and JWT keys
	// it created (with their sessions). It returns the removed user and the
	// ids of those credentials. An unknown user, or one of another
	// workspace, is ErrNotFound; the workspace's last owner is ErrConflict
	// and nothing is removed. Audit events stay.
	DeleteUser(ctx context.Context, workspaceID, id string) (RemovedUser, error)

	// Public keys (a user's keyring).
	AddPublicKey(ctx context.Context, k PublicKey) error
	// ListPublicKeys returns the user's keys, newest first.
	ListPublicKeys(ctx context.Context, userID string) ([]PublicKey, error)
	// GetPublicKeyByValue finds the user's key whose raw bytes are key.
	GetPublicKeyByValue(ctx context.Context, userID string, key []byte) (PublicKey, error)
	// GetUserByKey is GetPublicKeyByValue and GetUser of its owner in one
	// read (a key-pair login's lookup): ErrNotFound unless user userID
	// has a key whose raw bytes are key.
	GetUserByKey(ctx context.Context, userID string, key []byte) (User, PublicKey, error)
	// DeletePublicKey removes one key of the user; removing the user's
	// last key is ErrConflict, an unknown id ErrNotFound. Passkeys count
	// as keys (both sign in without a password; API.md §3 keyring): see
	// DeletePasskey, whose check shares the transaction's lock, so
	// concurrent removals of a keyring's last two keys cannot both pass.
	DeletePublicKey(ctx context.Context, userID, keyID string) error
	// DeletePasskey removes passkey factor id of the user, as DeleteFactor
	// does, unless it is the user's last key (public keys and passkeys
	// together): ErrConflict. Not a passkey of the user → ErrNotFound.
	DeletePasskey(ctx context.Context, userID, id string) error
	TouchPublicKey(ctx context.Context, keyID string, at time.Time) error

	// Auth codes (key-pair challenges). Codes authenticate themselves, so
	// the store only records the used ones, until they expire:
	// CreateAuthCode of a hash already recorded is ErrConflict (a replay).
	// Logins record theirs through CreateSession instead.
	CreateAuthCode(ctx context.Context, c AuthCode) error

	// Sessions and refresh tokens.
	//
	// CreateSession stores s and its first refresh token (generation 0)
	// atomically, and records usedCodes (the challenges the login
	// consumed) as used in the same transaction: a code already recorded
	// is ErrConflict and nothing is stored. One write per login.
	CreateSession(ctx context.Context, s Session, refreshHash []byte, usedCodes ...AuthCode) error
	GetSession(ctx context.Context, id string) (Session, error)
	// ListSessions returns the user's live (not revoked, not past
	// ExpiresAt at now) sessions, newest first.
	ListSessions(ctx context.Context, userID string, now time.Time) ([]Session, error)
	// GetRefreshToken finds the refresh token with that hash.
	GetRefreshToken(ctx context.Context, hash []byte) (RefreshToken, error)
	// GetRefreshSession is GetRefreshToken and GetSession of its session
	// in one read (the first step of a refresh): the token of any
	// generation and the session as it is now, revoked or not, with
	// Session.UserScopes set to its user's scopes now. Unknown hash →
	// ErrNotFound.
	GetRefreshSession(ctx context.Context, hash []byte) (RefreshToken, Session, error)
	// RotateRefresh moves session r.SessionID from generation fromGen to
	// fromGen+1 in one conditional write: it succeeds only if the session
	// is still at fromGen and not revoked, sets RotatedAt=now and
	// RefreshExpiresAt=refreshExpiresAt, and stores childHash as the
	// refresh token of generation fromGen+1. If another writer got there
	// first, or the session is revoked, it returns ErrConflict and changes
	// nothing.
	RotateRefresh(ctx context.Context, sessionID string, fromGen int64, childHash []byte, now, refreshExpiresAt time.Time) error
	// RefreshSession is a refresh's read and its rotation in one write
	// (one statement on PostgreSQL): it finds the token r.Hash with its
	// session (Session.UserScopes set, as GetRefreshSession) and, if the
	// token is of the session's generation and the session is neither
	// revoked nor past ExpiresAt or RefreshExpiresAt at r.Now, rotates it
	// as RotateRefresh would, to r.ChildHash expiring at r.ChildExpiry
	// (of the workspace's RefreshTTL read in the same write).
	// Refreshed.Session is the session as found, before the rotation.
	// Without a rotation nothing changes and the caller decides (grace,
	// reuse, a race lost to a concurrent rotation: ErrConflict is not
	// returned for it). Unknown hash → ErrNotFound; a taken ChildHash →
	// ErrConflict.
	RefreshSession(ctx context.Context, r RefreshRotation) (Refreshed, error)
	// RevertRotation undoes a rotation RefreshSession made (of parent,
	// the session as it returned it, to childHash) if the session is
	// still at parent.Generation+1: generation, RotatedAt and
	// RefreshExpiresAt go back and the child token is deleted. A refresh
	// refused after its rotation (a rate limit) so leaves the presented
	// token current. Otherwise (rotated further, unknown) it changes
	// nothing and returns ErrConflict.
	RevertRotation(ctx context.Context, parent Session, childHash []byte) error
	// RevokeSession marks the session revoked at now (idempotent: an
	// already revoked session keeps its first time). Unknown → ErrNotFound.
	RevokeSession(ctx context.Context, id string, now time.Time) error
	// RevokeUserSessions revokes every live session of the user and
	// returns their ids.
	RevokeUserSessions(ctx context.Context, userID string, now time.Time) ([]string, error)

	// Signing keys for Sigil's own tokens. PrivateKey is ciphertext.
	CreateSigningKey(ctx context.Context, k SigningKey) error
	// ListSigningKeys returns every stored key, newest (by CreatedAt)
	// first; callers decide which sign and which are published.
	ListSigningKeys(ctx context.Context) ([]SigningKey, error)
	// UpdateSigningKey stores RetiredAt and PublishUntil of an existing
	// key (the other fields never change). Unknown id → ErrNotFound.
	UpdateSigningKey(ctx context.Context, k SigningKey) error
	// DeleteSigningKey removes a key that is no longer published.
	DeleteSigningKey(ctx context.Context, id string) error

	// One-time tokens (password reset, email verification).
	// ConsumeOneTimeToken deletes and returns it (single use); missing →
	// ErrNotFound. Expiry is the caller's check.
	CreateOneTimeToken(ctx context.Context, t OneTimeToken) error
	ConsumeOneTimeToken(ctx context.Context, hash []byte) (OneTimeToken, error)

	// Second factors (API.md §13). CreateFactor of a taken id is
	// ErrConflict, of an unknown user ErrNotFound. ListFactors returns the
	// user's factors, newest first. GetFactor and DeleteFactor find a
	// factor by user and id (another user's is ErrNotFound); deleting one
	// removes its codes and used steps.
	//
	// UseTOTPStep records time step step of TOTP factor factorID of user
	// userID as used until expiresAt, and sets the factor's LastUsedAt
	// (and ConfirmedAt, if unset) to now, in one transaction. A step
	// already recorded is ErrConflict (a replay, on any replica) and
	// changes nothing; an unknown factor is ErrNotFound. Of concurrent
	// uses of one step exactly one succeeds.
	//
	// ReplaceRecoveryCodes stores recovery factor f with one code per hash
	// and removes the user's earlier recovery factor(s) and codes, in one
	// transaction. UseRecoveryCode deletes the user's unused code with
	// that hash and touches its factor, in one statement's transaction,
	// and returns the factor; a used or unknown code is ErrNotFound, so of
	// concurrent uses exactly one succeeds.
	//
	// A passkey is a factor of kind FactorWebAuthn whose WebAuthn field
	// CreateFactor stores with it in one transaction; a credential id
	// already registered (to anyone) is ErrConflict. ListFactors and
	// GetFactor return it with its credential. GetFactorByCredential
	// finds a passkey factor by credential id, in any user (a
	// passwordless sign-in's lookup). UseWebAuthnCredential records a use
	// of passkey factorID of userID: it stores signCount and backupState
	// and sets LastUsedAt to now, in one conditional statement, only if
	// signCount is above the stored count or both are 0 (authenticators
	// that keep no counter); otherwise it is ErrConflict (a cloned or
	// replayed authenticator) and changes nothing. Of concurrent uses with
	// one non-zero count exactly one succeeds. Unknown → ErrNotFound.
	CreateFactor(ctx context.Context, f Factor) error
	ListFactors(ctx context.Context, userID string) ([]Factor, error)
	GetFactor(ctx context.Context, userID, id string) (Factor, error)
	DeleteFactor(ctx context.Context, userID, id string) error
	UseTOTPStep(ctx context.Context, userID, factorID string, step int64, expiresAt, now time.Time) error
	ReplaceRecoveryCodes(ctx context.Context, f Factor, hashes [][]byte) error
	UseRecoveryCode(ctx context.Context, userID string, hash []byte, now time.Time) (Factor, error)
	GetFactorByCredential(ctx context.Context, credentialID []byte) (Factor, error)
	// ListFactorKinds maps each user of workspace workspaceID who has a
	// confirmed factor to the kinds of those factors (sorted, distinct),
	// in one read: the members page's "two-step" column. DeleteFactors
	// removes every factor of the user (with their codes, used steps and
	// credentials) in one statement and returns how many went.
	ListFactorKinds(ctx context.Context, workspaceID string) (map[string][]string, error)
	DeleteFactors(ctx context.Context, userID string) (int, error)
	UseWebAuthnCredential(ctx context.Context, userID, factorID string, signCount int64, backupState bool, now time.Time) error

	// SSO connections (API.md §12). CreateConnection of a taken id, or
	// naming a domain another connection routes, is ErrConflict; of an
	// unknown workspace ErrNotFound. ListConnections returns a workspace's
	// connections, newest first. GetConnectionByDomain finds the
	// connection that routes a lower-case email domain (ErrNotFound when
	// none). UpdateConnection loads the connection, lets fn change Name,
	// Domains, DefaultRole, Config, Secrets or Metadata, sets UpdatedAt as
	// fn left it, and stores it in one transaction; a domain routed by
	// another connection is ErrConflict. DeleteConnection removes
	// connection id of workspace workspaceID with its domains and
	// identities (the accounts stay); unknown, or another workspace's, is
	// ErrNotFound.
	CreateConnection(ctx context.Context, c Connection) error
	GetConnection(ctx context.Context, id string) (Connection, error)
	ListConnections(ctx context.Context, workspaceID string) ([]Connection, error)
	GetConnectionByDomain(ctx context.Context, domain string) (Connection, error)
	UpdateConnection(ctx context.Context, id string, fn func(*Connection) error) (Connection, error)
	DeleteConnection(ctx context.Context, workspaceID, id string) error

	// Identities at IdPs. GetIdentityUser returns identity (connectionID,
	// subject) and its user in one read; ErrNotFound when no account is
	// linked. LinkIdentity stores id for the existing user id.UserID: a
	// taken (connection, subject) is ErrConflict, an unknown user or
	// connection ErrNotFound. CreateIdentityUser creates u (as CreateUser,
	// without a key) and links id to it in one transaction: a taken user
	// id, email or identity is ErrConflict and nothing is stored.
	// TouchIdentity sets an identity's Email and LastLoginAt (unknown →
	// ErrNotFound). Deleting a user removes its identities.
	GetIdentityUser(ctx context.Context, connectionID, subject string) (Identity, User, error)
	LinkIdentity(ctx context.Context, id Identity) error
	CreateIdentityUser(ctx context.Context, u User, id Identity) (User, error)
	TouchIdentity(ctx context.Context, connectionID, subject, email string, at time.Time) error

	// Invitations. CreateInvitation of a taken id or hash is ErrConflict,
	// of an unknown workspace ErrNotFound. ListInvitations returns a
	// workspace's invitations in every state, newest first. Invitations
	// are kept after use or expiry (DeleteExpired leaves them), so a late
	// click on an old link can be told what became of it.
	// RevokeInvitation marks a pending or expired invitation revoked at now
	// and returns it; one already accepted or revoked is ErrConflict
	// (unchanged), an unknown id ErrNotFound.
	// AcceptInvitation marks invitation id accepted at now by u.ID and
	// creates u (as CreateUser, without a key) in one transaction, only if
	// the invitation is still pending at now and of u.WorkspaceID;
	// otherwise, or if CreateUser would conflict, it is ErrConflict and
	// nothing changes. Of concurrent acceptances exactly one succeeds.
	CreateInvitation(ctx context.Context, inv Invitation) error
	GetInvitation(ctx context.Context, id string) (Invitation, error)
	GetInvitationByHash(ctx context.Context, hash []byte) (Invitation, error)
	ListInvitations(ctx context.Context, workspaceID string) ([]Invitation, error)
	RevokeInvitation(ctx context.Context, id string, now time.Time) (Invitation, error)
	AcceptInvitation(ctx context.Context, id string, u User, now time.Time) (User, error)

	// API keys.
	CreateAPIKey(ctx context.Context, k APIKey) error
	GetAPIKey(ctx context.Context, id string) (APIKey, error)
	GetAPIKeyByHash(ctx context.Context, hash []byte) (APIKey, error)
	// ListAPIKeys returns a workspace's keys (only userID's when userID is
	// not ""), newest first, revoked ones included.
	ListAPIKeys(ctx context.Context, workspaceID, userID string) ([]APIKey, error)
	// UpdateAPIKey loads the key, lets fn change RevokedAt, ExpiresAt or
	// Name, and stores it in one transaction.
	UpdateAPIKey(ctx context.Context, id string, fn func(*APIKey) error) (APIKey, error)
	TouchAPIKey(ctx context.Context, id string, at time.Time) error
	// RevokeAPIKeySessions revokes every live session created from the
	// key and returns their ids.
	RevokeAPIKeySessions(ctx context.Context, keyID string, now time.Time) ([]string, error)
	// PutAPIKeySession stores s (a session with APIKeyID set and no
	// refresh token) or, when a session with that ID exists, replaces it
	// entirely: an expired or revoked exchange session is started afresh.
	PutAPIKeySession(ctx context.Context, s Session) error

	// JWT keys (customer HS256 secrets). DeleteJWTKey removes the key;
	// unknown → ErrNotFound.
	CreateJWTKey(ctx context.Context, k JWTKey) error
	GetJWTKey(ctx context.Context, id string) (JWTKey, error)
	ListJWTKeys(ctx context.Context, workspaceID string) ([]JWTKey, error)
	DeleteJWTKey(ctx context.Context, id string) error

	// OAuth2 apps (clients) of a workspace. CreateApp of a taken id is
	// ErrConflict, of an unknown workspace ErrNotFound. ListApps returns a
	// workspace's apps (every app of the instance for "") newest first. UpdateApp loads the app, lets fn
	// change it (not ID, WorkspaceID or CreatedAt) and stores it in one
	// transaction. DeleteApp of an unknown id is ErrNotFound; the app's
	// sessions stay (their tokens expire or are revoked as any other).
	CreateApp(ctx context.Context, a App) error
	GetApp(ctx context.Context, id string) (App, error)
	ListApps(ctx context.Context, workspaceID string) ([]App, error)
	UpdateApp(ctx context.Context, id string, fn func(*App) error) (App, error)
	DeleteApp(ctx context.Context, id string) error

	// Authorization codes. CreateAuthorizationCode of a taken hash is
	// ErrConflict. GetAuthorizationCode finds one by hash (ErrNotFound).
	// RedeemAuthorizationCode marks the code redeemed at now with
	// sess.ID and creates sess with its first refresh token, all in one
	// transaction, only if the code was not redeemed before; otherwise it
	// returns ErrConflict, stores nothing, and returns the stored code
	// (whose SessionID names the first exchange's session). Unknown hash →
	// ErrNotFound.
	CreateAuthorizationCode(ctx context.Context, c AuthorizationCode) error
	GetAuthorizationCode(ctx context.Context, hash []byte) (AuthorizationCode, error)
	RedeemAuthorizationCode(ctx context.Context, hash []byte, sess Session, refreshHash []byte, now time.Time) (AuthorizationCode, error)

	// The instance: its workspaces at a glance, and first-run setup.
	//
	// ListWorkspaceStats returns every workspace, newest first, with its
	// member count and its count of API keys live at now, in one query.
	ListWorkspaceStats(ctx context.Context, now time.Time) ([]WorkspaceStats, error)
	// PutSetupToken makes t the instance's one setup token, replacing any
	// earlier one, while the instance has no user; once a user exists it
	// removes any setup token instead and returns ErrConflict.
	PutSetupToken(ctx context.Context, t SetupToken) error
	// GetSetupToken returns the setup token whose hash is hash; none, or
	// any user in the instance, is ErrNotFound. Expiry is the caller's
	// check.
	GetSetupToken(ctx context.Context, hash []byte) (SetupToken, error)
	// CompleteSetup, in one transaction: takes (deletes) the setup token
	// whose hash is hash if it is unexpired at now, and creates workspace
	// w and its first user u (stored with u's Role and InstanceAdmin as
	// given). No such token (wrong, expired, replaced or used) is
	// ErrNotFound; a user already in the instance ErrConflict. On any
	// error nothing changes, so of concurrent setups exactly one wins.
	CompleteSetup(ctx context.Context, hash []byte, now time.Time, w Workspace, u User) (User, error)

	// Audit log. AppendAudit stores events in one transaction.
	AppendAudit(ctx context.Context, events ...AuditEvent) error
	ListAudit(ctx context.Context, f AuditFilter) ([]AuditEvent, error)

	// Usage counters (the dashboard's overview): a count per workspace,
	// UTC hour and kind. AddUsage adds each delta's Count to the bucket
	// (WorkspaceID, Hour, Kind), creating it at 0, all in one transaction;
	// deltas naming the same bucket add up. Hour must be a whole UTC hour.
	// Rows reference no workspace (a flush never fails on a workspace gone
	// meanwhile); they expire after UsageRetention. ListUsage returns a
	// workspace's buckets with Hour >= since, by Hour then Kind.
	AddUsage(ctx context.Context, deltas ...UsageCount) error
	ListUsage(ctx context.Context, workspaceID string, since time.Time) ([]UsageCount, error)
	// ListAPIKeySpans returns when each API key of the workspace was
	// usable, for the keys neither revoked nor expired at or before since,
	// by CreatedAt then ID.
	ListAPIKeySpans(ctx context.Context, workspaceID string, since time.Time) ([]APIKeySpan, error)

	// DeleteExpired removes auth codes, authorization codes, one-time
	// tokens, used TOTP steps, sessions and refresh tokens that are past use at now, and
	// usage buckets older than UsageRetention, and returns how many rows
	// went. API keys and audit events are kept.
	DeleteExpired(ctx context.Context, now time.Time) (int64, error)

	// Ping reports whether the backend answers.
	Ping(ctx context.Context) error
	Close() error
}
