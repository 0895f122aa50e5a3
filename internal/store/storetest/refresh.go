package storetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/store"
)

var refreshTests = []test{
	{"RotateChain", testRotateChain},
	{"RotateWrongGeneration", testRotateWrongGen},
	{"RotateRevoked", testRotateRevoked},
	{"RotateUnknownSession", testRotateUnknown},
	{"RotateTakenChildHash", testRotateTakenChild},
	{"GetRefreshSession", testGetRefreshSession},
}

// rotation is one step of a rotation chain: the expected state after it.
type rotation struct {
	from      int64
	child     string
	now, rexp time.Time
}

func testRotateChain(t *testing.T, s store.Store) {
	fixture(t, s)
	want := mustSession(t, s, newSession("s1", "alice", "ws", t0))
	steps := []rotation{
		{0, "child-1", at(10 * time.Minute), at(40 * time.Minute)},
		{1, "child-2", at(20 * time.Minute), at(50 * time.Minute)},
	}
	for _, st := range steps {
		err := s.RotateRefresh(t.Context(), "s1", st.from, hash(st.child), st.now, st.rexp)
		ok(t, "RotateRefresh from "+st.child, err)
		want.Generation, want.RotatedAt, want.RefreshExpiresAt = st.from+1, st.now, st.rexp
		got, err := s.GetSession(t.Context(), "s1")
		ok(t, "GetSession", err)
		diff(t, "session after rotation to "+st.child, want, got)
		rt, err := s.GetRefreshToken(t.Context(), hash(st.child))
		ok(t, "GetRefreshToken "+st.child, err)
		diff(t, "child token", store.RefreshToken{
			Hash: hash(st.child), SessionID: "s1", Generation: st.from + 1, CreatedAt: st.now}, rt)
	}
	// Every earlier token still resolves to its own generation, so a
	// replayed one is recognised as reuse.
	rt, err := s.GetRefreshToken(t.Context(), hash("rt:s1:0"))
	ok(t, "GetRefreshToken of generation 0", err)
	diff(t, "generation-0 token", store.RefreshToken{Hash: hash("rt:s1:0"), SessionID: "s1", CreatedAt: t0}, rt)
}

func testRotateWrongGen(t *testing.T, s store.Store) {
	fixture(t, s)
	mustSession(t, s, newSession("s1", "alice", "ws", t0))
	ok(t, "RotateRefresh", s.RotateRefresh(t.Context(), "s1", 0, hash("child-1"), at(time.Minute), at(time.Hour)))
	want, err := s.GetSession(t.Context(), "s1")
	ok(t, "GetSession", err)
	for _, gen := range []int64{0, 2, 5, -1} {
		child := hash("stale-child")
		err := s.RotateRefresh(t.Context(), "s1", gen, child, at(2*time.Minute), at(2*time.Hour))
		wantErr(t, "RotateRefresh from wrong generation", err, store.ErrConflict)
		_, err = s.GetRefreshToken(t.Context(), child)
		wantErr(t, "child of refused rotation", err, store.ErrNotFound)
	}
	got, err := s.GetSession(t.Context(), "s1")
	ok(t, "GetSession", err)
	diff(t, "session after refused rotations", want, got)
}

func testRotateRevoked(t *testing.T, s store.Store) {
	fixture(t, s)
	want := mustSession(t, s, newSession("s1", "alice", "ws", t0))
	ok(t, "RevokeSession", s.RevokeSession(t.Context(), "s1", at(time.Minute)))
	err := s.RotateRefresh(t.Context(), "s1", 0, hash("child"), at(2*time.Minute), at(time.Hour))
	wantErr(t, "RotateRefresh of revoked session", err, store.ErrConflict)
	_, err = s.GetRefreshToken(t.Context(), hash("child"))
	wantErr(t, "child of refused rotation", err, store.ErrNotFound)
	got, err := s.GetSession(t.Context(), "s1")
	ok(t, "GetSession", err)
	want.RevokedAt = ptr(at(time.Minute))
	diff(t, "revoked session after refused rotation", want, got)
}

