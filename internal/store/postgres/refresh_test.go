package postgres_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sigil-auth/sigil/internal/store"
	"github.com/sigil-auth/sigil/internal/store/postgres"
	"github.com/sigil-auth/sigil/internal/store/storetest"
)

// rotation asks to rotate token i of the bench sessions to child j at now.
func rotation(i, j int, now time.Time) store.RefreshRotation {
	return store.RefreshRotation{Hash: benchHash(i), ChildHash: benchHash(j), Now: now,
		ChildTTL: map[string]time.Duration{"pubkey": 20 * time.Minute}, DefaultChildTTL: time.Minute}
}

// TestRefreshBatches: refreshes asked for at once go to PostgreSQL
// several to a statement, and each is answered as if alone.
func TestRefreshBatches(t *testing.T) {
	s := benchFixture(t)
	now := time.Now().UTC()
	const n = 40
	for i := range n {
		if err := s.CreateSession(t.Context(), benchSession(fmt.Sprint("s", i), now), benchHash(i)); err != nil {
			t.Fatal(err)
		}
	}
	for round := range 3 { // each round rotates every session once more
		errs := storetest.Race(n, func(i int) error {
			from, to := i+round*n, i+(round+1)*n
			r, err := s.RefreshSession(t.Context(), rotation(from, to, now.Add(time.Duration(round+1)*time.Second)))
			if err == nil && (!r.Rotated || r.Session.ID != fmt.Sprint("s", i) || r.Session.Generation != int64(round)) {
				err = fmt.Errorf("rotated %v session %s at generation %d", r.Rotated, r.Session.ID, r.Session.Generation)
			}
			return err
		})
		for i, err := range errs {
			if err != nil {
				t.Errorf("round %d, session %d: %v", round, i, err)
			}
		}
	}
	batches, largest := postgres.RefreshBatches(s)
	t.Logf("%d refreshes in %d statements, at most %d in one", 3*n, batches, largest)
	if largest < 2 || batches >= 3*n {
		t.Errorf("%d refreshes in %d statements, at most %d in one: never batched", 3*n, batches, largest)
	}
}

// TestRefreshBatchAnswersEach: one statement carrying a rotation, a stale
// parent beside its session's current token, an unknown token and a child
// hash already taken. The taken hash fails the statement; the batch is
// then written one refresh at a time, so each gets its own answer.
func TestRefreshBatchAnswersEach(t *testing.T) {
	s := benchFixture(t)
	now := time.Now().UTC()
	for i, id := range []string{"plain", "moved", "taker"} {
		if err := s.CreateSession(t.Context(), benchSession(id, now), benchHash(i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.RefreshSession(t.Context(), rotation(1, 11, now)); err != nil { // moved: 1 → 11
		t.Fatal(err)
	}
	later := now.Add(time.Second)
	for _, taken := range []bool{false, true} {
		t.Run(fmt.Sprint("taken child ", taken), func(t *testing.T) {
			batch := []store.RefreshRotation{
				rotation(1, 11, later),    // moved's stale parent: found, not rotated
				rotation(999, 998, later), // unknown
			}
			if taken {
				batch = append(batch, rotation(2, 0, later)) // taker's child would be plain's token
			} else {
				batch = append(batch, rotation(0, 10, later), rotation(11, 12, later)) // plain; moved's current
			}
			outs, errs := postgres.RefreshBatch(t.Context(), s, batch)
			if errs[0] != nil || outs[0].Rotated || outs[0].Session.ID != "moved" || outs[0].Token.Generation != 0 {
				t.Errorf("stale parent: %+v, %v", outs[0], errs[0])
			}
			if !errors.Is(errs[1], store.ErrNotFound) {
				t.Errorf("unknown token: %v, want ErrNotFound", errs[1])
			}
			if taken {
				if !errors.Is(errs[2], store.ErrConflict) {
					t.Errorf("taken child: %v, want ErrConflict", errs[2])
				}
				return
			}
			if errs[2] != nil || !outs[2].Rotated || outs[2].Session.ID != "plain" {
				t.Errorf("plain: %+v, %v", outs[2], errs[2])
			}
			if errs[3] != nil || !outs[3].Rotated || outs[3].Session.ID != "moved" || outs[3].Token.Generation != 1 {
				t.Errorf("moved's current token: %+v, %v", outs[3], errs[3])
			}
		})
	}
	for id, gen := range map[string]int64{"plain": 1, "moved": 2, "taker": 0} {
		if got, err := s.GetSession(t.Context(), id); err != nil || got.Generation != gen {
			t.Errorf("session %s: generation %d, %v; want %d", id, got.Generation, err, gen)
		}
	}
}

// TestRefreshPoolConfig: the refresh batches' connections plan their
// statement once, except where statements are not prepared (behind
// PgBouncer), which would refuse the parameter.
func TestRefreshPoolConfig(t *testing.T) {
	for _, tt := range []struct {
		url     string
		generic bool
	}{
		{"postgres://u@db:5432/sigil?pool_max_conns=20", true},
		{"postgres://u@db:6432/sigil?default_query_exec_mode=simple_protocol", false},
	} {
		cfg, err := pgxpool.ParseConfig(tt.url)
		if err != nil {
			t.Fatal(err)
		}
		c := postgres.RefreshPoolConfig(cfg)
		if c.MaxConns != 1 || (c.ConnConfig.RuntimeParams["plan_cache_mode"] == "force_generic_plan") != tt.generic {
			t.Errorf("%s: %d connections, params %v", tt.url, c.MaxConns, c.ConnConfig.RuntimeParams)
		}
		if _, set := cfg.ConnConfig.RuntimeParams["plan_cache_mode"]; set || cfg.MaxConns != 20 && tt.generic {
			t.Errorf("%s: the main pool's configuration changed: %d connections, %v", tt.url, cfg.MaxConns, cfg.ConnConfig.RuntimeParams)
		}
	}
}

// TestRefreshSimpleProtocol: the batch statement also runs unprepared,
// as it does behind PgBouncer, several refreshes to a statement.
func TestRefreshSimpleProtocol(t *testing.T) {
	dsn := freshSchema(t)
	if strings.Contains(dsn, "://") {
		dsn += "&default_query_exec_mode=simple_protocol"
	} else {
		dsn += " default_query_exec_mode=simple_protocol"
	}
	s, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	now := time.Now().UTC()
	if err := s.CreateWorkspace(t.Context(), store.Workspace{ID: "ws", Name: "ws", CreatedAt: now, UpdatedAt: now}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateUser(t.Context(), store.User{ID: "u", WorkspaceID: "ws", CreatedAt: now}, nil); err != nil {
		t.Fatal(err)
	}
	var batch []store.RefreshRotation
	for i := range 3 {
		if err := s.CreateSession(t.Context(), benchSession(fmt.Sprint("s", i), now), benchHash(i)); err != nil {
			t.Fatal(err)
		}
		batch = append(batch, rotation(i, 10+i, now.Add(time.Second)))
	}
	outs, errs := postgres.RefreshBatch(t.Context(), s, batch)
	for i := range batch {
		if errs[i] != nil || !outs[i].Rotated || outs[i].Session.ID != fmt.Sprint("s", i) {
			t.Errorf("refresh %d: %+v, %v", i, outs[i], errs[i])
		}
	}
}
