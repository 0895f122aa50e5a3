// Package storetest is the conformance suite every store.Store backend
// must pass: Run(t, newStore) runs named subtests for each method of the
// interface, and a Concurrency group for the races the interface promises
// to win (refresh rotation, duplicate ids, first-user-owner, single-use auth
// codes, join codes, UpdateWorkspace's read-modify-write).
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
//   - Expiry is inclusive: a record whose expiry equals now is past use.
//     A session is live while not revoked and now < ExpiresAt.
//     DeleteExpired removes auth codes with ExpiresAt <= now and sessions
//     that are revoked or have ExpiresAt <= now, together with all their
//     refresh tokens; the count is the sum of every row removed in those
//     three tables.
//
// newStore must return an empty store of its own (a fresh file, or a
// truncated schema) and register its Close with t.Cleanup. Subtests do not
// run in parallel with each other.
//
// It must not import any backend: it sees only the store package.
package storetest
