package authn_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sigil-auth/sigil/internal/authn"
	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/store/storetest"
	"github.com/sigil-auth/sigil/internal/testenv"
)

// rotationCounter counts the store's second-chance rotations.
type rotationCounter struct {
	store.Store
	rotations atomic.Int64
}

func (c *rotationCounter) RotateRefresh(ctx context.Context, id string, gen int64, child []byte, now, exp time.Time) error {
	c.rotations.Add(1)
	return c.Store.RotateRefresh(ctx, id, gen, child, now, exp)
}

// TestLostRefreshRace: refreshes of one token at once, on two replicas of
// one database, all get the one child, and a refresh that lost the
// rotation inside the store re-reads the session and takes the grace
// path; it never tries the rotation a second time (a wasted round trip
// that could only fail). (Within one replica the PostgreSQL store never
// writes one token twice at once: two replicas make the race.)
func TestLostRefreshRace(t *testing.T) {
	for _, backend := range testenv.Backends {
		t.Run(backend, func(t *testing.T) {
			var counters []*rotationCounter
			count := func(st store.Store) store.Store {
				c := &rotationCounter{Store: st}
				counters = append(counters, c)
				return c
			}
			db := testenv.NewDatabase(t, backend)
			s := testenv.Start(t, db, testenv.Options{WrapStore: count})
			replicas := []*testenv.Server{s, testenv.Start(t, db, testenv.Options{WrapStore: count})}
			ws, err := s.Auth.CreateWorkspace(t.Context(), admin, "acme")
			if err != nil {
				t.Fatal(err)
			}
			for round := range 5 {
				tok, err := s.Auth.Signup(t.Context(), testenv.LocalIP, authn.SignupInput{
					Email: "ada" + string(rune('a'+round)) + "@acme.test", Password: overviewPass, JoinCode: ws.JoinCode})
				if err != nil {
					t.Fatal(err)
				}
				const n = 20
				children := make([]string, n)
				for i, err := range storetest.Race(n, func(i int) error {
					r, err := replicas[i%2].Auth.Refresh(t.Context(), testenv.LocalIP, tok.RefreshToken)
					children[i] = r.RefreshToken
					return err
				}) {
					if err != nil {
						t.Errorf("refresh %d: %v", i, err)
					}
				}
				for i, c := range children {
					if c != children[0] {
						t.Fatalf("refresh %d got another child", i)
					}
				}
			}
			if got := counters[0].rotations.Load() + counters[1].rotations.Load(); got != 0 {
				t.Errorf("%d second-chance rotations after lost races, want 0", got)
			}
		})
	}
}
