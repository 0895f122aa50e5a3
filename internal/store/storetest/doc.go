// Package storetest is the conformance suite every store.Store backend
// must pass: Run(t, newStore) runs named subtests for each method of the
// interface, and a Concurrency group for the races the interface promises
// to win (refresh rotation by RotateRefresh and RefreshSession, duplicate ids, first-user-owner, single-use auth
// codes and one-time tokens, join codes, emails, the read-modify-writes of
// UpdateWorkspace and UpdateUser, PutAPIKeySession's upsert, single
// redemption of an authorization code).
//
// It owns the executable meaning of the contract in internal/store; where
// store.go is silent the suite decides, and both backends follow:
//   - Times come back in UTC and are compared at microsecond precision (test
//     times carry < 500 ns below the microsecond, so rounding and truncating
//     backends agree). Empty and nil slices are equal.
//   - Writing a record that references a missing parent (CreateUser in an
//     unknown workspace, AddPublicKey or CreateSession for an unknown user)
//     is ErrNotFound. Auth codes reference no user: a code is issued for an
//     id before it registers.
//   - A user's raw key bytes are unique on that user's keyring (ErrConflict).
//   - Every mutation of an unknown id is ErrNotFound, including
//     RotateRefresh, UpdateSigningKey and DeleteSigningKey.
//   - Old refresh tokens stay resolvable after rotation (reuse detection
//     needs them); the generation-0 token's CreatedAt is the session's
//     CreatedAt, a child's is RotateRefresh's now.
//   - The joined reads answer exactly what their parts would:
//     GetRefreshSession = GetRefreshToken + GetSession of its session,
//     and RefreshSession finds the same (the session as it was before its
//     rotation); it rotates exactly when the token is current and the
//     session live at Now, as RotateRefresh would, and of many at once on
//     one parent exactly one rotates while the rest find and change
//     nothing (neither is an error),
//     GetUserByKey = GetPublicKeyByValue + GetUser of its owner (ErrNotFound
//     in the same cases). CreateSession records several used codes all or
//     none.
//   - Expiry is inclusive: a record whose expiry equals now is past use.
//     A session is live while not revoked and now < ExpiresAt.
//     DeleteExpired removes auth codes with ExpiresAt <= now and sessions
//     that are revoked or have ExpiresAt <= now, together with all their
//     refresh tokens; the count is the sum of every row removed in those
//     three tables.
//
// Contract v2 (passwords, API keys, JWT keys, members, audit) adds:
//   - Emails: "" means "no email" (key-pair users) and never conflicts;
//     GetUsersByEmail("") finds nobody. Emails are compared byte for byte
//     (the caller normalises) and are unique per workspace: CreateUser or
//     UpdateUser to an email another user of the same workspace has is
//     ErrConflict; the same email in two workspaces is fine.
//     GetUsersByEmail orders by (CreatedAt, ID).
//   - ListUsers orders by (CreatedAt, ID) descending: newest first, ties
//     larger ID first (bytewise). The cursor after is the ID of the last
//     user of the previous page; the next page starts below it in that
//     order, so users who join meanwhile never shift a page. An after that
//     names no user of that workspace is ErrNotFound (a stale cursor is
//     reported, not silently turned into an empty page). limit <= 0 means
//     no limit. An unknown workspace lists no users and no error.
//   - UpdateUser, UpdateAPIKey: fn sees the stored record; only the fields
//     the interface names are stored (User: Role, Scopes, Email,
//     PasswordHash, EmailVerified; APIKey: Name, ExpiresAt, RevokedAt, where
//     nil clears), other changes are ignored; the stored record is
//     returned. fn's error aborts and comes back unwrapped; an unknown id is
//     ErrNotFound and fn is not called.
//   - Sessions: CreateSession still needs an existing user. A session made
//     by PutAPIKeySession may have UserID "" (admin-created key); its
//     APIKeyID must name an existing key ("" or unknown → ErrNotFound), a
//     non-empty unknown UserID is ErrNotFound. PutAPIKeySession replaces
//     every field of an existing API-key session of that ID (RevokedAt
//     included, so nil un-revokes), but never overwrites a login session
//     (APIKeyID ""): that is ErrConflict. ListSessions and RevokeUserSessions
//     ignore API-key sessions; RevokeAPIKeySessions revokes only live ones
//     (same rule as RevokeUserSessions), an unknown key revokes none.
//     RevokeSession and DeleteExpired treat API-key sessions like any other.
//   - One-time tokens reference their user (unknown → ErrNotFound); a taken
//     hash is ErrConflict; Consume hands back expired tokens too.
//   - API keys and JWT keys reference their workspace and, unless UserID is
//     "", their creator (unknown → ErrNotFound). A taken id (or API-key
//     hash) is ErrConflict. Lists order by (CreatedAt, ID) descending; an
//     unknown workspace lists none. TouchAPIKey sets LastUsedAt as given,
//     revoked or not.
//   - Audit: AppendAudit() with no events is a no-op; a taken ID anywhere in
//     the batch is ErrConflict and stores none of it. WorkspaceID "" stores
//     an instance-level event, and audit rows reference no workspace (the
//     log outlives what it describes). ListAudit matches Action exactly,
//     or, when it ends in ".", as a byte-wise prefix (case-sensitive; "_"
//     and "%" are plain characters). Limit <= 0 means 50, > 200 means 200.
//     Nil and empty Details are equal.
//   - DeleteExpired also removes one-time tokens with ExpiresAt <= now and
//     counts them; it keeps API keys, JWT keys and audit events.
//   - The zero time.Time round-trips (an API-key session has no refresh
//     token, and the tests leave its RefreshExpiresAt zero).
//   - Not observable yet (the interface deletes no users or keys), but keep
//     the schemas alike: one-time tokens, API keys and JWT keys go with the
//     user they reference (ON DELETE CASCADE), API-key sessions with their
//     key; audit rows reference nothing.
//
// Contract v3 (browser sign-in: apps, authorization codes, branding) adds:
//   - Workspace DisplayName, LogoURL and AccentColor round-trip through
//     CreateWorkspace and UpdateWorkspace ("" = defaults).
//   - Apps reference their workspace (unknown → ErrNotFound); ids are
//     global (taken → ErrConflict). ListApps orders by (CreatedAt, ID)
//     descending, ID bytewise. UpdateApp stores every field but ID,
//     WorkspaceID and CreatedAt, whose changes by fn are ignored; a nil
//     SecretHash makes the app public. DeleteApp removes the app's
//     authorization codes too; the sessions issued to it stay and keep
//     their AppID (sessions.app_id references nothing).
//   - Authorization codes reference their app and user (unknown →
//     ErrNotFound); a taken hash is ErrConflict. RedeemAuthorizationCode
//     stores the session exactly as CreateSession does (first refresh
//     token at the session's generation and CreatedAt); when that session
//     is refused (taken id or refresh hash, unknown user) the code stays
//     unredeemed. Expiry is the caller's check. DeleteExpired removes codes
//     with ExpiresAt <= now, redeemed or not, and counts them.
//   - Session.AppID round-trips ("" = none) through CreateSession,
//     GetSession and ListSessions.
//
// Contract v4 (instance admins, first run) adds:
//   - User.InstanceAdmin round-trips through CreateUser, every user read,
//     and UpdateUser (one more field fn may change).
//   - ListWorkspaceStats orders by (CreatedAt, ID) descending and counts a
//     workspace's users and its API keys that are not revoked and expire
//     after now (nil: never), in one query; no workspaces is an empty list.
//   - The setup token is one slot: PutSetupToken replaces it while there
//     is no user, and once there is one clears it and is ErrConflict.
//     GetSetupToken answers only the current token's hash and only while
//     there is no user (else ErrNotFound), expired or not. CompleteSetup
//     takes a current token with ExpiresAt > now (else ErrNotFound) and, if
//     there is still no user (else ErrConflict), creates the workspace and
//     the user as given (role included), all or nothing: a failed setup
//     keeps its token. Of concurrent setups with one token exactly one
//     succeeds; the others are ErrNotFound.
//
// Contract v5 (usage counters for the dashboard's overview) adds:
//   - AddUsage adds to buckets keyed by (WorkspaceID, Hour, Kind), creating
//     them; deltas of one bucket in a batch add up, a batch is one
//     transaction, and concurrent adds (replicas) never lose a count.
//     Buckets reference no workspace. ListUsage(ws, since) returns Hour >=
//     since, by Hour then Kind (bytewise). DeleteExpired removes and counts
//     buckets with Hour < now - store.UsageRetention.
//   - ListAPIKeySpans(ws, since) returns the keys whose RevokedAt and
//     ExpiresAt are each nil or after since (expiry is inclusive), by
//     (CreatedAt, ID) ascending.
//
// Contract v6 (members removed, invitations by email) adds:
//   - DeleteUser(ws, id) removes the user with its keyring, sessions and
//     refresh tokens, one-time tokens, and the API keys and JWT keys it
//     created (their sessions too); it names the unrevoked sessions, the
//     API keys and the JWT keys that went. A user of another workspace is
//     ErrNotFound; the workspace's last owner is ErrConflict, also when two
//     owners are removed at once (one removal wins).
//   - Invitations reference their workspace (unknown → ErrNotFound); a
//     taken id or hash is ErrConflict; lists are newest first like every
//     newest-first list. RevokeInvitation of an accepted or revoked one is
//     ErrConflict and keeps the first RevokedAt. AcceptInvitation applies
//     CreateUser's rules (first user owns; taken id or email) and refuses
//     with ErrConflict anything but a pending invitation of the user's
//     workspace (unknown, accepted, revoked, ExpiresAt <= now), changing
//     nothing; of racing acceptances, or an acceptance and a revocation,
//     exactly one happens. DeleteExpired keeps invitations.
//
// Second factors and SSO connections: ListFactors and ListConnections
// order by (CreatedAt, ID) descending, ID bytewise, like every
// newest-first list.
//
// newStore must return an empty store of its own (a fresh file, or a
// truncated schema) and register its Close with t.Cleanup. Subtests do not
// run in parallel with each other.
//
// It must not import any backend: it sees only the store package.
package storetest