func testRotateUnknown(t *testing.T, s store.Store) {
	err := s.RotateRefresh(t.Context(), "nope", 0, hash("child"), t0, at(time.Hour))
	wantErr(t, "RotateRefresh of unknown session", err, store.ErrNotFound)
	_, err = s.GetRefreshToken(t.Context(), hash("child"))
	wantErr(t, "child of refused rotation", err, store.ErrNotFound)
}

// A child hash that already exists refuses the rotation as a whole: the
// session stays at its generation.
func testRotateTakenChild(t *testing.T, s store.Store) {
	fixture(t, s)
	want := mustSession(t, s, newSession("s1", "alice", "ws", t0))
	mustSession(t, s, newSession("s2", "alice", "ws", t0))
	err := s.RotateRefresh(t.Context(), "s1", 0, hash("rt:s2:0"), at(time.Minute), at(time.Hour))
	wantErr(t, "RotateRefresh to a taken hash", err, store.ErrConflict)
	got, err := s.GetSession(t.Context(), "s1")
	ok(t, "GetSession", err)
	diff(t, "session after refused rotation", want, got)
	rt, err := s.GetRefreshToken(t.Context(), hash("rt:s2:0"))
	ok(t, "GetRefreshToken", err)
	if rt.SessionID != "s2" || rt.Generation != 0 {
		t.Errorf("taken token changed to %+v", rt)
	}
}

// GetRefreshSession returns what GetRefreshToken and GetSession would: a
// token of any generation with its session as it is now, revoked too,
// and the scopes the session's user holds now (a refresh narrows or
// widens its tokens by them without another read).
func testGetRefreshSession(t *testing.T, s store.Store) {
	fixture(t, s)
	want := mustSession(t, s, newSession("s1", "alice", "ws", t0))
	mustSession(t, s, newSession("s2", "alice", "ws", at(time.Minute)))
	ok(t, "RotateRefresh", s.RotateRefresh(t.Context(), "s1", 0, hash("child-1"), at(10*time.Minute), at(40*time.Minute)))
	want.Generation, want.RotatedAt, want.RefreshExpiresAt = 1, at(10*time.Minute), at(40*time.Minute)
	want.UserScopes = []string{"read"}
	check := func(what string, h []byte) {
		t.Helper()
		rt, sess, err := s.GetRefreshSession(t.Context(), h)
		ok(t, "GetRefreshSession "+what, err)
		wantRT, err := s.GetRefreshToken(t.Context(), h)
		ok(t, "GetRefreshToken "+what, err)
		diff(t, "token of "+what, wantRT, rt)
		diff(t, "session of "+what, want, sess)
	}
	check("generation 0", hash("rt:s1:0"))
	check("generation 1", hash("child-1"))
	for _, scopes := range [][]string{{"read", "billing:write"}, nil, {"write"}} {
		_, err := s.UpdateUser(t.Context(), "alice", func(u *store.User) error { u.Scopes = scopes; return nil })
		ok(t, "UpdateUser scopes", err)
		want.UserScopes = scopes
		check(fmt.Sprintf("generation 1 after the user's scopes became %q", scopes), hash("child-1"))
	}
	ok(t, "RevokeSession", s.RevokeSession(t.Context(), "s1", at(time.Hour)))
	want.RevokedAt = ptr(at(time.Hour))
	check("generation 1 of the revoked session", hash("child-1"))
	want = newSession("s2", "alice", "ws", at(time.Minute))
	want.UserScopes = []string{"write"}
	check("another session's token", hash("rt:s2:0"))
	_, _, err := s.GetRefreshSession(t.Context(), hash("nope"))
	wantErr(t, "GetRefreshSession unknown", err, store.ErrNotFound)
}
