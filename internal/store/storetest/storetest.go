package storetest

import (
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/sigil-auth/sigil/internal/store"
)

// test is one conformance check; it gets a fresh, empty store.
type test struct {
	name string
	fn   func(t *testing.T, s store.Store)
}

// Run runs the whole conformance suite against the backend that newStore
// opens. newStore is called once per subtest and must return an empty store
// whose Close is registered with t.Cleanup.
func Run(t *testing.T, newStore func(t *testing.T) store.Store) {
	groups := []struct {
		name  string
		tests []test
	}{
		{"Workspace", workspaceTests},
		{"User", userTests},
		{"PublicKey", publicKeyTests},
		{"AuthCode", authCodeTests},
		{"Session", sessionTests},
		{"Refresh", refreshTests},
		{"RefreshSession", refreshSessionTests},
		{"SigningKey", signingKeyTests},
		{"OneTimeToken", oneTimeTokenTests},
		{"APIKey", apiKeyTests},
		{"APIKeySession", apiKeySessionTests},
		{"JWTKey", jwtKeyTests},
		{"Invitation", invitationTests},
		{"Factor", factorTests},
		{"Connection", connectionTests},
		{"WebAuthn", webauthnTests},
		{"UserRemoval", removalTests},
		{"App", appTests},
		{"AuthorizationCode", authorizationCodeTests},
		{"Audit", auditTests},
		{"Usage", usageTests},
		{"Maintenance", maintenanceTests},
		{"Instance", instanceTests},
		{"Concurrency", concurrencyTests},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) {
			for _, tt := range g.tests {
				t.Run(tt.name, func(t *testing.T) {
					tt.fn(t, newStore(t))
				})
			}
		})
	}
}

// t0 is the suite's reference instant. Its 321 ns below the microsecond
// vanish whether a backend truncates or rounds to microseconds, so
// expectations can use it unchanged. Only whole microseconds are added to it.
var t0 = time.Date(2026, time.November, 3, 12, 0, 0, 123_456_321, time.UTC)

func at(d time.Duration) time.Time { return t0.Add(d) }

func ptr[T any](v T) *T { return &v }

// hash stands in for the SHA-256 of a secret (refresh token, code, …).
func hash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

// keyBytes is a deterministic 32-byte stand-in for an Ed25519 public key.
func keyBytes(name string) []byte { return hash("key:" + name) }

// sameInstant compares times the way the contract promises to keep them:
// in UTC, to the microsecond.
func sameInstant(a, b time.Time) bool {
	return a.Location() == b.Location() &&
		a.Truncate(time.Microsecond).Equal(b.Truncate(time.Microsecond))
}

var cmpOpts = cmp.Options{cmpopts.EquateEmpty(), cmp.Comparer(sameInstant)}

// diff reports a field-by-field mismatch of want and got.
func diff(t *testing.T, what string, want, got any) {
	t.Helper()
	if d := cmp.Diff(want, got, cmpOpts); d != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", what, d)
	}
}

// wantErr fails unless errors.Is(err, target); target nil means success.
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	switch {
	case target == nil && err != nil:
		t.Fatalf("%s: unexpected error %v", what, err)
	case target != nil && !errors.Is(err, target):
		t.Fatalf("%s: got error %v, want %v", what, err, target)
	}
}

// ok fails the test at once on an unexpected error.
func ok(t *testing.T, what string, err error) {
	t.Helper()
	wantErr(t, what, err, nil)
}

func newWorkspace(id string) store.Workspace {
	return store.Workspace{
		ID:            id,
		Name:          "Workspace " + id,
		JoinCodeHash:  hash("join:" + id),
		DefaultScopes: []string{"read", "write"},
		CreatedAt:     t0,
		UpdatedAt:     t0,
	}
}

func mustWorkspace(t *testing.T, s store.Store, id string) store.Workspace {
	t.Helper()
	w := newWorkspace(id)
	ok(t, "CreateWorkspace "+id, s.CreateWorkspace(t.Context(), w))
	return w
}

func newKey(id, userID string, created time.Time) store.PublicKey {
	return store.PublicKey{ID: id, UserID: userID, Key: keyBytes(id), CreatedAt: created}
}

// mustUser creates user id (role member, one key "<id>-k1") in workspace ws.
func mustUser(t *testing.T, s store.Store, ws, id string) store.User {
	t.Helper()
	u := store.User{ID: id, WorkspaceID: ws, Role: store.RoleMember,
		Scopes: []string{"read"}, CreatedAt: t0}
	k := newKey(id+"-k1", id, t0)
	got, err := s.CreateUser(t.Context(), u, &k)
	ok(t, "CreateUser "+id, err)
	return got
}

// newSession is a live session of user in ws created at created: it
// lives 24 h, its refresh token 30 min.
func newSession(id, user, ws string, created time.Time) store.Session {
	return store.Session{
		ID: id, UserID: user, WorkspaceID: ws, Method: "pubkey",
		Scopes:           []string{"read", "write"},
		CreatedAt:        created,
		ExpiresAt:        created.Add(24 * time.Hour),
		RefreshExpiresAt: created.Add(30 * time.Minute),
		RotatedAt:        created,
	}
}

func mustSession(t *testing.T, s store.Store, sess store.Session) store.Session {
	t.Helper()
	ok(t, "CreateSession "+sess.ID, s.CreateSession(t.Context(), sess, hash("rt:"+sess.ID+":0")))
	return sess
}

// fixture is a workspace "ws" with user "alice" (the owner), the usual
// starting point of session and key tests.
func fixture(t *testing.T, s store.Store) store.User {
	t.Helper()
	mustWorkspace(t, s, "ws")
	return mustUser(t, s, "ws", "alice")
}
